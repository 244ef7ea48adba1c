import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { readNumericField } from '../../src/archive/readNumericField.js';

/** A field as GNU tar writes octal: zero-padded digits, then NUL. */
function octalField(value: number, length: number): Buffer {
  return Buffer.from(`${value.toString(8).padStart(length - 1, '0')}\0`, 'latin1');
}

/** A base-256 field: two's complement big-endian, first byte 0x80 (positive) or 0xff (negative). */
function base256Field(value: bigint, length: number): Buffer {
  const bits = BigInt(length * 8);
  let v = value < 0n ? (1n << bits) + value : value;
  const field = Buffer.alloc(length);
  for (let i = length - 1; i >= 0; i -= 1) {
    field[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  if (value >= 0n) field[0] = 0x80;
  return field;
}

test('octal fields, as GNU tar writes them, across the whole range', () => {
  for (const value of [0, 1, 7, 8, 0o644, 0o7777, 1_700_000_000, 8 ** 11 - 1]) {
    assert.is(readNumericField(octalField(value, 12), 0, 12), value, String(value));
  }
  for (let value = 1; value < 8 ** 7; value = value * 3 + 1) {
    assert.is(readNumericField(octalField(value, 8), 0, 8), value);
  }
});

test('leading spaces, space terminators, no terminator, all-NUL and all-space read as tar reads them', () => {
  const field = (text: string): Buffer => Buffer.from(text, 'latin1');
  assert.is(readNumericField(field('    644 \0'), 0, 9), 0o644);
  assert.is(readNumericField(field('000000000017'), 0, 12), 0o17);
  assert.is(readNumericField(Buffer.alloc(12), 0, 12), 0);
  assert.is(readNumericField(field('            '), 0, 12), 0);
  // Within a bigger buffer, at an offset.
  const header = Buffer.concat([Buffer.alloc(124, 0x41), octalField(12345, 12)]);
  assert.is(readNumericField(header, 124, 12), 12345);
});

test('garbage is NaN (the caller decides: ARCHIVE_HEADER for a size)', () => {
  for (const text of ['0000000089\0', '12x45\0', 'abc\0', '-12\0']) {
    assert.ok(Number.isNaN(readNumericField(Buffer.from(text, 'latin1'), 0, text.length)), text);
  }
});

test('base-256: sizes over 8 GiB, negative mtimes, beyond 2^53 is Infinity', () => {
  for (const value of [
    0n,
    8n * 1024n ** 3n,
    9n * 1024n ** 3n,
    2n ** 40n + 12345n,
    BigInt(Number.MAX_SAFE_INTEGER),
  ]) {
    assert.is(readNumericField(base256Field(value, 12), 0, 12), Number(value), String(value));
  }
  for (const value of [-1n, -2n, -1_000_000_000n, -(2n ** 40n)]) {
    assert.is(readNumericField(base256Field(value, 12), 0, 12), Number(value), String(value));
  }
  assert.is(readNumericField(base256Field(2n ** 60n, 12), 0, 12), Infinity);
  assert.is(readNumericField(base256Field(-(2n ** 60n), 12), 0, 12), -Infinity);
  // 8-byte fields (uid/gid) too.
  assert.is(readNumericField(base256Field(3_000_000_000n, 8), 0, 8), 3_000_000_000);
});

test.run();
