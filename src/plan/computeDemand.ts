/**
 * The accounting (DESIGN.md "Counting the way the filesystem counts"): what restoring the
 * selection adds, per filesystem, in inodes and blocks — net (`needed`) and while the restore
 * runs (`peak`: the temporary file of an atomic replace). Pure given a probe of what exists;
 * the probe and the filesystems are injected so tables of synthetic trees can test it.
 *
 * Memory: one record per directory (never per member), so it stays bounded by the directory
 * count; members are fed one at a time and, when a memberPath repeats, the earlier occurrence
 * is retracted (the last occurrence wins, as extraction would leave it).
 *
 * The ledger is incremental: every `add` reports what that member changed on its filesystem
 * (its own inode and blocks, the missing parent directories it is the first to need, the growth
 * of the directory it lands in, rounded totals included). Fed the steps of a plan in the order
 * apply runs them, those per-step costs add up exactly to the filesystem's total: that is how a
 * plan step carries its cost and apply's guard prices what is left by summing them.
 */
import path from 'node:path';

import type { EntryType } from '../archive/ArchiveEntry.js';
import type { ExistingEntry, ExistingKind, ExistingProbe } from '../filesystems/probeExisting.js';
import { NO_DEMAND, type Demand } from './judgeBudget.js';
import { ABSENT } from '../filesystems/probeExisting.js';
import {
  addDirectoryEntry,
  emptyDirectorySize,
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
  /** A sparse file: never rewritten in place (apply would write its holes). */
  sparse?: boolean;
  /** For a hard link: the targetPath it links to (a link cannot cross filesystems). */
  linkTargetPath?: string;
  /** Not restored for a reason the caller found (a symlink whose text leaves the root). */
  refused?: boolean;
}

export type { ExistingEntry, ExistingProbe };

function sizeOfNames(names: readonly string[]): DirectorySize {
  const size = emptyDirectorySize();
  for (const name of names) addDirectoryEntry(size, Buffer.byteLength(name));
  return size;
}

/**
 * What a member does at its path. `skip`: it is not restored — a path of another type is in the
 * way (or a non-directory where one of its parent directories belongs), or it is a hard link
 * whose target is neither restored nor on disk. One rule for check, plan and apply.
 */
export type MemberWrite = 'create' | 'replace' | 'none' | 'skip';

export interface MemberCost {
  inodes: number;
  blocks: number;
  /** Extra inodes and blocks that exist only while this member is being written. */
  peakInodes: number;
  peakBlocks: number;
  write: MemberWrite;
  /** Skipped because something of another type is in the way. */
  conflict: boolean;
  /** A hard link skipped because its target is on another filesystem (EXDEV). */
  crossDevice?: boolean;
}

const SKIP_CONFLICT: Readonly<MemberCost> = Object.freeze({
  inodes: 0,
  blocks: 0,
  peakInodes: 0,
  peakBlocks: 0,
  write: 'skip',
  conflict: true,
});
const SKIP_UNLINKED: Readonly<MemberCost> = Object.freeze({ ...SKIP_CONFLICT, conflict: false });
const SKIP_CROSS_DEVICE: Readonly<MemberCost> = Object.freeze({
  ...SKIP_UNLINKED,
  crossDevice: true,
});

/** What removing one existing name frees: its inode and blocks when it was the last name. */
export interface NameRemoval {
  inodes: number;
  blocks: number;
}

function sameKind(type: EntryType, kind: ExistingKind): boolean {
  if (type === 'file' || type === 'hardlink') return kind === 'file';
  if (type === 'symlink') return kind === 'symlink';
  if (type === 'dir') return kind === 'dir';
  return kind === 'other';
}

/**
 * The cost of one member at a path where `existing` is, excluding directory blocks (those
 * depend on all of a directory's entries; see the ledger). Replacing is temp + rename: while it
 * runs the new inode and the old name both exist; afterwards the old name is gone, which frees
 * what `removal` says (the ledger knows whether it was the file's last name).
 */
export function computeMemberCost(
  model: BlockModel,
  member: DemandMember,
  existing: ExistingEntry,
  removal: NameRemoval = {
    inodes: 1,
    blocks: (existing.blocks512 * 512) / model.blockSize,
  },
): Readonly<MemberCost> {
  if (member.refused) return SKIP_UNLINKED;
  if (member.type === 'hardlink' && !member.linkResolved) return SKIP_UNLINKED;
  if (existing.kind !== 'absent' && !sameKind(member.type, existing.kind)) return SKIP_CONFLICT;
  if (member.type === 'dir') {
    return existing.kind === 'dir'
      ? { ...SKIP_UNLINKED, write: 'none' }
      : { inodes: 1, blocks: 0, peakInodes: 0, peakBlocks: 0, write: 'create', conflict: false };
  }
  let newBlocks = 0;
  // A hard link adds a name, not an inode (tmpfs charges every name against nr_inodes).
  const newInodes = member.type === 'hardlink' ? model.hardlinkInodes : 1;
  if (member.type === 'file') newBlocks = model.fileBlocks(member.dataBytes);
  else if (member.type === 'symlink') newBlocks = model.symlinkBlocks(member.linkLength);
  if (existing.kind === 'absent') {
    return {
      inodes: newInodes,
      blocks: newBlocks,
      peakInodes: 0,
      peakBlocks: 0,
      write: 'create',
      conflict: false,
    };
  }
  // During the replace the new one and the old name coexist (+new); after it, the old name's
  // removal frees what it frees. The peak is what it holds meanwhile beyond its own positive
  // net (sumStepCosts): min(new, freed) — the old copy while the new one is bigger, the new one
  // while it is smaller.
  return {
    inodes: newInodes - removal.inodes,
    blocks: newBlocks - removal.blocks,
    peakInodes: Math.min(newInodes, removal.inodes),
    peakBlocks: Math.min(newBlocks, removal.blocks),
    write: 'replace',
    conflict: false,
  };
}

/** Demand on one filesystem. */
export interface FilesystemDemand extends Demand {
  creates: number;
  replaces: number;
  conflicts: number;
  /** Directories created (members and missing parents). */
  newDirectories: number;
  /**
   * The peaks if every regular file that is replaced were rewritten in place instead (no
   * temporary file): what is left is the temporary files of other replaced types.
   */
  rewrite: { fileReplaces: number; peakInodes: number; peakBlocks: number };
}

/** No demand at all: a filesystem the restore only looked at. */
export const NO_FILESYSTEM_DEMAND: Readonly<FilesystemDemand> = Object.freeze({
  ...NO_DEMAND,
  creates: 0,
  replaces: 0,
  conflicts: 0,
  newDirectories: 0,
  rewrite: Object.freeze({ fileReplaces: 0, peakInodes: 0, peakBlocks: 0 }),
});

interface DirectoryState {
  fsIndex: number;
  existed: boolean;
  /** A non-directory is in the way of this directory or of one above it: nothing lands here. */
  blocked: boolean;
  /** Blocks the directory has now, or would have with its entries on disk (0 for a new one). */
  blocksNow: number;
  /** Entries the restore adds. */
  added: DirectorySize;
  /** Entries on disk plus those added. */
  total: DirectorySize;
  /** Blocks this directory currently adds to its filesystem's total. */
  contribution: number;
}

interface FilesystemAccumulator {
  inodes: number;
  /** What members give back (a smaller file, a freed name), summed as positive numbers. */
  freedInodes: number;
  freedBlocks: number;
  maxPeakInodes: number;
  maxOtherPeakInodes: number;
  /** Member data blocks (fractional on XFS/btrfs). */
  blocks: number;
  /** Directory growth, the sum of every directory's contribution. */
  dirBlocks: number;
  maxPeakBlocks: number;
  maxOtherPeakBlocks: number;
  fileReplaces: number;
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
  /**
   * A type conflict was found at `targetPath` (sign 1, once per path), or the occurrence that
   * had it was superseded by one that has none (sign -1: retract the report).
   */
  onConflict?: (targetPath: string, sign: 1 | -1) => void;
}

/**
 * What one `add` changed. The object is reused by the next call: copy what you keep.
 * `inodes` and `blocks` are the change of the filesystem's rounded totals, so the values of a
 * sequence of adds sum exactly to its totals; the peaks are the member's own.
 */
export interface LedgerOutcome extends MemberCost {
  /** The filesystem the member lands on (-1 for a hard link skipped before any lookup). */
  fsIndex: number;
}

export interface DemandLedger {
  /**
   * Adds the member restored at `targetPath` (absolute, normalized). `previous` is the
   * superseded earlier occurrence of the same memberPath, which is retracted.
   */
  add(targetPath: string, member: DemandMember, previous: DemandMember | null): LedgerOutcome;
  /** Makes sure `dirPath`'s filesystem is reported even if nothing lands there. */
  touch(dirPath: string): number;
  /** The demand per filesystem index so far (cheap: the ledger keeps running totals). */
  finish(): Map<number, FilesystemDemand>;
}

const roundBlocks = (blocks: number): number => Math.ceil(blocks - 1e-9);

export function createDemandLedger(options: DemandLedgerOptions): DemandLedger {
  const { probe, resolveFilesystem, modelOf } = options;
  const directories = new Map<string, DirectoryState>();
  const filesystems: FilesystemAccumulator[] = [];
  const outcome: LedgerOutcome = {
    fsIndex: -1,
    inodes: 0,
    blocks: 0,
    peakInodes: 0,
    peakBlocks: 0,
    write: 'skip',
    conflict: false,
  };
  /** Rounded totals before the current add, per filesystem index. */
  const beforeInodes: number[] = [];
  const beforeBlocks: number[] = [];

  function accumulator(fsIndex: number): FilesystemAccumulator {
    let acc = filesystems[fsIndex];
    if (!acc) {
      acc = {
        inodes: 0,
        freedInodes: 0,
        freedBlocks: 0,
        maxPeakInodes: 0,
        maxOtherPeakInodes: 0,
        blocks: 0,
        dirBlocks: 0,
        maxPeakBlocks: 0,
        maxOtherPeakBlocks: 0,
        fileReplaces: 0,
        creates: 0,
        replaces: 0,
        conflicts: 0,
        newDirectories: 0,
      };
      filesystems[fsIndex] = acc;
    }
    return acc;
  }

  function totalBlocks(fsIndex: number, acc: FilesystemAccumulator): number {
    // Inode metadata (XFS chunks, btrfs items) is charged for the inodes added; sub-block sums
    // round up once per filesystem, a tiny epsilon keeps float noise from adding a block.
    return roundBlocks(
      acc.blocks +
        acc.dirBlocks +
        modelOf(fsIndex).inodeBlocks(Math.max(0, acc.inodes), acc.newDirectories),
    );
  }

  /** Recomputes what a directory adds, after its entries changed. */
  function refresh(state: DirectoryState): void {
    let blocks = 0;
    if (!state.blocked) {
      const model = modelOf(state.fsIndex);
      if (!state.existed) blocks = model.directoryBlocks(state.added);
      else if (state.added.entries > 0)
        blocks = Math.max(0, model.directoryBlocks(state.total) - state.blocksNow);
    }
    accumulator(state.fsIndex).dirBlocks += blocks - state.contribution;
    state.contribution = blocks;
  }

  function addEntry(state: DirectoryState, name: string, sign: 1 | -1): void {
    const length = Buffer.byteLength(name);
    addDirectoryEntry(state.added, length, sign);
    addDirectoryEntry(state.total, length, sign);
    refresh(state);
  }

  function newState(fsIndex: number, blocked: boolean): DirectoryState {
    return {
      fsIndex,
      existed: false,
      blocked,
      blocksNow: 0,
      added: emptyDirectorySize(),
      total: emptyDirectorySize(),
      contribution: 0,
    };
  }

  /** The filesystem a new entry of `dirPath` lands on, creating (and counting) nothing. */
  function filesystemOf(dirPath: string): number {
    for (let dir = dirPath; ; dir = path.dirname(dir)) {
      const known = directories.get(dir);
      if (known) return known.fsIndex;
      const onDisk = probe.probeDirectory(dir);
      if (onDisk.exists) return resolveFilesystem(onDisk.device, dir);
      if (path.dirname(dir) === dir) return -1;
    }
  }

  /** The directories `touch` was given: the roots the restore writes under, never judged above. */
  const roots = new Set<string>();

  /** Whether a directory above `dirPath` is known (the root of the restore, once touched). */
  function underKnownDirectory(dirPath: string): boolean {
    for (let dir = path.dirname(dirPath); ; dir = path.dirname(dir)) {
      if (directories.has(dir)) return true;
      if (path.dirname(dir) === dir) return false;
    }
  }

  /** The state of directory `dirPath`, creating (and counting) missing ones up the tree. */
  function ensureDirectory(dirPath: string): DirectoryState {
    const known = directories.get(dirPath);
    if (known) return known;
    const onDisk = probe.probeDirectory(dirPath);
    let state: DirectoryState;
    if (onDisk.exists && !roots.has(dirPath) && underKnownDirectory(dirPath)) {
      // A directory that exists, but reached through a symlink between it and the root
      // (lists/ linked to another disk): apply never writes through a link in the path
      // (symlink-in-path), so nothing beneath it is restored — the rule for a non-directory
      // where a parent belongs. Only the link's own level was seen (when a directory beneath it
      // had to be created): plan priced a config.pck that apply then refused.
      const parent = ensureDirectory(path.dirname(dirPath));
      if (parent.blocked) {
        state = newState(parent.fsIndex, true);
        directories.set(dirPath, state);
        return state;
      }
    }
    if (onDisk.exists) {
      const fsIndex = resolveFilesystem(onDisk.device, dirPath);
      const model = modelOf(fsIndex);
      const base = sizeOfNames(onDisk.names);
      state = {
        ...newState(fsIndex, false),
        existed: true,
        blocksNow: Math.max(
          (onDisk.blocks512 * 512) / model.blockSize,
          model.directoryBlocks(base),
        ),
        total: base,
      };
      directories.set(dirPath, state);
      accumulator(fsIndex); // reported even when nothing lands there
      return state;
    }
    const parentPath = path.dirname(dirPath);
    if (parentPath === dirPath) throw new Error('the root directory does not exist');
    const parent = ensureDirectory(parentPath);
    if (parent.blocked || onDisk.blocked) {
      // A non-directory is where this directory belongs: nothing beneath it is restored.
      if (!parent.blocked) {
        accumulator(parent.fsIndex).conflicts += 1;
        options.onConflict?.(dirPath, 1);
      }
      state = newState(parent.fsIndex, true);
      directories.set(dirPath, state);
      return state;
    }
    // A missing parent directory costs its inode and an entry in its own parent.
    state = newState(parent.fsIndex, false);
    directories.set(dirPath, state);
    const acc = accumulator(parent.fsIndex);
    acc.inodes += 1;
    acc.creates += 1;
    acc.newDirectories += 1;
    addEntry(parent, path.basename(dirPath), 1);
    refresh(state);
    return state;
  }

  /** Names still there, per existing file with several (by "dev:ino"). */
  const namesLeft = new Map<string, number>();

  /**
   * What removing (sign 1) or putting back (sign -1, a retraction) one name of `existing`
   * frees: the inode and its blocks only with its last name; tmpfs frees a slot per name.
   */
  function nameRemoval(model: BlockModel, existing: ExistingEntry, sign: 1 | -1): NameRemoval {
    const blocks = (existing.blocks512 * 512) / model.blockSize;
    if (existing.links <= 1 || existing.id === '') return { inodes: 1, blocks };
    let left = namesLeft.get(existing.id) ?? existing.links;
    let last: boolean;
    if (sign === 1) {
      left -= 1;
      last = left === 0;
    } else {
      last = left === 0;
      left += 1;
    }
    namesLeft.set(existing.id, left);
    return last ? { inodes: 1, blocks } : { inodes: model.hardlinkInodes, blocks: 0 };
  }

  /** The member's cost, with the name it replaces removed (or put back) for good. */
  function costAt(
    model: BlockModel,
    member: DemandMember,
    existing: ExistingEntry,
    sign: 1 | -1,
  ): Readonly<MemberCost> {
    const plain = computeMemberCost(model, member, existing);
    if (plain.write !== 'replace') return plain;
    return computeMemberCost(model, member, existing, nameRemoval(model, existing, sign));
  }

  function applyCost(
    fsIndex: number,
    cost: Readonly<MemberCost>,
    sign: 1 | -1,
    type: EntryType,
    rewritable = false,
  ): void {
    const acc = accumulator(fsIndex);
    acc.inodes += sign * cost.inodes;
    acc.blocks += sign * cost.blocks;
    acc.freedInodes += sign * Math.max(0, -cost.inodes);
    acc.freedBlocks += sign * Math.max(0, -cost.blocks);
    if (cost.write === 'create') acc.creates += sign;
    if (cost.write === 'replace') acc.replaces += sign;
    if (cost.conflict) acc.conflicts += sign;
    if (sign === 1 && cost.write === 'replace') {
      // Maxima are not retracted: a superseded replace may leave the peak a little high.
      acc.maxPeakInodes = Math.max(acc.maxPeakInodes, cost.peakInodes);
      acc.maxPeakBlocks = Math.max(acc.maxPeakBlocks, cost.peakBlocks);
      if (type === 'file' && rewritable) acc.fileReplaces += 1;
      else {
        acc.maxOtherPeakInodes = Math.max(acc.maxOtherPeakInodes, cost.peakInodes);
        acc.maxOtherPeakBlocks = Math.max(acc.maxOtherPeakBlocks, cost.peakBlocks);
      }
    }
  }

  function snapshot(): void {
    for (let i = 0; i < filesystems.length; i += 1) {
      const acc = filesystems[i];
      if (!acc) continue;
      beforeInodes[i] = acc.inodes;
      beforeBlocks[i] = totalBlocks(i, acc);
    }
  }

  function report(fsIndex: number, cost: Readonly<MemberCost>): LedgerOutcome {
    const acc = accumulator(fsIndex);
    outcome.fsIndex = fsIndex;
    outcome.write = cost.write;
    outcome.conflict = cost.conflict;
    outcome.crossDevice = cost.crossDevice === true;
    outcome.inodes = acc.inodes - (beforeInodes[fsIndex] ?? 0);
    outcome.blocks = totalBlocks(fsIndex, acc) - (beforeBlocks[fsIndex] ?? 0);
    outcome.peakInodes = cost.peakInodes;
    outcome.peakBlocks = roundBlocks(cost.peakBlocks);
    return outcome;
  }

  function reportSkip(fsIndex: number, cost: Readonly<MemberCost>): LedgerOutcome {
    outcome.fsIndex = fsIndex;
    outcome.write = cost.write;
    outcome.conflict = cost.conflict;
    outcome.crossDevice = cost.crossDevice === true;
    outcome.inodes = 0;
    outcome.blocks = 0;
    outcome.peakInodes = 0;
    outcome.peakBlocks = 0;
    return outcome;
  }

  return {
    add(targetPath, member, previous) {
      const unlinked = (m: DemandMember | null): boolean =>
        m === null || m.refused === true || (m.type === 'hardlink' && !m.linkResolved);
      // Skipped before any lookup: a missing parent is not created for a link that is not made.
      if (unlinked(member) && unlinked(previous)) return reportSkip(-1, SKIP_UNLINKED);
      // Nor for a hard link whose target is on another filesystem (EXDEV).
      if (
        member.type === 'hardlink' &&
        member.linkTargetPath !== undefined &&
        unlinked(previous) &&
        filesystemOf(path.dirname(targetPath)) !== filesystemOf(path.dirname(member.linkTargetPath))
      ) {
        return reportSkip(-1, SKIP_CROSS_DEVICE);
      }
      snapshot();
      const parentPath = path.dirname(targetPath);
      const name = path.basename(targetPath);
      const parent = ensureDirectory(parentPath);
      if (parent.blocked) return report(parent.fsIndex, SKIP_CONFLICT);
      const model = modelOf(parent.fsIndex);
      const existing = parent.existed ? probe.probeEntry(parentPath, name) : ABSENT;

      const counted = (c: Readonly<MemberCost>): boolean => c.write !== 'skip';
      let prior = previous;
      if (member.type === 'dir' && prior !== null && prior.type !== 'dir') {
        // A directory supersedes a non-directory: that occurrence is retracted whole (its cost,
        // its name, its conflict), then the directory is counted as if first seen.
        const prevCost = costAt(model, prior, existing, -1);
        applyCost(parent.fsIndex, prevCost, -1, prior.type);
        if (existing.kind === 'absent' && counted(prevCost)) addEntry(parent, name, -1);
        if (prevCost.conflict) options.onConflict?.(targetPath, -1);
        prior = null;
      }
      if (member.type === 'dir' || prior?.type === 'dir') {
        // A directory is one state shared by everything beneath it: it is counted once, when
        // first seen (as a member or a missing parent), and a repeat changes nothing.
        const known = directories.get(targetPath);
        if (prior !== null || known) {
          return report(
            parent.fsIndex,
            known?.blocked ? SKIP_CONFLICT : { ...SKIP_UNLINKED, write: 'none' },
          );
        }
        const cost = computeMemberCost(model, member, existing);
        if (cost.write === 'none') {
          ensureDirectory(targetPath);
          return report(parent.fsIndex, cost);
        }
        if (cost.conflict) {
          accumulator(parent.fsIndex).conflicts += 1;
          options.onConflict?.(targetPath, 1);
          directories.set(targetPath, newState(parent.fsIndex, true));
          return report(parent.fsIndex, cost);
        }
        applyCost(parent.fsIndex, cost, 1, 'dir');
        accumulator(parent.fsIndex).newDirectories += 1;
        const state = newState(parent.fsIndex, false);
        directories.set(targetPath, state);
        addEntry(parent, name, 1);
        refresh(state);
        return report(parent.fsIndex, cost);
      }
      const prevCost = prior ? costAt(model, prior, existing, -1) : null;
      if (prevCost) applyCost(parent.fsIndex, prevCost, -1, prior?.type ?? 'file');
      // A hard link cannot cross filesystems (EXDEV): one whose target is on another is not made.
      const crossDevice =
        member.type === 'hardlink' &&
        member.linkResolved &&
        member.linkTargetPath !== undefined &&
        ensureDirectory(path.dirname(member.linkTargetPath)).fsIndex !== parent.fsIndex;
      const cost = crossDevice ? SKIP_CROSS_DEVICE : costAt(model, member, existing, 1);
      if (existing.kind === 'absent') {
        const was = prevCost !== null && counted(prevCost);
        if (counted(cost) && !was) addEntry(parent, name, 1);
        else if (!counted(cost) && was) addEntry(parent, name, -1);
      }
      if (cost.conflict && !prevCost?.conflict) options.onConflict?.(targetPath, 1);
      else if (!cost.conflict && prevCost?.conflict) options.onConflict?.(targetPath, -1);
      // Rewriting in place (the way out at 0 free inodes) is for a regular file with one name
      // and no holes: apply refuses a file with other names, and would write a sparse one dense.
      const rewritable = member.type === 'file' && member.sparse !== true && existing.links <= 1;
      applyCost(parent.fsIndex, cost, 1, member.type, rewritable);
      return report(parent.fsIndex, cost);
    },
    touch(dirPath) {
      roots.add(dirPath);
      return ensureDirectory(dirPath).fsIndex;
    },
    finish() {
      const result = new Map<number, FilesystemDemand>();
      filesystems.forEach((acc, fsIndex) => {
        const blocks = totalBlocks(fsIndex, acc);
        // The peak in any order of the members: everything they add (what some give back may
        // come only later) plus the most one holds while it runs (sumStepCosts, the same rule).
        const added = {
          inodes: acc.inodes + acc.freedInodes,
          blocks: blocks + roundBlocks(acc.freedBlocks),
        };
        result.set(fsIndex, {
          inodes: acc.inodes,
          peakInodes: added.inodes + acc.maxPeakInodes,
          blocks,
          peakBlocks: added.blocks + roundBlocks(acc.maxPeakBlocks),
          creates: acc.creates,
          replaces: acc.replaces,
          conflicts: acc.conflicts,
          newDirectories: acc.newDirectories,
          rewrite: {
            fileReplaces: acc.fileReplaces,
            peakInodes: added.inodes + acc.maxOtherPeakInodes,
            peakBlocks: added.blocks + roundBlocks(acc.maxOtherPeakBlocks),
          },
        });
      });
      return result;
    },
  };
}
