import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { makeScratch, missingNeeds, run } from '../helpers/env.js';
import { withMountedFs } from '../helpers/mountFs.js';
import { cli, repo } from '../helpers/runCli.js';
import { unwrapLines } from '../helpers/unwrapLines.js';

const scratch = makeScratch('restoreplan-cli-plan-');
const archive = path.join(scratch.dir, 'a.tar');
const target = path.join(scratch.dir, 'target');

test.before(() => {
  const tree = path.join(scratch.dir, 'tree');
  mkdirSync(path.join(tree, 'd'), { recursive: true });
  writeFileSync(path.join(tree, 'd/f'), 'data\n');
  run('tar', ['-cf', archive, '-C', tree, 'd']);
  mkdirSync(target);
});
test.after(() => scratch.cleanup());

/** No temp file of the plan writer left in `dir` (`.NAME.restoreplan-PID-RAND.tmp`). */
function assertNoTemp(dir: string, where: string): void {
  assert.equal(
    readdirSync(dir).filter((name) => name.endsWith('.tmp')),
    [],
    `${where}: the temp file is removed`,
  );
}

/** One WRITE_FAILED line naming the errno, and its hint; exit 3; nothing on stdout. */
function assertWriteFailed(
  r: { code: number | null; stdout: string; stderr: string },
  errno: string,
  hint: RegExp,
): void {
  assert.is(r.code, 3, `${errno}: ${r.stderr}`);
  assert.is(r.stdout, '');
  const lines = r.stderr.trimEnd().split('\n');
  assert.is(lines.length, 2, r.stderr);
  assert.match(
    lines[0]!,
    new RegExp(`^restoreplan: WRITE_FAILED: cannot write the plan to .*: ${errno} \\(`),
  );
  assert.match(lines[1]!, hint);
}

test('--out that cannot be written: one WRITE_FAILED line, exit 3, no temp file left', () => {
  const out = path.join(scratch.dir, 'out');
  mkdirSync(out);
  for (const [where, file, errno, hint] of [
    [
      'a missing directory',
      path.join(scratch.dir, 'no/such/dir/p.json'),
      'ENOENT',
      /create the directory first/,
    ],
    ['a directory', out, 'EISDIR', /--out DIR\/plan\.json/],
    [
      'a file as a directory',
      path.join(scratch.dir, 'a.tar', 'p.json'),
      'ENOTDIR',
      /existing, writable directory/,
    ],
  ] as const) {
    const r = cli(['plan', archive, '--target', target, '--out', file, '--no-progress']);
    assertWriteFailed(r, errno, hint);
    assertNoTemp(scratch.dir, where);
    assert.equal(readdirSync(out), []);
  }
});

test('--out on a full, a read-only or a forbidden filesystem: WRITE_FAILED, the old plan file intact', async () => {
  const why = missingNeeds({ root: true });
  if (why) return void console.log(`skipped: ${why}`);
  const old = '{"an earlier plan": true}\n';
  // Full: one page of tmpfs, taken by the earlier plan; the new one does not fit beside it.
  await withMountedFs({ type: 'tmpfs', sizeMiB: 1 }, async (mnt) => {
    run('mount', ['-o', 'remount,size=4k', mnt]);
    const file = path.join(mnt, 'plan.json');
    writeFileSync(file, old);
    const r = cli(['plan', archive, '--target', target, '--out', file, '--no-progress']);
    assertWriteFailed(r, 'ENOSPC', /another filesystem/);
    assert.is(readFileSync(file, 'utf8'), old);
    assertNoTemp(mnt, 'ENOSPC');
  });
  await withMountedFs({ type: 'tmpfs', sizeMiB: 1 }, async (mnt) => {
    const file = path.join(mnt, 'plan.json');
    writeFileSync(file, old);
    run('mount', ['-o', 'remount,ro', mnt]);
    const r = cli(['plan', archive, '--target', target, '--out', file, '--no-progress']);
    assertWriteFailed(r, 'EROFS', /writable filesystem/);
    assert.is(readFileSync(file, 'utf8'), old);
  });
  // Forbidden: the built CLI run as nobody, into a directory only root may write.
  const forbidden = path.join(scratch.dir, 'root-only');
  mkdirSync(forbidden, { mode: 0o755 });
  chmodSync(scratch.dir, 0o755);
  const r = spawnSync(
    process.execPath,
    [
      path.join(repo, 'dist/cli/bin.js'),
      'plan',
      archive,
      '--target',
      target,
      '--out',
      path.join(forbidden, 'p.json'),
      '--no-progress',
    ],
    { cwd: repo, encoding: 'utf8', input: '', uid: 65534, gid: 65534 },
  );
  assertWriteFailed(
    { code: r.status, stdout: r.stdout, stderr: r.stderr },
    'EACCES',
    /directory you may write to/,
  );
  assert.equal(readdirSync(forbidden), []);
});

test('an infeasible plan written with --out is not offered for apply', () => {
  const out = path.join(scratch.dir, 'infeasible.json');
  const r = cli(['plan', archive, '--target', target, '--out', out, '--reserve-inodes', '100%']);
  assert.is(r.code, 2, r.stderr);
  assert.match(r.stdout, /^NOT feasible/m);
  assert.not.match(r.stdout, /carry it out with/);
  assert.match(
    unwrapLines(r.stdout),
    new RegExp(`Plan written to ${out}; it does not fit: apply refuses it`),
  );
});

test('a plan made from stdin says how to apply it: the same archive piped in, or --archive FILE', () => {
  const out = path.join(scratch.dir, 'stdin-plan.json');
  // `zstd -dc backup.tar.zst | restoreplan plan - ...`, as the DECOMPRESSOR_MISSING page suggests.
  const withOut = spawnSync(
    process.execPath,
    ['--import', 'tsx', path.join(repo, 'src/cli/bin.ts'), 'plan', '-', '--target', target].concat([
      '--out',
      out,
      '--no-progress',
    ]),
    { cwd: repo, input: readFileSync(archive), encoding: 'utf8' },
  );
  assert.is(withOut.status, 0, withOut.stderr);
  assert.not.match(withOut.stdout, /cannot be applied/);
  assert.match(
    unwrapLines(withOut.stdout),
    new RegExp(
      `Plan written to ${out}; it was made from stdin: carry it out by piping the same archive into it, … \\| restoreplan apply ${out} --yes, or from a saved copy of that stream: restoreplan apply ${out} --archive FILE`,
    ),
  );
  // Without the archive on stdin (an empty pipe here) apply says what it read, not ENOENT on -.
  const applied = cli(['apply', out, '--yes', '--no-progress']);
  assert.is(applied.code, 3);
  assert.match(applied.stderr, /^restoreplan: NOT_A_TAR: stdin is empty: /);
  assert.equal(readdirSync(target), []);
});

test('--out on a device, a fifo or a link to one: WRITE_FAILED, left as it was; a link to a file is written through', () => {
  const dir = path.join(scratch.dir, 'special-out');
  mkdirSync(dir);
  const fifo = path.join(dir, 'fifo');
  run('mkfifo', [fifo]);
  const cases: [string, string][] = [
    [fifo, 'it is a fifo'],
    [path.join(dir, 'to-fifo'), `${fifo} is a fifo`],
  ];
  symlinkSync(fifo, path.join(dir, 'to-fifo'));
  // A device of our own (a /dev/null): the rename put a regular file in place of /dev/full.
  const device = path.join(dir, 'null');
  if (process.getuid?.() === 0 && spawnSync('mknod', [device, 'c', '1', '3']).status === 0)
    cases.push([device, 'it is a character device']);
  else console.log('skipped: --out on a device needs root (mknod)');
  for (const [out, what] of cases) {
    const before = lstatSync(out);
    const r = cli(['plan', archive, '--target', target, '--out', out, '--no-progress']);
    assert.is(r.code, 3, r.stderr);
    assert.match(r.stderr, `restoreplan: WRITE_FAILED: cannot write the plan to ${out}: ${what}`);
    assert.match(r.stderr, /hint: --out names a regular file/);
    const after = lstatSync(out);
    assert.is(after.ino, before.ino, `${out} is left as it was`);
    assert.is(after.mode, before.mode);
    assertNoTemp(dir, out);
  }

  // A link to a plan file (kept elsewhere): the plan goes to that file and the link stays.
  mkdirSync(path.join(dir, 'plans'));
  writeFileSync(path.join(dir, 'plans', 'today.json'), '{"old":1}\n');
  symlinkSync('plans/today.json', path.join(dir, 'plan.json'));
  const r = cli(['plan', archive, '--target', target, '--out', path.join(dir, 'plan.json')]);
  assert.is(r.code, 0, r.stderr);
  assert.ok(lstatSync(path.join(dir, 'plan.json')).isSymbolicLink(), 'the link stays');
  const written = JSON.parse(readFileSync(path.join(dir, 'plans', 'today.json'), 'utf8')) as {
    schemaVersion: number;
  };
  assert.is(written.schemaVersion, 1);
});

test('--lists that names no list ("$LIST" unset) is USAGE for plan and check, never every list', () => {
  for (const command of ['plan', 'check'])
    for (const value of ['', ' , ,']) {
      const r = cli([command, archive, '--target', target, '--lists', value, '--no-progress']);
      assert.is(r.code, 3, `${command} --lists ${JSON.stringify(value)}: ${r.stdout}`);
      assert.is(r.stdout, '');
      assert.match(r.stderr, /^restoreplan: USAGE: --lists ".*" names no list\n {2}hint: /);
    }
});

test('a plan made from a file redirected to stdin says to give apply that file', () => {
  const out = path.join(scratch.dir, 'redirect-plan.json');
  const r = spawnSync(
    'sh',
    [
      '-c',
      `"${process.execPath}" --import tsx src/cli/bin.ts plan - --target "${target}" --out "${out}" --no-progress < "${archive}"`,
    ],
    { cwd: repo, encoding: 'utf8' },
  );
  assert.is(r.status, 0, r.stderr);
  assert.match(
    unwrapLines(r.stdout),
    /it was made from a file on stdin: carry it out with that same file/,
  );
});

test.run();
