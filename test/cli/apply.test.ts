import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  linkSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { makeScratch, missingNeeds, run } from '../helpers/env.js';
import { buildTestPlan } from '../apply/buildTestPlan.js';
import { assertMatchesSchema } from '../helpers/assertSchema.js';
import { cli, repo } from '../helpers/runCli.js';

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
    // Wide enough for the skipped table's reason on one line (COLUMNS: see README).
    const out = cli(['apply', planPath, '--yes'], { env: { COLUMNS: '250' } });
    assert.is(out.code, 2, out.stderr);
    assert.match(out.stdout, /locked: locks\/delta\.lock is held by pid/);
    assert.match(out.stdout, /run the same `restoreplan apply` again/);
    assert.not.ok(existsSync(path.join(root, 'lists/delta/config.pck')));
    assert.match(readFileSync(planPath, 'utf8'), /delta/);
  } finally {
    cleanup();
  }
});

/** The CLI with `input` on stdin (a pipe, as `borg export-tar … - |` gives it). */
function cliPiped(
  args: string[],
  input: Buffer,
): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync(
    process.execPath,
    ['--import', 'tsx', path.join(repo, 'src/cli/bin.ts'), ...args],
    { cwd: repo, encoding: 'utf8', input, maxBuffer: 1 << 26 },
  );
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

async function setupFromPipe(
  dir: string,
): Promise<{ planPath: string; root: string; bytes: Buffer; config: string }> {
  const source = path.join(dir, 'src');
  mkdirSync(path.join(source, 'lists/delta'), { recursive: true });
  writeFileSync(
    path.join(source, 'lists/delta/config.pck'),
    run('python3', ['-c', PICKLE, 'delta']),
  );
  const archive = path.join(dir, 'backup.tar');
  run('tar', ['--format=gnu', '-cf', archive, '-C', source, 'lists']);
  const bytes = readFileSync(archive);
  const root = path.join(dir, 'mailman');
  mkdirSync(path.join(root, 'lists/delta'), { recursive: true });
  const config = path.join(root, 'lists/delta/config.pck');
  writeFileSync(config, Buffer.alloc(40)); // zeroed by the crash: the list is down
  const planPath = path.join(dir, 'plan.json');
  const planned = cliPiped(
    ['plan', '-', '--target', root, '--out', planPath, '--no-progress'],
    bytes,
  );
  assert.is(planned.code, 0, planned.stderr);
  return { planPath, root, bytes, config };
}

test('a plan made from a pipe is applied from the same pipe with --yes; without --yes it says stdin carries the archive', async () => {
  const { dir, cleanup } = makeScratch();
  try {
    const { planPath, bytes, config } = await setupFromPipe(dir);
    const asked = cliPiped(['apply', planPath, '--no-progress'], bytes);
    assert.is(asked.code, 3);
    assert.match(
      asked.stderr,
      /^restoreplan: CONFIRMATION_REQUIRED: apply reads the archive from stdin, so it cannot ask for confirmation there: pass --yes\n/,
    );
    assert.equal(readFileSync(config), Buffer.alloc(40));
    const dry = cliPiped(['apply', planPath, '--dry-run', '--no-progress'], bytes);
    assert.is(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /Dry run: 1 paths would be restored/);
    assert.equal(readFileSync(config), Buffer.alloc(40));
    const done = cliPiped(['apply', planPath, '--yes', '--json', '--no-progress'], bytes);
    assert.is(done.code, 0, done.stderr);
    const result = JSON.parse(done.stdout);
    assertMatchesSchema(result, 'apply', 'apply --yes --json from a pipe');
    assert.is(result.status, 'complete');
    assert.equal(readFileSync(config), readFileSync(path.join(dir, 'src/lists/delta/config.pck')));
  } finally {
    cleanup();
  }
});

test('from a pipe: another stream is PLAN_STALE, a cut one ARCHIVE_TRUNCATED, none NOT_A_TAR; each one line, nothing written', async () => {
  const { dir, cleanup } = makeScratch();
  try {
    const { planPath, bytes, config } = await setupFromPipe(dir);
    const other = Buffer.concat([bytes, Buffer.alloc(10240)]);
    for (const [what, input, code] of [
      ['another stream', other, 'PLAN_STALE'],
      ['a cut stream', bytes.subarray(0, 700), 'ARCHIVE_TRUNCATED'],
      ['an empty stdin', Buffer.alloc(0), 'NOT_A_TAR'],
    ] as const) {
      const r = cliPiped(['apply', planPath, '--yes', '--no-progress'], input);
      assert.is(r.code, 3, what);
      assert.match(r.stderr, new RegExp(`^restoreplan: ${code}: `), what);
      const lines = r.stderr.trim().split('\n');
      assert.is(lines.filter((l) => !l.startsWith('  hint:')).length, 1, `${what}: ${r.stderr}`);
      assert.equal(readFileSync(config), Buffer.alloc(40), what);
      assert.not.ok(existsSync(`${planPath}.journal`), `${what}: no journal`);
    }
  } finally {
    cleanup();
  }
});

test('the archive from stdin, but stdin is a terminal: USAGE naming the pipe and --archive', async () => {
  const why = missingNeeds({ tools: ['script'] });
  if (why) return console.log(`skipped: ${why}`);
  const { dir, cleanup } = makeScratch();
  try {
    const { planPath, config } = await setupFromPipe(dir);
    // script(1) runs the command on a pseudo-terminal: stdin is a TTY, as at a shell prompt.
    const command = `"${process.execPath}" --import tsx src/cli/bin.ts apply "${planPath}" --yes --no-progress`;
    const r = spawnSync('script', ['-qec', command, '/dev/null'], {
      cwd: repo,
      encoding: 'utf8',
      input: '',
    });
    assert.is(r.status, 3, r.stdout);
    assert.match(
      r.stdout,
      /restoreplan: USAGE: apply reads the archive from stdin, which is a terminal: pipe the archive the plan was made from into it, or name a saved copy with --archive FILE/,
    );
    assert.equal(readFileSync(config), Buffer.alloc(40));
  } finally {
    cleanup();
  }
});

test('--archive FILE: a saved copy of the piped stream; a plan made from a file redirected to stdin wants that file, not a pipe', async () => {
  const { dir, cleanup } = makeScratch();
  try {
    const { planPath, bytes, config } = await setupFromPipe(dir);
    const saved = path.join(dir, 'saved.tar');
    writeFileSync(saved, bytes);
    const done = cli(['apply', planPath, '--yes', '--archive', saved, '--no-progress']);
    assert.is(done.code, 0, done.stderr);
    assert.match(done.stdout, /Apply complete: 1 restored/);
    assert.equal(readFileSync(config), readFileSync(path.join(dir, 'src/lists/delta/config.pck')));

    writeFileSync(config, Buffer.alloc(40));
    const redirected = path.join(dir, 'redirected.json');
    const planned = spawnSync(
      'sh',
      [
        '-c',
        `"${process.execPath}" --import tsx src/cli/bin.ts plan - --target "${path.join(dir, 'mailman')}" --out "${redirected}" --no-progress < "${saved}"`,
      ],
      { cwd: repo, encoding: 'utf8' },
    );
    assert.is(planned.status, 0, planned.stderr);
    const piped = cliPiped(['apply', redirected, '--yes', '--no-progress'], bytes);
    assert.is(piped.code, 3);
    assert.match(
      piped.stderr,
      /^restoreplan: USAGE: the plan was made from a file redirected to stdin/,
    );
    assert.equal(readFileSync(config), Buffer.alloc(40));
    const again = spawnSync(
      'sh',
      [
        '-c',
        `"${process.execPath}" --import tsx src/cli/bin.ts apply "${redirected}" --yes --no-progress < "${saved}"`,
      ],
      { cwd: repo, encoding: 'utf8' },
    );
    assert.is(again.status, 0, again.stderr);
    assert.equal(readFileSync(config), readFileSync(path.join(dir, 'src/lists/delta/config.pck')));
  } finally {
    cleanup();
  }
});

test('--dry-run names the roots it would write under; a plan made with --allow-special needs --allow-special beside --yes', () => {
  const { dir, cleanup } = makeScratch();
  try {
    const source = path.join(dir, 'src');
    mkdirSync(source);
    writeFileSync(path.join(source, 'a.txt'), 'alpha\n');
    writeFileSync(path.join(source, 'tool'), '#!/bin/sh\n');
    chmodSync(path.join(source, 'tool'), 0o4755);
    const archive = path.join(dir, 'b.tar');
    run('tar', ['-cf', archive, '-C', source, 'a.txt', 'tool']);
    const target = path.join(dir, 'target');
    mkdirSync(target);
    const planPath = path.join(dir, 'plan.json');
    const planned = cli([
      'plan',
      archive,
      '--target',
      target,
      '--profile',
      'none',
      '--allow-special',
      '--out',
      planPath,
      '--no-progress',
    ]);
    assert.is(planned.code, 0, planned.stderr);
    const dry = cli(['apply', planPath, '--dry-run', '--no-progress']);
    assert.is(dry.code, 0, dry.stderr);
    assert.match(
      dry.stdout,
      new RegExp(`^Writes under: ${target} \\(the target; stage in-place\\)$`, 'm'),
    );
    assert.match(
      dry.stdout,
      /^Made with --allow-special: restores 1 path with setuid\/setgid bits\.$/m,
    );
    const unconfirmed = cli(['apply', planPath, '--yes', '--no-progress']);
    assert.is(unconfirmed.code, 3);
    assert.match(
      unconfirmed.stderr,
      /^restoreplan: CONFIRMATION_REQUIRED: the plan \(made with --allow-special\) restores 1 path with setuid\/setgid bits: confirm them with --allow-special; nothing was written\n {2}hint: /,
    );
    assert.equal(readdirSync(target), []);
    assert.not.ok(existsSync(`${planPath}.journal`));
    const confirmed = cli(['apply', planPath, '--yes', '--allow-special', '--no-progress']);
    assert.is(confirmed.code, 0, confirmed.stderr);
    assert.is(statSync(path.join(target, 'tool')).mode & 0o7777, 0o4755);

    // Made without it, the bit is not restored, and nothing needs confirming.
    const plain = path.join(dir, 'plain');
    mkdirSync(plain);
    const plainPlan = path.join(dir, 'plain.json');
    const made = cli([
      'plan',
      archive,
      '--target',
      plain,
      '--profile',
      'none',
      '--out',
      plainPlan,
      '--no-progress',
    ]);
    assert.is(made.code, 0, made.stderr);
    assert.match(made.stdout, /restored without their setuid\/setgid bits/);
    const done = cli(['apply', plainPlan, '--yes', '--no-progress']);
    assert.is(done.code, 0, done.stderr);
    assert.is(statSync(path.join(plain, 'tool')).mode & 0o7777, 0o755);
  } finally {
    cleanup();
  }
});

test.run();
