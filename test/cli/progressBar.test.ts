/**
 * The progress line: its percentage is of what can be known in advance (the file's size; for
 * compressed input the compressed bytes read, with the decompressed bytes beside them), it is
 * never cut to nothing by a terminal that reports 0 columns, and it never wraps. Checked as a
 * pure function, then through the built CLI in a real pseudo-terminal (script(1)) on a
 * .tar.gz made by Python's tarfile: the percent moves and reaches 100 %.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import {
  cutToWidth,
  displayWidth,
  writeErrorLine,
  writeNoteLine,
  type Io,
} from '../../src/cli/output.js';
import { createProgressDisplay, formatProgressLine } from '../../src/cli/progressBar.js';
import type { ProgressEvent } from '../../src/progress.js';
import { makeScratch, missingNeeds } from '../helpers/env.js';
import { repo } from '../helpers/runCli.js';

const MiB = 1024 * 1024;

const compressed: ProgressEvent = {
  phase: 'scan',
  bytes: 47 * MiB,
  totalBytes: 120 * MiB,
  inputBytes: 40.8 * MiB,
  compression: 'gzip',
  done: 58_000,
  elapsedMs: 3400,
};

test('compressed input: the percent is of the compressed bytes read, the rate of them too', () => {
  const line = formatProgressLine(compressed, 200);
  assert.match(line, /^reading {2}34% of 120\.0 MiB gz at 12\.0 MiB\/s/);
  assert.match(line, /47\.0 MiB out/);
  assert.match(line, /58,000 members/);
  // The decompressed bytes are never the percent's numerator (47/120 would say 39 %).
  assert.not.match(line, /39%/);
});

test('a terminal reporting 0 (or no) columns is taken as 80, not cut to 20', () => {
  for (const columns of [0, undefined]) {
    const line = formatProgressLine(compressed, columns);
    assert.ok([...line].length > 20, line);
    assert.ok([...line].length <= 79, line);
  }
});

test('80 columns: at most 79 characters; a very narrow terminal: columns - 1', () => {
  const long = { ...compressed, item: `lists/${'x'.repeat(200)}/config.pck` };
  assert.ok([...formatProgressLine(long, 80)].length <= 79);
  assert.is([...formatProgressLine(long, 80)].length, 79);
  assert.is([...formatProgressLine(long, 12)].length, 11);
  assert.is(formatProgressLine(long, 1), '');
});

test('a wide (CJK) item: cut by terminal columns, so the line does not wrap on 80 columns', () => {
  const item = `lists/${'日本語のメーリングリスト'.repeat(8)}/config.pck`;
  const line = formatProgressLine({ phase: 'apply', bytes: 0, done: 3, total: 12, item }, 80);
  assert.ok(displayWidth(line) <= 79, `${displayWidth(line)} columns: ${line}`);
  assert.ok(displayWidth(line) >= 78, line);
  assert.is(cutToWidth('日本', 3), '日');
  assert.is(cutToWidth('日本', 1), '');
});

test('a note or an error line on stderr clears the progress line first (not glued to its end)', () => {
  let text = '';
  const stderr = Object.assign(new PassThrough(), { isTTY: true, columns: 80 });
  stderr.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  const io: Io = { stdout: new PassThrough(), stderr, stdin: new PassThrough() };
  const flags = { json: false, progress: true, debug: false, verbosity: 'normal' } as const;
  const display = createProgressDisplay(io, flags);
  display.onProgress({ phase: 'apply', bytes: 0, done: 3, total: 12 });
  writeNoteLine(io, 'warning: the --syslog audit trail stopped');
  display.onProgress({ phase: 'apply', bytes: 0, done: 4, total: 12 });
  writeErrorLine(io, { code: 'WRITE_FAILED', message: 'cannot write' });
  display.done();
  assert.ok(
    text.includes('steps\r\x1b[2Krestoreplan: warning: the --syslog'),
    JSON.stringify(text),
  );
  assert.ok(
    text.includes('steps\r\x1b[2Krestoreplan: WRITE_FAILED: cannot write\n'),
    JSON.stringify(text),
  );
  // Off a terminal there is no progress line and nothing to clear.
  let plain = '';
  const log = new PassThrough();
  log.on('data', (chunk: Buffer) => (plain += chunk.toString('utf8')));
  const logIo: Io = { stdout: new PassThrough(), stderr: log, stdin: new PassThrough() };
  createProgressDisplay(logIo, flags).onProgress({ phase: 'apply', done: 1, total: 2 });
  writeNoteLine(logIo, 'a note');
  assert.is(plain, 'restoreplan: a note\n');
});

test('no total (stdin): no percent, the bytes read and the members', () => {
  const line = formatProgressLine(
    {
      phase: 'scan',
      bytes: 47 * MiB,
      inputBytes: 20 * MiB,
      compression: 'xz',
      done: 10,
      elapsedMs: 2000,
    },
    120,
  );
  assert.not.match(line, /%/);
  assert.match(
    line,
    /^reading {2}20\.0 MiB xz at 10\.0 MiB\/s {2}· {2}47\.0 MiB out {2}· {2}10 members$/,
  );
  const plain = formatProgressLine({ phase: 'scan', bytes: 3 * MiB, done: 4 }, 120);
  assert.is(plain, 'reading  3.0 MiB  ·  4 members');
});

test('a plain file: the percent is of the bytes; counted work (apply, the index): of the count', () => {
  assert.match(
    formatProgressLine({ phase: 'scan', bytes: MiB, totalBytes: 4 * MiB, done: 2 }, 120),
    /^reading {2}25% of 4\.0 MiB {2}· {2}2 members$/,
  );
  assert.is(
    formatProgressLine({ phase: 'apply', bytes: 0, done: 3, total: 12, item: 'a\nb\x1b[2J' }, 120),
    'applying  0 B  ·  25% 3/12 steps  ·  a b\\x1b[2J',
  );
});

const why = missingNeeds({ tools: ['script', 'python3'] });

test('through the built CLI in a pseudo-terminal: the percent of a .tar.gz moves and reaches 100 %', () => {
  if (why) return console.log(`skipped: ${why}`);
  const scratch = makeScratch('restoreplan-progress-');
  try {
    const archive = path.join(scratch.dir, 'many.tar.gz');
    // Many small members, half of each incompressible: the walk takes long enough (> 1 s)
    // for several 200 ms progress events, and gzip's output outruns its input ~2:1.
    const made = spawnSync(
      'python3',
      [
        '-c',
        `
import io, os, random, tarfile, sys
random.seed(7)
with tarfile.open(sys.argv[1], 'w:gz', compresslevel=1) as tar:
    for i in range(60000):
        n = random.randint(500, 3000)
        data = os.urandom(n // 2) + b'a' * (n - n // 2)
        info = tarfile.TarInfo(f'd{i // 500}/f{i}')
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
`,
        archive,
      ],
      { encoding: 'utf8' },
    );
    assert.is(made.status, 0, made.stderr);
    // script(1) off a terminal gives the child a pty of 0 columns: the case that cut to 20.
    const command = `"${process.execPath}" "${path.join(repo, 'dist/cli/bin.js')}" scan "${archive}" --no-index --json > /dev/null`;
    const run = spawnSync('script', ['-qec', command, '/dev/null'], {
      encoding: 'utf8',
      input: '',
    });
    assert.is(run.status, 0, run.stdout);
    const lines = run.stdout
      .split(/[\r\n]/)
      .map((line) => line.split('\u001b[2K').join(''))
      .filter((line) => line.startsWith('reading'));
    // --json: no progress display at all; so run again without it.
    assert.is(lines.length, 0, 'no progress line with --json');
    const shown = spawnSync(
      'script',
      ['-qec', command.replace(' --json > /dev/null', ' > /dev/null'), '/dev/null'],
      { encoding: 'utf8', input: '' },
    );
    assert.is(shown.status, 0, shown.stdout);
    const drawn = shown.stdout
      .split(/[\r\n]/)
      .map((line) => line.split('\u001b[2K').join(''))
      .filter((line) => line.startsWith('reading'));
    assert.ok(drawn.length >= 3, `several progress lines:\n${drawn.join('\n')}`);
    const percents = drawn.map((line) =>
      Number(/^reading {2}(\d+)% of [\d.]+ MiB gz/.exec(line)?.[1]),
    );
    assert.ok(
      percents.every((p) => Number.isInteger(p)),
      `every line has a percent of the gz:\n${drawn.join('\n')}`,
    );
    for (let i = 1; i < percents.length; i += 1) assert.ok(percents[i]! >= percents[i - 1]!);
    assert.ok(
      percents.some((p) => p > 0 && p < 100),
      `a percent between 0 and 100:\n${drawn.join('\n')}`,
    );
    assert.ok(percents.at(-1)! >= 99, `ends at ~100 %:\n${drawn.join('\n')}`);
    for (const line of drawn) {
      assert.ok([...line].length <= 79, line);
      assert.match(line, / out {2}· /);
    }
  } finally {
    scratch.cleanup();
  }
});

test.run();
