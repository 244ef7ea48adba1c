/**
 * Acceptance (issue 12): a budget stop and a resume on a real loop-mounted ext4 end as one
 * uninterrupted run, and `tar -xpf`, would. The live system takes inodes while apply runs (a
 * hook eats them, as Mailman's queue would, after some files are written), the guard stops the
 * run part-way through its stage above the reserve — leaving the directories it made so far
 * usable (their modes and owner, not 0700 and root's) — and once room is made the same apply
 * completes. A smaller tree than the kill test's (about 1,400 steps): every file is fsynced on
 * a loop device here.
 */
import { chownSync, lstatSync, mkdirSync, statfsSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { applyPlan } from '../../src/apply/applyPlan.js';
import { defaultFsOps, type FsOps } from '../../src/apply/fsOps.js';
import { makeScratch, missingNeeds } from '../helpers/env.js';
import { eatInodesTo, removeFiles } from '../helpers/liveMailman.js';
import { MOUNT_TOOLS, withMountedFs } from '../helpers/mountFs.js';
import {
  describeTree,
  extractOracle,
  generateTree,
  leftoverTemps,
  planWithCli,
  treeDiff,
} from './generatedTree.js';

const OWNER = { uid: 4242, gid: 4343 };
const needs = missingNeeds({ root: true, tools: ['tar', 'flock', ...MOUNT_TOOLS.ext4] });

if (needs) {
  test.skip('budget stop part-way and resume on ext4: the tree equals tar -xpf');
  console.log(`skipped: ${needs}`);
} else {
  test('budget stop part-way and resume on ext4: the tree equals tar -xpf; the stopped run left its directories usable', async () => {
    const { dir, cleanup } = makeScratch();
    try {
      const { archive } = generateTree(dir, {
        seed: 1212,
        dirs: 120,
        files: 1000,
        symlinks: 150,
        hardlinks: 150,
        owner: OWNER,
      });
      await withMountedFs({ type: 'ext4', sizeMiB: 48, inodes: 4096 }, async (mnt) => {
        const root = path.join(mnt, 'target');
        mkdirSync(root);
        chownSync(root, OWNER.uid, OWNER.gid);
        const planPath = path.join(dir, 'plan.json');
        const plan = planWithCli(archive, root, planPath);
        const reserve = plan.stages[0]?.budget.find((b) => b.mountPoint === mnt)?.inodesReserve;
        assert.ok(reserve !== undefined && reserve > 0, 'the plan keeps a reserve on the mount');

        // Part-way through, the live system takes all but 300 inodes above the reserve: the
        // guard (every 256 steps) must stop the run before it goes below the reserve.
        let renames = 0;
        let eaten: string[] = [];
        const spool = path.join(mnt, 'spool');
        const hooked: FsOps = {
          ...defaultFsOps,
          rename: (async (...args: Parameters<FsOps['rename']>) => {
            renames += 1;
            if (renames === 300) eaten = eatInodesTo(spool, mnt, reserve + 300);
            return defaultFsOps.rename(...args);
          }) as FsOps['rename'],
        };
        const first = await applyPlan(planPath, { fsOps: hooked });
        assert.is(first.status, 'stopped', first.reason);
        assert.match(first.reason ?? '', /stopped: .*inodes/);
        assert.ok(eaten.length > 0);
        assert.ok(statfsSync(mnt).ffree >= reserve, 'never below the reserve');
        assert.equal(leftoverTemps(root), []);
        // What the stopped run made is usable: every directory it made has its mode and owner.
        let made = 0;
        for (const step of plan.stages.flatMap((s) => s.steps)) {
          if (step.type !== 'dir') continue;
          const stats = lstatSync(step.targetPath, { throwIfNoEntry: false });
          if (!stats) continue;
          made += 1;
          assert.is((stats.mode & 0o7777).toString(8), step.mode.toString(8), step.targetPath);
          assert.is(`${stats.uid}:${stats.gid}`, `${OWNER.uid}:${OWNER.gid}`, step.targetPath);
        }
        assert.ok(made > 0);
        // (first.inodes counts the live system's inodes too: they went while it ran.)

        removeFiles(eaten);
        const second = await applyPlan(planPath);
        assert.is(second.status, 'complete', second.reason);
        for (const row of second.inodes) assert.is(row.actual, row.predicted, row.mountPoint);
        const oracle = path.join(dir, 'oracle');
        extractOracle(archive, oracle);
        assert.equal(treeDiff(describeTree(root), describeTree(oracle)), []);
        assert.equal(leftoverTemps(root), []);
        const third = await applyPlan(planPath);
        assert.is(third.status, 'nothing-to-do', third.reason);
      });
    } finally {
      cleanup();
    }
  });
}

test.run();
