/**
 * checkBudget end to end through the real archive walk, on archives made by GNU tar and
 * Python's tarfile, against an independent expectation (a tarfile listing fed to the same
 * accounting, or counts derived from the archive's own listing).
 */
import { createReadStream, mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { RestoreplanError } from '../../src/errors.js';
import { checkBudget, createBudgetCheck } from '../../src/plan/checkBudget.js';
import { assertMatchesSchema } from '../helpers/assertSchema.js';
import { makeScratch, missingNeeds, run } from '../helpers/env.js';
import { listTarWithPython, makeMailmanShapedTree } from '../helpers/mailmanShapedTree.js';
import { makeEntry } from '../helpers/makeEntry.js';

const why = missingNeeds({ tools: ['tar', 'python3', 'gzip'] });
const scratch = makeScratch('restoreplan-check-');
const tree = path.join(scratch.dir, 'tree');
const archive = path.join(scratch.dir, 'var.tar');
const target = path.join(scratch.dir, 'target');

const normalize = (name: string): string =>
  name
    .split('/')
    .filter((p) => p !== '' && p !== '.')
    .join('/');

test.before(() => {
  if (why) return;
  mkdirSync(tree);
  mkdirSync(target);
  makeMailmanShapedTree(tree, { lists: 2, postsPerList: 30 });
  run('mkfifo', [path.join(tree, 'data', 'fifo')]);
  run('tar', ['--sparse', '-cf', archive, '-C', tree, '.']);
});
test.after(() => scratch.cleanup());

test('the walk gives the same budget as the tarfile listing', async () => {
  if (why) return void console.log(`skipped: ${why}`);
  const viaWalk = await checkBudget(archive, { target });
  const session = await createBudgetCheck({ target });
  for (const m of listTarWithPython(archive)) {
    session.onEntry(
      makeEntry(normalize(m.name), m.type, {
        size: m.size,
        storedSize: m.stored,
        linkPath: m.type === 'hardlink' ? normalize(m.linkname) : m.linkname,
      }),
    );
  }
  const viaList = session.finish();
  assert.equal(viaWalk.selection, viaList.selection);
  assert.equal(
    viaWalk.filesystems.map((f) => [f.inodes.needed, f.blocks.needed]),
    viaList.filesystems.map((f) => [f.inodes.needed, f.blocks.needed]),
  );
  // The fifo is skipped and said so.
  assert.ok(viaWalk.problems.some((p) => p.kind === 'special-member'));
  assert.is(viaWalk.selection.other, 0);
});

test('a gzip stream on stdin gives the same numbers as the file', async () => {
  if (why) return void console.log(`skipped: ${why}`);
  const gz = `${archive}.gz`;
  run('sh', ['-c', `gzip -c '${archive}' > '${gz}'`]);
  const fromFile = await checkBudget(archive, { target });
  const fromStream = await checkBudget(createReadStream(gz), { target });
  assert.equal(fromStream.selection, fromFile.selection);
  // Only the demand: the free counts of a live filesystem move between two readings.
  const demand = (r: typeof fromFile) =>
    r.filesystems.map((f) => [f.mountPoint, f.inodes.needed, f.inodes.peak, f.blocks.needed]);
  assert.equal(demand(fromStream), demand(fromFile));
});

test('--member-root maps a subtree onto the target; include/exclude select within it', async () => {
  if (why) return void console.log(`skipped: ${why}`);
  const listing = run('tar', ['-tf', archive])
    .split('\n')
    .map(normalize)
    .filter((p) => p.startsWith('lists/'));
  const all = await checkBudget(archive, { target, memberRoot: './lists/' });
  assert.is(all.selection.entries, listing.length);
  const configs = await checkBudget(archive, {
    target,
    memberRoot: 'lists',
    include: ['*/config.pck'],
  });
  assert.is(configs.selection.entries, listing.filter((p) => p.endsWith('/config.pck')).length);
  // Two configs in two missing list dirs: 4 inodes.
  assert.is(configs.filesystems[0]!.inodes.needed, 4);
  const without = await checkBudget(archive, { target, exclude: ['archives', 'qfiles/**'] });
  assert.not.ok(without.selection.entries === 0);
  const full = await checkBudget(archive, { target });
  const excluded = run('tar', ['-tf', archive])
    .split('\n')
    .map(normalize)
    .filter((p) => p.startsWith('archives') || p.startsWith('qfiles/')).length;
  assert.is(without.selection.entries, full.selection.entries - excluded);
});

test('unsafe members are never counted and are reported; absolute names count under the target; duplicates count once', async () => {
  if (why) return void console.log(`skipped: ${why}`);
  const evil = path.join(scratch.dir, 'evil.tar');
  run('python3', [
    '-c',
    `
import io, sys, tarfile
with tarfile.open(sys.argv[1], 'w', format=tarfile.GNU_FORMAT) as tf:
    for name, data in [('ok.txt', b'a'), ('../escape.txt', b'b'), ('/etc/evil', b'c'), ('ok.txt', b'x' * 9000)]:
        info = tarfile.TarInfo(name); info.size = len(data); tf.addfile(info, io.BytesIO(data))
`,
    evil,
  ]);
  const result = await checkBudget(evil, { target });
  assertMatchesSchema(result, 'check', 'checkBudget() of an archive with unsafe members');
  // ok.txt (its last copy) and /etc/evil as <target>/etc/evil, as GNU tar extracts it.
  assert.is(result.selection.entries, 2);
  assert.is(result.selection.bytes, 9001);
  assert.is(result.filesystems[0]!.inodes.needed, 3, 'two files and the implied etc/');
  assert.is(result.problems.filter((p) => p.kind === 'unsafe-member').length, 1);
});

test('a root or glob that selects nothing is SELECTION_EMPTY, naming what the archive holds', async () => {
  if (why) return void console.log(`skipped: ${why}`);
  for (const options of [
    { include: ['no-such-thing'] },
    { memberRoot: 'list' }, // a typo of lists
  ]) {
    try {
      await checkBudget(archive, { target, ...options });
      assert.unreachable('an empty selection must never be a verdict');
    } catch (error) {
      assert.instance(error, RestoreplanError);
      assert.is((error as RestoreplanError).code, 'SELECTION_EMPTY');
      assert.match(String((error as RestoreplanError).details.hint), /lists/);
    }
  }
});

test('a missing target is TARGET_MISSING; a file as target TARGET_INVALID', async () => {
  const file = path.join(scratch.dir, 'plain-file');
  writeFileSync(file, '');
  for (const [t, code] of [
    [path.join(scratch.dir, 'nope'), 'TARGET_MISSING'],
    [file, 'TARGET_INVALID'],
  ] as const) {
    try {
      await checkBudget(archive, { target: t });
      assert.unreachable();
    } catch (error) {
      assert.instance(error, RestoreplanError);
      assert.is((error as RestoreplanError).code, code);
    }
  }
});

test('the growth allowance is added to the default reserve of the target filesystem and reported', async () => {
  if (why) return void console.log(`skipped: ${why}`);
  const base = await checkBudget(archive, { target });
  const grown = await checkBudget(archive, { target, growthInodes: async () => 250 });
  const fs = grown.filesystems[0]!;
  assert.is(fs.inodes.reserve, base.filesystems[0]!.inodes.reserve + 250);
  assert.equal([fs.inodes.growth?.allowance, fs.inodes.growth?.counted], [250, true]);
  assert.ok(grown.problems.some((p) => p.kind === 'queue-growing'));
});

test('an explicit --reserve-inodes is the whole reserve: the allowance is advice only', async () => {
  if (why) return void console.log(`skipped: ${why}`);
  const given = await checkBudget(archive, {
    target,
    reserveInodes: 100,
    growthInodes: async () => 250,
  });
  const fs = given.filesystems[0]!;
  assert.is(fs.inodes.reserve, 100);
  assert.equal([fs.inodes.growth?.allowance, fs.inodes.growth?.counted], [250, false]);
  const advice = given.problems.find((p) => p.kind === 'queue-growing');
  assert.match(advice?.message ?? '', 'is not kept free');
});

test('the allowance is never more than the inodes free', async () => {
  if (why) return void console.log(`skipped: ${why}`);
  const huge = await checkBudget(archive, { target, growthInodes: 1e12 });
  const fs = huge.filesystems[0]!;
  assert.is(fs.inodes.growth?.measured, 1e12);
  assert.ok(fs.inodes.growth!.allowance <= fs.inodes.free, JSON.stringify(fs.inodes));
});

test('a Mailman var dir as target: queue inflow of the last hour × 12 h joins the reserve', async () => {
  if (why) return void console.log(`skipped: ${why}`);
  const varDir = path.join(scratch.dir, 'mailman-var');
  mkdirSync(path.join(varDir, 'lists', 'announce'), { recursive: true });
  writeFileSync(path.join(varDir, 'lists', 'announce', 'config.pck'), '}q.');
  mkdirSync(path.join(varDir, 'qfiles', 'in'), { recursive: true });
  mkdirSync(path.join(varDir, 'qfiles', 'shunt'), { recursive: true });
  const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
  for (let i = 0; i < 7; i += 1)
    writeFileSync(path.join(varDir, 'qfiles', 'in', `new${i}.pck`), 'x');
  for (let i = 0; i < 3; i += 1)
    writeFileSync(path.join(varDir, 'qfiles', 'shunt', `new${i}.pck`), 'x');
  for (let i = 0; i < 5; i += 1) {
    const old = path.join(varDir, 'qfiles', 'in', `old${i}.pck`);
    writeFileSync(old, 'x');
    utimesSync(old, twoHoursAgo, twoHoursAgo);
  }
  const result = await checkBudget(archive, { target: varDir, reserveInodes: '0%' });
  assertMatchesSchema(result, 'check', 'checkBudget() into a Mailman var dir');
  // 10 files arrived within the hour: 10 per hour for 12 hours, advice beside an explicit 0%.
  assert.is(result.filesystems[0]!.inodes.reserve, 0);
  assert.is(result.filesystems[0]!.inodes.growth?.allowance, 120);
  const base = (await checkBudget(archive, { target: varDir, growthWindowHours: 0 }))
    .filesystems[0]!.inodes.reserve;
  const byDefault = await checkBudget(archive, { target: varDir });
  assert.is(byDefault.filesystems[0]!.inodes.reserve, base + 120);
  const shorter = await checkBudget(archive, { target: varDir, growthWindowHours: 2 });
  assert.is(shorter.filesystems[0]!.inodes.reserve, base + 20);
  assert.is(shorter.filesystems[0]!.inodes.growth?.windowHours, 2);
  try {
    await checkBudget(archive, { target: varDir, growthWindowHours: -1 });
    assert.unreachable();
  } catch (error) {
    assert.is((error as RestoreplanError).code, 'USAGE');
  }
});

test.run();
