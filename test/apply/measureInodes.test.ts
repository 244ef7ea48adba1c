/**
 * Measuring a run: statfs "before" once per mount, the guard turned into a clean stop, and the
 * prediction credited per stage (the plan's number for a stage done in full, apply's own count
 * otherwise) set against statfs "after".
 */
import type { StatsFs } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import type { Task } from '../../src/apply/createRunContext.js';
import type { FsOps } from '../../src/apply/fsOps.js';
import type { GuardedMount } from '../../src/apply/guardBudget.js';
import {
  addTaskInodes,
  createInodeMeter,
  enforceBudget,
  measureInodes,
  readInodesBefore,
} from '../../src/apply/measureInodes.js';
import { StopRun } from '../../src/apply/StopRun.js';
import { makeStage, makeStep } from './makeRunFixture.js';

const stage = makeStage('archives', '/r', []);
stage.budget = [
  {
    mountPoint: '/m',
    inodesNeeded: 40,
    inodesPeak: 40,
    blocksPeak: 40,
    inodesFree: 100,
    inodesReserve: 10,
    blocksNeeded: 40,
    blocksAvailable: 1000,
    blocksReserve: 0,
  },
];

function task(mountPoint: string, inodes: number): Task {
  return {
    stage,
    step: makeStep('/r/x', {
      cost: { mountPoint, inodes, blocks: 0, peakInodes: 0, peakBlocks: 0 },
    }),
    root: '/r',
    targetPath: '/r/x',
    mount: { mountPoint, blockSize: 4096, dynamicInodes: false },
  };
}

/** statfs answering `ffree` per mount from a table the test changes, counting calls. */
function fakeStatfs(ffree: Map<string, number>): { fsOps: FsOps; calls: string[] } {
  const calls: string[] = [];
  const fsOps = {
    statfs: (async (where: string) => {
      calls.push(where);
      return { ffree: ffree.get(where) ?? 0, bavail: 1e6, files: 1e6 } as StatsFs;
    }) as unknown as FsOps['statfs'],
  } as FsOps;
  return { fsOps, calls };
}

test('addTaskInodes sums what each task takes per mount', () => {
  const counts = new Map<string, number>();
  for (const t of [task('/m', 2), task('/n', 1), task('/m', 3)]) addTaskInodes(counts, t);
  assert.equal(
    [...counts],
    [
      ['/m', 5],
      ['/n', 1],
    ],
  );
});

test('statfs "before" is read once per mount, the first time a stage touches it', async () => {
  const { fsOps, calls } = fakeStatfs(
    new Map([
      ['/m', 100],
      ['/n', 50],
    ]),
  );
  const meter = createInodeMeter();
  await readInodesBefore({ fsOps }, meter, [task('/m', 1), task('/m', 1)]);
  await readInodesBefore({ fsOps }, meter, [task('/m', 1), task('/n', 1)]);
  assert.equal(calls, ['/m', '/n']);
  assert.equal(
    [...meter.before],
    [
      ['/m', 100],
      ['/n', 50],
    ],
  );
});

/** The StopRun a promise rejects with, or null when it resolves. */
async function stopOf(promise: Promise<void>): Promise<StopRun | null> {
  try {
    await promise;
    return null;
  } catch (error) {
    assert.instance(error, StopRun);
    return error as StopRun;
  }
}

test('enforceBudget: a stage that does not fit stops the run before it starts, and part-way through', async () => {
  const ffree = new Map([['/m', 15]]);
  const { fsOps } = fakeStatfs(ffree);
  const ctx = { fsOps, guarded: new Map<string, GuardedMount>() };
  const tasks = [task('/m', 3), task('/m', 3)];
  // 6 inodes would leave 9 free, below the reserve of 10.
  const before = await stopOf(enforceBudget(ctx, stage, tasks, 0));
  assert.is(before?.status, 'stopped');
  assert.match(before?.reason ?? '', /^stage archives does not fit: \/m: 6 more inodes/);
  // The remaining 3 leave 12.
  assert.is(await stopOf(enforceBudget(ctx, stage, tasks, 1)), null);
  // A live system took 3 inodes since: the same 3 now leave 9.
  ffree.set('/m', 12);
  const during = await stopOf(enforceBudget(ctx, stage, tasks, 1));
  assert.is(during?.status, 'stopped');
  assert.match(during?.reason ?? '', /^stage archives stopped: \/m: 3 more inodes/);
});

test("measureInodes sets the plan's cost of the done tasks against statfs", async () => {
  const ffree = new Map([
    ['/m', 100],
    ['/n', 80],
  ]);
  const { fsOps } = fakeStatfs(ffree);
  const meter = createInodeMeter();
  await readInodesBefore({ fsOps }, meter, [task('/m', 1), task('/n', 1)]);
  addTaskInodes(meter.predicted, task('/m', 40));
  addTaskInodes(meter.predicted, task('/n', 1));
  addTaskInodes(meter.predicted, task('/n', 2));
  ffree.set('/m', 60);
  ffree.set('/n', 77);
  assert.equal(await measureInodes({ fsOps }, meter), [
    { mountPoint: '/m', predicted: 40, actual: 40 },
    { mountPoint: '/n', predicted: 3, actual: 3 },
  ]);
});

test.run();
