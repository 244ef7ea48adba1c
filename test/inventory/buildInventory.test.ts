import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildInventory } from '../../src/inventory/buildInventory.js';
import type { ArchiveEntry } from '../../src/archive/ArchiveEntry.js';
import { makeEntry } from '../helpers/makeEntry.js';

function inventoryOf(entries: ArchiveEntry[], depth?: number) {
  const inventory = buildInventory(depth === undefined ? {} : { depth });
  for (const entry of entries) inventory.add(entry);
  return inventory;
}

const cases: Array<{ name: string; entries: ArchiveEntry[]; totals: Record<string, number> }> = [
  {
    name: 'one of each type',
    entries: [
      makeEntry('d', 'dir'),
      makeEntry('d/f', 'file', { size: 5 }),
      makeEntry('d/s', 'symlink', { linkPath: 'f' }),
      makeEntry('d/h', 'hardlink', { linkPath: 'd/f' }),
      makeEntry('d/p', 'fifo'),
      makeEntry('d/c', 'chardev'),
    ],
    totals: {
      entries: 6,
      files: 1,
      dirs: 1,
      symlinks: 1,
      hardlinks: 1,
      other: 2,
      bytes: 5,
      impliedDirs: 0,
      duplicates: 0,
    },
  },
  {
    name: 'parents without a directory member are implied, each once',
    entries: [
      makeEntry('a/b/c/f1', 'file', { size: 1 }),
      makeEntry('a/b/c/f2', 'file', { size: 2 }),
      makeEntry('a/x/f3', 'file'),
    ],
    totals: { entries: 3, files: 3, dirs: 0, bytes: 3, impliedDirs: 4, duplicates: 0 },
  },
  {
    name: 'a directory member that comes after its children is explicit, not implied',
    entries: [makeEntry('a/f', 'file'), makeEntry('a', 'dir')],
    totals: { entries: 2, files: 1, dirs: 1, impliedDirs: 0 },
  },
  {
    name: 'the last occurrence wins: a file appended again counts once with its new size',
    entries: [
      makeEntry('f', 'file', { size: 100 }),
      makeEntry('g', 'file', { size: 1 }),
      makeEntry('f', 'file', { size: 7 }),
    ],
    totals: { entries: 2, files: 2, bytes: 8, duplicates: 1 },
  },
  {
    name: 'a path that changes type counts as its last type',
    entries: [makeEntry('x', 'file', { size: 50 }), makeEntry('x', 'symlink', { linkPath: 'y' })],
    totals: { entries: 1, files: 0, symlinks: 1, bytes: 0, duplicates: 1 },
  },
  {
    name: 'the root member is the target itself and is not counted',
    entries: [makeEntry('', 'dir'), makeEntry('top', 'dir')],
    totals: { entries: 1, dirs: 1, impliedDirs: 0 },
  },
  {
    name: 'a sparse member counts its real size',
    entries: [
      makeEntry('disk.img', 'file', {
        size: 10_485_760,
        storedSize: 8192,
        sparse: [
          [0, 4096],
          [10_481_664, 4096],
        ],
      }),
    ],
    totals: { files: 1, bytes: 10_485_760 },
  },
];

for (const { name, entries, totals } of cases) {
  test(name, () => {
    const actual = inventoryOf(entries).totals() as unknown as Record<string, number>;
    for (const [key, value] of Object.entries(totals)) assert.is(actual[key], value, key);
    assert.is(
      actual.entries,
      actual.files! + actual.dirs! + actual.symlinks! + actual.hardlinks! + actual.other!,
    );
  });
}

test('the tree has one row per directory down to the depth, with everything beneath it', () => {
  const tree = inventoryOf(
    [
      makeEntry('var', 'dir'),
      makeEntry('var/lib/mailman/lists/a/config.pck', 'file', { size: 10 }),
      makeEntry('var/lib/mailman/lists/b/config.pck', 'file', { size: 20 }),
      makeEntry('var/lib/mailman/qfiles/in/1.pck', 'file', { size: 1 }),
      makeEntry('etc/x', 'symlink'),
    ],
    3,
  ).tree();
  assert.equal(
    tree.map((row) => [row.path, row.entries, row.files, row.bytes]),
    [
      ['etc', 1, 0, 0],
      ['var', 3, 3, 31],
      ['var/lib', 3, 3, 31],
      ['var/lib/mailman', 3, 3, 31],
    ],
  );
});

test('a duplicate is retracted from the tree rows too', () => {
  const tree = inventoryOf([
    makeEntry('a/f', 'file', { size: 9 }),
    makeEntry('a/f', 'file', { size: 2 }),
  ]).tree();
  assert.equal(tree, [
    { path: 'a', entries: 1, files: 1, dirs: 0, symlinks: 0, hardlinks: 0, other: 0, bytes: 2 },
  ]);
});

test.run();
