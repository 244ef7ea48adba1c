/**
 * Issue 10's disagreements that need no real filesystem, each a regression test that failed on
 * 0.1.0: check and plan must select and price the same members.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import type { IncidentSandbox } from '../../samples/buildIncidentSandbox.js';
import { RestoreplanError } from '../../src/errors.js';
import { checkBudget } from '../../src/plan/checkBudget.js';
import { planRestore } from '../../src/plan/planRestore.js';
import { sumStepCosts } from '../../src/plan/sumStepCosts.js';
import type { PlanDocument } from '../../src/types.js';
import { makeScratch, missingNeeds, run } from '../helpers/env.js';
import { buildBackup } from '../helpers/liveMailman.js';
import { cli } from '../helpers/runCli.js';

const why = missingNeeds({ tools: ['tar', 'python3'] });
const scratch = makeScratch('restoreplan-one-truth-');
let sandbox: IncidentSandbox;

test.before(async () => {
  if (why) return;
  sandbox = await buildBackup(path.join(scratch.dir, 'sandbox'));
});
test.after(() => scratch.cleanup());

function skip(): boolean {
  if (why) console.log(`skipped: ${why}`);
  return why !== null;
}

const allSteps = (doc: PlanDocument) => doc.stages.flatMap((s) => s.steps);
const planInodes = (doc: PlanDocument): number =>
  [...sumStepCosts(allSteps(doc).map((s) => s.cost)).values()].reduce((n, d) => n + d.inodes, 0);

async function expectCode(promise: Promise<unknown>, code: string): Promise<RestoreplanError> {
  try {
    await promise;
  } catch (error) {
    assert.instance(error, RestoreplanError);
    assert.is((error as RestoreplanError).code, code);
    return error as RestoreplanError;
  }
  assert.unreachable(`expected ${code}`);
  throw new Error('unreachable');
}

test('check on a Mailman var dir finds the archive var dir as plan does (no nested extraction)', async () => {
  if (skip()) return;
  // 0.1.0: check counted the whole archive nested under the var dir (500 inodes of 501
  // members) for a repair plan does with none.
  const check = await checkBudget(sandbox.backup, { target: sandbox.live });
  const plan = await planRestore(sandbox.backup, { target: sandbox.live });
  assert.is(check.filesystems[0]?.inodes.needed, planInodes(plan));
  assert.is(check.selection.entries, allSteps(plan).length);
  assert.ok(check.selection.entries <= 3, `only the broken configs: ${check.selection.entries}`);
});

test('a hard link selected without its target: check and plan both restore nothing and say so', async () => {
  if (skip()) return;
  const tree = path.join(scratch.dir, 'links');
  mkdirSync(path.join(tree, 'data'), { recursive: true });
  writeFileSync(path.join(tree, 'data', 'a'), 'shared\n');
  run('ln', [path.join(tree, 'data', 'a'), path.join(tree, 'data', 'b')]);
  const archive = path.join(scratch.dir, 'links.tar');
  // Named in order: data/a is stored as the file, data/b as the link to it.
  run('tar', ['-cf', archive, '-C', tree, '--no-recursion', 'data', 'data/a', 'data/b']);
  const target = path.join(scratch.dir, 'links-target');
  mkdirSync(target);
  const options = { target, profile: 'none' as const, include: ['data/b'] };
  const check = await checkBudget(archive, options);
  const plan = await planRestore(archive, options);
  assert.is(check.filesystems[0]?.inodes.needed, 0);
  assert.is(planInodes(plan), 0);
  assert.is(allSteps(plan).length, 0);
  for (const doc of [check, plan]) {
    const problem = doc.problems.find((p) => p.kind === 'hardlink-unresolved');
    assert.ok(problem, 'the link is named');
    assert.match(problem.message, /not restored/);
  }
  // With its target selected too, both link it: one inode, for the file.
  const both = { ...options, include: ['data/a', 'data/b'] };
  const check2 = await checkBudget(archive, both);
  const plan2 = await planRestore(archive, both);
  assert.is(check2.filesystems[0]?.inodes.needed, planInodes(plan2));
  assert.equal(
    allSteps(plan2).map((s) => s.type),
    ['file', 'hardlink'],
  );
});

test('a symlink whose text leaves the target: check and plan report it once, and neither restores it', async () => {
  if (skip()) return;
  const tree = path.join(scratch.dir, 'escape');
  mkdirSync(path.join(tree, 'p'), { recursive: true });
  writeFileSync(path.join(tree, 'p', 'f'), 'x\n');
  run('ln', ['-s', '/etc/passwd', path.join(tree, 'p', 'abs')]);
  run('ln', ['-s', '../../outside', path.join(tree, 'p', 'up')]);
  const archive = path.join(scratch.dir, 'escape.tar');
  run('tar', ['-cf', archive, '-C', tree, 'p']);
  const target = path.join(scratch.dir, 'escape-target');
  mkdirSync(target);
  const check = await checkBudget(archive, { target });
  const plan = await planRestore(archive, { target });
  const unsafe = (doc: { problems: Array<{ kind: string; message: string }> }): string[] =>
    doc.problems
      .filter((p) => p.kind === 'unsafe-member')
      .map((p) => p.message)
      .sort();
  assert.is(unsafe(check).length, 2);
  assert.equal(unsafe(plan), unsafe(check));
  assert.equal(
    allSteps(plan).map((s) => path.relative(target, s.targetPath)),
    ['p', 'p/f'],
  );
  assert.is(check.filesystems[0]?.inodes.needed, planInodes(plan));
});

const SUPERSEDED = `
import io, sys, tarfile
def add(tar, name, kind=tarfile.REGTYPE, data=b'', link=''):
    info = tarfile.TarInfo(name); info.type = kind; info.mtime = 1000000000; info.linkname = link
    info.mode = 0o755 if kind == tarfile.DIRTYPE else 0o644
    info.size = len(data) if kind == tarfile.REGTYPE else 0
    tar.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE else None)
with tarfile.open(sys.argv[1], 'w', format=tarfile.GNU_FORMAT) as tar:
    add(tar, 'f', data=b'a file first')
    add(tar, 'f', tarfile.DIRTYPE)
    add(tar, 'f/x', data=b'then a directory')
    add(tar, 'x', data=b'a file first')
    add(tar, 'x', tarfile.SYMTYPE, link='y')
`;

test('an occurrence the last one supersedes is retracted whole: its inode when a directory follows, its type conflict', async () => {
  if (skip()) return;
  const archive = path.join(scratch.dir, 'superseded.tar');
  run('python3', ['-c', SUPERSEDED, archive]);
  const target = path.join(scratch.dir, 'superseded-target');
  mkdirSync(target);
  // A symlink is on disk at x: the file first stored there would conflict, the symlink that
  // supersedes it replaces it.
  run('ln', ['-s', 'old', path.join(target, 'x')]);
  const check = await checkBudget(archive, { target });
  const plan = await planRestore(archive, { target });
  assert.equal(
    allSteps(plan).map((s) => [path.relative(target, s.targetPath), s.type, s.write]),
    [
      ['f', 'dir', 'create'],
      ['f/x', 'file', 'create'],
      ['x', 'symlink', 'replace'],
    ],
  );
  assert.is(check.filesystems[0]?.inodes.needed, planInodes(plan));
  assert.equal(
    check.problems.filter((p) => p.kind === 'type-conflict'),
    [],
    'the superseded file at x conflicts with nothing that is restored',
  );
  assert.is(check.verdict, 'ok');
});

test('a selection flag the profile does not use is a USAGE error for check and plan, never silently ignored', async () => {
  if (skip()) return;
  const target = path.join(scratch.dir, 'flags-target');
  mkdirSync(target, { recursive: true });
  for (const run of [checkBudget, planRestore]) {
    // The var dir as DIR picks the Mailman profile: --exclude '*' would otherwise still restore.
    const globs = await expectCode(
      run(sandbox.backup, { target: sandbox.live, exclude: ['*'] }),
      'USAGE',
    );
    assert.match(globs.message, /--exclude/);
    assert.match(String(globs.details.hint), /--profile none/);
    // Without a profile --lists, --with-archives select nothing: the whole archive would be.
    const lists = await expectCode(
      run(sandbox.backup, { target, lists: ['announce'], withArchives: true }),
      'USAGE',
    );
    assert.match(lists.message, /--lists, --with-archives/);
    // --lists names every list: --include-degraded beside it would select nothing.
    const both = await expectCode(
      run(sandbox.backup, { target: sandbox.live, lists: ['announce'], includeDegraded: true }),
      'USAGE',
    );
    assert.match(both.message, /--include-degraded is not used with --lists/);
  }
});

test('a --lists name that is a list neither on disk nor in the archive is SELECTION_EMPTY for check and plan', async () => {
  if (skip()) return;
  // 0.1.0 and since: check CRITICAL (no-valid-copy) and plan "feasible, nothing to restore".
  for (const run of [checkBudget, planRestore]) {
    const error = await expectCode(
      run(sandbox.backup, { target: sandbox.live, lists: ['announce', 'bored'] }),
      'SELECTION_EMPTY',
    );
    assert.match(error.message, /bored/);
    assert.not.match(error.message, /announce/);
    assert.match(String(error.details.hint), /board/);
  }
});

test('a mistyped --member-root is SELECTION_EMPTY for check and plan, naming the real roots', async () => {
  if (skip()) return;
  const target = path.join(scratch.dir, 'typo-target');
  mkdirSync(target);
  for (const run of [checkBudget, planRestore]) {
    const error = await expectCode(
      run(sandbox.backup, { target, profile: 'none', memberRoot: 'var/lib/mailmen' }),
      'SELECTION_EMPTY',
    );
    assert.match(String(error.details.hint), /var\/lib\/mailman/);
  }
  // The Mailman profile with a --member-root where the archive holds no var dir.
  await expectCode(
    checkBudget(sandbox.backup, { target: sandbox.live, memberRoot: 'var/lib/mailmen' }),
    'MAILMAN_NOT_FOUND',
  );
});

test('an archive with absolute member names (tar -P): plan finds the configs and restores the corrupt list', async () => {
  if (skip()) return;
  // 0.1.0: scan saw the var dir, but every member was "unsafe" (absolute), so plan found no copy
  // of any config, exited 0 and apply restored nothing.
  const tree = path.join(scratch.dir, 'abs-tree');
  mkdirSync(tree);
  run('tar', ['-xf', sandbox.backup, '-C', tree]);
  const archive = path.join(scratch.dir, 'absolute.tar');
  run('tar', ['-P', '-cf', archive, path.join(tree, 'var/lib/mailman')]);
  const live = path.join(scratch.dir, 'abs-live');
  run('cp', ['-a', sandbox.live, live]);
  const plan = await planRestore(archive, { target: live });
  assert.is(plan.feasible, true, plan.reason);
  const restored = plan.lists.filter((l) => l.action === 'restore').map((l) => l.name);
  assert.equal(restored, sandbox.expected.corrupt);
  assert.ok(allSteps(plan).some((s) => s.targetPath.endsWith('/config.pck')));
});

test('CLI: a selection of nothing is UNKNOWN (exit 3) in --nagios, never OK', () => {
  if (skip()) return;
  const target = path.join(scratch.dir, 'typo-cli');
  mkdirSync(target);
  const r = cli([
    'check',
    sandbox.backup,
    '--target',
    target,
    '--profile',
    'none',
    '--member-root',
    'var/lib/mailmen',
    '--nagios',
  ]);
  assert.is(r.code, 3, r.stdout + r.stderr);
  assert.match(r.stdout, /^RESTOREPLAN UNKNOWN - SELECTION_EMPTY: /);
  const p = cli([
    'plan',
    sandbox.backup,
    '--target',
    target,
    '--profile',
    'none',
    '--member-root',
    'var/lib/mailmen',
  ]);
  assert.is(p.code, 3);
  assert.match(
    p.stderr,
    /^restoreplan: SELECTION_EMPTY: .*\n {2}hint: the archive holds var\/lib\/mailman/,
  );
});

test.run();
