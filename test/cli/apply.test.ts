import {
  existsSync,
  linkSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { makeScratch, run } from '../helpers/env.js';
import { buildTestPlan } from '../apply/buildTestPlan.js';
import { assertMatchesSchema } from '../helpers/assertSchema.js';
import { cli } from '../helpers/runCli.js';

const PICKLE = `
import pickle, sys
sys.stdout.buffer.write(pickle.dumps({'real_name': sys.argv[1]}, protocol=1))
`;

async function setup(dir: string): Promise<{ planPath: string; root: string }> {
  const source = path.join(dir, 'src');
  mkdirSync(path.join(source, 'lists/delta'), { recursive: true });
  writeFileSync(
    path.join(source, 'lists/delta/config.pck'),
    run('python3', ['-c', PICKLE, 'delta']),
  );
  const archive = path.join(dir, 'backup.tar');
  run('tar', ['--format=gnu', '-cf', archive, '-C', source, 'lists']);
  const root = path.join(dir, 'mailman');
  mkdirSync(root);
  const plan = await buildTestPlan(archive, root, { withSha256: true, mailmanRoot: root });
  const planPath = path.join(dir, 'plan.json');
  writeFileSync(planPath, JSON.stringify(plan));
  return { planPath, root };
}

test('without a TTY and without --yes: CONFIRMATION_REQUIRED, exit 3, nothing written', async () => {
  const { dir, cleanup } = makeScratch();
  try {
    const { planPath, root } = await setup(dir);
    const human = cli(['apply', planPath]);
    assert.is(human.code, 3);
    assert.match(human.stderr, /^restoreplan: CONFIRMATION_REQUIRED: /);
    assert.is(human.stdout, '');
    const json = cli(['apply', planPath, '--json']);
    assert.is(json.code, 3);
    const error = JSON.parse(json.stdout);
    assertMatchesSchema(error, 'error', 'apply --json error document');
    assert.is(error.error.code, 'CONFIRMATION_REQUIRED');
    assert.equal(readdirSync(root), []);
  } finally {
    cleanup();
  }
});

test('--dry-run --json prints one document with the steps; --yes restores (exit 0); again: nothing-to-do', async () => {
  const { dir, cleanup } = makeScratch();
  try {
    const { planPath, root } = await setup(dir);
    const dry = cli(['apply', planPath, '--dry-run', '--json']);
    assert.is(dry.code, 0, dry.stderr);
    const preview = JSON.parse(dry.stdout);
    assertMatchesSchema(preview, 'apply', 'apply --dry-run --json');
    assert.is(preview.dryRun, true);
    assert.is(preview.preview.length, 3);
    assert.equal(readdirSync(root), []);
    const done = cli(['apply', planPath, '--yes', '--json']);
    assert.is(done.code, 0, done.stderr);
    const result = JSON.parse(done.stdout);
    assertMatchesSchema(result, 'apply', 'apply --yes --json');
    assert.is(result.status, 'complete');
    assert.is(result.journal, `${planPath}.journal`);
    assert.ok(existsSync(path.join(root, 'lists/delta/config.pck')));
    const again = cli(['apply', planPath, '--yes']);
    assert.is(again.code, 0);
    assert.match(again.stdout, /Apply nothing-to-do/);
    assert.match(again.stdout, /3 already restored/);
  } finally {
    cleanup();
  }
});

test('a list locked by a live process: its steps are skipped, exit 2, and the output says how to resume', async () => {
  const { dir, cleanup } = makeScratch();
  try {
    const { planPath, root } = await setup(dir);
    const locks = path.join(root, 'locks');
    mkdirSync(locks);
    const claim = path.join(locks, `delta.lock.${os.hostname()}.${process.pid}.0`);
    writeFileSync(claim, claim);
    linkSync(claim, path.join(locks, 'delta.lock'));
    const expires = new Date(Date.now() + 3600_000);
    utimesSync(path.join(locks, 'delta.lock'), expires, expires);
    const out = cli(['apply', planPath, '--yes']);
    assert.is(out.code, 2, out.stderr);
    assert.match(out.stdout, /locked: locks\/delta\.lock is held by pid/);
    assert.match(out.stdout, /run the same `restoreplan apply` again/);
    assert.not.ok(existsSync(path.join(root, 'lists/delta/config.pck')));
    assert.match(readFileSync(planPath, 'utf8'), /delta/);
  } finally {
    cleanup();
  }
});

test.run();
