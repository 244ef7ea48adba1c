import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { makeScratch, run } from '../helpers/env.js';
import { cli } from '../helpers/runCli.js';

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

test.run();
