/**
 * The accounting (DESIGN.md "Counting the way the filesystem counts"): what restoring the
 * selection adds, per filesystem, in inodes and blocks — net (`needed`) and while the restore
 * runs (`peak`: the temporary file of an atomic replace). Pure given a probe of what exists;
 * the probe and the filesystems are injected so tables of synthetic trees can test it.
 *
 * Memory: one record per directory (never per member), so it stays bounded by the directory
 * count; members are fed one at a time and, when a memberPath repeats, the earlier occurrence
 * is retracted (the last occurrence wins, as extraction would leave it).
 */
import path from 'node:path';

import type { EntryType } from '../archive/ArchiveEntry.js';
import type { ExistingEntry, ExistingKind, ExistingProbe } from '../filesystems/probeExisting.js';
import { ABSENT } from '../filesystems/probeExisting.js';
import {
  addDirectoryEntry,
  emptyDirectorySize,
  sumDirectorySizes,
  type BlockModel,
  type DirectorySize,
} from './blockModel.js';

/** One member as the accounting needs it. */
export interface DemandMember {
  type: EntryType;
  /** Bytes of data the restore writes: the stored data of a sparse file, not its apparent size. */
  dataBytes: number;
  /** Symlink text length. */
  linkLength: number;
  /** A hard link whose target is restored in the same run or already exists. */
  linkResolved: boolean;
}

export type { ExistingEntry, ExistingProbe };

function sizeOfNames(names: readonly string[]): DirectorySize {
  const size = emptyDirectorySize();
  for (const name of names) addDirectoryEntry(size, Buffer.byteLength(name));
  return size;
}

export interface MemberCost {
  inodes: number;
  blocks: number;
  /** Extra inodes and blocks that exist only while this member is being written. */
  peakInodes: number;
  peakBlocks: number;
  write: 'create' | 'replace' | 'none';
  /** Something of another type is in the way (a file where a directory is, or the reverse). */
  conflict: boolean;
}

/**
 * The cost of one member at a path where `existing` is, excluding directory blocks (those
 * depend on all of a directory's entries; see the ledger). Replacing is temp + rename: net 0
 * inodes and the difference in blocks, but while it runs the old file and the new one both
 * exist (+1 inode, + the old file's blocks).
 */
export function computeMemberCost(
  model: BlockModel,
  member: DemandMember,
  existing: ExistingEntry,
): MemberCost {
  const existingBlocks = (existing.blocks512 * 512) / model.blockSize;
  const cost: MemberCost = {
    inodes: 0,
    blocks: 0,
    peakInodes: 0,
    peakBlocks: 0,
    write: 'none',
    conflict: false,
  };
  const type = member.type === 'hardlink' && !member.linkResolved ? 'file' : member.type;
  if (type === 'dir') {
    if (existing.kind === 'dir') return cost;
    if (existing.kind === 'absent') {
      cost.inodes = 1;
      cost.write = 'create';
      return cost;
    }
    // A file where the directory must go: extraction removes it and creates the directory.
    cost.conflict = true;
    cost.write = 'replace';
    cost.blocks = -existingBlocks;
    return cost;
  }
  let newBlocks = 0;
  let newInodes = 1;
  if (type === 'file') newBlocks = model.fileBlocks(member.dataBytes);
  else if (type === 'symlink') newBlocks = model.symlinkBlocks(member.linkLength);
  else if (type === 'hardlink') newInodes = model.hardlinkInodes;
  if (existing.kind === 'absent') {
    cost.inodes = newInodes;
    cost.blocks = newBlocks;
    cost.write = 'create';
    return cost;
  }
  // Something is there: it is replaced (the old inode goes away as the new one arrives).
  cost.write = 'replace';
  cost.conflict = existing.kind === 'dir' || !sameKind(type, existing.kind);
  // A hard link over an existing name: what that name held is the old copy of a file this run
  // also restores (its blocks are already netted there), so the link itself moves nothing.
  // Not modelled: a multiply-linked file whose other names are not restored keeps its old
  // inode and data alive (+1 inode, + the new data) — rare outside hard-link farms.
  if (type === 'hardlink') return cost;
  cost.blocks = newBlocks - existingBlocks;
  cost.peakInodes = 1;
  cost.peakBlocks = existingBlocks;
  return cost;
}

function sameKind(type: EntryType, kind: ExistingKind): boolean {
  if (type === 'file' || type === 'hardlink') return kind === 'file';
  if (type === 'symlink') return kind === 'symlink';
  return kind === 'other';
}

/** Demand on one filesystem. */
export interface FilesystemDemand {
  /** Net inodes added. */
  inodes: number;
  /** Inodes at the worst moment (net + the temporary file of a replace). */
  peakInodes: number;
  /** Net blocks added (rounded up), directory growth and inode metadata included. */
  blocks: number;
  peakBlocks: number;
  creates: number;
  replaces: number;
  conflicts: number;
  /** Directories created (members and missing parents). */
  newDirectories: number;
}

/** No demand at all: a filesystem the restore only looked at. */
export const NO_DEMAND: Readonly<FilesystemDemand> = Object.freeze({
  inodes: 0,
  peakInodes: 0,
  blocks: 0,
  peakBlocks: 0,
  creates: 0,
  replaces: 0,
  conflicts: 0,
  newDirectories: 0,
});

interface DirectoryState {
  fsIndex: number;
  existed: boolean;
  /** Blocks the directory has now (0 for a new one). */
  existingBlocks: number;
  /** Entries already on disk. */
  base: DirectorySize;
  /** Entries the restore adds. */
  added: DirectorySize;
}

interface FilesystemAccumulator {
  inodes: number;
  blocks: number;
  anyReplace: boolean;
  maxPeakBlocks: number;
  creates: number;
  replaces: number;
  conflicts: number;
  newDirectories: number;
}

export interface DemandLedgerOptions {
  probe: ExistingProbe;
  /** The filesystem index of an existing directory with `device` (st_dev "major:minor"). */
  resolveFilesystem: (device: string, dirPath: string) => number;
  modelOf: (fsIndex: number) => BlockModel;
  /** A type conflict was found at `targetPath`. */
  onConflict?: (targetPath: string) => void;
}

export interface DemandLedger {
  /**
   * Adds the member restored at `targetPath` (absolute, normalized). `previous` is the
   * superseded earlier occurrence of the same memberPath, which is retracted.
   */
  add(targetPath: string, member: DemandMember, previous: DemandMember | null): void;
  /** Makes sure `dirPath`'s filesystem is reported even if nothing lands there. */
  touch(dirPath: string): number;
  /** The demand per filesystem index. */
  finish(): Map<number, FilesystemDemand>;
}

export function createDemandLedger(options: DemandLedgerOptions): DemandLedger {
  const { probe, resolveFilesystem, modelOf } = options;
  const directories = new Map<string, DirectoryState>();
  const filesystems = new Map<number, FilesystemAccumulator>();

  function accumulator(fsIndex: number): FilesystemAccumulator {
    let acc = filesystems.get(fsIndex);
    if (!acc) {
      acc = {
        inodes: 0,
        blocks: 0,
        anyReplace: false,
        maxPeakBlocks: 0,
        creates: 0,
        replaces: 0,
        conflicts: 0,
        newDirectories: 0,
      };
      filesystems.set(fsIndex, acc);
    }
    return acc;
  }

  /** The state of directory `dirPath`, creating (and counting) missing ones up the tree. */
  function ensureDirectory(dirPath: string): DirectoryState {
    const known = directories.get(dirPath);
    if (known) return known;
    const onDisk = probe.probeDirectory(dirPath);
    let state: DirectoryState;
    if (onDisk.exists) {
      state = {
        fsIndex: resolveFilesystem(onDisk.device, dirPath),
        existed: true,
        existingBlocks: 0,
        base: sizeOfNames(onDisk.names),
        added: emptyDirectorySize(),
      };
      state.existingBlocks = (onDisk.blocks512 * 512) / modelOf(state.fsIndex).blockSize;
    } else {
      const parentPath = path.dirname(dirPath);
      if (parentPath === dirPath) throw new Error('the root directory does not exist');
      const parent = ensureDirectory(parentPath);
      if (onDisk.blocked) options.onConflict?.(dirPath);
      state = {
        fsIndex: parent.fsIndex,
        existed: false,
        existingBlocks: 0,
        base: emptyDirectorySize(),
        added: emptyDirectorySize(),
      };
      // A missing parent directory costs its inode (its blocks are counted in finish()) and an
      // entry in its own parent; a file in the way is replaced by it (net 0 inodes).
      addDirectoryEntry(parent.added, Buffer.byteLength(path.basename(dirPath)));
      const acc = accumulator(parent.fsIndex);
      if (!onDisk.blocked) acc.inodes += 1;
      acc.creates += 1;
      acc.newDirectories += 1;
    }
    directories.set(dirPath, state);
    accumulator(state.fsIndex); // reported even when nothing lands there
    return state;
  }

  function apply(fsIndex: number, cost: MemberCost, sign: 1 | -1): void {
    const acc = accumulator(fsIndex);
    acc.inodes += sign * cost.inodes;
    acc.blocks += sign * cost.blocks;
    if (cost.write === 'create') acc.creates += sign;
    if (cost.write === 'replace') acc.replaces += sign;
    if (cost.conflict) acc.conflicts += sign;
    if (sign === 1 && cost.write === 'replace') {
      acc.anyReplace = acc.anyReplace || cost.peakInodes > 0;
      acc.maxPeakBlocks = Math.max(acc.maxPeakBlocks, cost.peakBlocks);
    }
  }

  return {
    add(targetPath, member, previous) {
      const parentPath = path.dirname(targetPath);
      const name = path.basename(targetPath);
      const parent = ensureDirectory(parentPath);
      const model = modelOf(parent.fsIndex);
      const existing = parent.existed ? probe.probeEntry(parentPath, name) : ABSENT;

      if (member.type === 'dir' || previous?.type === 'dir') {
        // A directory is one state shared by everything beneath it: it is counted once, when
        // first seen (as a member or a missing parent), and a repeat changes nothing.
        if (previous !== null || directories.has(targetPath)) return;
        if (member.type !== 'dir') {
          // Unreachable through add() ordering; kept for a file after a dir of the same path.
          return;
        }
        if (existing.kind === 'dir') {
          ensureDirectory(targetPath);
          return;
        }
        const cost = computeMemberCost(model, member, existing);
        if (cost.conflict) options.onConflict?.(targetPath);
        apply(parent.fsIndex, cost, 1);
        if (existing.kind === 'absent') addDirectoryEntry(parent.added, Buffer.byteLength(name));
        directories.set(targetPath, {
          fsIndex: parent.fsIndex,
          existed: false,
          existingBlocks: 0,
          base: emptyDirectorySize(),
          added: emptyDirectorySize(),
        });
        accumulator(parent.fsIndex).newDirectories += 1;
        return;
      }
      if (previous) {
        apply(parent.fsIndex, computeMemberCost(model, previous, existing), -1);
      } else if (existing.kind === 'absent') {
        addDirectoryEntry(parent.added, Buffer.byteLength(name));
      }
      const cost = computeMemberCost(model, member, existing);
      if (cost.conflict && !previous) options.onConflict?.(targetPath);
      apply(parent.fsIndex, cost, 1);
    },
    touch(dirPath) {
      return ensureDirectory(dirPath).fsIndex;
    },
    finish() {
      const blocksByFs = new Map<number, number>();
      for (const state of directories.values()) {
        const model = modelOf(state.fsIndex);
        let blocks: number;
        if (!state.existed) blocks = model.directoryBlocks(state.added);
        else if (state.added.entries === 0) continue;
        else {
          const now = Math.max(state.existingBlocks, model.directoryBlocks(state.base));
          blocks = Math.max(
            0,
            model.directoryBlocks(sumDirectorySizes(state.base, state.added)) - now,
          );
        }
        blocksByFs.set(state.fsIndex, (blocksByFs.get(state.fsIndex) ?? 0) + blocks);
      }
      const result = new Map<number, FilesystemDemand>();
      for (const [fsIndex, acc] of filesystems) {
        const model = modelOf(fsIndex);
        // Inode metadata (XFS chunks, btrfs items) is charged for the inodes added.
        const rawBlocks =
          acc.blocks + (blocksByFs.get(fsIndex) ?? 0) + model.inodeBlocks(Math.max(0, acc.inodes));
        // Sub-block sums (XFS inode chunks, btrfs metadata) round up once per filesystem; a
        // tiny epsilon keeps float noise from adding a block.
        const blocks = Math.ceil(rawBlocks - 1e-9);
        result.set(fsIndex, {
          inodes: acc.inodes,
          peakInodes: acc.inodes + (acc.anyReplace ? 1 : 0),
          blocks,
          peakBlocks: blocks + Math.ceil(acc.maxPeakBlocks - 1e-9),
          creates: acc.creates,
          replaces: acc.replaces,
          conflicts: acc.conflicts,
          newDirectories: acc.newDirectories,
        });
      }
      for (const fsIndex of blocksByFs.keys()) {
        if (!result.has(fsIndex)) {
          result.set(fsIndex, {
            inodes: 0,
            peakInodes: 0,
            blocks: Math.ceil((blocksByFs.get(fsIndex) ?? 0) - 1e-9),
            peakBlocks: 0,
            creates: 0,
            replaces: 0,
            conflicts: 0,
            newDirectories: 0,
          });
        }
      }
      return result;
    },
  };
}
