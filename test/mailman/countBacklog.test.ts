/**
 * countBacklog: the messages Mailman's queues hand to the MTA once the lists load again, with
 * SMTPDirect's fan-out as an upper bound (issue 16).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { generateMailmanTree } from '../../samples/generateMailmanTree.js';
import { dict, writeCPickle, type PyOut } from '../../samples/writeCPickle.js';
import { countBacklog, countMtaMessages } from '../../src/mailman/countBacklog.js';
import { makeScratch, rejectionCode } from '../helpers/env.js';

const scratch = makeScratch('restoreplan-backlog-');

test('countMtaMessages: per recipient when personalized or VERP; otherwise 500 a chunk within 4 domain groups, never more than the recipients', () => {
  assert.is(countMtaMessages(null, false), 1);
  assert.is(countMtaMessages(0, false), 0);
  assert.is(countMtaMessages(1, false), 1);
  assert.is(countMtaMessages(3, false), 3);
  assert.is(countMtaMessages(4, false), 4);
  assert.is(countMtaMessages(500, false), 4);
  assert.is(countMtaMessages(1200, false), 6);
  assert.is(countMtaMessages(1200, true), 1200);
});

function queueFile(dir: string, name: string, text: string, meta: Array<[PyOut, PyOut]>): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    path.join(dir, `${name}.pck`),
    Buffer.concat([writeCPickle(text, 0), writeCPickle(dict(meta), 0)]),
  );
}

test('countBacklog: addressed queues by their recipients, posts by their list members, shunt only for the lists asked, unknown recipients as one message each', async () => {
  const root = path.join(scratch.dir, 'var');
  rmSync(root, { recursive: true, force: true });
  await generateMailmanTree(root, {
    lists: [
      { name: 'announce', members: 1000 },
      { name: 'users', members: 20 },
    ],
    postsPerList: 1,
    queueFiles: 0,
  });
  const q = (queue: string): string => path.join(root, 'qfiles', queue);
  const body = 'Subject: x\n\n' + 'line of text\n'.repeat(100);
  const recips = (n: number): PyOut[] => Array.from({ length: n }, (_, i) => `m${i}@example.org`);
  // out: 1200 recipients, plain → min(1200, ceil(1200/500)+3) = 6; VERP'd → 1200.
  queueFile(q('out'), 'a', body, [
    ['listname', 'announce'],
    ['recips', recips(1200)],
  ]);
  queueFile(q('out'), 'b', body, [
    ['listname', 'announce'],
    ['recips', recips(1200)],
    ['verp', 1],
  ]);
  // virgin: a notice to one address.
  queueFile(q('virgin'), 'c', body, [
    ['listname', 'users'],
    ['recips', recips(1)],
  ]);
  // in: a post to announce (900 regular members: 10 % are digest members) → 5; to a list
  // that is not there → unknown, 1.
  queueFile(q('in'), 'd', body, [['listname', 'announce']]);
  queueFile(q('in'), 'e', body, [['listname', 'gone']]);
  // shunt: two posts to users (18 regular members → 18 > bound 4: 4 each), one to announce.
  queueFile(q('shunt'), 'f', body, [['listname', 'users']]);
  queueFile(q('shunt'), 'g', body, [['listname', 'Users']]);
  queueFile(q('shunt'), 'h', body, [['listname', 'announce']]);
  // A file that is not a pickle: one message of its size, recipients unknown.
  writeFileSync(path.join(q('retry'), 'z.pck'), 'garbage');

  const none = await countBacklog(root);
  assert.is(none.queues.out.mtaMessages, 6 + 1200);
  assert.is(none.queues.virgin.mtaMessages, 1);
  assert.is(none.queues.in.mtaMessages, 5 + 1);
  assert.is(none.queues.in.unknownRecipients, 1);
  assert.is(none.queues.retry.mtaMessages, 1);
  assert.is(none.shunt.entries, 0);
  assert.is(none.total.mtaMessages, 1206 + 1 + 6 + 1);
  const withShunt = await countBacklog(root, { shuntedLists: ['users'] });
  assert.equal([withShunt.shunt.entries, withShunt.shunt.mtaMessages], [2, 8]);
  assert.equal(withShunt.shunt.lists, ['users']);
  assert.is(withShunt.total.mtaMessages, none.total.mtaMessages + 8);
  // Sizes: every MTA message is in the histogram, at its size rounded up to 1 KiB.
  const counted = withShunt.sizes.reduce((sum, s) => sum + s.messages, 0);
  assert.is(counted, withShunt.total.mtaMessages);
  assert.ok(withShunt.sizes.every((s) => s.bytes % 1024 === 0 && s.bytes >= 1024));
  // Bytes: each message's size times its copies, the message (first pickle) only.
  assert.ok(withShunt.total.bytes >= withShunt.total.mtaMessages * body.length);
});

test('countBacklog: no qfiles at all is an empty backlog', async () => {
  const empty = path.join(scratch.dir, 'empty');
  mkdirSync(empty, { recursive: true });
  const backlog = await countBacklog(empty, { shuntedLists: ['x'] });
  assert.is(backlog.total.mtaMessages, 0);
  assert.equal(backlog.sizes, []);
});

test('countBacklog: a fifo or a device named like a queue file or a config is skipped, never waited on; an oversized queue file is one message of its size', async () => {
  const root = path.join(scratch.dir, 'hostile');
  rmSync(root, { recursive: true, force: true });
  await generateMailmanTree(root, {
    lists: [{ name: 'users', members: 20 }],
    postsPerList: 1,
    queueFiles: 0,
  });
  const q = (queue: string): string => path.join(root, 'qfiles', queue);
  mkdirSync(q('out'), { recursive: true });
  // A fifo in a queue: opening it for reading would wait for a writer forever.
  assert.is(spawnSync('mkfifo', [path.join(q('out'), 'fifo.pck')]).status, 0);
  symlinkSync('/dev/zero', path.join(q('out'), 'zero.pck'));
  // A post to a list whose config.pck is a fifo: its members cannot be known.
  const odd = path.join(root, 'lists', 'odd');
  mkdirSync(odd, { recursive: true });
  assert.is(spawnSync('mkfifo', [path.join(odd, 'config.pck')]).status, 0);
  queueFile(q('in'), 'post', 'Subject: x\n\nhi\n', [['listname', 'odd']]);
  // A queue file past the parse limit (sparse: 65 MiB of nothing on disk).
  const big = path.join(q('retry'), 'big.pck');
  writeFileSync(big, '');
  truncateSync(big, 65 * 1024 * 1024);
  const started = Date.now();
  const backlog = await Promise.race([
    countBacklog(root),
    new Promise<null>((resolve) => setTimeout(() => resolve(null), 5000)),
  ]);
  assert.ok(backlog, 'countBacklog returned (a fifo was not waited on)');
  assert.ok(Date.now() - started < 5000);
  assert.is(backlog.queues.out.entries, 0);
  assert.equal([backlog.queues.in.mtaMessages, backlog.queues.in.unknownRecipients], [1, 1]);
  assert.equal([backlog.queues.retry.entries, backlog.queues.retry.mtaMessages], [1, 1]);
  assert.ok(backlog.queues.retry.bytes >= 65 * 1024 * 1024, `${backlog.queues.retry.bytes}`);
  assert.ok(backlog.sizes.some((s) => s.bytes >= 65 * 1024 * 1024));
});

test('countBacklog: a listname that is a path (../../x) is no list: its members are not read from outside lists/', async () => {
  const root = path.join(scratch.dir, 'traversal', 'var');
  rmSync(path.dirname(root), { recursive: true, force: true });
  await generateMailmanTree(root, { lists: [{ name: 'users', members: 5 }], queueFiles: 0 });
  // A list config outside lists/, with many members: a post naming it by a relative path.
  await generateMailmanTree(path.join(scratch.dir, 'traversal', 'outside'), {
    lists: [{ name: 'big', members: 3000 }],
    queueFiles: 0,
  });
  for (const name of ['../../outside/lists/big', '..', 'users/../users'])
    queueFile(path.join(root, 'qfiles', 'in'), name.replace(/\W/g, '_'), 'Subject: x\n\nhi\n', [
      ['listname', name],
    ]);
  const backlog = await countBacklog(root);
  assert.equal([backlog.queues.in.mtaMessages, backlog.queues.in.unknownRecipients], [3, 3]);
});

test('countBacklog: a backlog of 30,000 queue files is counted in seconds, and a cancel stops it', async () => {
  const root = path.join(scratch.dir, 'large');
  rmSync(root, { recursive: true, force: true });
  const out = path.join(root, 'qfiles', 'out');
  mkdirSync(out, { recursive: true });
  const bytes = Buffer.concat([
    writeCPickle('Subject: x\n\nhello\n', 0),
    writeCPickle(dict([['recips', ['a@example.org']]]), 0),
  ]);
  const files = 30_000;
  for (let i = 0; i < files; i += 1) writeFileSync(path.join(out, `1700000000.${i}+x.pck`), bytes);
  const started = Date.now();
  const backlog = await countBacklog(root);
  // One file at a time through the thread pool took 16 s here (100,000: 40 s).
  assert.ok(Date.now() - started < 6000, `${Date.now() - started} ms`);
  assert.equal([backlog.queues.out.entries, backlog.queues.out.mtaMessages], [files, files]);
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 20);
  const cancelled = Date.now();
  assert.is(await rejectionCode(countBacklog(root, { signal: controller.signal })), 'ABORTED');
  assert.ok(Date.now() - cancelled < 2000, `${Date.now() - cancelled} ms`);
  rmSync(root, { recursive: true, force: true });
});

test.run();
