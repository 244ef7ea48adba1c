/**
 * Issue 10's disagreements, each replayed on a real filesystem: check, plan and apply must give
 * one answer. Every test here failed on 0.1.0:
 * - ext4 at 0 free inodes with a corrupt list: check said CRITICAL ("needs 1 inode") while plan
 *   found a rewrite in place that needs none and apply carried it out;
 * - XFS whose inode cap is reached (mkfs.xfs -i maxpct=1, queue filled until creating a file
 *   fails): XFS was taken for "dynamic", plan chose temp-and-rename, apply hit ENOSPC.
 */
import { closeSync, mkdirSync, openSync, statfsSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import type { IncidentSandbox } from '../../samples/buildIncidentSandbox.js';
import { applyPlan } from '../../src/apply/applyPlan.js';
import { diagnoseMailman } from '../../src/mailman/diagnoseMailman.js';
import { checkBudget } from '../../src/plan/checkBudget.js';
import { planRestore } from '../../src/plan/planRestore.js';
import { sumStepCosts } from '../../src/plan/sumStepCosts.js';
import type { PlanDocument } from '../../src/types.js';
import { makeScratch, missingNeeds, run } from '../helpers/env.js';
import { buildBackup, copyLive, eatInodesTo, freeInodes } from '../helpers/liveMailman.js';
import { withMountedFs } from '../helpers/mountFs.js';

const why = missingNeeds({
  root: true,
  tools: ['tar', 'python3', 'mkfs.ext4', 'mkfs.xfs', 'losetup'],
});
const scratch = makeScratch('restoreplan-one-truth-');
let sandbox: IncidentSandbox;
const CORRUPT = 'announce';

test.before(async () => {
  if (why) return;
  sandbox = await buildBackup(path.join(scratch.dir, 'sandbox'));
  assert.equal(sandbox.expected.corrupt, [CORRUPT]);
});
test.after(() => scratch.cleanup());

function skip(): boolean {
  if (why) console.log(`skipped: ${why}`);
  return why !== null;
}

const allSteps = (doc: PlanDocument) => doc.stages.flatMap((s) => s.steps);

/** Plan's predicted inodes on a mount, as apply's guard sums them: the steps' own costs. */
function planInodes(doc: PlanDocument, mountPoint: string): number {
  return sumStepCosts(allSteps(doc).map((s) => s.cost)).get(mountPoint)?.inodes ?? 0;
}

async function assertOneAnswer(live: string, mnt: string): Promise<void> {
  const options = { target: live, reserveInodes: 0 };
  const check = await checkBudget(sandbox.backup, { ...options, profile: 'mailman' });
  const plan = await planRestore(sandbox.backup, options);
  assert.is(plan.feasible, true, plan.reason);
  assert.is.not(check.verdict, 'critical', JSON.stringify(check.problems));
  const fs = check.filesystems.find((f) => f.mountPoint === mnt);
  assert.ok(fs, 'check reports the target filesystem');
  assert.is(fs.inodes.needed, planInodes(plan, mnt), 'check needed = plan predicted');
  assert.is(
    plan.stages.flatMap((s) => s.budget).reduce((n, b) => n + b.inodesNeeded, 0),
    planInodes(plan, mnt),
    'the stage budgets are the sums of the step costs',
  );
  const rewrites = allSteps(plan).filter((s) => s.type === 'file' && s.write === 'rewrite');
  assert.ok(rewrites.length > 0, 'no inode to spare: existing configs are rewritten in place');
  assert.ok(check.problems.some((p) => p.kind === 'rewrite-in-place'));
  const before = freeInodes(mnt);
  const result = await applyPlan(plan, {
    journalPath: path.join(scratch.dir, `${path.basename(mnt)}.journal`),
  });
  assert.is(result.status, 'complete', result.reason);
  assert.is(
    before - freeInodes(mnt),
    fs.inodes.needed,
    'df -i moved by exactly what was predicted',
  );
  const list = (await diagnoseMailman(live)).lists.find((l) => l.name === CORRUPT);
  assert.is(list?.status, 'ok');
}

test('ext4 at 0 free inodes, a corrupt list: check, plan and apply agree on a rewrite in place', async () => {
  if (skip()) return;
  await withMountedFs({ type: 'ext4', sizeMiB: 32, inodes: 2048 }, async (mnt) => {
    const live = copyLive(sandbox, mnt);
    eatInodesTo(live, mnt, 0);
    await assertOneAnswer(live, mnt);
  });
});

test('XFS with its inode cap reached (maxpct=1, queue filled until a create fails): judged on f_ffree, repaired in place', async () => {
  if (skip()) return;
  await withMountedFs(
    { type: 'xfs', sizeMiB: 300, mkfsOptions: ['-i', 'maxpct=1'] },
    async (mnt) => {
      const live = copyLive(sandbox, mnt);
      const queue = path.join(live, 'qfiles', 'in');
      // Fill like the incident's queue: one file per message until the filesystem refuses.
      for (let i = 0; ; i += 1) {
        try {
          closeSync(openSync(path.join(queue, `fill-${i}.pck`), 'wx'));
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'ENOSPC') break;
          throw error;
        }
      }
      const stats = statfsSync(mnt);
      assert.ok(stats.files > 0, 'XFS reports an inode limit');
      assert.is(stats.ffree, 0, 'df -i shows 0 free');
      assert.ok(stats.bavail > 1000, 'blocks are plenty: only inodes ran out');
      const check = await checkBudget(sandbox.backup, { target: live, profile: 'mailman' });
      assert.is(check.filesystems[0]?.inodes.dynamic, false);
      await assertOneAnswer(live, mnt);
    },
  );
});

const OVERLAP = `
import io, sys, tarfile
def add(tar, name, kind=tarfile.REGTYPE, data=b'', link=''):
    info = tarfile.TarInfo(name); info.type = kind; info.mtime = 1000000000; info.linkname = link
    info.mode = 0o755 if kind == tarfile.DIRTYPE else 0o644
    info.size = len(data) if kind == tarfile.REGTYPE else 0
    tar.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE else None)
with tarfile.open(sys.argv[1], 'w', format=tarfile.GNU_FORMAT) as tar:
    # A symlink, then members through it ('tar -cf b.tar d d/s/x' with d/s -> real).
    add(tar, 'a', tarfile.DIRTYPE)
    add(tar, 'a/real', tarfile.DIRTYPE)
    add(tar, 'a/s', tarfile.SYMTYPE, link='real')
    add(tar, 'a/s/x', data=b'x' * 100)
    # A directory and its member, then a file of the directory's name (tar -r of a later day).
    add(tar, 'd', tarfile.DIRTYPE)
    add(tar, 'd/x', data=b'1')
    add(tar, 'd', data=b'now a file')
`;

// KNOWN, NOT FIXED (design): one path that the archive makes both a directory (a member, or
// the parent of one) and a non-directory. The ledger keeps one record per directory and none
// per non-directory, so it cannot see the second use of the path: check (archive order) counts
// the symlink a/s and the directory a/s made for a/s/x; plan places both and, priced in apply's
// order (directories and files before links), also counts the file d as a create beside the
// directory d; apply makes the directories first and skips the symlink a/s and the file d as
// type conflicts. Measured on a tmpfs: check 7 inodes, plan 8, df -i 6. Fixing it means the ledger (or the selection behind it) must know what
// non-directory the restore puts at a path: see the report of the attack branch.
test.skip('KNOWN: a path that is both a directory and a non-directory in one archive: check, plan and apply agree', async () => {
  if (skip()) return;
  const archive = path.join(scratch.dir, 'overlap.tar');
  run('python3', ['-c', OVERLAP, archive]);
  await withMountedFs({ type: 'tmpfs', sizeMiB: 8, inodes: 200 }, async (mnt) => {
    const target = path.join(mnt, 'r');
    mkdirSync(target);
    const check = await checkBudget(archive, { target });
    const plan = await planRestore(archive, { target });
    const before = freeInodes(mnt);
    const result = await applyPlan(plan, { journalPath: path.join(scratch.dir, 'overlap.j') });
    assert.is(result.status, 'complete', result.reason);
    const used = before - freeInodes(mnt);
    assert.equal(
      [check.filesystems[0]?.inodes.needed, planInodes(plan, mnt)],
      [used, used],
      'check needed, plan predicted, df -i moved',
    );
  });
});

test.run();
