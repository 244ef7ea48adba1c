/**
 * Issue 10's disagreements, each replayed on a real filesystem: check, plan and apply must give
 * one answer. Every test here failed on 0.1.0:
 * - ext4 at 0 free inodes with a corrupt list: check said CRITICAL ("needs 1 inode") while plan
 *   found a rewrite in place that needs none and apply carried it out;
 * - XFS whose inode cap is reached (mkfs.xfs -i maxpct=1, queue filled until creating a file
 *   fails): XFS was taken for "dynamic", plan chose temp-and-rename, apply hit ENOSPC.
 */
import { closeSync, openSync, statfsSync } from 'node:fs';
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
import { makeScratch, missingNeeds } from '../helpers/env.js';
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

test.run();
