import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { readNumericField } from '../../src/archive/readNumericField.js';
import { makeScratch, missingNeeds } from '../helpers/env.js';

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

const bytes = (text: string): Buffer => Buffer.from(text, 'latin1');

/** A whole field: the text, then NULs to the field's length (12 for mtime, 8 for uid). */
function row(field: 'mtime' | 'uid', text: Buffer, value: number) {
  const whole = Buffer.alloc(field === 'mtime' ? 12 : 8);
  if (text.length > whole.length) throw new Error(`${JSON.stringify(text.toString())} too long`);
  text.copy(whole);
  return { field, text: whole, value };
}

/**
 * Field texts and what GNU tar 1.34's from_header makes of them (NaN: it refuses the field,
 * "Archive contains ... where numeric time_t value expected" or "Blanks in header ..."). The
 * test after this one checks every row against GNU tar itself.
 */
const FIELDS: Array<{ field: 'mtime' | 'uid'; text: Buffer; value: number }> = [
  row('mtime', bytes('00000000017\0'), 0o17),
  row('mtime', bytes('000000000017'), 0o17),
  row('mtime', bytes('      1234 \0'), 0o1234),
  row('mtime', Buffer.alloc(12), 0),
  row('mtime', bytes(`${' '.repeat(11)}\0`), 0),
  // Blank to the end: "Blanks in header where numeric time_t value expected".
  row('mtime', bytes(' '.repeat(12)), NaN),
  row('mtime', bytes(`\0${' '.repeat(11)}`), NaN),
  // One leading NUL is skipped ("a previous field overflowed"), then the digits are read.
  row('mtime', bytes(`\0${'0000000017'}\0`), 0o17),
  row('mtime', bytes(`\0\0${'0000000017'}`), 0),
  // Any C white space pads and ends a field, not only a space.
  row('mtime', bytes('\t\t17\t\0\0\0\0\0\0\0'), 0o17),
  row('mtime', bytes('17\v'), 0o17),
  row('mtime', bytes('17\r\0'), 0o17),
  row('mtime', bytes('12 x'), 0o12),
  row('mtime', bytes('12x'), NaN),
  row('mtime', bytes('0000000089\0'), NaN),
  row('mtime', bytes('abc\0'), NaN),
  // Base-256 is a first byte of exactly 0x80 or 0xff, after padding too; others are refused.
  row('mtime', bytes('\x80\0\0\0\0\0\0\0\0\0\x01\x05'), 261),
  row('mtime', bytes('  \x80\0\0\0\0\0\0\0\0\x03'), 3),
  row('mtime', Buffer.alloc(12, 0xff), -1),
  row('mtime', bytes('\x81\0\0\0\0\0\0\0\0\0\0\x05'), NaN),
  row('mtime', bytes('\xfe0000000017'), NaN),
  // Obsolete base-64 (tar 1.13.6-1.13.11): "Archive contains obsolescent base-64 headers".
  row('mtime', bytes('+AAAAAAAAAD'), 3),
  row('mtime', bytes('-12\0'), -(53 * 64 + 54)),
  row('mtime', bytes('+AAB!'), NaN),
  row('uid', bytes('0000764\0'), 0o764),
  row('uid', bytes('    764 '), 0o764),
  row('uid', bytes(' '.repeat(8)), NaN),
  row('uid', bytes('\x80\0\0\0\0\0\x01\0'), 256),
  row('uid', bytes('0000764x'), NaN),
];

test('numeric fields read as GNU tar reads them', () => {
  for (const { text, value } of FIELDS) {
    const got = readNumericField(text, 0, text.length);
    const label = `${JSON.stringify(text.toString('latin1'))}: ${got}`;
    assert.ok(Object.is(got, value) || (Number.isNaN(got) && Number.isNaN(value)), label);
  }
  // Within a bigger buffer, at an offset.
  const header = Buffer.concat([Buffer.alloc(124, 0x41), octalField(12345, 12)]);
  assert.is(readNumericField(header, 124, 12), 12345);
  // The checksum is octal only: base-256 there is unreadable.
  assert.ok(Number.isNaN(readNumericField(bytes('\x80\0\0\0\0\0\x10\0'), 0, 8, true)));
});

const noTar = missingNeeds({ tools: ['tar'] });
(noTar ? test.skip : test)('the table above is what GNU tar reads from each field', () => {
  const scratch = makeScratch('restoreplan-numeric-');
  try {
    const file = path.join(scratch.dir, 'f.tar');
    for (const { field, text, value } of FIELDS) {
      const header = Buffer.alloc(512);
      header.write('a.txt', 0, 'latin1');
      header.write('0000644\0', 100, 'latin1');
      header.write('0000000\0', 108, 'latin1');
      header.write('0000000\0', 116, 'latin1');
      header.write('00000000000\0', 124, 'latin1');
      header.write('14000000000\0', 136, 'latin1');
      header.write('0', 156, 'latin1');
      header.write('ustar\u000000', 257, 'latin1');
      text.copy(header, field === 'mtime' ? 136 : 108);
      header.fill(0x20, 148, 156);
      let sum = 0;
      for (const byte of header) sum += byte;
      header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
      writeFileSync(file, Buffer.concat([header, Buffer.alloc(1024)]));
      const result = spawnSync('tar', ['--numeric-owner', '--full-time', '-tvf', file], {
        env: { ...process.env, LC_ALL: 'C', TZ: 'UTC' },
      });
      const label = JSON.stringify(text.toString('latin1'));
      const refused = /value expected|out of \w+ range/.test(result.stderr.toString());
      assert.is(refused, Number.isNaN(value), `${label}: ${result.stderr.toString()}`);
      if (refused) continue;
      const columns = result.stdout.toString().trim().split(/\s+/);
      const gnu =
        field === 'uid'
          ? Number(columns[1]?.split('/')[0])
          : Date.parse(`${columns[3]}T${columns[4]}Z`) / 1000;
      assert.is(gnu, value, label);
    }
  } finally {
    scratch.cleanup();
  }
});
if (noTar) console.log(`skipped: ${noTar}`);

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
