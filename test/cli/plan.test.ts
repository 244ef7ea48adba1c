import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { makeScratch, run } from '../helpers/env.js';
import { cli, repo } from '../helpers/runCli.js';

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

test('--out that cannot be written: one WRITE_FAILED line, exit 3, no temp file left', () => {
  const out = path.join(scratch.dir, 'out');
  mkdirSync(out);
  for (const [where, file] of [
    ['a missing directory', path.join(scratch.dir, 'no/such/dir/p.json')],
    ['a directory', out],
  ] as const) {
    const r = cli(['plan', archive, '--target', target, '--out', file, '--no-progress']);
    assert.is(r.code, 3, where);
    assert.match(r.stderr, /^restoreplan: WRITE_FAILED: cannot write the plan to /, where);
    assert.is(
      r.stderr
        .trim()
        .split('\n')
        .filter((l) => !l.startsWith('  hint:')).length,
      1,
    );
    assert.equal(
      readdirSync(scratch.dir).filter((name) => name.includes('.tmp-')),
      [],
      `${where}: the temp file is removed`,
    );
    assert.equal(readdirSync(out), []);
  }
});

test('an infeasible plan written with --out is not offered for apply', () => {
  const out = path.join(scratch.dir, 'infeasible.json');
  const r = cli(['plan', archive, '--target', target, '--out', out, '--reserve-inodes', '100%']);
  assert.is(r.code, 2, r.stderr);
  assert.match(r.stdout, /^NOT feasible/m);
  assert.not.match(r.stdout, /carry it out with/);
  assert.match(r.stdout, new RegExp(`Plan written to ${out}; it does not fit: apply refuses it`));
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
    withOut.stdout,
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
  assert.match(r.stdout, /it was made from a file on stdin: carry it out with that same file/);
});

test.run();
