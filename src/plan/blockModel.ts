/**
 * How each filesystem type really allocates, in its own blocks (statfs f_bsize). Every rule was
 * measured on a loop-mounted filesystem with test/probes/measureBlockModel.ts (statfs deltas
 * after sync, 100 copies of each case; Linux 6.x, e2fsprogs/xfsprogs/btrfs-progs defaults);
 * the comment on each rule names the behaviour. Results may be fractional (XFS inode chunks,
 * btrfs metadata): the caller sums and rounds up once per filesystem.
 */

/** Size of one directory's entries, accumulated name by name (models read what they need). */
export interface DirectorySize {
  entries: number;
  /** Sum of the names' lengths in bytes. */
  nameBytes: number;
  /** Sum of ext4 rec_len: 8 + name, rounded up to 4. */
  ext4Bytes: number;
  /** Sum of XFS data-entry sizes: 8 inumber + 1 namelen + name + 1 ftype + 2 tag, rounded up to 8. */
  xfsBytes: number;
}

export function emptyDirectorySize(): DirectorySize {
  return { entries: 0, nameBytes: 0, ext4Bytes: 0, xfsBytes: 0 };
}

/** Adds (sign 1) or removes (sign -1) one entry named with `nameLength` bytes. */
export function addDirectoryEntry(size: DirectorySize, nameLength: number, sign: 1 | -1 = 1): void {
  size.entries += sign;
  size.nameBytes += sign * nameLength;
  size.ext4Bytes += sign * (((8 + nameLength + 3) >> 2) << 2);
  size.xfsBytes += sign * (((12 + nameLength + 7) >> 3) << 3);
}

export interface BlockModel {
  /** 'ext4', 'tmpfs', 'xfs', 'btrfs', or 'generic' for anything else. */
  readonly kind: 'ext4' | 'tmpfs' | 'xfs' | 'btrfs' | 'generic';
  readonly blockSize: number;
  /** True when the numbers are an approximation, not a prediction (btrfs). */
  readonly approximate: boolean;
  /** Inodes one hard link consumes (tmpfs charges every link against nr_inodes). */
  readonly hardlinkInodes: number;
  /** Blocks of a regular file holding `dataBytes` of written data (a sparse file: its data only). */
  fileBlocks(dataBytes: number): number;
  /** Blocks of a symlink whose text is `length` bytes. */
  symlinkBlocks(length: number): number;
  /** Blocks a directory holding `size` occupies (a new directory: with no entry). */
  directoryBlocks(size: DirectorySize): number;
  /**
   * Blocks that `inodes` new inodes cost besides their data (inode tables, chunks, metadata),
   * `newDirectories` of them directories (XFS spreads those over its allocation groups).
   */
  inodeBlocks(inodes: number, newDirectories: number): number;
}

const ceilDiv = (a: number, b: number): number => (a <= 0 ? 0 : Math.ceil(a / b));

/**
 * ext4 (mkfs.ext4 defaults: extents, dir_index, metadata_csum, no inline_data):
 * - Inodes live in tables fixed at mkfs time: a new inode costs no block.
 * - File data: whole blocks, ceil(size / blockSize); an empty file has none. Up to 4 extents
 *   fit in the inode; one extent covers at most 32768 blocks (128 MiB at 4 KiB, 32 MiB at
 *   1 KiB), so only a file of more than 4 maximal extents needs an extent index block (340
 *   extents per 4 KiB block, 84 per 1 KiB). Fragmentation on a busy filesystem can add more;
 *   measured 64 MiB files got no index block at either block size.
 * - Symlinks shorter than 60 bytes are "fast": the text sits in the inode's block map, 0 blocks.
 *   From 60 bytes on: one block.
 * - Directories: a new one has one block ("." and ".."). Entries take rec_len = 8 + name
 *   rounded to 4; each block keeps a 12-byte checksum tail. When the first block overflows
 *   the directory becomes an htree: block 0 turns into the index root and the entries split
 *   into two leaves (3 blocks). Leaves then split in half when full; names arrive in hash
 *   order, so leaves end up about ln 2 ≈ 69% full on average (measured 63–78% for 100 to 5000
 *   names at 1 KiB and 4 KiB). Hash order is pseudo-random, so the leaf count of a large
 *   directory is an estimate within a few blocks.
 */
export function createExt4Model(blockSize: number): BlockModel {
  const usable = blockSize - 12;
  const extentBlocks = 32768;
  const extentsPerIndexBlock = Math.floor((blockSize - 12) / 12);
  return {
    kind: 'ext4',
    blockSize,
    approximate: false,
    hardlinkInodes: 0,
    fileBlocks(dataBytes) {
      const data = ceilDiv(dataBytes, blockSize);
      const extents = ceilDiv(data, extentBlocks);
      return data + (extents > 4 ? ceilDiv(extents, extentsPerIndexBlock) : 0);
    },
    symlinkBlocks: (length) => (length < 60 ? 0 : 1),
    directoryBlocks(size) {
      // "." (12) and ".." (12) share block 0 with the first entries.
      if (size.ext4Bytes + 24 <= usable) return 1;
      return 1 + Math.max(2, Math.ceil(size.ext4Bytes / (usable * Math.LN2)));
    },
    inodeBlocks: () => 0,
  };
}

/** tmpfs pages: statfs reports f_bsize = PAGE_SIZE and counts pages in use. */
export function createTmpfsModel(blockSize: number): BlockModel {
  return {
    kind: 'tmpfs',
    blockSize,
    approximate: false,
    // shmem_link() calls shmem_reserve_inode(): every hard link takes one of nr_inodes (it
    // pins a dentry), while it allocates no page. Measured: 100 links, +100 used inodes.
    hardlinkInodes: 1,
    // Data: one page per started page; an empty file none.
    fileBlocks: (dataBytes) => ceilDiv(dataBytes, blockSize),
    // Symlink text shorter than 128 bytes (SHORT_SYMLINK_LEN, with its NUL) is kmalloc'ed
    // with the inode; longer text takes a page. Measured: 127 -> 0, 128 -> 1 page.
    symlinkBlocks: (length) => (length < 128 ? 0 : 1),
    // Directories are dentries in memory: no page at all, whatever the entry count.
    directoryBlocks: () => 0,
    inodeBlocks: () => 0,
  };
}

/**
 * XFS (mkfs.xfs defaults: v5/crc, 512-byte inodes, sparse inode chunks, ftype, 4 AGs below
 * 4 GiB):
 * - Inodes are allocated in chunks of 64 from free space (64 × 512 B = 8 blocks of 4 KiB),
 *   which is why statfs's inode counts are dynamic. Amortized: inodeSize / blockSize blocks
 *   per inode (measured 0.09–0.17 per file around the chunk boundaries).
 * - A new directory goes to the next allocation group in turn (xfs_dialloc's AG rotor), a
 *   file to its directory's AG, and an AG without a free inode carves a chunk of its own. So
 *   a few new directories each open a chunk in another AG, which the amortized charge misses:
 *   measured on fresh 300 MiB XFS (test/probes/measureXfsInodes.ts), 1, 2, 3 new directories
 *   took 8, 16, 24 blocks, and 4, 5, 8, 16 took 24 (the fourth AG is the one whose chunk
 *   holds the root: it had free inodes), with or without 10 files in each; 64 directories
 *   of 10 files took 89 (amortized 88). The charge is the larger of the amortized one and
 *   one chunk in each of min(new directories, agCount − 1) other AGs: exact in all those
 *   cases but 1–3 directories landing in an AG with free inodes (one chunk too many, within
 *   the realfs tolerance of 8 blocks). Which AG the rotor is at is not visible; the AG count
 *   is the superblock's (readXfsGeometry), 4 (mkfs.xfs below 4 GiB) when unreadable.
 * - File data: whole blocks; speculative preallocation beyond EOF is trimmed at close.
 * - Symlinks up to 336 bytes (512 − 176-byte v3 inode core) live inline in the inode: 0
 *   blocks; longer: one block (measured 336 -> 0, 337 -> 1).
 * - Directories: "shortform" inside the inode while 6 + Σ(8 + name) fits the same 336 bytes;
 *   then one "block" directory (64-byte header, data entries, 8-byte leaf entries, 8-byte
 *   tail); beyond that data blocks (64-byte header each) plus leaf blocks (split half-full)
 *   and, once there is more than one leaf, a node and a free-index block.
 */
export function createXfsModel(blockSize: number, inodeSize = 512, agCount = 4): BlockModel {
  const literal = inodeSize - 176;
  const header = 64;
  const chunkBlocks = (64 * inodeSize) / blockSize;
  return {
    kind: 'xfs',
    blockSize,
    approximate: false,
    hardlinkInodes: 0,
    fileBlocks: (dataBytes) => ceilDiv(dataBytes, blockSize),
    symlinkBlocks: (length) => (length <= literal ? 0 : 1),
    directoryBlocks(size) {
      if (6 + size.nameBytes + 8 * size.entries <= literal) return 0;
      // "." and ".." are real data entries (16 bytes each) outside shortform.
      const data = size.xfsBytes + 32;
      const leaf = 8 * (size.entries + 2);
      if (header + data + leaf + 8 <= blockSize) return 1;
      const dataBlocks = Math.ceil(data / (blockSize - header));
      const leafBlocks = Math.ceil(leaf / ((blockSize - header) * 0.75));
      return dataBlocks + leafBlocks + (leafBlocks > 1 ? 2 : 0);
    },
    inodeBlocks: (inodes, newDirectories) =>
      Math.max(
        (inodes * inodeSize) / blockSize,
        Math.min(newDirectories, agCount - 1) * chunkBlocks,
      ),
  };
}

/**
 * btrfs (single device, mkfs defaults: metadata DUP, 16 KiB nodes, max_inline 2048):
 * an approximation — say so. Every item lives in copy-on-write B-trees written twice (DUP),
 * and statfs moves by whole leaves as they fill. Measured per item: ~650 B of metadata for an
 * empty file, ~1000 B for a directory, a symlink or a file with one extent; files up to 2048
 * bytes are stored inline in the metadata leaf (≈2.3 × their size with DUP and leaf slack),
 * larger files take whole data blocks; long symlink text is inline too.
 */
export function createBtrfsModel(blockSize: number): BlockModel {
  const maxInline = 2048;
  const perInode = 1000;
  return {
    kind: 'btrfs',
    blockSize,
    approximate: true,
    hardlinkInodes: 0,
    fileBlocks: (dataBytes) =>
      dataBytes <= maxInline ? (2.3 * dataBytes) / blockSize : ceilDiv(dataBytes, blockSize),
    symlinkBlocks: (length) => (2.3 * length) / blockSize,
    // Directory items: two per entry (DIR_ITEM and DIR_INDEX, ~30 B + name each), DUP.
    directoryBlocks: (size) => (4 * (30 * size.entries + size.nameBytes)) / blockSize,
    inodeBlocks: (inodes) => (inodes * perInode) / blockSize,
  };
}

/** Anything else: one block per started block of data, directories and symlinks one block. */
export function createGenericModel(blockSize: number): BlockModel {
  return {
    kind: 'generic',
    blockSize,
    approximate: true,
    hardlinkInodes: 0,
    fileBlocks: (dataBytes) => ceilDiv(dataBytes, blockSize),
    symlinkBlocks: () => 1,
    directoryBlocks: (size) => Math.max(1, ceilDiv(size.nameBytes + 16 * size.entries, blockSize)),
    inodeBlocks: () => 0,
  };
}

/**
 * The model for a filesystem type as mountinfo names it; `xfs` is an XFS's superblock geometry
 * (statFilesystem's FilesystemInfo.xfs: null when it could not be read, then the defaults).
 */
export function selectBlockModel(
  fsType: string,
  blockSize: number,
  xfs?: { inodeSize: number; agCount: number } | null,
): BlockModel {
  switch (fsType) {
    case 'ext4':
    case 'ext3':
    case 'ext2':
      return createExt4Model(blockSize);
    case 'tmpfs':
    case 'shmem':
      return createTmpfsModel(blockSize);
    case 'xfs':
      return xfs
        ? createXfsModel(blockSize, xfs.inodeSize, xfs.agCount)
        : createXfsModel(blockSize);
    case 'btrfs':
      return createBtrfsModel(blockSize);
    default:
      return createGenericModel(blockSize);
  }
}
