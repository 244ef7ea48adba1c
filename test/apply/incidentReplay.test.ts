/**
 * The incident, replayed (issue 6's acceptance) on a loop-mounted ext4 with few inodes and a
 * live Mailman tree whose queue has eaten most of them, through the built CLI so the exit
 * codes are part of what is tested: doctor finds the broken lists (2); a full restore to a
 * scratch dir on the same filesystem is refused by check with the exact count (2); plan (0) +
 * apply (0) repair exactly the broken configs, byte-identical to the backup, every other file
 * untouched, `df -i` moving by exactly the predicted number; with zero free inodes the broken
 * configs are still repaired; a staged restore of a lost list with its archives restores the
 * config, stops above the reserve (2) and completes after room is made (0).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import type { IncidentSandbox } from '../../samples/buildIncidentSandbox.js';
import type { ApplyResult, CheckResult, DoctorResult, PlanDocument } from '../../src/types.js';
import { listTarMembers } from './buildTestPlan.js';
import { assertMatchesSchema, type SchemaName } from '../helpers/assertSchema.js';
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

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const bin = path.join(repo, 'dist/cli/bin.js');
const why =
  missingNeeds({ root: true, tools: ['tar', 'python3', 'df', 'mkfs.ext4', 'losetup'] }) ??
  (existsSync(bin) ? null : 'needs dist/ (npm run build)');

const ROOT = 'var/lib/mailman';
const LOST = 'board';
const EXT4 = { type: 'ext4', sizeMiB: 32, inodes: 2048 } as const;

const scratch = makeScratch('restoreplan-incident-');
let sandbox: IncidentSandbox;
let members: string[] = [];

test.before(async () => {
  if (why) return;
  sandbox = await buildBackup(path.join(scratch.dir, 'sandbox'));
  members = listMembers(sandbox.backup);
});
test.after(() => scratch.cleanup());

/** `restoreplan ARGS --json` through the built binary; stdin is not a TTY. */
/**
 * After a repair on a filesystem the incident left (nearly) without inodes, doctor's verdict is
 * about the inodes, not the lists: its plugin line names no list, and every output exits alike.
 */
function assertOnlyInodesAlarm(live: string, code: number | null): void {
  const plugin = spawnSync(process.execPath, [bin, 'doctor', live, '--nagios'], {
    encoding: 'utf8',
    input: '',
  });
  assert.is(code, plugin.status, plugin.stdout);
  const text = plugin.stdout.split(' | ')[0] ?? '';
  assert.not.match(text, /list|qrunner/, text);
}

function restoreplan<T>(args: string[]): { code: number | null; json: T; stderr: string } {
  const result = spawnSync(process.execPath, [bin, ...args, '--json'], {
    encoding: 'utf8',
    input: '',
    maxBuffer: 1 << 28,
  });
  let json: T;
  try {
    json = JSON.parse(result.stdout) as T;
  } catch {
    throw new Error(
      `restoreplan ${args.join(' ')}: no JSON (exit ${result.status}): ${result.stderr}`,
    );
  }
  // Every document of the incident, whatever the test then checks, matches its schema (a
  // failed apply exits 3 with its own document, an error with the error document).
  const isError = typeof json === 'object' && json !== null && 'error' in json;
  const schema = isError ? 'error' : (args[0] as SchemaName);
  assertMatchesSchema(json, schema, `restoreplan ${args[0]} --json (exit ${result.status})`);
  return { code: result.status, json, stderr: result.stderr };
}

/** Used inodes as `df -i` reports them (after a sync, so the numbers are settled). */
function dfUsed(mountPoint: string): number {
  run('sync', ['-f', mountPoint]);
  const lines = run('df', ['--output=iused', mountPoint]).trim().split('\n');
  return Number(lines[lines.length - 1]);
}

function predictedInodes(doc: PlanDocument): number {
  return doc.stages.reduce((n, s) => n + s.budget.reduce((m, b) => m + b.inodesNeeded, 0), 0);
}

function skip(): boolean {
  if (why) console.log(`skipped: ${why}`);
  return why !== null;
}

/** The lists the doctor reports in a given status. */
const named = (doctor: DoctorResult, status: string): string[] =>
  doctor.lists
    .filter((l) => l.status === status)
    .map((l) => l.name)
    .sort();

test('the incident: doctor finds the broken lists, check refuses a full restore by the exact count, plan + apply repair exactly the broken configs', async () => {
  if (skip()) return;
  await withMountedFs(EXT4, async (mnt) => {
    const live = copyLive(sandbox, mnt);
    const reserve = defaultReserve(mnt);
    // The queue has eaten most of the inodes: 200 are left above the reserve.
    eatInodesTo(live, mnt, reserve + 200);

    const doctor = restoreplan<DoctorResult>(['doctor', live]);
    assert.is(doctor.code, 2, doctor.stderr);
    assert.equal(named(doctor.json, 'corrupt'), sandbox.expected.corrupt);
    assert.equal(named(doctor.json, 'degraded'), sandbox.expected.degraded);
    assert.is(doctor.json.filesystem.inodes.free, freeInodes(mnt));

    // What the operators did: restore the whole var dir next to the live one.
    const full = path.join(mnt, 'restore');
    mkdirSync(full);
    const tarMembers = listTarMembers(sandbox.backup).filter((m) => m.name.startsWith(`${ROOT}/`));
    assert.not.ok(tarMembers.some((m) => m.type === 'hardlink'));
    // Every member under the var dir is a new inode in an empty directory.
    const needed = tarMembers.length;
    const free = freeInodes(mnt);
    const check = restoreplan<CheckResult>([
      'check',
      sandbox.backup,
      '--target',
      full,
      '--member-root',
      ROOT,
    ]);
    assert.is(check.code, 2, check.stderr);
    assert.is(check.json.verdict, 'critical');
    const [fs] = check.json.filesystems;
    assert.equal(
      { needed: fs?.inodes.needed, free: fs?.inodes.free, reserve: fs?.inodes.reserve },
      { needed, free, reserve },
    );
    const short = check.json.problems.find((p) => p.kind === 'inodes-short');
    assert.ok(short, JSON.stringify(check.json.problems));
    const shortBy = needed - (free - reserve);
    assert.ok(shortBy > 0);
    assert.match(short!.message, new RegExp(`short by ${shortBy.toLocaleString('en-US')}$`));
    rmSync(full, { recursive: true });

    const planPath = path.join(scratch.dir, 'incident-plan.json');
    const planned = restoreplan<PlanDocument>([
      'plan',
      sandbox.backup,
      '--target',
      live,
      '--include-degraded',
      '--out',
      planPath,
    ]);
    assert.is(planned.code, 0, planned.stderr);
    assert.equal(JSON.parse(readFileSync(planPath, 'utf8')), planned.json);
    assert.is(planned.json.strategy, 'in-place');
    const broken = [...sandbox.expected.corrupt, ...sandbox.expected.degraded].sort();
    const restoredRels = broken.map((name) => `lists/${name}/config.pck`);
    assert.equal(
      planned.json.stages
        .flatMap((s) => s.steps)
        .map((s) => path.relative(live, s.targetPath))
        .sort(),
      restoredRels,
    );

    const before = snapshotTree(live);
    const usedBefore = dfUsed(mnt);
    const applied = restoreplan<ApplyResult>(['apply', planPath, '--yes']);
    assert.is(applied.code, 0, applied.stderr);
    assert.is(applied.json.status, 'complete');
    assert.is(applied.json.verified, true);
    for (const name of broken) {
      assert.ok(
        readFileSync(path.join(live, `lists/${name}/config.pck`)).equals(
          memberBytes(sandbox.backup, `${ROOT}/lists/${name}/config.pck`),
        ),
        `${name}/config.pck is the backup's`,
      );
    }
    assert.equal(changedPaths(before, snapshotTree(live)), restoredRels);
    assert.is(dfUsed(mnt) - usedBefore, predictedInodes(planned.json));

    const after = restoreplan<DoctorResult>(['doctor', live]);
    assertOnlyInodesAlarm(live, after.code);
    assert.equal(after.json.summary, {
      ok: sandbox.lists.length,
      degraded: 0,
      corrupt: 0,
      lost: 0,
      missing: 0,
    });
  });
});

test('the incident at its worst: zero free inodes, and the broken configs are still repaired', async () => {
  if (skip()) return;
  await withMountedFs(EXT4, async (mnt) => {
    const live = copyLive(sandbox, mnt);
    eatInodesTo(live, mnt, 0);
    assert.is(restoreplan<DoctorResult>(['doctor', live]).code, 2);

    // The plan and its journal live off the full filesystem, as an operator would keep them.
    const planPath = path.join(scratch.dir, 'zero-plan.json');
    const planned = restoreplan<PlanDocument>([
      'plan',
      sandbox.backup,
      '--target',
      live,
      '--include-degraded',
      '--out',
      planPath,
    ]);
    // Feasible, with warnings (a rewrite in place, already below the reserve): exit 1.
    assert.is(planned.code, 1, planned.stderr);
    assert.is(planned.json.feasible, true);
    assert.is(planned.json.verdict, 'warning');
    const steps = planned.json.stages.flatMap((s) => s.steps);
    assert.ok(steps.length === 2 && steps.every((s) => s.write === 'rewrite'));
    assert.ok(planned.json.problems.some((p) => p.kind === 'rewrite-in-place'));

    const before = snapshotTree(live);
    const usedBefore = dfUsed(mnt);
    const applied = restoreplan<ApplyResult>(['apply', planPath, '--yes']);
    assert.is(applied.code, 0, applied.stderr);
    assert.is(applied.json.status, 'complete');
    for (const step of steps) {
      assert.ok(
        readFileSync(step.targetPath).equals(memberBytes(sandbox.backup, step.memberPath)),
        step.targetPath,
      );
    }
    assert.equal(
      changedPaths(before, snapshotTree(live)),
      steps.map((s) => path.relative(live, s.targetPath)).sort(),
    );
    assert.is(dfUsed(mnt), usedBefore);
    assert.is(freeInodes(mnt), 0);
    const after = restoreplan<DoctorResult>(['doctor', live]);
    // The lists are back; no inode is free, and doctor says so (critical), as --nagios does.
    assert.is(after.code, 2, after.stderr);
    assertOnlyInodesAlarm(live, after.code);
    assert.equal(after.json.summary, {
      ok: sandbox.lists.length,
      degraded: 0,
      corrupt: 0,
      lost: 0,
      missing: 0,
    });
  });
});

test('a lost list with its archives, staged: the config first, a stop above the reserve, the rest once room is made', async () => {
  if (skip()) return;
  await withMountedFs(EXT4, async (mnt) => {
    const live = copyLive(sandbox, mnt);
    loseList(live, LOST);
    const bulk = archiveMembersOf(members, ROOT, LOST);
    const reserve = defaultReserve(mnt);
    const half = Math.floor(bulk.length / 2);
    const queue = eatInodesTo(live, mnt, reserve + 4 + half);

    const planPath = path.join(scratch.dir, 'staged-plan.json');
    const planned = restoreplan<PlanDocument>([
      'plan',
      sandbox.backup,
      '--target',
      live,
      '--lists',
      LOST,
      '--with-archives',
      '--out',
      planPath,
    ]);
    // The sandbox's corrupt list, left out by --lists, stays down: exit 2 though it is feasible.
    assert.is(planned.code, 2, planned.stderr);
    assert.is(planned.json.feasible, true);
    assert.equal(
      planned.json.problems.filter((p) => p.severity === 'critical').map((p) => p.list),
      sandbox.expected.corrupt,
    );
    assert.is(planned.json.strategy, 'staged');
    // The list comes back whole: its dir and config, then its state, then its archives.
    assert.equal(
      planned.json.stages.map((s) => [s.name, s.steps.length]),
      [
        ['configs', 2],
        ['state', 2],
        ['archives', bulk.length],
      ],
    );

    const before = snapshotTree(live);
    const usedBefore = dfUsed(mnt);
    const first = restoreplan<ApplyResult>(['apply', planPath, '--yes']);
    assert.is(first.code, 2, first.stderr);
    assert.is(first.json.status, 'stopped');
    assert.equal(changedPaths(before, snapshotTree(live)), [
      `lists/${LOST}`,
      `lists/${LOST}/config.pck`,
      `lists/${LOST}/pending.pck`,
      `lists/${LOST}/request.pck`,
    ]);
    assert.ok(
      readFileSync(path.join(live, `lists/${LOST}/config.pck`)).equals(
        memberBytes(sandbox.backup, `${ROOT}/lists/${LOST}/config.pck`),
      ),
    );
    assert.is(dfUsed(mnt) - usedBefore, 4);
    assert.is(freeInodes(mnt), reserve + half);
    assert.ok(freeInodes(mnt) >= reserve);
    const doctor = restoreplan<DoctorResult>(['doctor', live]);
    assert.is(doctor.json.lists.find((l) => l.name === LOST)?.status, 'ok');

    // Room is made: the backlog is delivered and the queue files go away.
    removeFiles(queue);
    const usedMid = dfUsed(mnt);
    const second = restoreplan<ApplyResult>(['apply', planPath, '--yes']);
    assert.is(second.code, 0, second.stderr);
    assert.is(second.json.status, 'complete');
    assert.is(dfUsed(mnt) - usedMid, bulk.length);
    assert.ok(
      second.json.skipped.some((s) => s.reason === 'already-restored'),
      'the configs stage is not redone',
    );
    // Every restored archive member as GNU tar extracts it.
    const reference = path.join(scratch.dir, 'reference');
    mkdirSync(reference);
    const tops = bulk.filter((m) => !bulk.some((other) => m.startsWith(`${other}/`)));
    run('tar', ['-xf', sandbox.backup, '-C', reference, ...tops]);
    const project = (snap: Map<string, string>): Map<string, string> => {
      const out = new Map<string, string>();
      for (const [rel, value] of snap) {
        if (archiveMembersOf([`${ROOT}/${rel}`], ROOT, LOST).length === 0) continue;
        const [kind = '', a = '', , , mtime = '', hash = ''] = value.split(':');
        out.set(rel, kind === 'file' ? `file:${a}:${mtime}:${hash}` : `${kind}:${a}`);
      }
      return out;
    };
    const restored = project(snapshotTree(live));
    assert.is(restored.size, bulk.length);
    assert.equal(restored, project(snapshotTree(path.join(reference, ROOT))));
  });
});

test.run();
