import type { ArchiveEntry, EntryType } from '../archive/ArchiveEntry.js';
import type { ScanTotals, TreeRow, TypeCounts } from '../types.js';
import {
  createMemberTable,
  hashPathPrefix,
  TYPE_CODES,
  type MemberTable,
  type PathHashPrefix,
} from './createMemberTable.js';

export interface InventoryOptions {
  /** Tree rollup depth (CONTRACT.md `--depth`, default 3). */
  depth?: number;
}

export interface Inventory {
  /** Adds one member (the walk's reused entry object; nothing of it is kept but its path's hash). */
  add(entry: ArchiveEntry): void;
  totals(): ScanTotals;
  tree(): TreeRow[];
  /** Directories seen, explicit or implied (bounded by the archive's directory count). */
  readonly directoryCount: number;
}

type CountKey = 'files' | 'dirs' | 'symlinks' | 'hardlinks' | 'other';

const COUNT_KEY: Record<EntryType, CountKey> = {
  file: 'files',
  dir: 'dirs',
  symlink: 'symlinks',
  hardlink: 'hardlinks',
  fifo: 'other',
  chardev: 'other',
  blockdev: 'other',
};

export function emptyCounts(): TypeCounts {
  return { entries: 0, files: 0, dirs: 0, symlinks: 0, hardlinks: 0, other: 0, bytes: 0 };
}

/** Adds (sign 1) or retracts (sign -1) one member of `type` and `size` to `counts`. */
export function countMember(counts: TypeCounts, type: EntryType, size: number, sign: 1 | -1): void {
  counts.entries += sign;
  counts[COUNT_KEY[type]] += sign;
  if (type === 'file') counts.bytes += sign * size;
}

/*
 * On the hot path counts live in small Float64Arrays indexed by slot, not in objects with
 * keyed property updates (those dominated a profile of a 700,000-member scan).
 * Slots: entries, files, dirs, symlinks, hardlinks, other, bytes.
 */
const ENTRIES = 0;
const BYTES = 6;
/** Slot of each TYPE_CODES value. */
const SLOT_BY_CODE = new Uint8Array([0, 1, 2, 3, 4, 5, 5, 5]);

function bump(counts: Float64Array, code: number, size: number, sign: number): void {
  counts[ENTRIES]! += sign;
  counts[SLOT_BY_CODE[code] ?? 5]! += sign;
  if (code === TYPE_CODES.file) counts[BYTES]! += sign * size;
}

function toCounts(counts: Float64Array): TypeCounts {
  return {
    entries: counts[0] ?? 0,
    files: counts[1] ?? 0,
    dirs: counts[2] ?? 0,
    symlinks: counts[3] ?? 0,
    hardlinks: counts[4] ?? 0,
    other: counts[5] ?? 0,
    bytes: counts[6] ?? 0,
  };
}

/**
 * `path.startsWith(prefix)`, as a loop the JIT inlines: the builtin is a runtime call that cost
 * more than everything else per member in a profile. Compared from the end, where sibling
 * directories differ.
 */
function hasPrefix(path: string, prefix: string): boolean {
  for (let i = prefix.length - 1; i >= 0; i -= 1) {
    if (path.charCodeAt(i) !== prefix.charCodeAt(i)) return false;
  }
  return true;
}

/**
 * Counts an archive the way extraction would leave it (CONTRACT.md `scan`): by distinct
 * memberPath, the last occurrence winning; implied parent directories; a rollup per directory
 * down to `depth`. Memory: the member table (a hash per member, no strings) plus one record
 * per directory.
 */
export function buildInventory(options: InventoryOptions = {}): Inventory {
  const depth = options.depth ?? 3;
  const members: MemberTable = createMemberTable();
  const totals = new Float64Array(7);
  let duplicates = 0;
  // Every directory seen, explicit (true) or only implied by a member beneath it (false).
  const directories = new Map<string, boolean>();
  const rows = new Map<string, Float64Array>();
  // Archives are grouped by directory: consecutive members usually share their parent, so the
  // parent of the previous member and its ancestor rows are reused without slicing the path.
  let lastParent = '';
  let lastRows: Float64Array[] = [];
  let lastPrefix: PathHashPrefix = hashPathPrefix('', 0);

  function rowsFor(parent: string): Float64Array[] {
    const found: Float64Array[] = [];
    if (parent !== '') {
      let level = 0;
      let index = -1;
      while (level < depth) {
        index = parent.indexOf('/', index + 1);
        const prefix = index === -1 ? parent : parent.slice(0, index);
        let row = rows.get(prefix);
        if (!row) {
          row = new Float64Array(7);
          rows.set(prefix, row);
        }
        found.push(row);
        level += 1;
        if (index === -1) break;
      }
    }
    return found;
  }

  function noteAncestors(parent: string): void {
    // Walk up only until a directory we already know: its ancestors are known too.
    let dir = parent;
    while (dir !== '' && !directories.has(dir)) {
      directories.set(dir, false);
      const slash = dir.lastIndexOf('/');
      dir = slash === -1 ? '' : dir.slice(0, slash);
    }
  }

  return {
    add(entry) {
      const path = entry.memberPath;
      // The root member (`./`, `/`) names the target itself: not counted (CONTRACT.md).
      if (path === '') return;
      const parentLength = Math.max(0, path.lastIndexOf('/'));
      if (parentLength !== lastParent.length || !hasPrefix(path, lastParent)) {
        lastParent = path.slice(0, parentLength);
        noteAncestors(lastParent);
        lastRows = rowsFor(lastParent);
        // The hash of `parent/` is shared by every member of the directory.
        lastPrefix = hashPathPrefix(path, parentLength === 0 ? 0 : parentLength + 1);
      }
      const code = TYPE_CODES[entry.type];
      const previous = members.upsert(path, code, entry.size, entry.storedSize, lastPrefix);
      if (previous !== -1) {
        // Last occurrence wins: retract what the superseded one contributed.
        duplicates += 1;
        const previousSize = members.previousSize();
        bump(totals, previous, previousSize, -1);
        for (const row of lastRows) bump(row, previous, previousSize, -1);
      }
      bump(totals, code, entry.size, 1);
      for (let i = 0; i < lastRows.length; i += 1)
        bump(lastRows[i] as Float64Array, code, entry.size, 1);
      if (code === TYPE_CODES.dir) {
        directories.set(path, true);
        if (!rows.has(path) && path.split('/').length <= depth) rows.set(path, new Float64Array(7));
      }
    },
    totals() {
      let impliedDirs = 0;
      for (const explicit of directories.values()) if (!explicit) impliedDirs += 1;
      return { ...toCounts(totals), impliedDirs, duplicates };
    },
    tree() {
      return [...rows.entries()]
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([path, counts]) => ({ path, ...toCounts(counts) }));
    },
    get directoryCount() {
      return directories.size;
    },
  };
}
