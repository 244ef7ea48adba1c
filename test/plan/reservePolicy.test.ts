import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { RestoreplanError } from '../../src/errors.js';
import {
  parseCountOrPercent,
  parsePercentOnly,
  parseGrowthWindow,
  parseSizeOrPercent,
  resolveBlockReserve,
  resolveInodeReserve,
  resolveReserveOptions,
} from '../../src/plan/reservePolicy.js';
import { capGrowthAllowance, estimateQueueGrowth } from '../../src/mailman/censusQueues.js';

test('--reserve-inodes: N or P%', () => {
  assert.equal(parseCountOrPercent('5000'), { kind: 'count', value: 5000 });
  assert.equal(parseCountOrPercent('7.5%'), { kind: 'percent', value: 7.5 });
  assert.equal(parseCountOrPercent(' 0 '), { kind: 'count', value: 0 });
  assert.equal(parseCountOrPercent(12), { kind: 'count', value: 12 });
});

test('--reserve-blocks: SIZE with 1024-based suffixes, or P%', () => {
  assert.equal(parseSizeOrPercent('4096'), { kind: 'count', value: 4096 });
  assert.equal(parseSizeOrPercent('500M'), { kind: 'count', value: 500 * 1024 * 1024 });
  assert.equal(parseSizeOrPercent('2G'), { kind: 'count', value: 2 * 1024 ** 3 });
  assert.equal(parseSizeOrPercent('1.5KiB'), { kind: 'count', value: 1536 });
  assert.equal(parseSizeOrPercent('1t'), { kind: 'count', value: 1024 ** 4 });
  assert.equal(parseSizeOrPercent('3%'), { kind: 'percent', value: 3 });
});

test('bad specs are USAGE errors', () => {
  for (const [fn, spec] of [
    [parseCountOrPercent, '-1'],
    [parseCountOrPercent, '1.5'],
    [parseCountOrPercent, '101%'],
    [parseCountOrPercent, 'lots'],
    [parseSizeOrPercent, '5X'],
    [parseSizeOrPercent, ''],
    [parseSizeOrPercent, '%'],
    [parseGrowthWindow, '-1'],
    [parseGrowthWindow, 'soon'],
    [parseGrowthWindow, ''],
    [parseGrowthWindow, '1e3'],
    [parseGrowthWindow, Number.NaN],
    [parseGrowthWindow, Number.POSITIVE_INFINITY],
    [parseGrowthWindow, -0.5],
  ] as const) {
    try {
      (fn as (spec: string | number) => unknown)(spec);
      assert.unreachable(`accepted ${spec}`);
    } catch (error) {
      assert.instance(error, RestoreplanError);
      assert.is((error as RestoreplanError).code, 'USAGE');
    }
  }
});

test('--warn-inodes takes P% or a bare number', () => {
  assert.is(parsePercentOnly('10%'), 10);
  assert.is(parsePercentOnly(2.5), 2.5);
});

test('--growth-window: hours, 0 or more, fractions allowed; default 12', () => {
  assert.is(parseGrowthWindow('0'), 0);
  assert.is(parseGrowthWindow('1.5'), 1.5);
  assert.is(parseGrowthWindow(' 24h '), 24);
  assert.is(parseGrowthWindow(6), 6);
  assert.is(resolveReserveOptions({}).growthWindowHours, 12);
  assert.is(resolveReserveOptions({ growthWindowHours: '0' }).growthWindowHours, 0);
  try {
    resolveReserveOptions({ growthWindowHours: '-2' });
    assert.unreachable();
  } catch (error) {
    assert.is((error as RestoreplanError).code, 'USAGE');
    assert.is(
      (error as RestoreplanError).message,
      '--growth-window "-2": expected a number of hours, 0 or more (0: no growth allowance)',
    );
  }
});

test('inode reserve by default: share of the total (rounded up) plus the growth allowance', () => {
  const pct = { kind: 'percent', value: 5 } as const;
  assert.equal(resolveInodeReserve(pct, false, 1001, null), { inodes: 51, base: 51, growth: 0 });
  assert.equal(resolveInodeReserve(pct, false, 1000, { inodes: 120.2 }), {
    inodes: 50 + 121,
    base: 50,
    growth: 121,
  });
  assert.equal(resolveInodeReserve({ kind: 'count', value: 7 }, false, 1000, { inodes: 3 }), {
    inodes: 10,
    base: 7,
    growth: 3,
  });
  assert.is(resolveReserveOptions({}).inodeReserveGiven, false);
});

test('an explicit inode reserve (N or P%) is the whole reserve: no growth allowance on top', () => {
  const given = resolveReserveOptions({ reserveInodes: '0' });
  assert.is(given.inodeReserveGiven, true);
  assert.equal(resolveInodeReserve(given.inodeReserve, true, 8192, { inodes: 500 }), {
    inodes: 0,
    base: 0,
    growth: 0,
  });
  const pct = resolveReserveOptions({ reserveInodes: '2%' });
  assert.is(resolveInodeReserve(pct.inodeReserve, true, 8192, { inodes: 500 }).inodes, 164);
});

test('the growth allowance: inflow × window, never more than the inodes free', () => {
  // The observed case: 7,700 files in the last hour × 12 h on a filesystem of 8,192 inodes.
  assert.is(estimateQueueGrowth({ inflowPerHour: 7700 }, 12), 92400);
  assert.is(capGrowthAllowance(92400, 500), 500);
  assert.is(capGrowthAllowance(240, 500), 240);
  assert.is(capGrowthAllowance(240, 0), 0);
  assert.is(capGrowthAllowance(240, Infinity), 240);
  assert.is(estimateQueueGrowth({ inflowPerHour: 7700 }, 0), 0);
  assert.is(estimateQueueGrowth({ inflowPerHour: 100 }, 0.07), 7, 'not 8: floating point');
  // --growth-window 1000…0 (309 digits) parses to 1e308 hours, a finite number: the allowance
  // stays a number JSON can carry (Infinity was printed as null, against the schemas).
  const huge = parseGrowthWindow(`1${'0'.repeat(308)}`);
  assert.is(estimateQueueGrowth({ inflowPerHour: 50 }, huge), Number.MAX_SAFE_INTEGER);
  assert.is(JSON.stringify(estimateQueueGrowth({ inflowPerHour: 1 }, 1e300)), '9007199254740991');
  for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY]) {
    try {
      estimateQueueGrowth({ inflowPerHour: 1 }, bad);
      assert.unreachable(String(bad));
    } catch (error) {
      assert.is((error as RestoreplanError).code, 'USAGE');
    }
  }
});

test('block reserve: bytes to whole blocks (rounded up) or a share of the total', () => {
  assert.is(resolveBlockReserve({ kind: 'count', value: 4097 }, 100000, 4096), 2);
  assert.is(resolveBlockReserve({ kind: 'percent', value: 1 }, 100001, 4096), 1001);
});

test.run();
