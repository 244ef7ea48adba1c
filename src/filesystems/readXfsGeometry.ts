/**
 * The geometry of an XFS filesystem, from its primary superblock (sector 0 of the device that
 * mountinfo names as its source). statfs gives neither the inode size nor the allocation group
 * count nor the inode cap, and they decide what XFS can really allocate (usableInodes) and where
 * new directories go (the XFS block model). Only the fields mkfs fixes are read: the on-disk
 * counters (sb_icount, sb_ifree, sb_fdblocks) are written lazily and are stale while mounted.
 *
 * Reading a block device needs root (or the `disk` group). Unprivileged, or when the source is
 * not a readable XFS device, the answer is null and the callers assume the mkfs.xfs defaults
 * (XFS_DEFAULT_GEOMETRY): that is a documented degradation, not an error.
 */
import { closeSync, openSync, readSync } from 'node:fs';

export interface XfsGeometry {
  /** sb_blocksize. */
  blockSize: number;
  /** sb_dblocks: data blocks, the internal log included. */
  dataBlocks: number;
  /** sb_agblocks. */
  agBlocks: number;
  /** sb_agcount. */
  agCount: number;
  /** sb_inodesize. */
  inodeSize: number;
  /** sb_imax_pct: the share of the space inodes may take (0: no cap). */
  imaxPct: number;
  /** Sparse inode chunks (v5 incompat feature SPINODES): a chunk may be allocated in parts. */
  sparseInodes: boolean;
  /** The free inode btree (v5 ro-compat feature FINOBT): a create reserves for two btrees. */
  finobt: boolean;
  /** Directory block size in bytes (blockSize << sb_dirblklog). */
  dirBlockSize: number;
  /**
   * The inode cap (igeo->maxicount), as xfs_ialloc_setup_geometry computes it: imax_pct of the
   * data blocks, rounded down to whole 64-inode chunks. 0: no cap.
   */
  maxInodes: number;
}

/** What a default mkfs.xfs (xfsprogs ≥ 3.2.3: v5, crc) makes, for when the device is unreadable. */
export const XFS_DEFAULT_GEOMETRY = {
  inodeSize: 512,
  agCount: 4,
  sparseInodes: true,
} as const;

const XFS_SB_MAGIC = 0x58465342; // "XFSB"
const XFS_SB_FEAT_INCOMPAT_SPINODES = 1 << 1;
const XFS_SB_FEAT_RO_COMPAT_FINOBT = 1 << 0;
/** XFS_INODES_PER_CHUNK. */
export const XFS_INODES_PER_CHUNK = 64;

/** Parses a primary superblock (at least its first 256 bytes); null when it is not one. */
export function parseXfsSuperblock(sb: Buffer): XfsGeometry | null {
  if (sb.length < 256 || sb.readUInt32BE(0) !== XFS_SB_MAGIC) return null;
  const blockSize = sb.readUInt32BE(4);
  const dataBlocks = Number(sb.readBigUInt64BE(8));
  const agBlocks = sb.readUInt32BE(84);
  const agCount = sb.readUInt32BE(88);
  const version = sb.readUInt16BE(100) & 0xf;
  const inodeSize = sb.readUInt16BE(104);
  const inodesPerBlock = sb.readUInt16BE(106);
  const imaxPct = sb.readUInt8(127);
  if (blockSize < 512 || inodeSize < 256 || inodesPerBlock * inodeSize !== blockSize) return null;
  if (agCount < 1 || agBlocks < 1) return null;
  const dirBlockLog = sb.readUInt8(192);
  const roCompat = version === 5 ? sb.readUInt32BE(212) : 0;
  const incompat = version === 5 ? sb.readUInt32BE(216) : 0;
  // xfs_ialloc_setup_geometry: ialloc_blks = 64 inodes' worth of blocks (at least one block).
  const chunkBlocks = Math.max(1, XFS_INODES_PER_CHUNK / inodesPerBlock);
  const capBlocks =
    Math.floor(Math.floor((dataBlocks * imaxPct) / 100) / chunkBlocks) * chunkBlocks;
  return {
    blockSize,
    dataBlocks,
    agBlocks,
    agCount,
    inodeSize,
    imaxPct,
    sparseInodes: (incompat & XFS_SB_FEAT_INCOMPAT_SPINODES) !== 0,
    finobt: (roCompat & XFS_SB_FEAT_RO_COMPAT_FINOBT) !== 0,
    dirBlockSize: blockSize * 2 ** dirBlockLog,
    maxInodes: capBlocks * inodesPerBlock,
  };
}

/** The geometry of the XFS on `device` (mountinfo's source), or null when it cannot be read. */
export function readXfsGeometry(device: string): XfsGeometry | null {
  if (!device.startsWith('/')) return null;
  let fd: number;
  try {
    fd = openSync(device, 'r');
  } catch {
    return null; // EACCES unprivileged, ENOENT in a container: assume the defaults
  }
  try {
    const sb = Buffer.alloc(512);
    const read = readSync(fd, sb, 0, sb.length, 0);
    return parseXfsSuperblock(sb.subarray(0, read));
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}
