import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  statfsSync,
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
import { assertMatchesSchema } from '../helpers/assertSchema.js';
import { makeScratch, missingNeeds, run } from '../helpers/env.js';
import { withMountedFs } from '../helpers/mountFs.js';
import { buildTestPlan, fingerprintOf } from './buildTestPlan.js';

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

async function planFor(
  archive: string,
  root: string,
  extra: Parameters<typeof buildTestPlan>[2] = {},
): Promise<PlanDocument> {
  // GNU tar stores './x' names; a planner normalizes them to memberPaths.
  const plan = await buildTestPlan(archive, root, {
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
    const plan = await planFor(archive, root);
    const result = await applyPlan(plan, { journalPath: path.join(dir, 'j.journal') });
    assertMatchesSchema(result, 'apply', 'applyPlan() of a tree with links and sparse files');
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
    const plan = await planFor(archive, root);
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
    // A file removed after the run is restored again (the journal alone is not trusted); its
    // hard link lost its target, so it is relinked too.
    rmSync(path.join(root, 'lists/alpha/config.pck.hardlink'));
    rmSync(path.join(root, 'lists/alpha/config.pck'));
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

test('a re-run leaves what the live system changed since the restore: a newer valid config, an edited page', async () => {
  const { dir, cleanup } = makeScratch();
  try {
    const { archive } = makeTree(dir);
    const root = path.join(dir, 'root');
    mkdirSync(root);
    const plan = await planFor(archive, root);
    const journalPath = path.join(dir, 'j.journal');
    assert.is((await applyPlan(plan, { journalPath })).status, 'complete');
    // Mailman saved the list since (a different, valid config, written through both of the
    // member's names); someone edited a page.
    const config = path.join(root, 'lists/alpha/config.pck');
    const newer = run('python3', ['-c', PICKLE, 'alpha-renamed']);
    writeFileSync(config, newer);
    const page = path.join(root, 'archives/private/alpha/2024-May/000003.html');
    writeFileSync(page, 'edited\n');
    const again = await applyPlan(plan, { journalPath });
    assert.is(again.restored.length, 0);
    const reasons = new Map(
      again.skipped.map((s) => [path.relative(root, s.targetPath), s.reason]),
    );
    assert.match(reasons.get('lists/alpha/config.pck.hardlink') ?? '', /^changed-since-restored/);
    assert.match(
      reasons.get('archives/private/alpha/2024-May/000003.html') ?? '',
      /^changed-since-restored/,
    );
    assert.equal(readFileSync(config), Buffer.from(newer));
    assert.is(readFileSync(page, 'utf8'), 'edited\n');
  } finally {
    cleanup();
  }
});

test('a new plan written over the old plan file does not reuse the old journal', async () => {
  const { dir, cleanup } = makeScratch();
  try {
    const { archive } = makeTree(dir);
    const root = path.join(dir, 'root');
    mkdirSync(root);
    const journalPath = path.join(dir, 'j.journal');
    const first = await planFor(archive, root);
    assert.is((await applyPlan(first, { journalPath })).status, 'complete');
    // The same paths, from another backup: a page differs.
    const page = path.join(root, 'archives/private/alpha/2024-May/000003.html');
    writeFileSync(page, 'local\n');
    const second = {
      ...(await planFor(archive, root)),
      createdAt: new Date(Date.now() + 1000).toISOString(),
    };
    const result = await applyPlan(second, { journalPath });
    assert.ok(
      result.restored.some((r) => r.targetPath === page),
      'the new plan restores the page itself instead of trusting the old journal',
    );
    assert.not.ok(result.skipped.some((s) => s.reason === 'already-restored'));
  } finally {
    cleanup();
  }
});

test("temp files a killed apply left are removed before the stage; a live apply's are kept", async () => {
  const { dir, cleanup } = makeScratch();
  try {
    const { archive } = makeTree(dir);
    const root = path.join(dir, 'root');
    mkdirSync(root);
    const plan = await planFor(archive, root);
    const journalPath = path.join(dir, 'j.journal');
    assert.is((await applyPlan(plan, { journalPath })).status, 'complete');
    const listDir = path.join(root, 'lists/alpha');
    const dead = spawnSync('true').pid ?? 0;
    const stale = path.join(listDir, `.config.pck.restoreplan-${dead}-0badcafe.tmp`);
    const live = path.join(listDir, `.config.pck.restoreplan-${process.ppid}-0badcafe.tmp`);
    writeFileSync(stale, 'half');
    writeFileSync(live, 'in use');
    const dry = await applyPlan(plan, { journalPath, dryRun: true });
    assert.is(dry.status, 'nothing-to-do');
    assert.ok(existsSync(stale), 'a dry run removes nothing');
    const rerun = await applyPlan(plan, { journalPath });
    assert.not.ok(existsSync(stale), "the dead process's temp file is gone");
    assert.ok(existsSync(live), "a live process's temp file is kept");
    // Removing it changed the directory: the re-run gave it its mtime again.
    assert.is(rerun.status, 'complete', rerun.reason);
    const listStep = plan.stages[0]?.steps.find((s) => s.targetPath === listDir);
    assert.is(lstatSync(listDir).mtimeMs, (listStep?.mtime ?? 0) * 1000);
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
    const plan = await planFor(archive, root);
    const journalPath = path.join(dir, 'j.journal');
    const result = await applyPlan(plan, { journalPath, dryRun: true });
    assertMatchesSchema(result, 'apply', 'applyPlan() dry run');
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
    const plan = await planFor(archive, root);
    const codeOf = async (p: unknown): Promise<string | undefined> => {
      try {
        await applyPlan(p as PlanDocument, { journalPath: path.join(dir, 'j') });
        return undefined;
      } catch (error) {
        return (error as { code?: string }).code;
      }
    };
    assert.is(await codeOf({ ...plan, feasible: false, strategy: null }), 'PLAN_INFEASIBLE');
    // An infeasible plan with a strategy is an edited one.
    assert.is(await codeOf({ ...plan, feasible: false }), 'PLAN_INVALID');
    assert.is(await codeOf({ ...plan, stages: 'x' }), 'PLAN_INVALID');
    // Same size and mtime, another file (a restored copy of the backup): the fingerprint differs.
    run('cp', ['-p', archive, `${archive}.copy`]);
    run('mv', [`${archive}.copy`, archive]);
    assert.is(await codeOf(plan), 'PLAN_STALE');
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
    const plan = await planFor(archive, root, { select: (m) => m.name === member });
    const step = plan.stages[0]?.steps[0];
    assert.ok(step?.type === 'file');
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
    const result = await applyPlan(await buildTestPlan(archive, root), {
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
      const plan = await planFor(archive, root);
      const journalPath = path.join(dir, 'j.journal');
      const result = await applyPlan(plan, { journalPath, fsOps: faultyOps(code, 900) });
      assertMatchesSchema(result, 'apply', `applyPlan() after ${code}`);
      // A filesystem error the guard did not foresee (ENOSPC included) is WRITE_FAILED.
      assert.is(result.status, 'failed');
      assert.match(result.reason ?? '', code);
      assert.is(result.error?.code, 'WRITE_FAILED');
      assert.is(result.error?.errno, code);
      assert.ok(result.error?.path?.startsWith(root), result.error?.path);
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
      assertMatchesSchema(resumed, 'apply', `applyPlan() resumed after ${code}`);
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

test('directory modes are applied last (a 0555 dir still gets its files); owner when root; freshMtime gets the apply time', async () => {
  const { dir, cleanup } = makeScratch();
  try {
    const archive = path.join(dir, 'm.tar');
    run('python3', [
      '-c',
      `
import io, sys, tarfile
with tarfile.open(sys.argv[1], 'w') as tar:
    d = tarfile.TarInfo('ro'); d.type = tarfile.DIRTYPE; d.mode = 0o555; d.mtime = 1000000000; tar.addfile(d)
    f = tarfile.TarInfo('ro/inner.txt'); f.size = 2; f.mode = 0o600; f.mtime = 1000000000; tar.addfile(f, io.BytesIO(b'hi'))
`,
      archive,
    ]);
    const root = path.join(dir, 'root');
    mkdirSync(root);
    const plan = await buildTestPlan(archive, root, { withSha256: true });
    const fileStep = plan.stages[0]?.steps.find((s) => s.type === 'file');
    assert.ok(fileStep);
    fileStep.freshMtime = true;
    fileStep.owner = { uid: 4321, gid: 8765 };
    const now = new Date('2030-01-02T03:04:05.000Z');
    const result = await applyPlan(plan, { journalPath: path.join(dir, 'j'), now });
    assert.is(result.status, 'complete', result.reason);
    const dirStats = lstatSync(path.join(root, 'ro'));
    assert.is(dirStats.mode & 0o7777, 0o555);
    assert.is(dirStats.mtimeMs, 1_000_000_000_000);
    const fileStats = lstatSync(path.join(root, 'ro/inner.txt'));
    assert.is(fileStats.mode & 0o7777, 0o600);
    assert.is(fileStats.mtimeMs, now.getTime());
    if (process.getuid?.() === 0) {
      assert.is(fileStats.uid, 4321);
      assert.is(fileStats.gid, 8765);
    }
  } finally {
    cleanup();
  }
});

const HOSTILE = `
import io, sys, tarfile
out, outside = sys.argv[1], sys.argv[2]
def add(tar, name, data=b'', **kw):
    info = tarfile.TarInfo(name)
    for k, v in kw.items(): setattr(info, k, v)
    if info.type == tarfile.REGTYPE: info.size = len(data)
    tar.addfile(info, io.BytesIO(data) if info.type == tarfile.REGTYPE else None)
with tarfile.open(out, 'w', format=tarfile.PAX_FORMAT) as tar:
    add(tar, 'ok.txt', b'fine\\n')
    add(tar, '../dotdot.txt', b'escape\\n')
    add(tar, 'a/../../dotdot2.txt', b'escape\\n')
    add(tar, outside + '/absolute.txt', b'escape\\n')
    add(tar, 'planted', type=tarfile.SYMTYPE, linkname=outside)
    add(tar, 'planted/through.txt', b'escape\\n')
    add(tar, 'chain1', type=tarfile.SYMTYPE, linkname='chain2')
    add(tar, 'chain2', type=tarfile.SYMTYPE, linkname='../../../../../../../../' + outside.lstrip('/'))
    add(tar, 'chain1/through.txt', b'escape\\n')
    add(tar, 'hardlink-abs', type=tarfile.LNKTYPE, linkname=outside + '/secret')
    add(tar, 'hardlink-rel', type=tarfile.LNKTYPE, linkname='../outside/secret')
    add(tar, 'hardlink-via-symlink', type=tarfile.LNKTYPE, linkname='planted/secret')
    info = tarfile.TarInfo('innocent.txt'); info.pax_headers = {'path': '../pax-override.txt'}; info.size = 7
    tar.addfile(info, io.BytesIO(b'escape\\n'))
    add(tar, '/'.join(['d'] * 150) + '/deep-ok.txt', b'deep\\n')
    add(tar, '/'.join(['d'] * 2100) + '/too-deep.txt', b'deep\\n')
    add(tar, 'x' * 300, b'long name\\n')
    add(tar, 'fifo', type=tarfile.FIFOTYPE)
    add(tar, 'dev', type=tarfile.CHRTYPE, devmajor=1, devminor=3)
`;

test('hostile archive, naive plan: .., absolute names, links leaving the root, pax path override, special files — the whole plan is PLAN_INVALID, nothing written', async () => {
  const { dir, cleanup } = makeScratch();
  try {
    const outside = path.join(dir, 'outside');
    mkdirSync(outside);
    writeFileSync(path.join(outside, 'secret'), 'root:x:0:0\n');
    const root = path.join(dir, 'root');
    mkdirSync(root);
    const archive = path.join(dir, 'hostile.tar');
    run('python3', ['-c', HOSTILE, archive, outside]);
    const before = snapshot(dir);
    // targetPath = root + '/' + the name as stored: what an edited plan (or a naive planner)
    // hands apply. Each hostile step is an edit of the plan, refused with the plan.
    const plan = await buildTestPlan(archive, root);
    const journalPath = path.join(dir, 'j.journal');
    const error = await applyPlan(plan, { journalPath }).then(
      () => null,
      (e: { code?: string; message: string }) => e,
    );
    assert.is(error?.code, 'PLAN_INVALID', error?.message);
    assert.equal(snapshot(dir), before, 'nothing changed, inside the root or out');
    assert.not.ok(existsSync(journalPath));
    // Each hostile step alone is refused too, for its own field.
    const hostile: Array<[string, RegExp]> = [
      ['../dotdot.txt', /memberPath: not a safe member path/],
      ['a/../../dotdot2.txt', /memberPath: not a safe member path/],
      ['../pax-override.txt', /memberPath: not a safe member path/],
      [`${outside}/absolute.txt`, /memberPath: not a safe member path/],
      ['planted', /linkTarget: link-outside-root/],
      ['chain2', /linkTarget: link-outside-root/],
      ['hardlink-abs', /linkTarget: .* is not inside the stage root/],
      ['hardlink-rel', /linkTarget: has a '\.\.' component/],
      ['fifo', /type: a fifo step in a plan not made with --allow-special/],
      ['dev', /type: a chardev step in a plan not made with --allow-special/],
    ];
    for (const [name, reason] of hostile) {
      const one = await buildTestPlan(archive, root, { select: (m) => m.name === name });
      const refused = await applyPlan(one, { journalPath }).then(
        () => null,
        (e: { code?: string; message: string }) => e,
      );
      assert.is(refused?.code, 'PLAN_INVALID', name);
      assert.match(refused?.message ?? '', reason, name);
    }
    assert.equal(snapshot(dir), before, 'nothing changed, inside the root or out');
  } finally {
    cleanup();
  }
});

test('hostile disk under a valid plan: a planted symlink, a hard link through it, names over NAME_MAX and PATH_MAX are refused step by step, never written outside the root', async () => {
  const { dir, cleanup } = makeScratch();
  try {
    const outside = path.join(dir, 'outside');
    mkdirSync(outside);
    writeFileSync(path.join(outside, 'secret'), 'root:x:0:0\n');
    const root = path.join(dir, 'root');
    mkdirSync(root);
    const archive = path.join(dir, 'hostile.tar');
    run('python3', ['-c', HOSTILE, archive, outside]);
    // The plan is what a planner makes (no link leaving the root, no special file); the disk
    // is what changed since: a symlink planted where the plan writes through a directory.
    const wanted = new Set([
      'ok.txt',
      'planted/through.txt',
      'hardlink-via-symlink',
      'x'.repeat(300),
    ]);
    const plan = await buildTestPlan(archive, root, {
      select: (m) =>
        wanted.has(m.name) || m.name.endsWith('deep-ok.txt') || m.name.endsWith('too-deep.txt'),
    });
    symlinkSync(outside, path.join(root, 'planted'));
    const before = snapshot(dir);
    const result = await applyPlan(plan, { journalPath: path.join(root, '..', 'j.journal') });
    const after = snapshot(dir);
    for (const [rel, value] of after) {
      if (rel === 'root' || rel.startsWith('root/') || rel === 'j.journal') continue;
      assert.is(before.get(rel), value, `${rel} appeared or changed outside the root`);
    }
    assert.is(readFileSync(path.join(outside, 'secret'), 'utf8'), 'root:x:0:0\n');
    assert.equal(readdirSync(outside), ['secret']);
    const reasons = new Map(
      result.skipped.map((s) => [s.targetPath.slice(root.length + 1), s.reason]),
    );
    assert.match(reasons.get('planted/through.txt') ?? '', /unsafe: .*symlink/);
    assert.match(reasons.get('hardlink-via-symlink') ?? '', /unsafe/);
    const tooDeep = [...reasons].find(([rel]) => rel.endsWith('too-deep.txt'));
    assert.match(tooDeep?.[1] ?? '', /name-too-long/);
    assert.match(reasons.get('x'.repeat(300)) ?? '', /name-too-long/);
    assert.is(readFileSync(path.join(root, 'ok.txt'), 'utf8'), 'fine\n');
    assert.is(
      readFileSync(path.join(root, ...Array(150).fill('d'), 'deep-ok.txt'), 'utf8'),
      'deep\n',
    );
    assert.ok(lstatSync(path.join(root, 'planted')).isSymbolicLink());
    assert.equal(leftoverTemps(root), []);
  } finally {
    cleanup();
  }
});

test('symlink then file through it, across stages: the file is refused (symlink-in-path)', async () => {
  const { dir, cleanup } = makeScratch();
  try {
    const outside = path.join(dir, 'outside');
    mkdirSync(outside);
    const root = path.join(dir, 'root');
    mkdirSync(root);
    const archive = path.join(dir, 'h.tar');
    run('python3', [
      '-c',
      `
import io, sys, tarfile
with tarfile.open(sys.argv[1], 'w') as tar:
    i = tarfile.TarInfo('link'); i.type = tarfile.SYMTYPE; i.linkname = 'sub'; tar.addfile(i)
    i = tarfile.TarInfo('link/x.txt'); i.size = 3; tar.addfile(i, io.BytesIO(b'abc'))
`,
      archive,
    ]);
    // A symlink inside the root is allowed; a later stage writing through it is not.
    const plan = await buildTestPlan(archive, root, {
      stageOf: (m) => (m.type === 'symlink' ? 'links' : 'files'),
    });
    const result = await applyPlan(plan, { journalPath: path.join(dir, 'j') });
    assert.is(readlinkSync(path.join(root, 'link')), 'sub');
    assert.match(
      result.skipped.find((s) => s.targetPath.endsWith('link/x.txt'))?.reason ?? '',
      /symlink-in-path/,
    );
    assert.not.ok(existsSync(path.join(root, 'sub')));
  } finally {
    cleanup();
  }
});

for (const [compression, tool] of [
  ['gzip', 'gzip'],
  ['zstd', 'zstd'],
] as const) {
  const why = missingNeeds({ tools: [tool] });
  if (why) {
    test.skip(`a ${compression} archive is read in one pass`);
    console.log(`skipped: ${why}`);
    continue;
  }
  test(`a ${compression} archive is read in one pass of the walker, restoring the same bytes as GNU tar`, async () => {
    const { dir, cleanup } = makeScratch();
    try {
      const { archive } = makeTree(dir);
      const root = path.join(dir, 'root');
      mkdirSync(root);
      // Offsets are positions in the uncompressed tar stream: the same as in the plain file.
      const plan = await planFor(archive, root);
      const compressed = `${archive}.${compression}`;
      run('sh', ['-c', `${tool} -c < '${archive}' > '${compressed}'`]);
      const stats = statSync(compressed);
      plan.archive = {
        ...plan.archive,
        fingerprint: await fingerprintOf(compressed),
        path: compressed,
        sizeBytes: stats.size,
        mtime: stats.mtime.toISOString(),
        compression,
        seekable: false,
      };
      const result = await applyPlan(plan, { journalPath: path.join(dir, 'j') });
      assert.is(result.status, 'complete', result.reason);
      const oracle = path.join(dir, 'oracle');
      mkdirSync(oracle);
      run('tar', ['-xf', archive, '-C', oracle]);
      assert.equal(snapshot(root), snapshot(oracle));
    } finally {
      cleanup();
    }
  });
}

const needsMount = missingNeeds({ root: true, tools: ['mount'] });

/** Fills a filesystem with empty files until `leave` inodes are free; returns their paths. */
function fillInodes(dir: string, leave: number): string[] {
  const made: string[] = [];
  mkdirSync(dir);
  while (statfsSync(dir).ffree > leave) {
    const file = path.join(dir, `f${made.length}`);
    writeFileSync(file, '');
    made.push(file);
  }
  return made;
}

/** Mailman-shaped archive: one list config and its pipermail posts. */
function makeListArchive(scratch: string, posts: number): string {
  const source = path.join(scratch, 'src');
  mkdirSync(path.join(source, 'lists/gamma'), { recursive: true });
  mkdirSync(path.join(source, 'archives/private/gamma/2024-May'), { recursive: true });
  writeFileSync(
    path.join(source, 'lists/gamma/config.pck'),
    run('python3', ['-c', PICKLE, 'gamma']),
  );
  for (let i = 0; i < posts; i += 1) {
    writeFileSync(
      path.join(source, `archives/private/gamma/2024-May/${String(i).padStart(6, '0')}.html`),
      `post ${i}\n`,
    );
  }
  const archive = path.join(scratch, 'list.tar');
  run('tar', ['--format=gnu', '-cf', archive, '-C', source, 'lists', 'archives']);
  return archive;
}

/** Inodes a from-scratch restore of these steps creates: one per non-hard-link member (parents are members here). */
function countNewInodes(plan: PlanDocument, stage: string): number {
  return (
    plan.stages.find((s) => s.name === stage)?.steps.filter((s) => s.type !== 'hardlink').length ??
    0
  );
}

if (needsMount) {
  test.skip('budget guard on a tmpfs with nr_inodes');
  console.log(`skipped: ${needsMount}`);
} else {
  test('budget guard: a staged restore restores the config, stops above the reserve, completes after room is made', async () => {
    const { dir, cleanup } = makeScratch();
    try {
      const archive = makeListArchive(dir, 40);
      await withMountedFs({ type: 'tmpfs', sizeMiB: 8, inodes: 200 }, async (mnt) => {
        const root = path.join(mnt, 'mailman');
        mkdirSync(root);
        const filler = fillInodes(path.join(mnt, 'queue'), 30);
        const reserve = 10;
        const plan = await buildTestPlan(archive, root, {
          withSha256: true,
          mailmanRoot: root,
          stageOf: (m) => (m.name.startsWith('lists') ? 'configs' : 'archives'),
        });
        for (const stage of plan.stages) {
          stage.budget = [
            {
              mountPoint: mnt,
              inodesNeeded: countNewInodes(plan, stage.name),
              inodesPeak: countNewInodes(plan, stage.name),
              blocksPeak: 0,
              inodesFree: 0,
              inodesReserve: reserve,
              blocksNeeded: 0,
              blocksAvailable: 0,
              blocksReserve: 0,
            },
          ];
        }
        const planPath = path.join(dir, 'plan.json');
        writeFileSync(planPath, JSON.stringify(plan));
        const first = await applyPlan(planPath);
        assert.is(first.status, 'stopped');
        assert.match(first.reason ?? '', /archives.*inodes/);
        assert.is(first.journal, `${planPath}.journal`);
        assert.ok(existsSync(path.join(root, 'lists/gamma/config.pck')));
        assert.not.ok(existsSync(path.join(root, 'archives')));
        assert.ok(statfsSync(mnt).ffree >= reserve, 'never below the reserve');
        const configs = countNewInodes(plan, 'configs');
        assert.equal(first.inodes, [{ mountPoint: mnt, predicted: configs, actual: configs }]);
        for (const file of filler.slice(0, 60)) rmSync(file);
        const second = await applyPlan(planPath);
        assert.is(second.status, 'complete', second.reason);
        assert.ok(
          second.skipped.some(
            (s) => s.reason === 'already-restored' && s.targetPath.endsWith('config.pck'),
          ),
        );
        const bulk = countNewInodes(plan, 'archives');
        assert.equal(second.inodes, [{ mountPoint: mnt, predicted: bulk, actual: bulk }]);
        assert.is(readdirSync(path.join(root, 'archives/private/gamma/2024-May')).length, 40);
      });
    } finally {
      cleanup();
    }
  });

  test('a plan whose budget does not name the filesystem apply finds is refused before anything is written (its reserve is unknown)', async () => {
    const { dir, cleanup } = makeScratch();
    try {
      const archive = makeListArchive(dir, 5);
      await withMountedFs({ type: 'tmpfs', sizeMiB: 8, inodes: 100 }, async (mnt) => {
        const root = path.join(mnt, 'mailman');
        mkdirSync(root);
        fillInodes(path.join(mnt, 'queue'), 15);
        const plan = await buildTestPlan(archive, root, { withSha256: true });
        // Edited (or made when the target was on another filesystem): the row names another mount.
        for (const stage of plan.stages)
          stage.budget = stage.budget.map((b) => ({ ...b, mountPoint: '/elsewhere' }));
        try {
          await applyPlan(plan, { journalPath: path.join(dir, 'j') });
          assert.unreachable('applied with no reserve');
        } catch (error) {
          assert.is((error as { code?: string }).code, 'PLAN_STALE');
        }
        assert.equal(readdirSync(root), [], 'nothing written');
        assert.is(statfsSync(mnt).ffree, 15);
      });
    } finally {
      cleanup();
    }
  });

  test('a run that ends early leaves no directory unfinished: the re-run gives them their modes and takes no inode for them', async () => {
    const { dir, cleanup } = makeScratch();
    try {
      const archive = path.join(dir, 'dirs.tar');
      run('python3', [
        '-c',
        `
import io, sys, tarfile
with tarfile.open(sys.argv[1], 'w') as tar:
    for name, mode in (('a', 0o751), ('a/b', 0o555), ('c', 0o2775)):
        d = tarfile.TarInfo(name); d.type = tarfile.DIRTYPE; d.mode = mode; d.mtime = 1000000000
        tar.addfile(d)
    for name in ('a/one.txt', 'a/b/two.txt', 'c/three.txt'):
        f = tarfile.TarInfo(name); f.size = 600; f.mode = 0o640; f.mtime = 1000000000
        tar.addfile(f, io.BytesIO(b'x' * 600))
`,
        archive,
      ]);
      await withMountedFs({ type: 'tmpfs', sizeMiB: 8, inodes: 100 }, async (mnt) => {
        const plan = await buildTestPlan(archive, mnt, { withSha256: true });
        const journalPath = path.join(dir, 'j.journal');
        // The run ends at its second file (a write fails): every directory is made by then.
        const first = await applyPlan(plan, { journalPath, fsOps: faultyOps('EACCES', 900) });
        assert.is(first.status, 'failed');
        const second = await applyPlan(plan, { journalPath });
        assert.is(second.status, 'complete', second.reason);
        for (const [rel, mode] of [
          ['a', 0o751],
          ['a/b', 0o555],
          ['c', 0o2775],
        ] as const) {
          const stats = lstatSync(path.join(mnt, rel));
          assert.is((stats.mode & 0o7777).toString(8), mode.toString(8), `mode of ${rel}`);
          assert.is(stats.mtimeMs, 1_000_000_000_000, `mtime of ${rel}`);
        }
        // The directories were there: the re-run took inodes for the two files it wrote only.
        assert.equal(second.inodes, [{ mountPoint: mnt, predicted: 2, actual: 2 }]);
      });
    } finally {
      cleanup();
    }
  });

  test('zero free inodes: a broken config is still repaired by an in-place rewrite; a replace stops', async () => {
    const { dir, cleanup } = makeScratch();
    try {
      const archive = makeListArchive(dir, 0);
      await withMountedFs({ type: 'tmpfs', sizeMiB: 8, inodes: 100 }, async (mnt) => {
        const root = path.join(mnt, 'mailman');
        const config = path.join(root, 'lists/gamma/config.pck');
        mkdirSync(path.dirname(config), { recursive: true });
        const good = run('python3', ['-c', PICKLE, 'gamma']);
        writeFileSync(config, Buffer.alloc(good.length)); // zeroed by the crash
        const inode = lstatSync(config).ino;
        fillInodes(path.join(mnt, 'queue'), 0);
        assert.is(statfsSync(mnt).ffree, 0);
        const select = (m: { name: string }): boolean => m.name === 'lists/gamma/config.pck';
        const replacePlan = await buildTestPlan(archive, root, {
          withSha256: true,
          select,
          write: () => 'replace',
        });
        const stopped = await applyPlan(replacePlan, { journalPath: path.join(dir, 'r.journal') });
        assert.is(stopped.status, 'stopped');
        assert.match(stopped.reason ?? '', /inodes/);
        const plan = await buildTestPlan(archive, root, {
          withSha256: true,
          select,
          write: () => 'rewrite',
        });
        const secureDir = path.join(dir, 'secure');
        mkdirSync(secureDir);
        const result = await applyPlan(plan, {
          journalPath: path.join(dir, 'j.journal'),
          secureDir,
        });
        assert.is(result.status, 'complete', result.reason);
        assert.ok(result.verified);
        assert.is(readFileSync(config, 'utf8'), good, 'byte-identical to the member');
        assert.is(lstatSync(config).ino, inode, 'same inode: rewritten in place');
        assert.equal(result.inodes, [{ mountPoint: mnt, predicted: 0, actual: 0 }]);
        assert.is(
          readdirSync(secureDir).length,
          1,
          'the verified content was secured on another filesystem first',
        );
      });
    } finally {
      cleanup();
    }
  });

  test('real ENOSPC on a 1 MiB tmpfs (guard fooled): WRITE_FAILED, no partial file; the honest guard stops before writing', async () => {
    const { dir, cleanup } = makeScratch();
    try {
      const source = path.join(dir, 'src');
      mkdirSync(source);
      writeFileSync(path.join(source, 'small.txt'), 'small\n');
      run('dd', ['if=/dev/urandom', `of=${path.join(source, 'big.bin')}`, 'bs=1M', 'count=2']);
      const archive = path.join(dir, 'big.tar');
      run('tar', ['--format=gnu', '-cf', archive, '-C', source, 'small.txt', 'big.bin']);
      await withMountedFs({ type: 'tmpfs', sizeMiB: 1 }, async (mnt) => {
        const plan = await buildTestPlan(archive, mnt, { withSha256: true });
        const lying: FsOps = {
          ...defaultFsOps,
          statfs: (async () => ({
            ...statfsSync(mnt),
            bavail: 1e9,
            bfree: 1e9,
            ffree: 1e9,
          })) as unknown as FsOps['statfs'],
        };
        const journalPath = path.join(dir, 'j.journal');
        const result = await applyPlan(plan, { journalPath, fsOps: lying });
        assert.is(result.status, 'failed');
        assert.match(result.reason ?? '', /ENOSPC/);
        assert.equal(
          { code: result.error?.code, errno: result.error?.errno, path: result.error?.path },
          { code: 'WRITE_FAILED', errno: 'ENOSPC', path: path.join(mnt, 'big.bin') },
        );
        assert.equal(readdirSync(mnt), ['small.txt'], 'no partial big.bin and no temp file');
        assert.match(readFileSync(journalPath, 'utf8'), /small\.txt/);
        const honest = await applyPlan(plan, { journalPath });
        assert.is(honest.status, 'stopped');
        assert.match(honest.reason ?? '', /blocks/);
        assert.ok(honest.skipped.some((s) => s.reason === 'already-restored'));
        assert.equal(readdirSync(mnt), ['small.txt']);
      });
    } finally {
      cleanup();
    }
  });
}

test.run();
