/**
 * The error line never echoes what a terminal would act on: a message quotes what it could not
 * use (a path, the first bytes of a file that is not a plan), and those bytes are chosen by
 * whoever made the file. Attack: an ESC sequence in a "plan" or a path rewrites the operator's
 * screen, a newline forges a second line for a script reading stderr.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { generateMailmanTree } from '../../samples/generateMailmanTree.js';
import { RestoreplanError } from '../../src/errors.js';
import { printableLine, reportError } from '../../src/cli/output.js';
import { captureIo } from '../helpers/captureIo.js';
import { makeScratch } from '../helpers/env.js';
import { repo } from '../helpers/runCli.js';

const scratch = makeScratch('restoreplan-cli-output-');
test.after(() => scratch.cleanup());

/** The built CLI, its output as raw bytes (a text decoding would hide what was written). */
function cliBytes(args: string[]): { code: number | null; stdout: Buffer; stderr: Buffer } {
  const r = spawnSync(process.execPath, [path.join(repo, 'dist/cli/bin.js'), ...args], {
    cwd: repo,
    input: '',
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Printable ASCII lines only, each ending in a newline. */
const PRINTABLE_ASCII = /^(?:[\x20-\x7e]*\n)*$/;

const capture = captureIo;

test('printableLine: escapes controls, format characters and U+FFFD; keeps printable text', () => {
  assert.is(printableLine('a\x1b[2Jb'), 'a\\x1b[2Jb');
  assert.is(printableLine('nul\x00 del\x7f csi\u009b cr\r'), 'nul\\x00 del\\x7f csi\\x9b cr\\x0d');
  assert.is(printableLine('tab\there'), 'tab\\x09here');
  assert.is(printableLine('rtl \u202egpj.exe'), 'rtl \\u202egpj.exe');
  assert.is(printableLine('bad utf-8 \ufffd, lone \ud800'), 'bad utf-8 \\ufffd, lone \\ud800');
  assert.is(printableLine('ls\u2028sep'), 'ls\\u2028sep');
  // A message wrapped over lines reads as one; printable non-ASCII stays as it is.
  assert.is(printableLine('first\n   second \r\n third'), 'first second third');
  assert.is(printableLine('café — 3 × 4 ≤ 12 ← ok'), 'café — 3 × 4 ≤ 12 ← ok');
});

test('reportError: the stderr line and hint are printable; the JSON document keeps the message', () => {
  const { io, out, err } = capture();
  const code = reportError(
    io,
    { json: true, debug: false },
    new RestoreplanError('PLAN_INVALID', 'x\x1b]0;owned\x07 is\nnot JSON', { hint: 'see \x1b[5m' }),
  );
  assert.is(code, 3);
  assert.is(
    err(),
    'restoreplan: PLAN_INVALID: x\\x1b]0;owned\\x07 is not JSON\n  hint: see \\x1b[5m\n',
  );
  assert.is(JSON.parse(out()).error.message, 'x\x1b]0;owned\x07 is not JSON');
});

test('apply on a binary that is not a plan: one printable ASCII line (attack: bytes echoed from the file)', () => {
  const binary = path.join(scratch.dir, 'true-like-binary');
  copyFileSync('/bin/true', binary);
  const crafted = path.join(scratch.dir, 'crafted.json');
  writeFileSync(
    crafted,
    Buffer.concat([
      Buffer.from('\x1b[2J\x1b[31mOK\r\nrestoreplan: fine\x00'),
      Buffer.from([0xff, 0xfe]),
    ]),
  );
  for (const file of [binary, crafted]) {
    const r = cliBytes(['apply', file, '--yes', '--no-progress']);
    assert.is(r.code, 3, file);
    assert.is(r.stdout.length, 0);
    const text = r.stderr.toString('latin1');
    assert.match(text, PRINTABLE_ASCII, JSON.stringify(text));
    assert.is(text.split('\n').filter((l) => l.startsWith('restoreplan: ')).length, 1, text);
    assert.match(text, /^restoreplan: PLAN_INVALID: /);
  }
});

test('a path with a newline and an ESC in it: one printable line, --nagios too', () => {
  const evil = path.join(scratch.dir, 'no\nrestoreplan: OK\x1b[1A\x1b[2K.json');
  const r = cliBytes(['apply', evil, '--yes', '--no-progress']);
  assert.is(r.code, 3);
  const text = r.stderr.toString('latin1');
  assert.match(text, PRINTABLE_ASCII, JSON.stringify(text));
  assert.is(text.split('\n').filter(Boolean).length <= 2, true, text); // the line and its hint
  assert.match(text, /no restoreplan: OK\\x1b\[1A\\x1b\[2K\.json/);

  const nagios = cliBytes(['check', evil, '--target', scratch.dir, '--nagios']);
  assert.is(nagios.code, 3);
  const line = nagios.stdout.toString('latin1');
  assert.match(line, PRINTABLE_ASCII, JSON.stringify(line));
  assert.match(line, /^RESTOREPLAN UNKNOWN - ARCHIVE_NOT_FOUND: .*\\x1b\[1A/);
  assert.is(line.split('\n').length, 2);
});

test('human output escapes what a member name would make the terminal do (scan, plan)', () => {
  const dir = path.join(scratch.dir, 'hostile-names');
  const src = path.join(dir, 'src');
  mkdirSync(src, { recursive: true });
  // A directory whose name clears the screen and reverses the text after it.
  const hostile = 'x\x1b[2J\u202egnp.gifnoc';
  mkdirSync(path.join(src, hostile));
  writeFileSync(path.join(src, hostile, 'f'), 'data');
  const archive = path.join(dir, 'a.tar');
  spawnSync('tar', ['-C', src, '-cf', archive, '.']);
  for (const args of [
    ['scan', archive, '--no-progress'],
    ['plan', archive, '--target', path.join(dir, 'target'), '--no-progress'],
  ]) {
    mkdirSync(path.join(dir, 'target'), { recursive: true });
    const r = cliBytes(args);
    assert.ok(r.code === 0 || r.code === 1, `${args[0]}: ${r.stderr.toString()}`);
    assert.not.ok(r.stdout.includes(0x1b), `${args[0]}: no raw ESC`);
    assert.not.ok(r.stdout.toString('utf8').includes('\u202e'), `${args[0]}: no raw bidi override`);
    assert.ok(r.stdout.toString('utf8').includes('x\\x1b[2J\\u202egnp.gifnoc'), args[0]);
  }
});

test('a list name with a newline or an ESC: one row and one problem line each, columns aligned (doctor, plan)', async () => {
  const dir = path.join(scratch.dir, 'hostile-lists');
  const live = path.join(dir, 'live', 'mailman');
  await generateMailmanTree(live, {
    lists: ['mailman', 'list001'],
    postsPerList: 1,
    queueFiles: 0,
  });
  const archive = path.join(dir, 'backup.tar');
  spawnSync('tar', ['-C', path.join(dir, 'live'), '-cf', archive, 'mailman']);
  // Directories without config files: lost lists, named to forge a row and to clear the screen.
  mkdirSync(path.join(live, 'lists', 'evil\nlist001'));
  mkdirSync(path.join(live, 'lists', '\x1b[2Jbad'));
  for (const args of [
    // Every list (healthy ones are otherwise summed up in a line).
    ['doctor', live, '--no-progress', '--all'],
    ['plan', archive, '--target', live, '--no-progress', '--verbose'],
  ]) {
    const r = cliBytes(args);
    assert.is(r.code, 2, `${args[0]}: ${r.stderr.toString()}`);
    const text = r.stdout.toString('utf8');
    assert.not.ok(r.stdout.includes(0x1b), `${args[0]}: no raw ESC`);
    const lines = text.split('\n');
    // The forged name is one row: no row starts with a cell holding only "list001" but the real one.
    const rowsNamed = (name: string): number =>
      lines.filter((line) => new RegExp(`^│ ${name.replace(/[[\]\\]/g, '\\$&')} +│`).test(line))
        .length;
    assert.is(rowsNamed('list001'), 1, `${args[0]}: one list001 row\n${text}`);
    assert.is(rowsNamed('evil list001'), 1, `${args[0]}: the hostile name on one row\n${text}`);
    assert.is(rowsNamed('\\x1b[2Jbad'), 1, `${args[0]}: the ESC escaped\n${text}`);
    // Every line of a table is as wide as its border (no escape counted as zero width).
    for (const table of text.split(/\n(?=┌)/).filter((t) => t.startsWith('┌'))) {
      const rows = table.split('\n').filter((l) => /^[│├┌└]/.test(l));
      const width = [...(rows[0] ?? '')].length;
      for (const row of rows) assert.is([...row].length, width, `${args[0]}: ${row}`);
    }
    if (args[0] === 'plan') {
      const problemLines = lines.filter((l) => /^critical /.test(l));
      assert.ok(problemLines.some((l) => l.startsWith('critical no-valid-copy: evil list001:')));
      assert.not.ok(
        lines.some((l) => l.startsWith('list001: the archive')),
        'no forged line',
      );
    }
  }
});

test.run();
