import { createHash } from 'node:crypto';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { applyPlan } from '../../src/apply/applyPlan.js';
import { defaultFsOps, type FsOps } from '../../src/apply/fsOps.js';
import type { PlanDocument } from '../../src/types.js';
import { makeScratch, run } from '../helpers/env.js';
import { buildTestPlan } from './buildTestPlan.js';

const sha = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');

/** Every file under dir (relative path -> sha256 / 'dir' / 'link:<text>'), for before/after comparisons. */
function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (current: string): void => {
    for (const name of readdirSync(current)) {
      const full = path.join(current, name);
      const rel = path.relative(dir, full);
      const stats = lstatSync(full);
      if (stats.isSymbolicLink()) out.set(rel, `link:${readlinkSync(full)}`);
      else if (stats.isDirectory()) {
        out.set(rel, 'dir');
        walk(full);
      } else out.set(rel, `${stats.mode.toString(8)}:${sha(readFileSync(full))}`);
    }
  };
  walk(dir);
  return out;
}

function leftoverTemps(dir: string): string[] {
  return [...snapshot(dir).keys()].filter((p) => p.includes('.restoreplan-'));
}

const PICKLE = `
import pickle, sys
sys.stdout.buffer.write(pickle.dumps({'real_name': sys.argv[1], 'members': {'a@example.org': 0}}, protocol=1))
`;

/** A small tree made on disk and archived by GNU tar: dirs, files, a sparse file, links, a Mailman config. */
function makeTree(scratch: string): { archive: string; source: string } {
  const source = path.join(scratch, 'src');
  mkdirSync(path.join(source, 'lists/alpha'), { recursive: true });
  mkdirSync(path.join(source, 'archives/private/alpha/2024-May'), { recursive: true });
  writeFileSync(
    path.join(source, 'lists/alpha/config.pck'),
    run('python3', ['-c', PICKLE, 'alpha']),
    { mode: 0o660 },
  );
  for (let i = 0; i < 20; i += 1) {
    writeFileSync(
      path.join(source, `archives/private/alpha/2024-May/${String(i).padStart(6, '0')}.html`),
      `<p>post ${i}</p>\n`.repeat(i + 1),
    );
  }
  writeFileSync(path.join(source, 'archives/private/alpha/readonly.txt'), 'read only\n', {
    mode: 0o444,
  });
  mkdirSync(path.join(source, 'archives/public'), { recursive: true });
  symlinkSync('../private/alpha', path.join(source, 'archives/public/alpha'));
  run('truncate', ['-s', '3M', path.join(source, 'sparse.img')]);
  run(
    'dd',
    [
      'if=/dev/urandom',
      `of=${path.join(source, 'sparse.img')}`,
      'bs=4096',
      'count=3',
      'seek=100',
      'conv=notrunc',
    ],
    {},
  );
  run('ln', [
    path.join(source, 'lists/alpha/config.pck'),
    path.join(source, 'lists/alpha/config.pck.hardlink'),
  ]);
  const archive = path.join(scratch, 'backup.tar');
  run('tar', ['--format=gnu', '--sparse', '-cf', archive, '-C', source, '.']);
  return { archive, source };
}

function planFor(
  archive: string,
  root: string,
  extra: Parameters<typeof buildTestPlan>[2] = {},
): PlanDocument {
  // GNU tar stores './x' names; a planner normalizes them to memberPaths.
  const plan = buildTestPlan(archive, root, {
    withSha256: true,
    select: (m) => m.name !== '.',
    ...extra,
  });
  for (const stage of plan.stages) {
    for (const step of stage.steps) {
      step.memberPath = step.memberPath.replace(/^\.\//, '');
      step.targetPath = path.join(root, step.memberPath);
      if (step.type === 'hardlink' && step.linkTarget)
        step.linkTarget = path.join(
          root,
          path.relative(root, step.linkTarget).replace(/^\.\//, ''),
        );
    }
  }
  return plan;
}

test('restores a tree exactly as GNU tar extracts it (contents, modes, mtimes, links, sparse)', async () => {
  const { dir, cleanup } = makeScratch();
  try {
    const { archive } = makeTree(dir);
    const oracle = path.join(dir, 'oracle');
    mkdirSync(oracle);
    run('tar', ['-xf', archive, '-C', oracle]);
    const root = path.join(dir, 'root');
    mkdirSync(root);
    const plan = planFor(archive, root);
    const result = await applyPlan(plan, { journalPath: path.join(dir, 'j.journal') });
    assert.is(result.status, 'complete', JSON.stringify(result.skipped));
    assert.ok(result.verified);
    assert.equal(result.skipped, []);
    const want = snapshot(oracle);
    const got = snapshot(root);
    assert.equal([...got.keys()].sort(), [...want.keys()].sort());
    for (const [rel, value] of want) assert.is(got.get(rel), value, rel);
    for (const rel of want.keys()) {
      const a = lstatSync(path.join(oracle, rel));
      const b = lstatSync(path.join(root, rel));
      if (!a.isSymbolicLink())
        assert.is(Math.floor(b.mtimeMs / 1000), Math.floor(a.mtimeMs / 1000), `mtime ${rel}`);
    }
    const hl = lstatSync(path.join(root, 'lists/alpha/config.pck.hardlink'));
    assert.is(
      hl.ino,
      lstatSync(path.join(root, 'lists/alpha/config.pck')).ino,
      'hard link shares the inode',
    );
    // The sparse file stays sparse: it holds its 12 KiB of data, not 3 MiB.
    assert.ok(statSync(path.join(root, 'sparse.img')).blocks * 512 < 1024 * 1024);
    const journal = readFileSync(path.join(dir, 'j.journal'), 'utf8').trim().split('\n');
    assert.is(journal.length, plan.stages[0]?.steps.length);
  } finally {
    cleanup();
  }
});

test('re-running a finished plan is idempotent: everything is already-restored, nothing is rewritten', async () => {
  const { dir, cleanup } = makeScratch();
  try {
    const { archive } = makeTree(dir);
    const root = path.join(dir, 'root');
    mkdirSync(root);
    const plan = planFor(archive, root);
    const journalPath = path.join(dir, 'j.journal');
    await applyPlan(plan, { journalPath });
    const inode = lstatSync(path.join(root, 'lists/alpha/config.pck')).ino;
    const again = await applyPlan(plan, { journalPath });
    assert.is(again.status, 'nothing-to-do');
    assert.is(again.restored.length, 0);
    assert.ok(again.skipped.every((s) => s.reason === 'already-restored'));
    assert.is(
      lstatSync(path.join(root, 'lists/alpha/config.pck')).ino,
      inode,
      'not replaced again',
    );
    // A file changed after the run is restored again (the journal alone is not trusted); its
    // hard link shared the changed inode, so it is relinked too.
    writeFileSync(path.join(root, 'lists/alpha/config.pck'), 'broken');
    const third = await applyPlan(plan, { journalPath });
    assert.is(third.status, 'complete');
    assert.equal(third.restored.map((r) => path.relative(root, r.targetPath)).sort(), [
      'lists/alpha/config.pck',
      'lists/alpha/config.pck.hardlink',
    ]);
    assert.is(readFileSync(path.join(root, 'lists/alpha/config.pck'), 'latin1').slice(0, 1), '}');
  } finally {
    cleanup();
  }
});

test('dry-run writes nothing, not even the journal, and lists the steps', async () => {
  const { dir, cleanup } = makeScratch();
  try {
    const { archive } = makeTree(dir);
    const root = path.join(dir, 'root');
    mkdirSync(root);
    const plan = planFor(archive, root);
    const journalPath = path.join(dir, 'j.journal');
    const result = await applyPlan(plan, { journalPath, dryRun: true });
    assert.is(result.dryRun, true);
    assert.is(result.preview?.length, plan.stages[0]?.steps.length);
    assert.equal(readdirSync(root), []);
    assert.not.ok(existsSync(journalPath));
  } finally {
    cleanup();
  }
});

test('PLAN_STALE when the archive changed; PLAN_INFEASIBLE; PLAN_INVALID', async () => {
  const { dir, cleanup } = makeScratch();
  try {
    const { archive } = makeTree(dir);
    const root = path.join(dir, 'root');
    mkdirSync(root);
    const plan = planFor(archive, root);
    const codeOf = async (p: unknown): Promise<string | undefined> => {
      try {
        await applyPlan(p as PlanDocument, { journalPath: path.join(dir, 'j') });
        return undefined;
      } catch (error) {
        return (error as { code?: string }).code;
      }
    };
    assert.is(await codeOf({ ...plan, feasible: false }), 'PLAN_INFEASIBLE');
    assert.is(await codeOf({ ...plan, stages: 'x' }), 'PLAN_INVALID');
    writeFileSync(archive, Buffer.alloc(512), { flag: 'a' });
    assert.is(await codeOf(plan), 'PLAN_STALE');
    assert.equal(readdirSync(root), []);
  } finally {
    cleanup();
  }
});

test('a member whose data does not match the planned sha256 is refused before any inode is used', async () => {
  const { dir, cleanup } = makeScratch();
  try {
    const { archive } = makeTree(dir);
    const root = path.join(dir, 'root');
    mkdirSync(root);
    const member = './archives/private/alpha/readonly.txt';
    const plan = planFor(archive, root, { select: (m) => m.name === member });
    const step = plan.stages[0]?.steps[0];
    assert.ok(step);
    step.sha256 = sha('something else');
    const result = await applyPlan(plan, { journalPath: path.join(dir, 'j') });
    assert.is(result.status, 'failed');
    assert.is(result.verified, false);
    assert.match(result.skipped[0]?.reason ?? '', /verify-failed/);
    assert.not.ok(existsSync(step.targetPath));
    assert.equal(leftoverTemps(root), []);
  } finally {
    cleanup();
  }
});

test('a config that is not a loadable pickle is refused (Mailman would not load it)', async () => {
  const { dir, cleanup } = makeScratch();
  try {
    const source = path.join(dir, 'src/lists/beta');
    mkdirSync(source, { recursive: true });
    writeFileSync(
      path.join(source, 'config.pck'),
      run('python3', ['-c', PICKLE, 'beta']).slice(0, 20),
    );
    const archive = path.join(dir, 'b.tar');
    run('tar', [
      '--format=gnu',
      '-cf',
      archive,
      '-C',
      path.join(dir, 'src'),
      'lists/beta/config.pck',
    ]);
    const root = path.join(dir, 'root');
    mkdirSync(root);
    const result = await applyPlan(buildTestPlan(archive, root), {
      journalPath: path.join(dir, 'j'),
    });
    assert.is(result.status, 'failed');
    assert.match(result.skipped[0]?.reason ?? '', /not a loadable dict pickle/);
    assert.not.ok(existsSync(path.join(root, 'lists/beta/config.pck')));
  } finally {
    cleanup();
  }
});

/** Wraps fs ops so that file writes fail with `code` once `afterBytes` bytes were written in all. */
function faultyOps(code: string, afterBytes: number): FsOps {
  let written = 0;
  return {
    ...defaultFsOps,
    open: (async (...args: Parameters<typeof defaultFsOps.open>) => {
      const handle = await defaultFsOps.open(...args);
      const write = handle.write.bind(handle) as (
        ...a: unknown[]
      ) => Promise<{ bytesWritten: number }>;
      (handle as unknown as { write: unknown }).write = async (...a: unknown[]) => {
        const data = a[0];
        const length = Buffer.isBuffer(data)
          ? typeof a[2] === 'number'
            ? a[2]
            : data.length
          : String(data).length;
        if (Buffer.isBuffer(data) && written + length > afterBytes) {
          throw Object.assign(new Error(`${code}: injected`), { code });
        }
        written += length;
        return write(...a);
      };
      return handle;
    }) as FsOps['open'],
  };
}

for (const code of ['ENOSPC', 'EACCES']) {
  test(`fault injection: ${code} mid-run leaves no partial or temp file and a journal that resumes`, async () => {
    const { dir, cleanup } = makeScratch();
    try {
      const { archive } = makeTree(dir);
      const root = path.join(dir, 'root');
      mkdirSync(root);
      const plan = planFor(archive, root);
      const journalPath = path.join(dir, 'j.journal');
      const result = await applyPlan(plan, { journalPath, fsOps: faultyOps(code, 900) });
      assert.is(result.status, code === 'ENOSPC' ? 'stopped' : 'failed');
      assert.match(result.reason ?? '', code);
      assert.equal(leftoverTemps(root), []);
      // Every file present is complete: it matches the member it came from.
      const restored = new Map(result.restored.map((r) => [r.targetPath, r.sha256]));
      for (const [rel, value] of snapshot(root)) {
        if (value === 'dir' || value.startsWith('link:')) continue;
        const full = path.join(root, rel);
        assert.ok(restored.has(full), `${rel} exists but was not reported restored`);
        assert.is(value.split(':')[1], restored.get(full));
      }
      const resumed = await applyPlan(plan, { journalPath });
      assert.is(resumed.status, 'complete', resumed.reason);
      const oracle = path.join(dir, 'oracle');
      mkdirSync(oracle);
      run('tar', ['-xf', archive, '-C', oracle]);
      assert.equal(snapshot(root), snapshot(oracle));
      assert.ok(resumed.skipped.some((s) => s.reason === 'already-restored'));
    } finally {
      cleanup();
    }
  });
}

test.run();
