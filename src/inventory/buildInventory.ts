import type { ArchiveEntry, EntryType } from '../archive/ArchiveEntry.js';
import type { ScanTotals, TreeRow, TypeCounts } from '../types.js';
import {
  createMemberTable,
  TYPE_BY_CODE,
  TYPE_CODES,
  type MemberTable,
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

/**
 * Counts an archive the way extraction would leave it (CONTRACT.md `scan`): by distinct
 * memberPath, the last occurrence winning; implied parent directories; a rollup per directory
 * down to `depth`. Memory: the member table (a hash per member, no strings) plus one record
 * per directory.
 */
export function buildInventory(options: InventoryOptions = {}): Inventory {
  const depth = options.depth ?? 3;
  const members: MemberTable = createMemberTable();
  const totals = emptyCounts();
  let duplicates = 0;
  // Every directory seen, explicit (true) or only implied by a member beneath it (false).
  const directories = new Map<string, boolean>();
  const rows = new Map<string, TypeCounts>();
  // Archives are grouped by directory: consecutive members usually share their parent, so the
  // ancestor rows of the last parent are reused instead of sliced and looked up again.
  let lastParent: string | null = null;
  let lastRows: TypeCounts[] = [];

  function rowsFor(parent: string): TypeCounts[] {
    if (parent === lastParent) return lastRows;
    const found: TypeCounts[] = [];
    if (parent !== '') {
      let level = 0;
      let index = -1;
      while (level < depth) {
        index = parent.indexOf('/', index + 1);
        const prefix = index === -1 ? parent : parent.slice(0, index);
        let row = rows.get(prefix);
        if (!row) {
          row = emptyCounts();
          rows.set(prefix, row);
        }
        found.push(row);
        level += 1;
        if (index === -1) break;
      }
    }
    lastParent = parent;
    lastRows = found;
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
      const slash = path.lastIndexOf('/');
      const parent = slash === -1 ? '' : path.slice(0, slash);
      if (parent !== lastParent) noteAncestors(parent);
      const ancestorRows = rowsFor(parent);
      const code = TYPE_CODES[entry.type];
      const previous = members.upsert(path, code, entry.size, entry.storedSize);
      if (previous !== -1) {
        // Last occurrence wins: retract what the superseded one contributed.
        duplicates += 1;
        const previousType = TYPE_BY_CODE[previous];
        if (previousType) {
          const previousSize = members.previousSize();
          countMember(totals, previousType, previousSize, -1);
          for (const row of ancestorRows) countMember(row, previousType, previousSize, -1);
        }
      }
      countMember(totals, entry.type, entry.size, 1);
      for (const row of ancestorRows) countMember(row, entry.type, entry.size, 1);
      if (entry.type === 'dir') {
        directories.set(path, true);
        if (!rows.has(path) && path.split('/').length <= depth) rows.set(path, emptyCounts());
      }
    },
    totals() {
      let impliedDirs = 0;
      for (const explicit of directories.values()) if (!explicit) impliedDirs += 1;
      return { ...totals, impliedDirs, duplicates };
    },
    tree() {
      return [...rows.entries()]
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([path, counts]) => ({ path, ...counts }));
    },
    get directoryCount() {
      return directories.size;
    },
  };
}
