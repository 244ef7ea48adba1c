/**
 * The planner's acceptance scenarios on real loop-mounted ext4 (mkfs -N) and tmpfs
 * (nr_inodes): plenty of room, close to the reserve, zero free inodes, bulk that does not fit,
 * an alternate root on another filesystem, a backup holding a corrupt copy, and Mailman's
 * safety rules (held locks, a running Mailman, owner and mode of what is replaced). Where a
 * plan is feasible it is applied and checked on disk: bytes against GNU tar's extraction of
 * the member, every other path untouched, and statfs moving by exactly the predicted inodes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  linkSync,
  mkdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import type { IncidentSandbox } from '../../samples/buildIncidentSandbox.js';
import { breakMailmanTree } from '../../samples/breakMailmanTree.js';
import { applyPlan } from '../../src/apply/applyPlan.js';
import { diagnoseMailman } from '../../src/mailman/diagnoseMailman.js';
import { planRestore, type PlanOptions } from '../../src/plan/planRestore.js';
import type { ApplyResult, PlanDocument } from '../../src/types.js';
import { listTarMembers } from '../apply/buildTestPlan.js';
import { assertMatchesSchema } from '../helpers/assertSchema.js';
import { makeScratch, missingNeeds, run } from '../helpers/env.js';
import {
  archiveMembersOf,
  buildBackup,
  changedPaths,
  copyLive,
  defaultReserve,
  eatInodesTo,
  freeInodes,
  listMembers,
  loseList,
  memberBytes,
  removeFiles,
  snapshotTree,
} from '../helpers/liveMailman.js';
import { withMountedFs } from '../helpers/mountFs.js';

const why = missingNeeds({ root: true, tools: ['tar', 'python3', 'mkfs.ext4', 'losetup'] });
const scratch = makeScratch('restoreplan-plan-realfs-');
let sandbox: IncidentSandbox;
let members: string[] = [];
let journals = 0;

const ROOT = 'var/lib/mailman';
/** The sandbox's lists: [1] corrupt, [2] degraded, [3] interrupted save, [4] and [5] ok. */
const CORRUPT = 'announce';
const LOST = 'board';

const FILESYSTEMS = [
  { type: 'ext4', sizeMiB: 32, inodes: 2048 },
  { type: 'tmpfs', sizeMiB: 32, inodes: 2048 },
] as const;

test.before(async () => {
  if (why) return;
  sandbox = await buildBackup(path.join(scratch.dir, 'sandbox'));
  assert.equal(sandbox.expected.corrupt, [CORRUPT]);
  assert.is(sandbox.lists[4], LOST);
  members = listMembers(sandbox.backup);
});
test.after(() => scratch.cleanup());

/** planRestore on the sandbox's backup; every plan of every scenario matches the schema. */
async function plan(
  live: string,
  options: Partial<PlanOptions> = {},
  archive?: string,
): Promise<PlanDocument> {
  const doc = await planRestore(archive ?? sandbox.backup, { target: live, ...options });
  assertMatchesSchema(doc, 'plan', `planRestore(${JSON.stringify(options)})`);
  return doc;
}

/** applyPlan with a fresh journal; every result (complete, stopped, failed) matches the schema. */
async function apply(
  doc: PlanDocument,
  options: { now?: Date; journal?: string } = {},
): Promise<ApplyResult> {
  journals += 1;
  const result = await applyPlan(doc, {
    journalPath: options.journal ?? path.join(scratch.dir, `apply-${journals}.journal`),
    ...(options.now ? { now: options.now } : {}),
  });
  assertMatchesSchema(result, 'apply', `applyPlan() of a ${doc.strategy ?? 'infeasible'} plan`);
  return result;
}

const sha = (data: Buffer): string => createHash('sha256').update(data).digest('hex');
const kinds = (doc: { problems: Array<{ kind: string }> }): string[] =>
  doc.problems.map((p) => p.kind);
const steps = (doc: PlanDocument) => doc.stages.flatMap((s) => s.steps);

function assertSameBytes(targetPath: string, memberPath: string, archive = sandbox.backup): void {
  assert.ok(
    readFileSync(targetPath).equals(memberBytes(archive, memberPath)),
    `${targetPath} differs from ${memberPath}`,
  );
}

function assertInodes(result: ApplyResult, mountPoint: string, n: number): void {
  const row = result.inodes.find((r) => r.mountPoint === mountPoint);
  assert.ok(row, `apply measured ${mountPoint}`);
  assert.equal({ predicted: row!.predicted, actual: row!.actual }, { predicted: n, actual: n });
}

async function listStatus(live: string, name: string): Promise<string | undefined> {
  return (await diagnoseMailman(live)).lists.find((l) => l.name === name)?.status;
}

function skip(): boolean {
  if (why) console.log(`skipped: ${why}`);
  return why !== null;
}

for (const spec of FILESYSTEMS) {
  test(`${spec.type}: plenty of room — in place, only the corrupt list's config.pck, replaced`, async () => {
    if (skip()) return;
    await withMountedFs(spec, async (mnt) => {
      const live = copyLive(sandbox, mnt);
      const free = freeInodes(mnt);
      const doc = await plan(live);
      assert.is(doc.feasible, true);
      assert.is(doc.strategy, 'in-place');
      assert.equal(
        doc.lists.map((l) => [l.name, l.action]).sort(),
        sandbox.lists.map((name) => [name, name === CORRUPT ? 'restore' : 'skip']).sort(),
      );
      assert.match(doc.lists.find((l) => l.name === 'users')!.reason, /--include-degraded/);
      assert.is(doc.stages.length, 1);
      assert.equal(
        steps(doc).map((s) => [s.memberPath, s.targetPath, s.type, s.write]),
        [
          [
            `${ROOT}/lists/${CORRUPT}/config.pck`,
            path.join(live, `lists/${CORRUPT}/config.pck`),
            'file',
            'replace',
          ],
        ],
      );
      const [budget] = doc.stages[0]!.budget;
      assert.is(budget?.mountPoint, mnt);
      assert.is(budget?.inodesNeeded, 0);
      assert.is(budget?.inodesFree, free);
      assert.is(budget?.inodesReserve, defaultReserve(mnt));
      assert.not.ok(
        doc.problems.some((p) => p.severity === 'critical'),
        kinds(doc).join(),
      );

      const before = snapshotTree(live);
      const result = await apply(doc);
      assert.is(result.status, 'complete', result.reason);
      assertSameBytes(
        path.join(live, `lists/${CORRUPT}/config.pck`),
        doc.lists.find((l) => l.name === CORRUPT)!.source!,
      );
      assert.equal(changedPaths(before, snapshotTree(live)), [`lists/${CORRUPT}/config.pck`]);
      assert.is(freeInodes(mnt), free);
      assertInodes(result, mnt, 0);
      assert.is(await listStatus(live, CORRUPT), 'ok');
    });
  });

  test(`${spec.type}: close to its reserve — a list named with --lists comes back whole (dir, config.pck, then request.pck and pending.pck) with exactly the reserve left; one inode fewer and its state waits`, async () => {
    if (skip()) return;
    await withMountedFs(spec, async (mnt) => {
      const live = copyLive(sandbox, mnt);
      loseList(live, LOST);
      const reserve = defaultReserve(mnt);
      const whole = [
        `lists/${LOST}`,
        `lists/${LOST}/config.pck`,
        `lists/${LOST}/pending.pck`,
        `lists/${LOST}/request.pck`,
      ];
      const eaten = eatInodesTo(live, mnt, reserve + 1);
      const short = await plan(live, { lists: [LOST] });
      assert.is(short.feasible, false);
      assert.is(short.verdict, 'critical');
      assert.is(short.strategy, null);
      const problem = short.problems.find((p) => p.kind === 'inodes-short');
      assert.ok(problem, kinds(short).join());
      assert.is(problem!.severity, 'critical');
      // Only the reserve is in the way: the message names the largest reserve that fits.
      assert.match(
        problem!.message,
        /only because of the reserve; it fits with --reserve-inodes \d+ or less \(the whole inode reserve\)/,
      );

      // Three free above the reserve: the configs stage fits, the state stage is gated.
      removeFiles(eaten.slice(-2));
      const gated = await plan(live, { lists: [LOST] });
      assert.is(gated.feasible, true, gated.reason);
      assert.is(gated.strategy, 'staged');
      assert.equal(
        gated.stages.map((s) => [s.name, s.budget[0]?.inodesNeeded]),
        [
          ['configs', 2],
          ['state', 2],
        ],
      );

      removeFiles(eaten.slice(-3, -2));
      assert.is(freeInodes(mnt), reserve + 4);
      const doc = await plan(live, { lists: [LOST] });
      assert.is(doc.feasible, true, doc.reason);
      assert.is(doc.strategy, 'in-place');
      assert.equal(
        steps(doc).map((s) => [path.relative(live, s.targetPath), s.type, s.write]),
        [
          [`lists/${LOST}`, 'dir', 'create'],
          [`lists/${LOST}/config.pck`, 'file', 'create'],
          [`lists/${LOST}/request.pck`, 'file', 'create'],
          [`lists/${LOST}/pending.pck`, 'file', 'create'],
        ],
      );
      assert.is(
        doc.stages.reduce((n, stage) => n + (stage.budget[0]?.inodesNeeded ?? 0), 0),
        4,
      );
      // 5% stays free, under the 10% warning line: feasible, with a warning; but the corrupt
      // list that --lists left out stays down, and that is critical (exit 2).
      assert.ok(kinds(doc).includes('inodes-low-after'), kinds(doc).join());
      assert.equal(
        doc.problems.filter((p) => p.severity === 'critical').map((p) => [p.kind, p.list]),
        [['list-corrupt', CORRUPT]],
      );
      assert.is(doc.verdict, 'critical');

      const before = snapshotTree(live);
      const result = await apply(doc);
      assert.is(result.status, 'complete', result.reason);
      assert.is(freeInodes(mnt), reserve);
      assertInodes(result, mnt, 4);
      assert.equal(changedPaths(before, snapshotTree(live)), whole);
      for (const rel of whole.slice(1)) assertSameBytes(path.join(live, rel), `${ROOT}/${rel}`);
      assert.is(await listStatus(live, LOST), 'ok');
    });
  });

  test(`${spec.type}: zero free inodes — the broken config is repaired by a rewrite in place, a lost list is refused`, async () => {
    if (skip()) return;
    await withMountedFs(spec, async (mnt) => {
      const live = copyLive(sandbox, mnt);
      loseList(live, LOST);
      eatInodesTo(live, mnt, 0);
      const lost = await plan(live, { lists: [LOST] });
      assert.is(lost.feasible, false);
      assert.ok(kinds(lost).includes('inodes-short'));

      const doc = await plan(live);
      assert.is(doc.feasible, true, doc.reason);
      assert.is(doc.strategy, 'in-place');
      assert.match(doc.reason, /rewriting their contents in place/);
      assert.equal(
        steps(doc).map((s) => [path.relative(live, s.targetPath), s.write]),
        [[`lists/${CORRUPT}/config.pck`, 'rewrite']],
      );
      for (const kind of ['rewrite-in-place', 'below-reserve'])
        assert.ok(kinds(doc).includes(kind), `${kind} in ${kinds(doc).join()}`);
      assert.is(doc.stages[0]!.budget[0]!.inodesNeeded, 0);
      assert.is(doc.stages[0]!.budget[0]!.inodesFree, 0);

      const before = snapshotTree(live);
      const result = await apply(doc);
      assert.is(result.status, 'complete', result.reason);
      assertSameBytes(
        path.join(live, `lists/${CORRUPT}/config.pck`),
        `${ROOT}/lists/${CORRUPT}/config.pck`,
      );
      assert.equal(changedPaths(before, snapshotTree(live)), [`lists/${CORRUPT}/config.pck`]);
      assert.is(freeInodes(mnt), 0);
      assertInodes(result, mnt, 0);
      assert.is(await listStatus(live, CORRUPT), 'ok');
    });
  });

  test(`${spec.type}: below the reserve but not at zero — the broken config is replaced (temp + rename) and apply agrees`, async () => {
    if (skip()) return;
    await withMountedFs(spec, async (mnt) => {
      const live = copyLive(sandbox, mnt);
      // The incident: a handful of inodes free, far below the 5% reserve.
      eatInodesTo(live, mnt, 5);
      const doc = await plan(live);
      assert.is(doc.feasible, true, doc.reason);
      assert.equal(
        steps(doc).map((s) => [path.relative(live, s.targetPath), s.write]),
        [[`lists/${CORRUPT}/config.pck`, 'replace']],
      );
      assert.ok(kinds(doc).includes('below-reserve'));
      const result = await apply(doc);
      assert.is(result.status, 'complete', result.reason);
      assertSameBytes(
        path.join(live, `lists/${CORRUPT}/config.pck`),
        `${ROOT}/lists/${CORRUPT}/config.pck`,
      );
      assert.is(freeInodes(mnt), 5);
      assertInodes(result, mnt, 0);
    });
  });

  test(`${spec.type}: bulk that does not fit — staged, configs first; apply stops above the reserve and completes after room is made`, async () => {
    if (skip()) return;
    await withMountedFs(spec, async (mnt) => {
      const live = copyLive(sandbox, mnt);
      loseList(live, LOST);
      const bulk = archiveMembersOf(members, ROOT, LOST);
      assert.ok(bulk.length > 50, `${bulk.length} archive members`);
      const reserve = defaultReserve(mnt);
      const half = Math.floor(bulk.length / 2);
      const eaten = eatInodesTo(live, mnt, reserve + 4 + half);

      const doc = await plan(live, { lists: [LOST], withArchives: true });
      assert.is(doc.feasible, true, doc.reason);
      assert.is(doc.strategy, 'staged');
      assert.match(doc.reason, /archives do not fit yet/);
      assert.equal(
        doc.stages.map((s) => s.name),
        ['configs', 'state', 'archives'],
      );
      const [configs, state, archives] = doc.stages as [
        PlanDocument['stages'][0],
        PlanDocument['stages'][0],
        PlanDocument['stages'][0],
      ];
      assert.equal(
        configs.steps.map((s) => [s.memberPath, s.write]),
        [
          [`${ROOT}/lists/${LOST}`, 'create'],
          [`${ROOT}/lists/${LOST}/config.pck`, 'create'],
        ],
      );
      assert.equal(archives.steps.map((s) => s.memberPath).sort(), [...bulk].sort());
      assert.ok(archives.steps.every((s) => s.write === 'create'));
      assert.equal(
        configs.budget.map((b) => [b.mountPoint, b.inodesNeeded, b.inodesFree, b.inodesReserve]),
        [[mnt, 2, reserve + 4 + half, reserve]],
      );
      assert.equal(
        state.steps.map((s) => s.memberPath),
        [`${ROOT}/lists/${LOST}/request.pck`, `${ROOT}/lists/${LOST}/pending.pck`],
      );
      // Each stage is judged on what will be free after the ones before it.
      assert.equal(
        state.budget.map((b) => [b.mountPoint, b.inodesNeeded, b.inodesFree, b.inodesReserve]),
        [[mnt, 2, reserve + 2 + half, reserve]],
      );
      assert.equal(
        archives.budget.map((b) => [b.mountPoint, b.inodesNeeded, b.inodesFree, b.inodesReserve]),
        [[mnt, bulk.length, reserve + half, reserve]],
      );
      const gated = doc.problems.find((p) => p.kind === 'inodes-short');
      assert.is(gated?.severity, 'warning');
      assert.match(gated!.message, /^stage archives: /);

      const before = snapshotTree(live);
      const first = await apply(doc, {
        journal: path.join(scratch.dir, `staged-${spec.type}.journal`),
      });
      assert.is(first.status, 'stopped');
      assert.match(first.reason ?? '', /stage archives does not fit/);
      assert.is(freeInodes(mnt), reserve + half);
      assert.equal(changedPaths(before, snapshotTree(live)), [
        `lists/${LOST}`,
        `lists/${LOST}/config.pck`,
        `lists/${LOST}/pending.pck`,
        `lists/${LOST}/request.pck`,
      ]);
      assertSameBytes(
        path.join(live, `lists/${LOST}/config.pck`),
        `${ROOT}/lists/${LOST}/config.pck`,
      );
      assert.is(await listStatus(live, LOST), 'ok');

      removeFiles(eaten);
      const freeBefore = freeInodes(mnt);
      const second = await apply(doc, {
        journal: path.join(scratch.dir, `staged-${spec.type}.journal`),
      });
      assert.is(second.status, 'complete', second.reason);
      assert.is(freeBefore - freeInodes(mnt), bulk.length);
      assertInodes(second, mnt, bulk.length);
      // Everything under the list's archives as GNU tar extracts it: content, link text, mode.
      const reference = path.join(scratch.dir, `reference-${spec.type}`);
      mkdirSync(reference);
      run('tar', [
        '-xf',
        sandbox.backup,
        '-C',
        reference,
        ...bulk.filter((m) => !bulk.some((o) => m.startsWith(`${o}/`))),
      ]);
      const strip = (snap: Map<string, string>): Map<string, string> => {
        const out = new Map<string, string>();
        for (const [rel, value] of snap) {
          if (archiveMembersOf([`${ROOT}/${rel}`], ROOT, LOST).length === 0) continue;
          // Owners differ by design (the target's, not the backup's): compare the rest.
          const [kind = '', a = '', , , mtime = '', hash = ''] = value.split(':');
          out.set(
            rel,
            kind === 'file'
              ? `file:${a}:${mtime}:${hash}`
              : kind === 'link'
                ? `link:${a}`
                : `dir:${a}`,
          );
        }
        return out;
      };
      const restored = strip(snapshotTree(live));
      assert.is(restored.size, bulk.length);
      assert.equal(restored, strip(snapshotTree(path.join(reference, ROOT))));
      rmSync(reference, { recursive: true, force: true });
    });
  });
}

test('alternate root on another filesystem: everything lands there, the live target is untouched', async () => {
  if (skip()) return;
  await withMountedFs({ type: 'ext4', sizeMiB: 32, inodes: 2048 }, async (mnt) => {
    await withMountedFs({ type: 'tmpfs', sizeMiB: 16, inodes: 1024 }, async (staging) => {
      const live = copyLive(sandbox, mnt);
      loseList(live, LOST);
      eatInodesTo(live, mnt, defaultReserve(mnt) + 1);
      const bulk = archiveMembersOf(members, ROOT, LOST);

      const nowhere = await plan(live, { lists: [LOST], withArchives: true });
      assert.is(nowhere.feasible, false);
      const hinted = /add --staging DIR on a filesystem with at least ([\d,]+) free inodes/.exec(
        nowhere.reason,
      );
      assert.ok(hinted, nowhere.reason);
      const hintedInodes = Number(hinted[1]!.replace(/,/g, ''));

      const doc = await plan(live, { lists: [LOST], withArchives: true, staging });
      assert.is(doc.feasible, true, doc.reason);
      assert.is(doc.strategy, 'alternate');
      assert.match(doc.reason, new RegExp(`nothing is written under ${live}`));
      assert.ok(steps(doc).every((s) => s.targetPath.startsWith(`${staging}/`)));
      assert.ok(steps(doc).every((s) => s.write === 'create'));
      const budgets = doc.stages.flatMap((s) => s.budget);
      assert.ok(budgets.length > 0 && budgets.every((b) => b.mountPoint === staging));
      // The list's dir, config and state, its archives, and the parents missing under the
      // staging root: lists, archives, archives/private, archives/public.
      const expected = 4 + bulk.length + 4;
      assert.is(
        budgets.reduce((n, b) => n + b.inodesNeeded, 0),
        expected,
      );
      // The hint is a floor of what the plan with --staging then counts: every member but the
      // parents missing there (it said "at least 0" when only a replace's temp file was short).
      assert.is(hintedInodes, expected - 4, nowhere.reason);
      // Moving it back costs the live filesystem the list's own paths only: its parents exist.
      assert.match(doc.reason, new RegExp(`takes about ${4 + bulk.length} inodes`));

      const liveFree = freeInodes(mnt);
      const stagingFree = freeInodes(staging);
      const before = snapshotTree(live);
      const result = await apply(doc);
      assert.is(result.status, 'complete', result.reason);
      assert.equal(changedPaths(before, snapshotTree(live)), []);
      assert.is(freeInodes(mnt), liveFree);
      assert.is(stagingFree - freeInodes(staging), expected);
      assertInodes(result, staging, expected);
      assertSameBytes(
        path.join(staging, `lists/${LOST}/config.pck`),
        `${ROOT}/lists/${LOST}/config.pck`,
      );
    });
  });
});

test('a backup whose own copy of a config is corrupt: the newest copy that loads, config.pck.last, or nothing', async () => {
  if (skip()) return;
  await withMountedFs({ type: 'ext4', sizeMiB: 32, inodes: 2048 }, async (mnt) => {
    const live = copyLive(sandbox, mnt);
    const configPath = `${ROOT}/lists/${CORRUPT}/config.pck`;
    const extracted = path.join(scratch.dir, 'extracted');
    mkdirSync(extracted);
    run('tar', ['-xf', sandbox.backup, '-C', extracted]);
    const varDir = path.join(extracted, ROOT);
    await breakMailmanTree(varDir, [{ list: CORRUPT, shape: 'truncated' }]);

    // (a) A later run appended a copy taken mid-crash: the older, valid occurrence is restored.
    const appended = path.join(scratch.dir, 'appended.tar');
    run('cp', [sandbox.backup, appended]);
    run('tar', ['-rf', appended, '-C', extracted, configPath]);
    const occurrences = listTarMembers(appended).filter((m) => m.name === configPath);
    assert.is(occurrences.length, 2);
    const good = memberBytes(appended, configPath, 1);
    const a = await plan(live, {}, appended);
    assert.is(a.strategy, 'in-place');
    const [stepA] = steps(a);
    assert.is(stepA?.memberPath, configPath);
    assert.is(stepA?.source.headerOffset, occurrences[0]!.offset);
    assert.is(stepA?.type === 'file' ? stepA.sha256 : undefined, sha(good));
    const resultA = await apply(a);
    assert.is(resultA.status, 'complete', resultA.reason);
    assert.ok(readFileSync(path.join(live, `lists/${CORRUPT}/config.pck`)).equals(good));
    assert.is(await listStatus(live, CORRUPT), 'ok');

    // (b) The backup holds config.pck already corrupt: config.pck.last is restored in its place.
    await breakMailmanTree(live, [
      { list: CORRUPT, shape: 'zeroed' },
      { list: CORRUPT, shape: 'zeroed', file: 'config.pck.last' },
    ]);
    const lastOnly = path.join(scratch.dir, 'last-only.tar');
    run('tar', ['-cf', lastOnly, '-C', extracted, 'var']);
    const b = await plan(live, {}, lastOnly);
    const listB = b.lists.find((l) => l.name === CORRUPT);
    assert.is(listB?.action, 'restore');
    assert.is(listB?.source, `${configPath}.last`);
    assert.match(listB!.reason, /no valid config\.pck/);
    assert.equal(
      steps(b).map((s) => [s.memberPath, path.relative(live, s.targetPath), s.write]),
      [[`${configPath}.last`, `lists/${CORRUPT}/config.pck`, 'replace']],
    );
    const resultB = await apply(b);
    assert.is(resultB.status, 'complete', resultB.reason);
    assertSameBytes(path.join(live, `lists/${CORRUPT}/config.pck`), `${configPath}.last`, lastOnly);
    assert.is(await listStatus(live, CORRUPT), 'ok');

    // (c) No copy loads: not restored, and the plan says why.
    await breakMailmanTree(live, [{ list: CORRUPT, shape: 'zeroed' }]);
    await breakMailmanTree(varDir, [{ list: CORRUPT, shape: 'garbage', file: 'config.pck.last' }]);
    const none = path.join(scratch.dir, 'none.tar');
    run('tar', ['-cf', none, '-C', extracted, 'var']);
    const c = await plan(live, {}, none);
    const listC = c.lists.find((l) => l.name === CORRUPT);
    assert.is(listC?.action, 'skip');
    assert.match(listC!.reason, /no copy in the archive loads/);
    const noCopy = c.problems.find((p) => p.kind === 'no-valid-copy');
    assert.is(noCopy?.severity, 'critical');
    assert.equal(steps(c), []);
    assert.ok(kinds(c).includes('empty-selection'));
  });
});

/** A process that stays alive until killed: the owner of a lock or a "running" Mailman. */
function startSleeper(): ChildProcess {
  return spawn('sleep', ['60'], { stdio: 'ignore' });
}

async function stopSleeper(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

/** Mailman 2.1's LockFile: the claim file names itself; the lock is a hard link to it. */
function holdLock(live: string, list: string, pid: number): void {
  const lockFile = path.join(live, 'locks', `${list}.lock`);
  const claim = `${lockFile}.${os.hostname()}.${pid}.1`;
  writeFileSync(claim, claim);
  linkSync(claim, lockFile);
  const expires = Date.now() / 1000 + 900;
  utimesSync(lockFile, expires, expires);
}

test('a list whose lock is held by a live process is not restored, with the reason; it is once released', async () => {
  if (skip()) return;
  await withMountedFs({ type: 'tmpfs', sizeMiB: 32, inodes: 2048 }, async (mnt) => {
    const live = copyLive(sandbox, mnt);
    await breakMailmanTree(live, [
      { list: 'support', shape: 'empty' },
      { list: 'support', shape: 'garbage', file: 'config.pck.last' },
    ]);
    const owner = startSleeper();
    try {
      holdLock(live, CORRUPT, owner.pid!);
      const doc = await plan(live);
      const locked = doc.lists.find((l) => l.name === CORRUPT);
      assert.is(locked?.action, 'skip');
      assert.match(locked!.reason, new RegExp(`locks/${CORRUPT}\\.lock is held by a live process`));
      assert.ok(
        doc.problems.some((p) => p.kind === 'list-locked' && p.message.startsWith(CORRUPT)),
      );
      assert.is(doc.lists.find((l) => l.name === 'support')?.action, 'restore');
      assert.equal(
        steps(doc).map((s) => path.relative(live, s.targetPath)),
        ['lists/support/config.pck'],
      );
    } finally {
      await stopSleeper(owner);
    }
    const released = await plan(live);
    assert.equal(
      released.lists.filter((l) => l.action === 'restore').map((l) => l.name),
      [CORRUPT, 'support'],
    );
    assert.not.ok(kinds(released).includes('list-locked'));
  });
});

test('Mailman running: restored configs get a fresh mtime and the plan says so; stopped: the backup mtime', async () => {
  if (skip()) return;
  await withMountedFs({ type: 'tmpfs', sizeMiB: 32, inodes: 2048 }, async (mnt) => {
    const live = copyLive(sandbox, mnt);
    const target = path.join(live, `lists/${CORRUPT}/config.pck`);
    const memberMtime = listTarMembers(sandbox.backup).find(
      (m) => m.name === `${ROOT}/lists/${CORRUPT}/config.pck`,
    )!.mtime;

    const stopped = await plan(live);
    assert.is(stopped.mailman?.running, false);
    assert.is(stopped.mailman?.freshMtime, false);
    assert.ok(steps(stopped).every((s) => !s.freshMtime));
    assert.not.ok(kinds(stopped).includes('mailman-running'));
    const now = new Date(Math.floor(Date.now() / 1000) * 1000);
    assert.is((await apply(stopped, { now })).status, 'complete');
    assert.is(Math.floor(statSync(target).mtimeMs / 1000), memberMtime);

    await breakMailmanTree(live, [{ list: CORRUPT, shape: 'zeroed' }]);
    const mailman = startSleeper();
    try {
      writeFileSync(path.join(live, 'data/master-qrunner.pid'), `${mailman.pid}\n`);
      const running = await plan(live);
      assert.is(running.mailman?.running, true);
      assert.is(running.mailman?.freshMtime, true);
      assert.match(running.mailman!.note, /fresh mtime/);
      assert.ok(kinds(running).includes('mailman-running'));
      assert.ok(steps(running).length === 1 && steps(running).every((s) => s.freshMtime));
      // With the archives: those on disk are newer than the backup and kept.
      const kept = await plan(live, { withArchives: true });
      assert.ok(kinds(kept).includes('kept-existing'));
      assert.not.ok(
        steps(kept).some((s) => s.memberPath.includes('/archives/') && s.write !== 'create'),
      );
      // List state that loads on disk is kept; a broken request.pck is restored.
      const state = path.join(live, `lists/${CORRUPT}/request.pck`);
      assert.not.ok(
        steps(await plan(live, { withState: true })).some((s) => s.targetPath === state),
      );
      await breakMailmanTree(live, [{ list: CORRUPT, shape: 'zeroed', file: 'request.pck' }]);
      assert.ok(
        steps(await plan(live, { withState: true })).some(
          (s) => s.targetPath === state && s.write === 'replace',
        ),
      );
      // Missing ones are restored: pipermail's pages keep their dates; only what Mailman loads
      // gets the apply time.
      rmSync(path.join(live, 'archives/private', CORRUPT), { recursive: true, force: true });
      const withArchives = await plan(live, { withArchives: true });
      const archived = steps(withArchives).filter((s) => s.memberPath.includes('/archives/'));
      assert.ok(archived.length > 0);
      assert.ok(archived.every((s) => !s.freshMtime));
      assert.ok(steps(withArchives).some((s) => s.freshMtime && s.targetPath === target));
      const result = await apply(running, { now });
      assert.is(result.status, 'complete', result.reason);
      assert.is(statSync(target).mtimeMs, now.getTime());
    } finally {
      await stopSleeper(mailman);
    }
  });
});

test('owner, group and mode of a restored config follow the file it replaces, or the list dir', async () => {
  if (skip()) return;
  await withMountedFs({ type: 'tmpfs', sizeMiB: 32, inodes: 2048 }, async (mnt) => {
    const live = copyLive(sandbox, mnt);
    const tarMode = new Map(listTarMembers(sandbox.backup).map((m) => [m.name, m.mode & 0o7777]));
    // Replaced: the broken file's owner and mode.
    const replaced = path.join(live, `lists/${CORRUPT}/config.pck`);
    chownSync(replaced, 1234, 2345);
    chmodSync(replaced, 0o640);
    // Missing in an existing list dir: the dir's owner, config.pck.last's mode.
    const created = path.join(live, 'lists/support/config.pck');
    rmSync(created);
    chownSync(path.dirname(created), 1111, 2222);
    chmodSync(`${created}.last`, 0o660);
    // A lost list: the owner of lists/, the modes from the archive.
    loseList(live, LOST);
    chownSync(path.join(live, 'lists'), 3333, 4444);

    const doc = await plan(live, { lists: [CORRUPT, 'support', LOST] });
    assert.is(doc.strategy, 'in-place');
    const lostDir = path.join(live, `lists/${LOST}`);
    const expected = new Map([
      [replaced, { write: 'replace', uid: 1234, gid: 2345, mode: 0o640 }],
      [created, { write: 'create', uid: 1111, gid: 2222, mode: 0o660 }],
      [
        lostDir,
        { write: 'create', uid: 3333, gid: 4444, mode: tarMode.get(`${ROOT}/lists/${LOST}`)! },
      ],
      ...['config.pck', 'request.pck', 'pending.pck'].map(
        (file) =>
          [
            path.join(lostDir, file),
            {
              write: 'create',
              uid: 3333,
              gid: 4444,
              mode: tarMode.get(`${ROOT}/lists/${LOST}/${file}`)!,
            },
          ] as const,
      ),
    ]);
    assert.equal(
      new Map(
        steps(doc).map((s) => [
          s.targetPath,
          { write: s.write, uid: s.owner?.uid, gid: s.owner?.gid, mode: s.mode },
        ]),
      ),
      expected,
    );
    const result = await apply(doc);
    assert.is(result.status, 'complete', result.reason);
    for (const [targetPath, want] of expected) {
      const s = statSync(targetPath);
      assert.equal(
        { uid: s.uid, gid: s.gid, mode: s.mode & 0o7777 },
        { uid: want.uid, gid: want.gid, mode: want.mode },
        targetPath,
      );
    }
    for (const name of [CORRUPT, 'support', LOST]) assert.is(await listStatus(live, name), 'ok');
  });
});

test.run();
