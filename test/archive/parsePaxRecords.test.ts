import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { parsePaxRecords, readPaxInteger, readPaxTime } from '../../src/archive/parsePaxRecords.js';
import { RestoreplanError } from '../../src/errors.js';

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

test('trailing NUL padding is ignored; malformed records are ARCHIVE_HEADER', () => {
  assert.equal(collect(`${record('uid', '7')}\0\0\0`), [['uid', '7']]);
  for (const bad of [
    '12 path=abc',
    '5 a=b\n',
    '99 path=x\n',
    'x path=y\n',
    '11 pathabc\n',
    '8 =abc\n',
    `${record('uid', '1')}\0x`,
  ]) {
    try {
      collect(bad);
      assert.unreachable(JSON.stringify(bad));
    } catch (error) {
      assert.instance(error, RestoreplanError, JSON.stringify(bad));
      assert.is((error as RestoreplanError).code, 'ARCHIVE_HEADER');
    }
  }
});

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

test('pax times: fractions and negative times, as Number() reads the same text', () => {
  for (const text of ['1700000000.123456789', '0', '-1000000000', '-1.5', '12.', '1700000000.5']) {
    const b = Buffer.from(text);
    assert.ok(Math.abs(readPaxTime(b, 0, b.length) - Number(text)) < 1e-6, text);
  }
  for (const text of ['', '-', 'abc', '1.2.3', '1e5', '.5x']) {
    const b = Buffer.from(text);
    assert.ok(Number.isNaN(readPaxTime(b, 0, b.length)), JSON.stringify(text));
  }
});

test('pax integers: digits only', () => {
  const b = Buffer.from('123 x -1 1e3');
  assert.is(readPaxInteger(b, 0, 3), 123);
  assert.ok(Number.isNaN(readPaxInteger(b, 4, 5)));
  assert.ok(Number.isNaN(readPaxInteger(b, 6, 8)));
  assert.ok(Number.isNaN(readPaxInteger(b, 9, 12)));
  assert.ok(Number.isNaN(readPaxInteger(b, 3, 3)));
});

test.run();
