import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  createMemberTable,
  hashPathPrefix,
  TYPE_CODES,
} from '../../src/inventory/createMemberTable.js';

test('a new path returns -1 and a repeated one returns the type it supersedes', () => {
  const table = createMemberTable();
  assert.is(table.upsert('a/b', TYPE_CODES.file, 10, 10), -1);
  assert.is(table.upsert('a/c', TYPE_CODES.dir, 0, 0), -1);
  assert.is(table.upsert('a/b', TYPE_CODES.symlink, 0, 0), TYPE_CODES.file);
  assert.is(table.previousSize(), 10);
  assert.is(table.upsert('a/b', TYPE_CODES.file, 3, 3), TYPE_CODES.symlink);
  assert.is(table.previousSize(), 0);
  assert.is(table.size, 2);
});

test('sizes of 4 GiB and more and sparse stored sizes survive, also across growth', () => {
  const table = createMemberTable();
  const huge = 9 * 1024 ** 3 + 7;
  table.upsert('huge', TYPE_CODES.file, huge, 4096);
  for (let i = 0; i < 100_000; i += 1) table.upsert(`dir/${i}`, TYPE_CODES.file, i, i);
  assert.is(table.upsert('huge', TYPE_CODES.file, 1, 1), TYPE_CODES.file);
  assert.is(table.previousSize(), huge);
  assert.is(table.previousStored(), 4096);
  assert.is(table.upsert('dir/99999', TYPE_CODES.file, 0, 0), TYPE_CODES.file);
  assert.is(table.previousSize(), 99_999);
  assert.is(table.size, 100_001);
});

test('a million distinct paths are all new, and the table stays near 17 bytes a member', () => {
  const table = createMemberTable();
  let repeats = 0;
  for (let i = 0; i < 1_000_000; i += 1) {
    if (
      table.upsert(
        `var/lib/mailman/archives/private/list${i % 50}/2024-May/${i}.html`,
        1,
        100,
        100,
      ) !== -1
    )
      repeats += 1;
  }
  assert.is(repeats, 0);
  assert.is(table.size, 1_000_000);
  assert.ok(
    table.memoryBytes / 1_000_000 < 30,
    `bytes per member: ${table.memoryBytes / 1_000_000}`,
  );
});

test('a path hashed from its parent prefix is the same path as one hashed whole', () => {
  const table = createMemberTable();
  const path = 'var/lib/mailman/lists/announce/config.pck';
  const prefix = hashPathPrefix(path, path.lastIndexOf('/') + 1);
  assert.is(table.upsert(path, TYPE_CODES.file, 1, 1, prefix), -1);
  assert.is(table.upsert(path, TYPE_CODES.file, 2, 2), TYPE_CODES.file);
  assert.is(
    table.upsert('var/lib/mailman/lists/announce/config.pck.last', TYPE_CODES.file, 3, 3, prefix),
    -1,
  );
  assert.is(table.size, 2);
});

test.run();
