import { test } from 'uvu';
import * as assert from 'uvu/assert';

import {
  boundDirectoryGrowth,
  directoryEntryBytes,
} from '../../src/mailman/boundDirectoryGrowth.js';

const B = 4096;

test('an ext4 entry is 8 bytes plus the name rounded up to 4', () => {
  assert.is(directoryEntryBytes(18), 28);
  assert.is(directoryEntryBytes(16), 24);
  assert.is(directoryEntryBytes(25), 36);
});

test('entries that fit the first block cost nothing', () => {
  assert.is(
    boundDirectoryGrowth({
      existing: [],
      missing: 1,
      newEntries: 100,
      entryBytes: 36,
      blockSize: B,
    }),
    0,
  );
  assert.is(
    boundDirectoryGrowth({
      existing: [{ entries: 10, allocatedBytes: B }],
      missing: 0,
      newEntries: 100,
      entryBytes: 36,
      blockSize: B,
    }),
    0,
  );
  assert.is(
    boundDirectoryGrowth({ existing: [], missing: 0, newEntries: 0, entryBytes: 36, blockSize: B }),
    0,
  );
});

test('the measured growth is within the bound (Exim input/ +2 at 200 entries, +8 at 1000)', () => {
  const input = (n: number): number =>
    boundDirectoryGrowth({ existing: [], missing: 1, newEntries: n, entryBytes: 28, blockSize: B });
  assert.ok(input(200) >= 2, String(input(200)));
  assert.ok(input(1000) >= 8, String(input(1000)));
  // msglog/ reached 5 blocks (+4) with 500 entries.
  assert.ok(
    boundDirectoryGrowth({
      existing: [],
      missing: 1,
      newEntries: 500,
      entryBytes: 24,
      blockSize: B,
    }) >= 4,
  );
});

test('a spread over many directories: only as many as the entries can fill convert', () => {
  // 62 split directories, 200 entries: at most one can pass 112 entries of 36 bytes.
  const split = boundDirectoryGrowth({
    existing: [],
    missing: 62,
    newEntries: 200,
    entryBytes: 36,
    blockSize: B,
  });
  const single = boundDirectoryGrowth({
    existing: [],
    missing: 1,
    newEntries: 200,
    entryBytes: 36,
    blockSize: B,
  });
  assert.is(split, single);
  // 16 Postfix hash directories with 100 entries: none passes one block.
  assert.is(
    boundDirectoryGrowth({
      existing: [],
      missing: 16,
      newEntries: 100,
      entryBytes: 28,
      blockSize: B,
    }),
    0,
  );
});

test('a directory already large from an earlier backlog grows only past its size', () => {
  const grown = boundDirectoryGrowth({
    existing: [{ entries: 0, allocatedBytes: 40 * B }],
    missing: 0,
    newEntries: 10,
    entryBytes: 36,
    blockSize: B,
  });
  assert.ok(grown <= 2, String(grown));
  // A nearly full single block tips with a few entries.
  assert.ok(
    boundDirectoryGrowth({
      existing: [{ entries: 112, allocatedBytes: B }],
      missing: 0,
      newEntries: 2,
      entryBytes: 36,
      blockSize: B,
    }) >= 2,
  );
});

test.run();
