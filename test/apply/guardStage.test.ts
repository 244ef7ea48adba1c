/**
 * The cost model of apply's guard, table-driven: what one step costs by DESIGN.md's counting
 * rules (what is on disk decides), and how the rest of a stage is summed for the guard.
 */
import type { Stats, StatsFs } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import type { MountInfo, Task } from '../../src/apply/createRunContext.js';
import type { FsOps } from '../../src/apply/fsOps.js';
import { emptyDemand, type GuardedMount, type MountDemand } from '../../src/apply/guardBudget.js';
import {
  addStepCost,
  blocksFor,
  checkBudget,
  guardedMount,
  priceStep,
  storedBytes,
} from '../../src/apply/guardStage.js';
import type { PlanStep } from '../../src/types.js';
import { fakeStats, makeStage, makeStep } from './makeRunFixture.js';

const mount: MountInfo = { mountPoint: '/m', blockSize: 4096, dynamicInodes: false };
const demand = (d: Partial<MountDemand>): MountDemand => ({ ...emptyDemand(), ...d });

// [case, step, what exists at the target, expected cost]
const STEP_COSTS: Array<[string, Partial<PlanStep>, Stats | null, Partial<MountDemand>]> = [
  ['a new directory: an inode and a block', { type: 'dir' }, null, { inodes: 1, blocks: 1 }],
  ['a directory that exists: nothing', { type: 'dir' }, fakeStats('dir'), {}],
  ['a new file: an inode and its blocks', { size: 10_000 }, null, { inodes: 1, blocks: 3 }],
  ['a new empty file: an inode, no block', { size: 0 }, null, { inodes: 1 }],
  [
    'a sparse file costs its stored data, not its apparent size',
    {
      size: 3 * 1024 * 1024,
      source: { headerOffset: 0, dataOffset: 512, dataLength: 8192, sparse: [[0, 8192]] },
    },
    null,
    { inodes: 1, blocks: 2 },
  ],
  [
    'a replace: net the block difference, the temp file at its full size while it runs',
    { size: 3 * 4096, write: 'replace' },
    fakeStats('file', 4096),
    { blocks: 2, peakInodes: 1, peakBlocks: 3 },
  ],
  [
    'a replace by a smaller file: no net blocks, still the temp file',
    { size: 4096, write: 'replace' },
    fakeStats('file', 5 * 4096),
    { peakInodes: 1, peakBlocks: 1 },
  ],
  [
    'a rewrite in place: no inode even while it runs, only the extra blocks',
    { size: 3 * 4096, write: 'rewrite' },
    fakeStats('file', 4096),
    { blocks: 2 },
  ],
  [
    'a short symlink lives in its inode (ext4 fast symlink)',
    { type: 'symlink', linkTarget: 'x'.repeat(59) },
    null,
    { inodes: 1 },
  ],
  [
    'a long symlink needs a data block',
    { type: 'symlink', linkTarget: 'x'.repeat(60) },
    null,
    { inodes: 1, blocks: 1 },
  ],
  [
    'a symlink over an existing path: only its temp link while it runs',
    { type: 'symlink', linkTarget: 'x'.repeat(60) },
    fakeStats('symlink'),
    { peakInodes: 1, peakBlocks: 1 },
  ],
  ['a hard link: nothing', { type: 'hardlink', linkTarget: '/r/a' }, null, {}],
  ['a new fifo: an inode', { type: 'fifo' }, null, { inodes: 1 }],
];

for (const [name, over, existing, expected] of STEP_COSTS) {
  test(`addStepCost: ${name}`, () => {
    const step = makeStep('/r/x', over);
    const cost = emptyDemand();
    addStepCost(step, { targetPath: '/r/x', missingDirs: [], existing }, mount, cost, new Set());
    assert.equal(cost, demand(expected));
  });
}

test('blocksFor rounds up; storedBytes is the stored data of a sparse member', () => {
  assert.is(blocksFor(0, 4096), 0);
  assert.is(blocksFor(1, 4096), 1);
  assert.is(blocksFor(4097, 4096), 2);
  assert.is(storedBytes(makeStep('/r/x', { size: 100 })), 100);
  assert.is(
    storedBytes(
      makeStep('/r/x', {
        size: 1 << 20,
        source: { headerOffset: 0, dataOffset: 512, dataLength: 10, sparse: [[0, 10]] },
      }),
    ),
    10,
  );
});

test('priceStep counts each missing parent once per stage, and a planned parent is not a second dir', () => {
  const planned = new Set<string>();
  const first = priceStep(
    makeStep('/r/a/b/one.txt', { size: 1 }),
    { targetPath: '/r/a/b/one.txt', missingDirs: ['/r/a', '/r/a/b'], existing: null },
    mount,
    planned,
  );
  assert.equal(first, demand({ inodes: 3, blocks: 3 }));
  const second = priceStep(
    makeStep('/r/a/b/two.txt', { size: 1 }),
    { targetPath: '/r/a/b/two.txt', missingDirs: ['/r/a', '/r/a/b'], existing: null },
    mount,
    planned,
  );
  assert.equal(second, demand({ inodes: 1, blocks: 1 }));
  // The directory member itself, already counted as a missing parent: free.
  const dir = priceStep(
    makeStep('/r/a/b', { type: 'dir' }),
    { targetPath: '/r/a/b', missingDirs: ['/r/a'], existing: null },
    mount,
    planned,
  );
  assert.equal(dir, emptyDemand());
});

test("guardedMount: the stage's budget row wins, else the reserve an earlier stage set, else 0", () => {
  const ctx = { guarded: new Map<string, GuardedMount>() };
  const first = makeStage('configs', '/r', []);
  first.budget = [
    {
      mountPoint: '/m',
      inodesNeeded: 1,
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
    inodesReserve: 7,
    blocksReserve: 9,
  });
  const later = makeStage('archives', '/r', []);
  assert.is(guardedMount(ctx, later, mount).inodesReserve, 7, 'remembered from the first stage');
  assert.is(
    guardedMount(ctx, later, { ...mount, mountPoint: '/other' }).inodesReserve,
    0,
    'a mount no stage budgeted keeps no reserve',
  );
});

test('checkBudget sums the tasks from `from` on per mount (peaks: the largest one) and asks statfs', async () => {
  const stage = makeStage('all', '/r', []);
  const task = (mountPoint: string, cost: Partial<MountDemand>): Task => ({
    stage,
    step: makeStep('/r/x'),
    root: '/r',
    targetPath: '/r/x',
    mount: { ...mount, mountPoint },
    cost: demand(cost),
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
});

test.run();
