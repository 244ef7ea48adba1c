/**
 * An upper bound, in blocks, of how much a set of ext4 directories grows when new entries are
 * added (issue 16): the MTA's queue directories take one entry per queue file. A directory
 * starts as one block; past that it becomes an htree (a root block plus leaf blocks), and a
 * leaf that fills splits into two halves, so every leaf is at least about half full. Directory
 * blocks are never freed, so a spool that once held a larger backlog has room already: only
 * growth past a directory's current size is charged.
 *
 * When the entries' distribution over the set is not known (Exim's split spool: one
 * subdirectory per arrival second; Postfix's hash directories: by queue ID), the bound assumes
 * the worst: as many directories as the entries can push past one block convert to an htree.
 */
import type { SpoolDirectoryState } from './readSpoolLayout.js';

/** ext4 with metadata_csum keeps a 12-byte tail in each directory block. */
const DIRECTORY_BLOCK_TAIL = 12;
/** `.` and `..` in a directory's first block. */
const DOT_ENTRIES_BYTES = 24;
/** An htree index entry (hash + block number). */
const INDEX_ENTRY_BYTES = 8;

/** An ext4 directory entry's size for a name of `nameLength` bytes: 8 + roundup4(length). */
export function directoryEntryBytes(nameLength: number): number {
  return 8 + Math.ceil(nameLength / 4) * 4;
}

export interface DirectoryGrowthInput {
  /** The directories of the set that exist now. */
  existing: readonly SpoolDirectoryState[];
  /** Directories of the set that do not exist yet (their first block is charged elsewhere). */
  missing: number;
  /** Entries added to the set (anywhere in it). */
  newEntries: number;
  /** Bytes per entry (directoryEntryBytes of the longest name). */
  entryBytes: number;
  blockSize: number;
}

export function boundDirectoryGrowth(input: DirectoryGrowthInput): number {
  const { newEntries, entryBytes, blockSize } = input;
  if (newEntries <= 0) return 0;
  const usable = blockSize - DIRECTORY_BLOCK_TAIL;
  const fitsInOneBlock = Math.max(0, Math.floor((usable - DOT_ENTRIES_BYTES) / entryBytes));
  const blocksOf = (d: SpoolDirectoryState): number => Math.ceil(d.allocatedBytes / blockSize);
  const multiBlock = input.existing.filter((d) => blocksOf(d) > 1).length;
  // Room left in each single-block directory (a missing one starts empty); the adversarial
  // distribution tips the fullest first, one entry past its room each.
  const room = [
    ...input.existing
      .filter((d) => blocksOf(d) <= 1)
      .map((d) => Math.max(0, fitsInOneBlock - d.entries)),
    ...new Array<number>(input.missing).fill(fitsInOneBlock),
  ].sort((a, b) => a - b);
  let left = newEntries;
  let tipped = 0;
  for (const free of room) {
    if (left <= free) break;
    left -= free + 1;
    tipped++;
  }
  if (multiBlock + tipped === 0) return 0;
  // Each new leaf is paid by at least half a block of new entries.
  const leaves = Math.ceil((2 * newEntries * entryBytes) / usable);
  // A conversion to an htree turns the full block into a root and two half-full leaves (+2),
  // and any directory's last leaf may be a partly used one (+1).
  const perDirectory = 3 * tipped + multiBlock;
  const fanout = Math.floor((usable - 32) / INDEX_ENTRY_BYTES);
  const index = leaves > fanout ? Math.ceil(leaves / fanout) : 0;
  return leaves + perDirectory + index;
}
