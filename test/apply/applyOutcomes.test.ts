/**
 * Acceptance (issue 12): a filesystem that goes read-only mid-run ends the run `failed` with
 * WRITE_FAILED naming the step's path and the errno, and a re-run after the remount completes
 * it exactly; directories written into by a later stage, or by a later run, end with their own
 * mtime, as one uninterrupted run and `tar -xpf` leave them.
 */
import { chownSync, constants, lstatSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { applyPlan } from '../../src/apply/applyPlan.js';
import { defaultFsOps, type FsOps } from '../../src/apply/fsOps.js';
import { assertMatchesSchema } from '../helpers/assertSchema.js';
import { makeScratch, missingNeeds, run } from '../helpers/env.js';
import { withMountedFs } from '../helpers/mountFs.js';
import { buildTestPlan } from './buildTestPlan.js';
import {
  describeTree,
  extractOracle,
  generateTree,
  journalTargets,
  leftoverTemps,
  planWithCli,
  treeDiff,
} from './generatedTree.js';

const OWNER = { uid: 4242, gid: 4343 };
const needsRoot = missingNeeds({ root: true, tools: ['tar', 'flock'] });

if (needsRoot) {
  test.skip('EROFS mid-run: WRITE_FAILED with the path and errno');
  console.log(`skipped: ${needsRoot}`);
} else {
  test('the target goes read-only mid-run: failed, WRITE_FAILED with the path and errno; a re-run after the remount completes it', async () => {
    const { dir, cleanup } = makeScratch();
    try {
      const { archive } = generateTree(dir, {
        seed: 30,
        dirs: 20,
        files: 200,
        symlinks: 20,
        hardlinks: 20,
        owner: OWNER,
      });
      await withMountedFs({ type: 'tmpfs', sizeMiB: 16 }, async (mnt) => {
        const root = path.join(mnt, 'target');
        mkdirSync(root);
        chownSync(root, OWNER.uid, OWNER.gid);
        const planPath = path.join(dir, 'plan.json');
        planWithCli(archive, root, planPath);
        // Deterministic: right before the 50th temp file is created, the filesystem is
        // remounted read-only (no file on it is open for writing then), and the real open
        // meets the real EROFS.
        let creates = 0;
        const remounting: FsOps = {
          ...defaultFsOps,
          open: (async (...args: Parameters<FsOps['open']>) => {
            if ((Number(args[1]) & constants.O_CREAT) !== 0 && ++creates === 50)
              run('mount', ['-o', 'remount,ro', mnt]);
            return defaultFsOps.open(...args);
          }) as FsOps['open'],
        };
        const failed = await applyPlan(planPath, { fsOps: remounting });
        assertMatchesSchema(failed, 'apply', 'applyPlan() after EROFS');
        assert.is(failed.status, 'failed');
        const error = failed.error;
        assert.ok(error, 'a failed run carries its error');
        assert.is(error.code, 'WRITE_FAILED');
        assert.is(error.errno, 'EROFS');
        assert.is(error.syscall, 'open');
        assert.ok(error.path?.startsWith(`${root}/`), error.path);
        assert.not.match(error.path ?? '', /\.restoreplan-\d+-/, 'the step, not its temp name');
        assert.ok(error.message.startsWith(`${error.path ?? ''}: EROFS`), error.message);
        assert.match(error.hint ?? '', /remount,rw/);
        assert.is(failed.reason, error.message);
        assert.equal(
          failed.skipped.filter((s) => s.kind === 'not-restored').map((s) => s.targetPath),
          [error.path],
        );
        // What was done before is journaled; nothing half-written is left.
        assert.ok(journalTargets(`${planPath}.journal`).length >= 40);
        assert.equal(leftoverTemps(root), []);

        run('mount', ['-o', 'remount,rw', mnt]);
        const resumed = await applyPlan(planPath);
        assert.is(resumed.status, 'complete', resumed.reason);
        const oracle = path.join(dir, 'oracle');
        extractOracle(archive, oracle);
        assert.equal(treeDiff(describeTree(root), describeTree(oracle)), []);
      });
    } finally {
      cleanup();
    }
  });
}

const needsTar = missingNeeds({ tools: ['python3', 'flock'] });

if (needsTar) {
  test.skip('directories written into by later stages and runs keep their mtime');
  console.log(`skipped: ${needsTar}`);
} else {
  test('a directory a later stage (or a later run) writes into ends with its own mode and mtime', async () => {
    const { dir, cleanup } = makeScratch();
    try {
      const archive = path.join(dir, 'stages.tar');
      run('python3', [
        '-c',
        `
import io, sys, tarfile
with tarfile.open(sys.argv[1], 'w') as tar:
    for name, mode, mtime in (('a', 0o750, 1000000000), ('a/sub', 0o2775, 1100000000)):
        d = tarfile.TarInfo(name); d.type = tarfile.DIRTYPE; d.mode = mode; d.mtime = mtime
        tar.addfile(d)
    for name in ('a/one.txt', 'a/two.txt', 'a/sub/three.txt'):
        f = tarfile.TarInfo(name); f.size = 3; f.mode = 0o640; f.mtime = 1200000000
        tar.addfile(f, io.BytesIO(b'abc'))
`,
        archive,
      ]);
      const root = path.join(dir, 'root');
      mkdirSync(root);
      // Stage "first" makes a/ and a/one.txt; stage "second" writes a/two.txt into it.
      const plan = await buildTestPlan(archive, root, {
        withSha256: true,
        stageOf: (m) => (m.name === 'a' || m.name === 'a/one.txt' ? 'first' : 'second'),
      });
      const expectDirs = (where: string): void => {
        const a = lstatSync(path.join(root, 'a'));
        assert.is((a.mode & 0o7777).toString(8), '750', `${where}: mode of a`);
        assert.is(a.mtimeMs, 1_000_000_000_000, `${where}: mtime of a`);
        const sub = lstatSync(path.join(root, 'a/sub'));
        assert.is((sub.mode & 0o7777).toString(8), '2775', `${where}: mode of a/sub`);
        assert.is(sub.mtimeMs, 1_100_000_000_000, `${where}: mtime of a/sub`);
      };
      const whole = await applyPlan(plan, { journalPath: path.join(dir, 'whole.journal') });
      assert.is(whole.status, 'complete', whole.reason);
      expectDirs('uninterrupted');

      // The same plan into a fresh root, stopped between the stages (the second does not
      // fit), then resumed.
      run('rm', ['-rf', root]);
      mkdirSync(root);
      const journalPath = path.join(dir, 'resumed.journal');
      const second = plan.stages[1];
      assert.ok(second);
      const budget = second.budget;
      second.budget = budget.map((row) => ({ ...row, inodesReserve: Number.MAX_SAFE_INTEGER }));
      // The dry run says so first (the guard's statfs, the first stage counted as written).
      const preview = await applyPlan(plan, { journalPath, dryRun: true });
      assert.is(preview.status, 'stopped');
      assert.match(preview.reason ?? '', /^the run would stop: stage second does not fit now: /);
      const stopped = await applyPlan(plan, { journalPath });
      assert.is(stopped.status, 'stopped', stopped.reason);
      // The first stage's directory is usable meanwhile, and not yet journaled.
      assert.is((lstatSync(path.join(root, 'a')).mode & 0o7777).toString(8), '750');
      assert.not.ok(journalTargets(journalPath).includes(path.join(root, 'a')));
      second.budget = budget;
      const resumed = await applyPlan(plan, { journalPath });
      assert.is(resumed.status, 'complete', resumed.reason);
      expectDirs('stopped and resumed');
      assert.is(
        journalTargets(journalPath).length,
        plan.stages.reduce((n, s) => n + s.steps.length, 0),
      );
      assert.is((await applyPlan(plan, { journalPath })).status, 'nothing-to-do');
      // And the journal of the uninterrupted run says the same, one line per step.
      assert.equal(
        readFileSync(path.join(dir, 'whole.journal'), 'utf8').trim().split('\n').length,
        journalTargets(journalPath).length,
      );
    } finally {
      cleanup();
    }
  });
}

test.run();
