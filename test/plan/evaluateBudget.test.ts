import { test } from 'uvu';
import * as assert from 'uvu/assert';

import type { FilesystemDemand } from '../../src/plan/computeDemand.js';
import { evaluateBudget, type BudgetPolicy } from '../../src/plan/evaluateBudget.js';
import type { FilesystemInfo } from '../../src/filesystems/statFilesystem.js';

function fs(overrides: Partial<FilesystemInfo> = {}): FilesystemInfo {
  return {
    mountPoint: '/srv',
    fsType: 'ext4',
    device: '8:1',
    source: '/dev/sda1',
    blockSize: 4096,
    inodes: { total: 10000, free: 3000, usable: 3000 },
    blocks: { total: 100000, free: 60000, available: 55000 },
    dynamicInodes: false,
    probedPath: '/srv',
    xfs: null,
    ...overrides,
  };
}

function demand(inodes: number, blocks: number, replaces = 0): FilesystemDemand {
  return {
    inodes,
    peakInodes: inodes + (replaces > 0 ? 1 : 0),
    blocks,
    peakBlocks: blocks,
    creates: inodes,
    replaces,
    rewrite: { fileReplaces: replaces, peakInodes: inodes, peakBlocks: blocks },
    conflicts: 0,
    newDirectories: 0,
  };
}

const POLICY: BudgetPolicy = {
  inodeReserve: { kind: 'percent', value: 5 },
  inodeReserveGiven: false,
  blockReserve: { kind: 'percent', value: 1 },
  warnInodesPercent: 10,
  growth: null,
};

/** Queue inflow of `perHour` for 12 h, capped at `free` (as measureGrowth makes it). */
const growth = (perHour: number, free: number) => ({
  inflowPerHour: perHour,
  windowHours: 12,
  measured: perHour * 12,
  inodes: Math.min(perHour * 12, free),
});

test('fits: ok, with the numbers the contract names', () => {
  const { budget, problems } = evaluateBudget(fs(), demand(1000, 2000), POLICY);
  assert.is(budget.verdict, 'ok');
  assert.equal(problems, []);
  assert.is(budget.inodes.reserve, 500);
  assert.is(budget.inodes.freeAfter, 2000);
  assert.is(budget.blocks.reserve, 1000);
  assert.is(budget.blocks.availableAfter, 53000);
});

test('inodes short: critical, with the exact shortfall (needed - (free - reserve))', () => {
  const { budget, problems } = evaluateBudget(fs(), demand(2600, 10), POLICY);
  assert.is(budget.verdict, 'critical');
  const short = problems.find((p) => p.kind === 'inodes-short');
  assert.ok(short);
  assert.match(short!.message, 'short by 100');
});

test('blocks are budgeted against bavail, not bfree', () => {
  // 55,000 available - 1,000 reserve = 54,000 spare; bfree (60,000) would have said it fits.
  const { problems } = evaluateBudget(fs(), demand(1, 54001), POLICY);
  const short = problems.find((p) => p.kind === 'blocks-short');
  assert.ok(short);
  assert.match(short!.message, 'short by 1 blocks (4,096 bytes)');
});

test('below the warn threshold afterwards: warning', () => {
  const { budget, problems } = evaluateBudget(fs(), demand(2100, 1), POLICY);
  assert.is(budget.verdict, 'warning');
  assert.ok(problems.some((p) => p.kind === 'inodes-low-after'));
});

test('already below the reserve: a restore adding no inode is a warning, anything more critical', () => {
  const low = fs({ inodes: { total: 10000, free: 100, usable: 100 } });
  const repair = evaluateBudget(low, demand(0, 0, 3), POLICY);
  assert.is(repair.budget.verdict, 'warning');
  assert.ok(repair.problems.some((p) => p.kind === 'below-reserve'));
  assert.not.ok(repair.problems.some((p) => p.kind === 'peak-short'));
  const adding = evaluateBudget(low, demand(1, 0), POLICY);
  assert.is(adding.budget.verdict, 'critical');
  assert.match(adding.problems.find((p) => p.kind === 'inodes-short')!.message, 'short by 401');
});

test('no free inode at all: even a replace cannot run (its temp file needs one)', () => {
  const full = fs({ inodes: { total: 10000, free: 0, usable: 0 } });
  const { budget, problems } = evaluateBudget(full, demand(0, 0, 1), POLICY);
  assert.is(budget.verdict, 'critical');
  assert.ok(problems.some((p) => p.kind === 'peak-short'));
});

test('the growth allowance raises the inode reserve, and the budget says what it is', () => {
  const { budget } = evaluateBudget(fs(), demand(0, 0), { ...POLICY, growth: growth(20, 3000) });
  assert.is(budget.inodes.reserve, 500 + 240);
  assert.equal(budget.inodes.growth, {
    inflowPerHour: 20,
    windowHours: 12,
    measured: 240,
    allowance: 240,
    counted: true,
    note: budget.inodes.growth!.note,
  });
  assert.match(budget.inodes.growth!.note, 'keeps 240 inodes (queue inflow 20/h × 12 h) free');
});

test('an explicit inode reserve is the whole reserve: the allowance is reported as advice only', () => {
  const { budget, problems } = evaluateBudget(fs(), demand(10, 0), {
    ...POLICY,
    inodeReserve: { kind: 'count', value: 0 },
    inodeReserveGiven: true,
    growth: growth(20, 3000),
  });
  assert.is(budget.inodes.reserve, 0);
  assert.is(budget.inodes.growth?.allowance, 240);
  assert.is(budget.inodes.growth?.counted, false);
  assert.match(budget.inodes.growth!.note, '--reserve-inodes is the whole inode reserve');
  assert.match(
    budget.inodes.growth!.note,
    'the growth allowance, 240 inodes (queue inflow 20/h × 12 h), is not kept free',
  );
  assert.equal(problems, []);
});

test('the reserve alone leaves no room: said plainly, with the numbers and the flags that change it', () => {
  // 3,000 free; 5% of 10,000 = 500; 7,700/h × 12 h = 92,400 capped at the 3,000 free.
  const crowded = evaluateBudget(fs(), demand(2, 0), { ...POLICY, growth: growth(7700, 3000) });
  assert.is(crowded.budget.verdict, 'critical');
  assert.is(crowded.reserveOnly, true);
  assert.is(crowded.budget.inodes.reserve, 3500);
  assert.is(crowded.budget.inodes.growth?.measured, 92400);
  assert.is(crowded.budget.inodes.growth?.allowance, 3000);
  assert.match(crowded.budget.inodes.growth!.note, '92,400, capped at the 3,000 free');
  const short = crowded.problems.find((p) => p.kind === 'inodes-short');
  assert.is(
    short?.message,
    'needs 2 inodes on /srv (ext4); 3,000 are free and 3,500 must stay free (5% of 10,000 = 500, plus 3,000 for 12 h of queue growth): the reserve alone leaves no room for a restore that adds an inode (short by 502); it fits with --growth-window 0 (a reserve of 500) or with --reserve-inodes 2998 or less (the whole inode reserve)',
  );

  // Short only because of the reserve, with room left: --growth-window 0 is not enough here.
  const some = evaluateBudget(fs(), demand(2800, 0), POLICY);
  assert.is(some.reserveOnly, true);
  assert.match(
    some.problems.find((p) => p.kind === 'inodes-short')!.message,
    '(5% of 10,000 = 500): short by 300, only because of the reserve; it fits with --reserve-inodes 200 or less',
  );

  // More than is free: no reserve flag helps, none is named.
  const over = evaluateBudget(fs(), demand(3001, 0), POLICY);
  assert.is(over.reserveOnly, false);
  assert.not.match(over.problems.find((p) => p.kind === 'inodes-short')!.message, '--reserve');

  // Blocks: the largest --reserve-blocks that fits, in KiB.
  const blocks = evaluateBudget(fs(), demand(0, 54500), POLICY);
  assert.is(blocks.reserveOnly, true);
  assert.match(
    blocks.problems.find((p) => p.kind === 'blocks-short')!.message,
    'short by 500 blocks (2,048,000 bytes), only because of the reserve; it fits with --reserve-blocks 2000K or less',
  );
});

test('dynamic inodes (btrfs reports 0): never "full", an info problem, verdict from blocks', () => {
  const btrfs = fs({
    fsType: 'btrfs',
    inodes: { total: 0, free: 0, usable: 0 },
    dynamicInodes: true,
  });
  const { budget, problems } = evaluateBudget(btrfs, demand(5000, 10), POLICY);
  assert.is(budget.verdict, 'ok');
  assert.is(budget.inodes.dynamic, true);
  assert.equal(
    problems.map((p) => p.kind),
    ['inodes-dynamic'],
  );
});

test('a nearly full XFS: judged on the inodes it can create; the report keeps f_ffree', () => {
  const xfs = fs({
    fsType: 'xfs',
    inodes: { total: 592, free: 399, usable: 0 },
    blocks: { total: 60416, free: 42, available: 42 },
  });
  const { budget, problems } = evaluateBudget(xfs, demand(0, 0, 1), {
    ...POLICY,
    inodeReserve: { kind: 'count', value: 0 },
    inodeReserveGiven: true,
    blockReserve: { kind: 'count', value: 0 },
  });
  assert.is(budget.inodes.free, 399, 'df -i number, as reported');
  assert.is(budget.verdict, 'critical');
  const peak = problems.find((p) => p.kind === 'peak-short');
  assert.match(
    peak?.message ?? '',
    'statfs reports 399 free, but with 42 blocks free xfs can create only 0',
  );
});

test('XFS: a restore that creates inodes leaves the create reservation free', () => {
  const xfs = fs({
    fsType: 'xfs',
    inodes: { total: 200000, free: 100000, usable: 99968 },
    blocks: { total: 60416, free: 100, available: 100 },
    // The 300 MiB default XFS (unreadable, the largest reservation would be assumed: 51).
    xfs: {
      blockSize: 4096,
      dataBlocks: 76800,
      agBlocks: 19200,
      agCount: 4,
      inodeSize: 512,
      imaxPct: 25,
      sparseInodes: true,
      finobt: true,
      dirBlockSize: 4096,
      maxInodes: 153600,
    },
  });
  const policy = {
    ...POLICY,
    inodeReserve: { kind: 'count', value: 0 },
    inodeReserveGiven: true,
    blockReserve: { kind: 'count', value: 0 },
  } as const;
  const creates = evaluateBudget(xfs, demand(3, 90), policy);
  assert.is(creates.budget.verdict, 'critical');
  assert.match(
    creates.problems.find((p) => p.kind === 'blocks-short')?.message ?? '',
    '53 are available (100 less the 47 every xfs create reserves first)',
  );
  assert.is(evaluateBudget(xfs, demand(3, 53), policy).budget.verdict, 'ok');
  assert.is(evaluateBudget(xfs, demand(0, 100), policy).budget.verdict, 'ok');
});

test.run();
