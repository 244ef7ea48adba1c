/**
 * The writer, over a small tree and a fake member reader: what it writes and in which order
 * (directory metadata last), what it journals, how a failing step is skipped or ends the run —
 * and that it is the only module of a run that calls the write helpers.
 */
import { spawnSync } from 'node:child_process';
import {
  constants,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { classifyStage } from '../../src/apply/classifyStage.js';
import type { RunContext } from '../../src/apply/createRunContext.js';
import {
  executeStage,
  finishDirectories,
  flushBatch,
  openJournalWithFallback,
  removeStaleTemps,
} from '../../src/apply/executeStage.js';
import { defaultFsOps, type FsOps } from '../../src/apply/fsOps.js';
import { StopRun } from '../../src/apply/StopRun.js';
import { sha256Of } from '../../src/apply/verifyOnDisk.js';
import type { PlanStage } from '../../src/types.js';
import { makeScratch } from '../helpers/env.js';
import {
  makeContext,
  makePlan,
  makeReader,
  makeStage,
  makeStep,
  snapshotTree,
} from './makeRunFixture.js';

const srcApply = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/apply');

/** A stage over `root` with member data; a file step's size and sha256 follow its data. */
function stageOf(
  root: string,
  steps: Array<[string, Parameters<typeof makeStep>[1] & object, string?]>,
): { stage: PlanStage; data: Map<string, Buffer> } {
  const data = new Map<string, Buffer>();
  const made = steps.map(([rel, over, content]) => {
    const step = makeStep(path.join(root, rel), { memberPath: rel, ...over });
    if (content !== undefined) {
      data.set(rel, Buffer.from(content));
      step.size = Buffer.byteLength(content);
      step.source = { ...step.source, dataLength: step.size };
      step.sha256 ??= sha256Of(content);
    }
    return step;
  });
  return { stage: makeStage('all', root, made), data };
}

/** Classifies and executes one stage with a journal in `dir`; returns the context and outcome. */
async function runOne(
  dir: string,
  stage: PlanStage,
  data: Map<string, Buffer>,
  over: Partial<Pick<RunContext, 'fsOps'>> & { now?: Date } = {},
): Promise<{
  ctx: RunContext;
  outcome: Awaited<ReturnType<typeof executeStage>> & { predicted: Map<string, number> };
}> {
  const ctx = await makeContext(makePlan(stage.root, [stage]), {
    allowSpecial: true,
    ...(over.fsOps ? { fsOps: over.fsOps } : {}),
    ...(over.now ? { now: over.now } : {}),
  });
  ctx.reader = makeReader(data);
  // The journal is not what these tests fail: it is opened with the real calls.
  ctx.journal = await openJournalWithFallback(path.join(dir, 'j.journal'), defaultFsOps);
  try {
    const work = await classifyStage(ctx, stage, stage.root);
    const predicted = new Map<string, number>();
    const outcome = await executeStage(ctx, stage, work, predicted);
    // The run's directory pass, as applyPlan runs it after the last stage.
    await finishDirectories(ctx);
    await flushBatch(ctx);
    return { ctx, outcome: { ...outcome, predicted } };
  } finally {
    await ctx.journal.close();
  }
}

/** fs ops that log each write (op and path relative to root) and fail `fail` ops with `code`. */
function loggingOps(
  root: string,
  log: string[],
  fail: { op?: keyof FsOps; code?: string } = {},
): FsOps {
  const rel = (p: unknown): string => path.relative(root, String(p));
  const wrap = <K extends keyof FsOps>(op: K): FsOps[K] =>
    (async (...args: unknown[]) => {
      log.push(`${op} ${rel(op === 'rename' || op === 'link' ? args[1] : args[0])}`);
      if (fail.op === op) throw Object.assign(new Error(`${fail.code}: injected`), fail);
      return (defaultFsOps[op] as (...a: unknown[]) => unknown)(...args);
    }) as unknown as FsOps[K];
  return {
    ...defaultFsOps,
    mkdir: wrap('mkdir'),
    rename: wrap('rename'),
    link: wrap('link'),
    chmod: wrap('chmod'),
    utimes: wrap('utimes'),
    open: ((...args: Parameters<FsOps['open']>) => {
      const flags = Number(args[1]);
      // Opens that create (temp files): a write. Read-back opens are not logged.
      if ((flags & constants.O_CREAT) !== 0) {
        log.push(`create ${rel(path.dirname(String(args[0])))}/`);
        if (fail.op === 'open')
          return Promise.reject(Object.assign(new Error(`${fail.code}: injected`), fail));
      }
      return defaultFsOps.open(...args);
    }) as FsOps['open'],
  };
}

test('writes dirs, files, links and fifos; directory metadata last; every step journaled', async () => {
  const { dir, cleanup } = makeScratch();
  try {
    const root = path.join(dir, 'root');
    mkdirSync(root);
    const { stage, data } = stageOf(root, [
      ['ro', { type: 'dir', mode: 0o40555, mtime: 1_000_000_000 }],
      ['ro/inner.txt', { mode: 0o600 }, 'hi\n'],
      ['deep/er/x.txt', {}, 'deep\n'],
      ['h', { type: 'hardlink', linkTarget: path.join(root, 'ro/inner.txt') }],
      ['s', { type: 'symlink', linkTarget: 'ro/inner.txt' }],
      ['f', { type: 'fifo', mode: 0o10640 }],
    ]);
    const log: string[] = [];
    const now = new Date('2030-01-02T03:04:05.000Z');
    const { ctx, outcome } = await runOne(dir, stage, data, {
      fsOps: loggingOps(root, log),
      now,
    });
    assert.ok(outcome.restoredAll);
    assert.equal(ctx.outcome.skipped, []);
    const tree = snapshotTree(root);
    assert.is(tree.get('ro'), 'dir:555');
    assert.is(tree.get('ro/inner.txt'), '600:hi\n');
    assert.match(tree.get('deep') ?? '', /^dir:/, 'a missing parent is made');
    assert.is(tree.get('deep/er/x.txt'), '644:deep\n');
    assert.is(tree.get('s'), 'link:ro/inner.txt');
    assert.is(tree.get('f'), 'other');
    assert.is(lstatSync(path.join(root, 'h')).ino, lstatSync(path.join(root, 'ro/inner.txt')).ino);
    assert.is(lstatSync(path.join(root, 'ro')).mtimeMs, 1_000_000_000_000);
    // The read-only mode comes after the file written into it.
    const at = (entry: string): number => log.indexOf(entry);
    assert.ok(at('mkdir ro') >= 0 && at('mkdir ro') < at('rename ro/inner.txt'), log.join('\n'));
    assert.ok(at('rename ro/inner.txt') < at('chmod ro'), log.join('\n'));
    assert.ok(at('rename h') < at('chmod ro') && at('rename s') < at('chmod ro'), log.join('\n'));
    // What the run reports and journals.
    assert.equal(
      ctx.outcome.restored.map((r) => path.relative(root, r.targetPath)),
      ['ro/inner.txt', 'deep/er/x.txt', 'h', 's', 'f'],
    );
    assert.is(ctx.outcome.restored[2]?.sha256, sha256Of('hi\n'), "a hard link reports its file's");
    assert.is(ctx.progress.done, 6);
    assert.is(ctx.progress.bytes, 3 + 5);
    const journaled = readFileSync(path.join(dir, 'j.journal'), 'utf8').trim().split('\n');
    assert.equal(
      journaled
        .map((line) => path.relative(root, (JSON.parse(line) as { targetPath: string }).targetPath))
        .sort(),
      ['deep/er/x.txt', 'f', 'h', 'ro', 'ro/inner.txt', 's'],
    );
    // The inodes the done tasks took, as the plan priced them (this fixture: 1 a step).
    assert.equal(
      [...outcome.predicted.values()],
      [stage.steps.reduce((n, step) => n + step.cost.inodes, 0)],
    );
  } finally {
    cleanup();
  }
});

test('a member that does not verify is skipped before it costs an inode; the stage goes on', async () => {
  const { dir, cleanup } = makeScratch();
  try {
    const root = path.join(dir, 'root');
    mkdirSync(root);
    const { stage, data } = stageOf(root, [
      ['bad.txt', { sha256: sha256Of('something else') }, 'bad\n'],
      ['good.txt', {}, 'good\n'],
    ]);
    const { ctx, outcome } = await runOne(dir, stage, data);
    assert.not.ok(outcome.restoredAll);
    assert.ok(ctx.outcome.verifyFailed);
    assert.equal(
      ctx.outcome.skipped.map((s) => [path.relative(root, s.targetPath), s.kind]),
      [['bad.txt', 'verify-failed']],
    );
    assert.equal(readdirSync(root), ['good.txt']);
  } finally {
    cleanup();
  }
});

for (const code of ['ENOSPC', 'EACCES', 'EROFS']) {
  test(`a write that fails with ${code} ends the run failed (WRITE_FAILED) and leaves no file or temp file`, async () => {
    const { dir, cleanup } = makeScratch();
    try {
      const root = path.join(dir, 'root');
      mkdirSync(root);
      const { stage, data } = stageOf(root, [['a.txt', {}, 'a\n']]);
      const log: string[] = [];
      let stop: unknown = null;
      let ctx: RunContext | null = null;
      try {
        ({ ctx } = await runOne(dir, stage, data, {
          fsOps: loggingOps(root, log, { op: 'open', code }),
        }));
      } catch (error) {
        stop = error;
      }
      assert.is(ctx, null);
      assert.instance(stop, StopRun);
      assert.is((stop as StopRun).status, 'failed');
      assert.match((stop as StopRun).reason, code);
      assert.match((stop as StopRun).reason, /no partial file remains/);
      const { error } = stop as StopRun;
      assert.equal(
        { code: error?.code, errno: error?.errno, path: error?.path, syscall: error?.syscall },
        { code: 'WRITE_FAILED', errno: code, path: path.join(root, 'a.txt'), syscall: undefined },
      );
      assert.equal(readdirSync(root), []);
    } finally {
      cleanup();
    }
  });
}

test('directory metadata that cannot be applied is reported (metadata not applied), not fatal', async () => {
  const { dir, cleanup } = makeScratch();
  try {
    const root = path.join(dir, 'root');
    mkdirSync(root);
    const { stage, data } = stageOf(root, [
      ['d', { type: 'dir' }],
      ['d/x.txt', {}, 'x'],
    ]);
    const { ctx, outcome } = await runOne(dir, stage, data, {
      fsOps: loggingOps(root, [], { op: 'chmod', code: 'EPERM' }),
    });
    assert.ok(outcome.restoredAll, 'every step was done; only the metadata is missing');
    assert.equal(ctx.outcome.skipped, [
      {
        targetPath: path.join(root, 'd'),
        reason: 'metadata not applied: EPERM: injected',
        kind: 'metadata-not-applied',
      },
    ]);
    assert.ok(existsSync(path.join(root, 'd/x.txt')));
  } finally {
    cleanup();
  }
});

test('a cancelled run stops between steps with ABORTED', async () => {
  const { dir, cleanup } = makeScratch();
  try {
    const root = path.join(dir, 'root');
    mkdirSync(root);
    const { stage, data } = stageOf(root, [['a.txt', {}, 'a']]);
    const controller = new AbortController();
    controller.abort();
    const ctx = await makeContext(makePlan(root, [stage]), { signal: controller.signal });
    ctx.reader = makeReader(data);
    const work = await classifyStage(ctx, stage, root);
    try {
      await executeStage(ctx, stage, work);
      assert.unreachable('not cancelled');
    } catch (error) {
      assert.is((error as { code?: string }).code, 'ABORTED');
    }
    assert.equal(readdirSync(root), []);
  } finally {
    cleanup();
  }
});

test("removeStaleTemps removes a dead apply's temp files, keeps a live one's and everything else", async () => {
  const { dir, cleanup } = makeScratch();
  try {
    const dead = spawnSync('true').pid ?? 0;
    const names = [
      `.config.pck.restoreplan-${dead}-0badcafe.tmp`,
      `.config.pck.restoreplan-${process.ppid}-0badcafe.tmp`,
      `.config.pck.restoreplan-${dead}-nothex00.tmp`,
      'config.pck',
    ];
    for (const name of names) writeFileSync(path.join(dir, name), '');
    await removeStaleTemps(
      { fsOps: defaultFsOps },
      makeStage('all', dir, [makeStep(`${dir}/config.pck`)]),
      dir,
    );
    assert.equal(readdirSync(dir).sort(), names.slice(1).sort());
  } finally {
    cleanup();
  }
});

test('removeStaleTemps never looks outside the stage root (an edited plan: ../, a symlinked dir)', async () => {
  const { dir, cleanup } = makeScratch();
  try {
    const dead = spawnSync('true').pid ?? 0;
    const root = path.join(dir, 'root');
    const outside = path.join(dir, 'outside');
    mkdirSync(root);
    mkdirSync(outside);
    const victim = `.victim.restoreplan-${dead}-0badcafe.tmp`;
    writeFileSync(path.join(outside, victim), 'not ours');
    symlinkSync(outside, path.join(root, 'link'));
    await removeStaleTemps(
      { fsOps: defaultFsOps },
      makeStage('all', root, [
        makeStep(`${root}/../outside/x`),
        makeStep(`${root}/link/x`),
        makeStep(`${outside}/x`),
      ]),
      root,
    );
    assert.equal(readdirSync(outside), [victim]);
  } finally {
    cleanup();
  }
});

test('the journal goes to the temp dir when its own filesystem is full', async () => {
  const { dir, cleanup } = makeScratch();
  const name = `restoreplan-test-${process.pid}.journal`;
  const fallback = path.join(os.tmpdir(), name);
  try {
    const full: FsOps = {
      ...defaultFsOps,
      open: ((...args: Parameters<FsOps['open']>) =>
        String(args[0]).startsWith(dir)
          ? Promise.reject(Object.assign(new Error('ENOSPC: injected'), { code: 'ENOSPC' }))
          : defaultFsOps.open(...args)) as FsOps['open'],
    };
    const journal = await openJournalWithFallback(path.join(dir, name), full);
    await journal.close();
    assert.is(journal.path, fallback);
    const broken: FsOps = {
      ...defaultFsOps,
      open: (() =>
        Promise.reject(
          Object.assign(new Error('EACCES: injected'), { code: 'EACCES' }),
        )) as FsOps['open'],
    };
    try {
      await openJournalWithFallback(path.join(dir, name), broken);
      assert.unreachable('EACCES is not a full disk');
    } catch (error) {
      assert.is((error as { code?: string }).code, 'WRITE_FAILED');
    }
  } finally {
    cleanup();
    if (existsSync(fallback)) spawnSync('rm', ['-f', fallback]);
  }
});

// The write helpers, and the fs calls that write. Only executeStage (and the helpers
// themselves) may use them: deciding, verifying and measuring never write.
const WRITE_HELPERS = [
  'writeFileAtomic',
  'rewriteInPlace',
  'createSymlink',
  'createHardLink',
  'createFifo',
  'syncDirectory',
  'openJournal',
];
const WRITE_CALLS = /fsOps\.(mkdir|rmdir|unlink|rename|link|symlink|chmod|lchown|utimes|lutimes)\(/;
const PHASES = [
  'applyPlan.ts',
  'createRunContext.ts',
  'classifyStage.ts',
  'verifyOnDisk.ts',
  'measureInodes.ts',
  'guardStage.ts',
  'StopRun.ts',
];

test('executeStage is the only phase that calls the write helpers', () => {
  const importsOf = (file: string): string[] => {
    const text = readFileSync(path.join(srcApply, file), 'utf8');
    return [...text.matchAll(/import\s+(?:type\s+)?\{([^}]*)\}\s+from/g)].flatMap((m) =>
      (m[1] ?? '')
        .split(',')
        .map((name) => name.trim())
        .filter((name) => name !== '' && !name.startsWith('type ')),
    );
  };
  for (const file of PHASES) {
    const text = readFileSync(path.join(srcApply, file), 'utf8');
    const writes = importsOf(file).filter((name) => WRITE_HELPERS.includes(name));
    assert.equal(writes, [], `${file} imports write helpers`);
    assert.not.match(text, WRITE_CALLS, `${file} calls a writing fs op`);
  }
  const executor = importsOf('executeStage.ts');
  for (const helper of WRITE_HELPERS) assert.ok(executor.includes(helper), helper);
});

test.run();
