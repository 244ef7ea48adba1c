import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { parsePaxRecords, readPaxInteger, readPaxTime } from '../../src/archive/parsePaxRecords.js';
import { RestoreplanError } from '../../src/errors.js';
import { makeScratch, missingNeeds } from '../helpers/env.js';

/** A record as POSIX defines it: the length counts itself, so compute it the way pax does. */
function record(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  const bytes = Buffer.byteLength(body);
  let length = bytes + 1;
  while (String(length).length + bytes !== length) length += 1;
  return `${length}${body}`;
}

function collect(text: string): Array<[string, string]> {
  const data = Buffer.from(text);
  const out: Array<[string, string]> = [];
  parsePaxRecords(data, data.length, 0, (key, buf, start, end) =>
    out.push([key, buf.toString('utf8', start, end)]),
  );
  return out;
}

test('records in order, values with = and newlines and UTF-8 intact', () => {
  const records: Array<[string, string]> = [
    ['path', 'dir/ünïcødé.txt'],
    ['comment', 'a=b\nc'],
    ['GNU.sparse.offset', '0'],
    ['GNU.sparse.numbytes', '512'],
    ['mtime', '1700000000.123456789'],
    ['size', '9'.repeat(95)],
  ];
  assert.equal(collect(records.map(([k, v]) => record(k, v)).join('')), records);
});

/** Every record text the tests below try, with what GNU tar 1.34 makes of it. */
const RECORDS: Array<{ text: string; records: Array<[string, string]> | 'malformed' }> = [
  { text: `${record('uid', '7')}\0\0\0`, records: [['uid', '7']] },
  // GNU tar reads the data as a C string: a NUL where a record would start ends them all.
  { text: `${record('uid', '1')}\0x`, records: [['uid', '1']] },
  // Blanks may lead the length (they count in it) and more than one may follow it.
  { text: ' 12 path=ab\n', records: [['path', 'ab']] },
  { text: '12\tpath=abc\n', records: [['path', 'abc']] },
  { text: '13  path=abc\n', records: [['path', 'abc']] },
  // An empty keyword is a keyword nobody knows: GNU tar ignores it (with a warning).
  { text: '7 =abc\n', records: [['', 'abc']] },
  { text: '12 path=abc', records: 'malformed' },
  { text: '5 a=b\n', records: 'malformed' },
  { text: '99 path=x\n', records: 'malformed' },
  { text: 'x path=y\n', records: 'malformed' },
  { text: '11 pathabc\n', records: 'malformed' },
  { text: '8 =abc\n', records: 'malformed' },
  { text: '10path=ab\n', records: 'malformed' },
  // strchr stops at a NUL: "missing equal sign".
  { text: '11 pa\0h=b\n', records: 'malformed' },
  { text: `${record('uid', '1')}garbage`, records: 'malformed' },
];

test('records GNU tar reads are read, the ones it calls malformed are ARCHIVE_HEADER', () => {
  for (const { text, records } of RECORDS) {
    let got: Array<[string, string]> | 'malformed';
    try {
      got = collect(text);
    } catch (error) {
      assert.instance(error, RestoreplanError, JSON.stringify(text));
      assert.is((error as RestoreplanError).code, 'ARCHIVE_HEADER');
      got = 'malformed';
    }
    assert.equal(got, records, JSON.stringify(text));
  }
});

const noTar = missingNeeds({ tools: ['tar'] });
(noTar ? test.skip : test)('the table above is what GNU tar says of each record', () => {
  const scratch = makeScratch('restoreplan-pax-');
  try {
    for (const { text, records } of RECORDS) {
      const file = path.join(scratch.dir, 'x.tar');
      writeFileSync(file, paxArchive(Buffer.from(text, 'latin1')));
      const result = spawnSync('tar', ['-tvf', file], { env: { ...process.env, LC_ALL: 'C' } });
      const stderr = result.stderr.toString();
      const malformed =
        /Malformed extended header|Extended header length [\s\S]* is out of range/.test(stderr);
      assert.is(malformed, records === 'malformed', `${JSON.stringify(text)}: ${stderr}`);
      if (records !== 'malformed') {
        const path = records.find(([key]) => key === 'path')?.[1] ?? 'a.txt';
        assert.ok(result.stdout.toString().trim().endsWith(` ${path}`), result.stdout.toString());
      }
    }
  } finally {
    scratch.cleanup();
  }
});
if (noTar) console.log(`skipped: ${noTar}`);

/** A ustar archive of one member 'a.txt' whose local pax header holds `data`. */
function paxArchive(data: Buffer): Buffer {
  const header = (name: string, flag: string, size: number): Buffer => {
    const b = Buffer.alloc(512);
    b.write(name, 0, 'latin1');
    b.write('0000644\0', 100, 'latin1');
    b.write('0000000\0', 108, 'latin1');
    b.write('0000000\0', 116, 'latin1');
    b.write(`${size.toString(8).padStart(11, '0')}\0`, 124, 'latin1');
    b.write('14000000000\0', 136, 'latin1');
    b.write(flag, 156, 'latin1');
    b.write('ustar\u000000', 257, 'latin1');
    b.fill(0x20, 148, 156);
    let sum = 0;
    for (const byte of b) sum += byte;
    b.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
    return b;
  };
  const pad = (d: Buffer): Buffer =>
    Buffer.concat([d, Buffer.alloc((512 - (d.length % 512)) % 512)]);
  return Buffer.concat([
    header('PaxHeaders/a.txt', 'x', data.length),
    pad(data),
    header('a.txt', '0', 1),
    pad(Buffer.from('1')),
    Buffer.alloc(1024),
  ]);
}

test('atime and ctime (GNU tar writes them for every member) are skipped; atimes is not', () => {
  const text = [
    record('atime', '1.5'),
    record('path', 'p'),
    record('ctime', '2'),
    record('atimes', 'x'),
  ].join('');
  assert.equal(collect(text), [
    ['path', 'p'],
    ['atimes', 'x'],
  ]);
});

test("pax times as GNU tar's decode_timespec reads them: what follows the number is ignored", () => {
  for (const [text, value] of [
    ['1700000000.123456789', 1700000000.123456],
    ['0', 0],
    ['-1000000000', -1000000000],
    ['-1.5', -1.5],
    ['12.', 12],
    ['1700000000.5', 1700000000.5],
    ['1e5', 1],
    ['12x', 12],
    ['1.2.3', 1.2],
  ] as const) {
    const b = Buffer.from(text);
    assert.ok(Math.abs(readPaxTime(b, 0, b.length) - value) < 1e-6, text);
  }
  for (const text of ['', '-', 'abc', '.5', ' 5', '+5', '-x', '9'.repeat(20)]) {
    const b = Buffer.from(text);
    assert.ok(Number.isNaN(readPaxTime(b, 0, b.length)), JSON.stringify(text));
  }
});

test('pax integers: digits to the end of the value or a NUL (decode_num on a C string)', () => {
  const b = Buffer.from('123 x -1 1e3 12\0x');
  assert.is(readPaxInteger(b, 0, 3), 123);
  assert.ok(Number.isNaN(readPaxInteger(b, 4, 5)));
  assert.ok(Number.isNaN(readPaxInteger(b, 6, 8)));
  assert.ok(Number.isNaN(readPaxInteger(b, 9, 12)));
  assert.ok(Number.isNaN(readPaxInteger(b, 3, 3)));
  assert.is(readPaxInteger(b, 13, 17), 12);
});

test.run();
