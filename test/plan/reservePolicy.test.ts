import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { RestoreplanError } from '../../src/errors.js';
import {
  parseCountOrPercent,
  parsePercentOnly,
  parseSizeOrPercent,
  resolveBlockReserve,
  resolveInodeReserve,
} from '../../src/plan/reservePolicy.js';

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
  ] as const) {
    try {
      fn(spec);
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

test('inode reserve: share of the total (rounded up) plus the growth allowance', () => {
  assert.is(resolveInodeReserve({ kind: 'percent', value: 5 }, 1001, 0), 51);
  assert.is(resolveInodeReserve({ kind: 'percent', value: 5 }, 1000, 120.2), 50 + 121);
  assert.is(resolveInodeReserve({ kind: 'count', value: 7 }, 1000, 3), 10);
});

test('block reserve: bytes to whole blocks (rounded up) or a share of the total', () => {
  assert.is(resolveBlockReserve({ kind: 'count', value: 4097 }, 100000, 4096), 2);
  assert.is(resolveBlockReserve({ kind: 'percent', value: 1 }, 100001, 4096), 1001);
});

test.run();
