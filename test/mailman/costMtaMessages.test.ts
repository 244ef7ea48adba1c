/**
 * The model against the deltas measured for issue 16 (Exim 4.96, Postfix 3.7.11, ext4 with
 * 4 KiB blocks; /work/notes research, re-measured by mtaSpool.realfs.test.ts): inodes exact
 * where the layout decides them, blocks an upper bound no further above the truth than the
 * directory-growth bound.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { costMtaMessages } from '../../src/mailman/costMtaMessages.js';
import type { EximInfo, PostfixInfo } from '../../src/mailman/MtaInfo.js';
import type { SpoolLayout } from '../../src/mailman/readSpoolLayout.js';

const B = 4096;
const exim = (splitSpool: boolean, messageLogs = true): EximInfo => ({
  kind: 'exim',
  spool: '/s',
  source: 'given',
  splitSpool,
  messageLogs,
});
const postfix = (
  masterRunning: boolean,
  depth = 1,
  names = ['deferred', 'defer'],
): PostfixInfo => ({
  kind: 'postfix',
  spool: '/q',
  source: 'given',
  hashQueueDepth: depth,
  hashQueueNames: names,
  masterRunning,
});
const layout = (dirs: string[] = [], lockFiles: string[] = []): SpoolLayout => ({
  spool: '/s',
  spoolExists: true,
  directories: Object.fromEntries(dirs.map((d) => [d, { entries: 0, allocatedBytes: B }])),
  lockFiles,
  unreadable: [],
});
/** What `postfix check` creates. */
const POSTFIX_CHECKED = ['maildrop', 'incoming', 'active', 'deferred', 'defer'];
const ALL_LOCKS = ['unix.cleanup', 'unix.defer', 'unix.retry', 'unix.showq'];

/** The research's messages: 4 headers of 126 bytes, 76-character lines. */
const SIZES = {
  m1k: { bytesEach: 1164, headerBytesEach: 126, linesEach: 19 },
  m10k: { bytesEach: 10500, headerBytesEach: 126, linesEach: 140 },
  m100k: { bytesEach: 103875, headerBytesEach: 126, linesEach: 1353 },
};

function assertBlocks(cost: ReturnType<typeof costMtaMessages>, measured: number, slack = 0): void {
  assert.ok(cost.blocks >= measured, `predicted ${cost.blocks} blocks >= measured ${measured}`);
  assert.ok(
    measured >= cost.blocks - cost.directoryGrowth - slack,
    `measured ${measured} >= predicted ${cost.blocks} - growth bound ${cost.directoryGrowth}`,
  );
}

test('Exim, no split spool, fresh spool: 3 inodes a message plus input/ and msglog/', () => {
  const rows: Array<[keyof typeof SIZES, number, number, number]> = [
    ['m1k', 1, 5, 5],
    ['m1k', 10, 32, 32],
    ['m1k', 100, 302, 304],
    ['m1k', 500, 1502, 1514],
    ['m10k', 100, 302, 504],
    ['m100k', 1, 5, 30],
    ['m100k', 500, 1502, 14014],
  ];
  for (const [size, n, inodes, blocks] of rows) {
    const cost = costMtaMessages(exim(false), layout(), { count: n, ...SIZES[size] }, B);
    assert.is(cost.inodes, inodes, `${size} N=${n}`);
    assertBlocks(cost, blocks);
  }
});

test('Exim on a live spool (input/ and msglog/ there): exactly the message files', () => {
  const cost = costMtaMessages(
    exim(false),
    layout(['input', 'msglog']),
    { count: 10, ...SIZES.m10k },
    B,
  );
  assert.equal(cost.oneTime, { inodes: 0, blocks: 0 });
  assert.equal(cost.perMessage, { inodes: 3, blocks: 5 });
  assert.is(cost.inodes, 30);
  // Without message_logs: a third fewer inodes.
  const quiet = costMtaMessages(
    exim(false, false),
    layout(['input']),
    { count: 10, ...SIZES.m1k },
    B,
  );
  assert.equal(quiet.perMessage, { inodes: 2, blocks: 2 });
});

test('Exim, split spool: the measured subdirectories (one per second) within the 62 bound', () => {
  // [size, N, measured inodes, measured blocks, subdirectories on disk]
  const rows: Array<[keyof typeof SIZES, number, number, number, number]> = [
    ['m1k', 1, 7, 7, 1],
    ['m1k', 100, 308, 308, 3],
    ['m1k', 500, 1526, 1526, 12],
    ['m10k', 500, 1520, 2522, 9],
    ['m100k', 500, 1532, 14032, 15],
  ];
  for (const [size, n, inodes, blocks, s] of rows) {
    const cost = costMtaMessages(exim(true), layout(), { count: n, ...SIZES[size] }, B);
    const unused = 2 * (Math.min(62, n) - s);
    assert.is(cost.inodes - unused, inodes, `${size} N=${n}`);
    assertBlocks(cost, blocks, unused);
  }
  // All 62 there already: nothing one-time.
  const dirs = ['input', 'msglog'];
  for (const top of ['input', 'msglog'])
    for (const c of '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz')
      dirs.push(`${top}/${c}`);
  const warm = costMtaMessages(exim(true), layout(dirs), { count: 500, ...SIZES.m1k }, B);
  assert.equal(warm.oneTime, { inodes: 0, blocks: 0 });
  assert.is(warm.inodes, 1500);
});

test('Exim without known headers: an upper bound of the blocks', () => {
  const cost = costMtaMessages(exim(false), layout(), { count: 500, bytesEach: 103875 }, B);
  assert.is(cost.inodes, 1502);
  assert.ok(cost.blocks >= 14014);
  assert.ok(cost.blocks <= 14014 * 1.1, String(cost.blocks));
});

test('Postfix with master: a queue file and a defer log, hash directories, lock files', () => {
  // Measured: [size, N, inodes, blocks, hash dirs per queue, lock files]
  const rows: Array<[keyof typeof SIZES, number, number, number, number, number]> = [
    ['m1k', 1, 7, 4, 1, 3],
    ['m1k', 10, 32, 28, 4, 4],
    ['m1k', 100, 236, 232, 16, 4],
    ['m1k', 500, 1036, 1032, 16, 4],
    ['m10k', 10, 34, 50, 5, 4],
    ['m100k', 100, 234, 2730, 15, 4],
    ['m100k', 500, 1036, 13532, 16, 4],
  ];
  for (const [size, n, inodes, blocks, dirs, locks] of rows) {
    const cost = costMtaMessages(
      postfix(true),
      layout(POSTFIX_CHECKED),
      { count: n, ...SIZES[size] },
      B,
    );
    const unusedDirs = 2 * (Math.min(16, n) - dirs);
    assert.is(cost.inodes - unusedDirs - (4 - locks), inodes, `${size} N=${n}`);
    assertBlocks(cost, blocks, unusedDirs);
  }
  // A live queue directory: all 16 hash directories and the lock files there.
  const live = [...POSTFIX_CHECKED];
  for (const q of ['deferred', 'defer']) for (const h of '0123456789ABCDEF') live.push(`${q}/${h}`);
  const cost = costMtaMessages(
    postfix(true),
    layout(live, ALL_LOCKS),
    { count: 100, ...SIZES.m10k },
    B,
  );
  assert.equal(cost.oneTime, { inodes: 0, blocks: 0 });
  assert.equal(cost.perMessage, { inodes: 2, blocks: 4 });
});

test('Postfix without master: one maildrop file a message', () => {
  const rows: Array<[keyof typeof SIZES, number, number, number]> = [
    ['m1k', 1, 1, 1],
    ['m1k', 500, 500, 503],
    ['m10k', 100, 100, 300],
    ['m100k', 500, 500, 13003],
  ];
  for (const [size, n, inodes, blocks] of rows) {
    const cost = costMtaMessages(
      postfix(false),
      layout(POSTFIX_CHECKED),
      { count: n, ...SIZES[size] },
      B,
    );
    assert.is(cost.inodes, inodes, `${size} N=${n}`);
    assertBlocks(cost, blocks);
  }
});

test('Postfix hash depth 2 and hashed incoming: every level, every hashed queue', () => {
  const cost = costMtaMessages(
    postfix(true, 2, ['incoming', 'deferred', 'defer']),
    layout(POSTFIX_CHECKED, ALL_LOCKS),
    { count: 1000, bytesEach: 2000 },
    B,
  );
  assert.is(cost.oneTime.inodes, 3 * (16 + 256));
  const few = costMtaMessages(
    postfix(true, 2, ['deferred', 'defer']),
    layout(POSTFIX_CHECKED, ALL_LOCKS),
    { count: 3, bytesEach: 2000 },
    B,
  );
  assert.is(few.oneTime.inodes, 2 * (3 + 3));
});

test('no messages cost nothing; 1 KiB blocks scale the per-file blocks', () => {
  const none = costMtaMessages(
    exim(true),
    { ...layout(), spoolExists: false },
    { count: 0, bytesEach: 5000 },
    B,
  );
  assert.equal(none, {
    inodes: 0,
    blocks: 0,
    perMessage: { inodes: 0, blocks: 0 },
    oneTime: { inodes: 0, blocks: 0 },
    directoryGrowth: 0,
  });
  const small = costMtaMessages(
    exim(false),
    layout(['input', 'msglog']),
    { count: 1, ...SIZES.m10k },
    1024,
  );
  // -H 826 -> 1, -D 10400 -> 11, msglog 2048 -> 2
  assert.equal(small.perMessage, { inodes: 3, blocks: 14 });
  // A missing spool: Exim creates it too.
  const fresh = costMtaMessages(
    exim(false),
    { ...layout(), spoolExists: false },
    { count: 1, ...SIZES.m1k },
    B,
  );
  assert.equal(fresh.oneTime, { inodes: 3, blocks: 3 });
});

test.run();
