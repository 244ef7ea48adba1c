/**
 * The layout rules of human output, without a sandbox: the screen's width ($COLUMNS, the
 * terminal, 80), paths shortened in the middle, prose wrapped, tables fitted with words whole.
 */
import { PassThrough } from 'node:stream';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { makeTable, shortenPath } from '../../src/cli/makeTable.js';
import {
  displayWidth,
  screenColumns,
  shortenMiddle,
  wrapLine,
  type Io,
} from '../../src/cli/output.js';

// makeTable reads $COLUMNS: cleared while this file runs.
const columnsBefore = process.env.COLUMNS;
test.before(() => {
  delete process.env.COLUMNS;
});
test.after(() => {
  if (columnsBefore !== undefined) process.env.COLUMNS = columnsBefore;
});

function io(columns: number | undefined): Io {
  const stdout = Object.assign(new PassThrough(), { isTTY: columns !== undefined, columns });
  return { stdout, stderr: new PassThrough(), stdin: new PassThrough() };
}

const width = (text: string): number =>
  Math.max(...text.split('\n').map((line) => [...line].length));

test('screenColumns: $COLUMNS, else the terminal, else 80 (a pipe, a terminal of 0 columns)', () => {
  assert.is(screenColumns(io(undefined), {}), 80);
  assert.is(screenColumns(io(0), {}), 80);
  assert.is(screenColumns(io(132), {}), 132);
  assert.is(screenColumns(io(132), { COLUMNS: '100' }), 100);
  assert.is(screenColumns(io(undefined), { COLUMNS: ' 120 ' }), 120);
  assert.is(screenColumns(io(undefined), { COLUMNS: '12' }), 40, 'no narrower than 40');
  assert.is(screenColumns(io(20), {}), 40);
  for (const nonsense of ['', '0', '-1', 'wide', '1e3', '80.5'])
    assert.is(screenColumns(io(132), { COLUMNS: nonsense }), 132, JSON.stringify(nonsense));
});

test('shortenPath drops whole directories from the middle; shortenMiddle cuts characters', () => {
  const file = '/var/lib/mailman/lists/announce/config.pck';
  assert.is(shortenPath(file, 80), file);
  assert.is(shortenPath(file, 32), '/var/…/lists/announce/config.pck');
  assert.is(shortenPath(file, 26), '/var/…/announce/config.pck');
  assert.is(shortenPath(file, 20), '/var/…/config.pck');
  assert.is(
    shortenPath('var/lib/mailman/lists/announce/config.pck', 28),
    'var/…/announce/config.pck',
  );
  for (const w of [30, 20, 12, 8, 3, 1]) {
    const short = shortenPath(file, w);
    assert.ok([...short].length <= w, `${w}: ${short}`);
    assert.ok(short.includes('…'), `${w}: ${short}`);
  }
  assert.is(shortenMiddle('abcdefghij', 5), 'ab…ij');
  assert.is(shortenMiddle('abc', 5), 'abc');
});

test('wrapLine: at blanks, continuation indented two more, a long word broken but kept whole', () => {
  const line = '  replace file /a/very/long/path/that/does/not/fit ← member';
  const lines = wrapLine(line, 24);
  for (const l of lines) assert.ok([...l].length <= 24, l);
  assert.ok(
    lines.slice(1).every((l) => l.startsWith('    ')),
    lines.join('|'),
  );
  assert.is(lines.join('').replace(/ /g, ''), line.replace(/ /g, ''), 'nothing lost');
  assert.equal(wrapLine('short', 80), ['short']);
  assert.equal(wrapLine('Verdict: OK and more words here', 12), [
    'Verdict: OK',
    '  and more',
    '  words here',
  ]);
});

test('makeTable: off a terminal 80 columns, columns give way evenly, numbers stay whole', () => {
  const sentence =
    'falls back to config.pck.last, then will rename config.pck to config.pck.corrupt';
  const table = makeTable(io(undefined), { head: ['list', 'size', 'what', 'files'] });
  table.push(['users', '16.0 KiB', sentence, `${sentence} (files)`]);
  table.push(['board', '1.0 KiB', 'loads', 'ok']);
  const text = table.toString();
  assert.ok(width(text) <= 80, text);
  assert.ok(width(text) >= 76, `the width is used: ${width(text)}`);
  assert.match(text, /│ 16\.0 KiB │/, 'a short value is never wrapped');
  const rows = text.split('\n');
  // The rule under the multi-line row stays; none between single-line rows.
  assert.is(rows.filter((l) => l.startsWith('├')).length, 2, text);
  const narrow = makeTable(io(200), { head: ['a', 'b'] });
  narrow.push(['x', 'y'], ['z', 'w'], ['p', 'q']);
  assert.is(narrow.toString().split('\n').length, 7, 'one line a row, under the head rule');
});

test('makeTable: a shortened column loses the middle of its paths; others break them whole', () => {
  const deep = `/srv/${'d/'.repeat(60)}config.pck`;
  const shortened = makeTable(io(undefined), { head: ['stage', 'path'], shortenColumns: [1] });
  shortened.push(['in-place', deep]);
  const text = shortened.toString();
  assert.ok(width(text) <= 80);
  assert.match(text, /│ \/srv\/[d/]*…\/[d/]*config\.pck +│/);
  const broken = makeTable(io(undefined), { head: ['stage', 'path'] });
  broken.push(['in-place', deep]);
  const whole = broken
    .toString()
    .split('\n')
    .filter((l) => l.startsWith('│'))
    .slice(1)
    .map((l) => l.split('│')[2]?.trim())
    .join('');
  assert.is(whole, deep);
});

test('wide characters take two columns: a Japanese list name is not cut off, lines still fit', () => {
  const name = '日本語のメーリングリスト名前'.repeat(3);
  assert.is(displayWidth(name), 84);
  const table = makeTable(io(undefined), { head: ['list', 'status', 'what'] });
  table.push([name, 'lost', 'does not see the list (no config file at all): it is down']);
  const text = table.toString();
  assert.not.match(text, /…/, 'nothing cut off');
  for (const line of text.split('\n')) assert.ok(displayWidth(line) <= 80, line);
  const column = text
    .split('\n')
    .filter((line) => line.startsWith('│'))
    .slice(1)
    .map((line) => line.split('│')[1]?.trim())
    .join('');
  assert.is(column, name);
  assert.ok(displayWidth(shortenMiddle(name, 21)) <= 21);
  for (const line of wrapLine(`x ${name} y`, 30)) assert.ok(displayWidth(line) <= 30, line);
  assert.is(displayWidth('e\u0301'), 1, 'a combining accent takes no column');
});

test('emoji shown as emoji take two columns too: a name of rockets is neither cut nor split', () => {
  assert.is(displayWidth('🚀✅⚡'), 6);
  const name = `rocket${'🚀'.repeat(30)}`;
  const table = makeTable(io(undefined), { head: ['list', 'status', 'what', 'files'] });
  table.push([name, 'ok', 'z'.repeat(40), 'w']);
  table.push(['ok', 'ok', 'x'.repeat(60), 'y'.repeat(20)]);
  const text = table.toString();
  assert.not.match(text, /…|\uFFFD/, text);
  for (const line of text.split('\n')) assert.ok(displayWidth(line) <= 80, line);
  const column = text
    .split('\n')
    .filter((line) => line.startsWith('│'))
    .slice(1)
    .map((line) => line.split('│')[1]?.trim())
    .join('');
  assert.ok(column.startsWith(name), column);
});

test.run();
