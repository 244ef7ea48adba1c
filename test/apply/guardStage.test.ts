/**
 * apply's guard over the rest of a stage: the plan's own step costs summed per mount apply
 * found each task on (never a second cost model), judged by the planner's rule.
 */
import type { StatsFs } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import type { MountInfo, Task } from '../../src/apply/createRunContext.js';
import type { FsOps } from '../../src/apply/fsOps.js';
import type { GuardedMount } from '../../src/apply/guardBudget.js';
import { checkBudget, guardedMount, remainingDemand } from '../../src/apply/guardStage.js';
import { RestoreplanError } from '../../src/errors.js';
import type { StepCost } from '../../src/types.js';
import { makeStage, makeStep } from './makeRunFixture.js';

const mount: MountInfo = {
  mountPoint: '/m',
  blockSize: 4096,
  dynamicInodes: false,
  fsType: 'ext4',
  xfs: null,
};

test("guardedMount: the stage's budget row wins, else the reserve an earlier stage set", () => {
  const ctx = { guarded: new Map<string, GuardedMount>() };
  const first = makeStage('configs', '/r', []);
  first.budget = [
    {
      mountPoint: '/m',
      inodesNeeded: 1,
      inodesPeak: 1,
      blocksPeak: 1,
      inodesFree: 100,
      inodesReserve: 7,
      blocksNeeded: 1,
      blocksAvailable: 100,
      blocksReserve: 9,
    },
  ];
  assert.equal(guardedMount(ctx, first, mount), {
    mountPoint: '/m',
    dynamicInodes: false,
    fsType: 'ext4',
    xfs: null,
    inodesReserve: 7,
    blocksReserve: 9,
  });
  const later = makeStage('archives', '/r', []);
  assert.is(guardedMount(ctx, later, mount).inodesReserve, 7, 'remembered from the first stage');
  // A mount no stage budgeted (the plan was edited, or the target now lies on another
  // filesystem): what must stay free there is unknown, so apply does not write there.
  try {
    guardedMount(ctx, later, { ...mount, mountPoint: '/other' });
    assert.unreachable('a mount without a budget must not be guarded with no reserve');
  } catch (error) {
    assert.instance(error, RestoreplanError);
    assert.is((error as RestoreplanError).code, 'PLAN_STALE');
    assert.match((error as RestoreplanError).message, '/other');
  }
  const xfs = {
    inodeSize: 512,
    agBlocks: 19200,
    sparseInodes: true,
    maxInodes: 0,
    finobt: true,
    dirBlockSize: 4096,
  };
  const onXfs = guardedMount(ctx, later, { ...mount, fsType: 'xfs', xfs });
  assert.is(onXfs.fsType, 'xfs', 'the guard judges XFS by what it can create');
  assert.is(onXfs.xfs, xfs);
});

test("checkBudget sums the plan's step costs from `from` on per mount (peaks: the largest one) and asks statfs", async () => {
  const stage = makeStage('all', '/r', []);
  stage.budget = ['/m', '/n'].map((mountPoint) => ({
    mountPoint,
    inodesNeeded: 0,
    inodesPeak: 0,
    blocksPeak: 0,
    inodesFree: 0,
    inodesReserve: 0,
    blocksNeeded: 0,
    blocksAvailable: 0,
    blocksReserve: 0,
  }));
  const task = (mountPoint: string, cost: Partial<StepCost>): Task => ({
    stage,
    // The plan names another mount point: apply charges the mount it found the task on.
    step: makeStep('/r/x', {
      cost: { mountPoint: '/edited', inodes: 0, blocks: 0, peakInodes: 0, peakBlocks: 0, ...cost },
    }),
    root: '/r',
    targetPath: '/r/x',
    mount: { ...mount, mountPoint },
  });
  const tasks = [
    task('/m', { inodes: 100 }),
    task('/m', { inodes: 2, blocks: 3, peakInodes: 1, peakBlocks: 5 }),
    task('/m', { inodes: 3, blocks: 4, peakInodes: 1, peakBlocks: 2 }),
    task('/n', { inodes: 1 }),
  ];
  const statfsSeen: string[] = [];
  const fsOps = {
    statfs: (async (where: string) => {
      statfsSeen.push(where);
      return { ffree: 15, bavail: 1000, files: 1000 } as StatsFs;
    }) as unknown as FsOps['statfs'],
  } as FsOps;
  const ctx = { guarded: new Map<string, GuardedMount>(), fsOps };
  // From the second task on: 5 inodes on /m fit 15 free with no reserve.
  assert.is(await checkBudget(ctx, stage, tasks, 1), null);
  assert.equal(statfsSeen, ['/m', '/n']);
  // From the first: 105 inodes do not.
  const stop = await checkBudget(ctx, stage, tasks, 0);
  assert.is(stop?.mountPoint, '/m');
  assert.is(stop?.resource, 'inodes');
  assert.is(stop?.needed, 105);
  assert.equal(remainingDemand(tasks, 1).get('/m'), {
    inodes: 5,
    blocks: 7,
    peakInodes: 6,
    peakBlocks: 12,
  });
});

test.run();
