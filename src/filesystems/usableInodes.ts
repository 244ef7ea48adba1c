/**
 * How many inodes can really be created on a filesystem, from one statfs reading: the inode
 * supply every verdict is judged on (check, the planner's stage budgets, apply's live guard).
 * For every filesystem but XFS that is f_ffree. XFS's f_ffree promises more than it can give.
 *
 * What XFS's statfs says (fs/xfs/xfs_super.c, xfs_fs_statfs):
 *   fakeinos = f_bfree × inodes per block
 *   f_files  = min(icount + fakeinos, maxicount)        (then at least sb_icount)
 *   f_ffree  = f_files − (icount − ifree)
 * so f_ffree = ifree (the free inodes of chunks already allocated) + the inodes that could be
 * carved out of every free block. Uncapped (f_files < maxicount), ifree = f_ffree − fakeinos
 * exactly. Capped (f_files == maxicount: imaxpct reached before the space runs out),
 * f_ffree = ifree + (maxicount − icount) and the two parts cannot be told apart from statfs.
 *
 * What XFS really lets a restore create, measured with test/probes/measureXfsInodes.ts on the
 * smallest default XFS (300 MiB: 4 AGs of 19200 blocks, 512-byte inodes, sparse chunks,
 * finobt, imaxpct 25; Linux 6.18, xfsprogs 6.1):
 *
 * - No inode at all below the create reservation. Every create (file, directory, symlink,
 *   the temporary file of a replace) first reserves XFS_CREATE_SPACE_RES blocks (a new inode
 *   chunk, the inode btree splits, a directory-entry insert), and f_bfree is exactly what that
 *   reservation may take. On that filesystem it is 47 blocks: with f_bfree 8–40 not one file
 *   could be created although 122–186 inodes were free in allocated chunks; with 48 creates
 *   went on until f_bfree fell to 39–46, and failed there with 63 free inodes in a chunk and
 *   f_ffree 370–431 (the "f_ffree 399 with 42 blocks available").
 * - Above it, free space turns into inodes chunk by chunk: with f_bfree 56 → 4096, the
 *   files created beyond ifree were 8 per block of f_bfree above the reservation (33, 65, 193,
 *   321, 577, 1025, 3393, 7169 carved at 56, 64, 80, 96, 128, 192, 512, 1024), the rest of
 *   the space going to the directory they were created in.
 * - Capped: XFS allocates a chunk only while icount + 64 ≤ maxicount (xfs_dialloc), so when a
 *   sparse half chunk (32 inodes) was ever allocated, the last 32 inodes under the cap cannot
 *   be created. Full aligned chunks are the rule; the half chunk happens when an AG has no
 *   aligned 8-block extent left. Not knowing, a capped XFS with sparse chunks is counted 32
 *   short (at the cap, f_ffree < 32, nothing is lost: the cap room is then 0).
 *
 * The result is a lower bound that is exact on an XFS that is not capped: what a restore can
 * count on without ENOSPC. The same reservation limits the blocks of a restore that creates
 * inodes (createReserveBlocks): the last create needs it still free.
 */
import { XFS_DEFAULT_GEOMETRY, XFS_INODES_PER_CHUNK, type XfsGeometry } from './readXfsGeometry.js';

/** One statfs reading, as far as the inode supply is concerned. */
export interface InodeReading {
  /** mountinfo's type. */
  fsType: string;
  /** f_bsize. */
  blockSize: number;
  /** f_files. */
  files: number;
  /** f_ffree. */
  ffree: number;
  /** f_bfree (XFS: equal to f_bavail; it has no root reserve). */
  bfree: number;
}

/**
 * What XFS needs to know beyond statfs, from its superblock (readXfsGeometry). `null`: the
 * device could not be read (unprivileged): the mkfs.xfs defaults are assumed, the reservation
 * is taken at its largest and the cap as unknown (see usableInodes).
 */
export type XfsInodeGeometry = Pick<
  XfsGeometry,
  'inodeSize' | 'agBlocks' | 'sparseInodes' | 'maxInodes' | 'finobt' | 'dirBlockSize'
>;

/** log2 rounded up, as mkfs computes sb_agblklog. */
const log2Ceil = (n: number): number => (n <= 1 ? 0 : Math.ceil(Math.log2(n)));

/** xfs_btree_compute_maxlevels: the height of a btree of `records` with minimal blocks. */
function btreeLevels(leafMin: number, nodeMin: number, records: number): number {
  let blocks = Math.ceil(records / leafMin);
  let height = 1;
  while (blocks > 1) {
    blocks = Math.ceil(blocks / nodeMin);
    height += 1;
  }
  return height;
}

/**
 * XFS_CREATE_SPACE_RES (libxfs/xfs_trans_space.h) for a v5 filesystem: the blocks a create
 * reserves before it runs, and so the f_bfree below which no inode can be created.
 *   XFS_IALLOC_SPACE_RES  = ialloc_blks + (finobt ? 2 : 1) × inobt_maxlevels
 *   XFS_DIRENTER_SPACE_RES = dirblk × (XFS_DA_NODE_MAXDEPTH + 2)
 *                           + (XFS_DA_NODE_MAXDEPTH + 2) × (bm_maxlevels[data] − 1)
 * inobt_maxlevels is the height of an inode btree holding every chunk an AG can address;
 * bm_maxlevels the height of a data-fork bmbt holding 2^31 − 1 extents. 47 on the 300 MiB
 * default XFS (8 + 2 × 2 + 7 + 7 × 4), as measured. Unknown geometry: the largest AG (2^28
 * blocks, 1 TiB at 4 KiB) is assumed, which gives the largest reservation (51 at 4 KiB).
 */
export function xfsCreateReserve(blockSize: number, geometry: XfsInodeGeometry | null): number {
  const inodeSize = geometry?.inodeSize ?? XFS_DEFAULT_GEOMETRY.inodeSize;
  const inodesPerBlock = Math.max(1, Math.floor(blockSize / inodeSize));
  const chunkBlocks = Math.max(1, XFS_INODES_PER_CHUNK / inodesPerBlock);
  const agBlockLog = geometry ? log2Ceil(geometry.agBlocks) : 28;
  const aginoBits = agBlockLog + log2Ceil(inodesPerBlock);
  // v5 short btree blocks: a 56-byte header; inobt records 16 bytes, keys 4 + pointers 4.
  const inobtLeafMin = Math.floor((blockSize - 56) / 16 / 2);
  const inobtNodeMin = Math.floor((blockSize - 56) / 8 / 2);
  const inobtLevels = btreeLevels(inobtLeafMin, inobtNodeMin, 2 ** aginoBits / 64);
  const finobt = geometry?.finobt ?? true;
  const ialloc = chunkBlocks + (finobt ? 2 : 1) * inobtLevels;
  // v5 long btree blocks: a 72-byte header; bmbt records 16 bytes, keys 8 + pointers 8. The
  // root in the inode holds at most 3 records (xfs_bmap_compute_maxlevels).
  const bmbtMin = Math.floor((blockSize - 72) / 16 / 2);
  let blocks = Math.ceil((2 ** 31 - 1) / bmbtMin);
  let bmapLevels = 1;
  while (blocks > 1) {
    blocks = blocks <= 3 ? 1 : Math.ceil(blocks / bmbtMin);
    bmapLevels += 1;
  }
  const dirBlocks = Math.max(1, Math.round((geometry?.dirBlockSize ?? blockSize) / blockSize));
  const depth = 5 + 2; // XFS_DA_NODE_MAXDEPTH + 2 for the data fork
  return ialloc + dirBlocks * depth + depth * (bmapLevels - 1);
}

/**
 * Blocks a restore that creates any inode cannot use: XFS refuses a create once f_bfree is
 * below the create reservation, so the last create (a file, or the temporary file of a
 * replace) needs that much still free after every block written before it. Writing data needs
 * no such margin (a rewrite in place can use every block). 0 for every other filesystem.
 */
export function createReserveBlocks(
  reading: Pick<InodeReading, 'fsType' | 'blockSize'>,
  xfs: XfsInodeGeometry | null,
): number {
  return reading.fsType === 'xfs' ? xfsCreateReserve(reading.blockSize, xfs) : 0;
}

/**
 * The inodes that can really be created: f_ffree for every filesystem but XFS; on XFS the
 * free inodes of allocated chunks plus the chunks the free space above the create reservation
 * can hold (see the module comment for the measurements).
 */
export function usableInodes(reading: InodeReading, xfs: XfsInodeGeometry | null = null): number {
  const { ffree } = reading;
  if (reading.fsType !== 'xfs' || reading.files <= 0) return ffree;
  const inodeSize = xfs?.inodeSize ?? XFS_DEFAULT_GEOMETRY.inodeSize;
  const inodesPerBlock = Math.max(1, Math.floor(reading.blockSize / inodeSize));
  const chunkBlocks = Math.max(1, XFS_INODES_PER_CHUNK / inodesPerBlock);
  const reserve = xfsCreateReserve(reading.blockSize, xfs);
  // Below the reservation not even a free inode of an allocated chunk can be taken.
  if (reading.bfree < reserve) return 0;
  const fake = reading.bfree * inodesPerBlock;
  // Free inodes of allocated chunks: exact when not capped, a lower bound when capped.
  const chunkFree = Math.max(0, ffree - fake);
  // Whole chunks the space above the reservation holds: a chunk is carved inside a create's
  // reservation, so only what stays above it lets the creates after that one start.
  const carvable = Math.floor((reading.bfree - reserve) / chunkBlocks) * XFS_INODES_PER_CHUNK;
  let usable = Math.min(ffree, chunkFree + carvable);
  // Capped (known from the superblock, or possible when it could not be read): the last half
  // chunk under the cap may not be allocatable.
  const sparse = xfs?.sparseInodes ?? XFS_DEFAULT_GEOMETRY.sparseInodes;
  const capped = xfs ? xfs.maxInodes > 0 && reading.files >= xfs.maxInodes : true;
  const halfChunk = XFS_INODES_PER_CHUNK / 2;
  if (capped && sparse && ffree >= halfChunk) usable = Math.min(usable, ffree - halfChunk);
  return Math.max(0, usable);
}
