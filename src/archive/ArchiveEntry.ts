import type { TarFormat } from '../types.js';

export type EntryType = 'file' | 'dir' | 'symlink' | 'hardlink' | 'fifo' | 'chardev' | 'blockdev';

/** Every entry type, in the one order the member table's and the index's codes follow. */
export const ENTRY_TYPES: readonly EntryType[] = [
  'file',
  'dir',
  'symlink',
  'hardlink',
  'fifo',
  'chardev',
  'blockdev',
];

/**
 * Why a member's path is unsafe to restore: a `..` component in its name, or in a hard link's
 * target. Such members are still counted by `scan` (they are in the archive) but never selected
 * for a restore. An absolute name is not unsafe: as GNU tar does by default, its leading `/` is
 * removed (a memberPath never has one) and it is restored under the target.
 */
export type UnsafeReason = 'dotdot';

/**
 * One archive member as the walk reports it. The walk reuses ONE object for every member (no
 * allocation per entry on the hot path): a consumer that keeps anything must copy it
 * (`copyEntry`). Metadata headers (pax x/g, GNU L/K, volume labels) are folded into the
 * member they describe and never reported.
 */
export interface ArchiveEntry {
  /** Normalized (CONTRACT.md): no leading `./` or `/`, no trailing `/`, no empty or `.` parts. `''` is the archive root. */
  memberPath: string;
  /** The name exactly as the archive spells it (after pax/GNU long-name overrides). */
  rawPath: string;
  type: EntryType;
  /** Apparent size of a regular file (the real size for a sparse member); 0 for others. */
  size: number;
  /** Bytes of file data stored in the archive (a sparse member stores only its data extents). */
  storedSize: number;
  /** Symlink text, or for a hard link the normalized memberPath of its target; '' otherwise. */
  linkPath: string;
  mode: number;
  uid: number;
  gid: number;
  /** Seconds since the epoch (fractional with pax mtime). */
  mtime: number;
  /** Offset of the member's first header (including any pax/GNU metadata headers) in the uncompressed tar stream. */
  headerOffset: number;
  /** Offset of the member's data in the uncompressed tar stream (after its own header, and after a pax 1.0 sparse map). */
  dataOffset: number;
  /** Bytes the member's data occupies in the stream from dataOffset, not counting padding. */
  dataLength: number;
  /** Sparse data map as [offset, length] pairs in the real file, or null for a contiguous member. */
  sparse: Array<[number, number]> | null;
  format: TarFormat;
  unsafe: UnsafeReason | null;
  /** 0-based index of the member (metadata headers not counted). */
  index: number;
}

/** A fresh entry object, its fields in the one order every producer uses (one hidden class). */
export function blankEntry(): ArchiveEntry {
  return {
    memberPath: '',
    rawPath: '',
    type: 'file',
    size: 0,
    storedSize: 0,
    linkPath: '',
    mode: 0,
    uid: 0,
    gid: 0,
    mtime: 0,
    headerOffset: 0,
    dataOffset: 0,
    dataLength: 0,
    sparse: null,
    format: 'ustar',
    unsafe: null,
    index: 0,
  };
}

export function copyEntry(entry: ArchiveEntry): ArchiveEntry {
  return { ...entry, sparse: entry.sparse ? entry.sparse.map(([o, l]) => [o, l]) : null };
}
