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
  blockReserve: { kind: 'percent', value: 1 },
  warnInodesPercent: 10,
  growthInodes: 0,
};

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

test('the growth allowance raises the inode reserve', () => {
  const { budget } = evaluateBudget(fs(), demand(0, 0), { ...POLICY, growthInodes: 250 });
  assert.is(budget.inodes.reserve, 750);
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
