/**
 * The writer: the only module of a run that calls the write helpers (and so makes the write
 * syscalls), as restic's restorer keeps one component for them. It carries out the tasks
 * classify decided — directories first, then files, then hard links, then symlinks, then fifos
 * — every step re-resolved inside its root right before it is written (earlier steps, or
 * someone else, changed the tree since classify), every file verified before it becomes
 * visible and re-read after, every finished step journaled.
 *
 * Directories are made 0700 (the final mode may forbid writing their files) and finished in two
 * passes. At the end of each stage, and when a run stops inside one, the stage's directories
 * get their owner, mode and mtime (settleDirectories: a run stopped by the guard between stages
 * leaves Mailman's list directories usable, not 0700 and root's; unprivileged, a directory keeps
 * u+rwx until the end so a later stage or run can still write in it). That pass is not
 * journaled: later stages and runs write in those directories, which moves their mtimes. The
 * directory pass (finishDirectories) runs once a run has been through every stage: every
 * directory step this run carried out — made now, or found made by an interrupted earlier run —
 * gets its exact owner, mode and mtime, deepest first, and only then a journal line; a
 * directory an earlier run journaled gets its mtime again if this run changed an entry in it.
 * So however many runs a plan took, the run that completes it leaves every directory as one
 * uninterrupted run (and `tar -xpf`) would.
 */
import type { Stats } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { isRestoreplanError, RestoreplanError } from '../errors.js';
import { isPidAlive } from '../mailman/detectRunning.js';
import type { PlanStage, PlanStep } from '../types.js';
import { refuseStep } from './classifyStage.js';
import {
  addRestored,
  addSkipped,
  reportProgress,
  skipOf,
  type DirRef,
  type RunContext,
  type SkipWhy,
  type StageWork,
  type Task,
} from './createRunContext.js';
import { createFifo } from './createFifo.js';
import { createHardLink } from './createHardLink.js';
import { createSymlink } from './createSymlink.js';
import { errnoCode, type FsOps } from './fsOps.js';
import { enforceBudget, addTaskInodes, GUARD_EVERY } from './measureInodes.js';
import { openJournal, planIdentity, type Journal } from './openJournal.js';
import { openMemberReader, STREAM_BATCH_BYTES, type MemberReader } from './openMemberReader.js';
import { collectChunks } from './readMemberChunks.js';
import { resolveInsideRoot, type ResolvedTarget } from './resolveInsideRoot.js';
import { rewriteInPlace } from './rewriteInPlace.js';
import { applyErrorOf, describeError, StopRun } from './StopRun.js';
import { syncDirectory } from './syncDirectory.js';
import { hashFile, IN_MEMORY_BYTES, sha256Of, verifyMember, verifyOnDisk } from './verifyOnDisk.js';
import { writeFileAtomic } from './writeFileAtomic.js';

/** Journal lines (and the directories of their renames) are fsynced every this many steps. */
export const JOURNAL_BATCH = 64;

/** The temp names writeFileAtomic and createSymlink use (makeTempName). */
const STALE_TEMP = /^\..+\.restoreplan-(\d+)-[0-9a-f]{8}\.tmp$/;

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/** How a stage's execution went. */
export interface StageOutcome {
  /** Every step of the stage was done (none skipped, none failed). */
  restoredAll: boolean;
}

/**
 * The journal normally sits next to the plan; when that filesystem has no inode left for it
 * (the very situation apply repairs), it goes to the temp dir instead of blocking the repair.
 */
export async function openJournalWithFallback(journalPath: string, fsOps: FsOps): Promise<Journal> {
  try {
    return await openJournal(journalPath, fsOps);
  } catch (error) {
    if (isRestoreplanError(error)) throw error; // APPLY_RUNNING: another run holds it
    const code = errnoCode(error);
    if (code !== 'ENOSPC' && code !== 'EDQUOT' && code !== 'EROFS') {
      throw new RestoreplanError(
        'WRITE_FAILED',
        `cannot open the journal ${journalPath}: ${describeError(error)}`,
        { path: journalPath, errno: code },
      );
    }
    const fallback = path.join(os.tmpdir(), path.basename(journalPath));
    return openJournal(fallback, fsOps);
  }
}

/**
 * A killed apply leaves its temp files (`.<name>.restoreplan-<pid>-<hex>.tmp`), each holding
 * an inode on the filesystem that may have none to spare. Those of processes that are gone
 * are removed before the stage is measured and budgeted; a live process's are left alone. The
 * run holds the target's lock (lockExclusive) by then, so no other apply is writing there:
 * what is left is a dead run's (the pid check still guards against a version without locks).
 */
export async function removeStaleTemps(
  ctx: Pick<RunContext, 'fsOps'> & Partial<Pick<RunContext, 'touchedDirs'>>,
  stage: PlanStage,
  root: string,
): Promise<void> {
  const dirs = new Set(stage.steps.map((step) => path.dirname(path.resolve(step.targetPath))));
  for (const dir of dirs) {
    // The plan is untrusted: only a real directory inside the stage root, reached without a
    // symlink, is cleaned (an edited targetPath must not make apply unlink elsewhere).
    if (dir !== root) {
      const inside = await resolveInsideRoot(root, dir, { fsOps: ctx.fsOps }).catch(() => null);
      if (!inside?.existing?.isDirectory()) continue;
    }
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      continue; // not there yet: nothing was left in it
    }
    for (const name of names) {
      const pid = Number(STALE_TEMP.exec(name)?.[1] ?? NaN);
      if (!Number.isInteger(pid) || pid === process.pid || isPidAlive(pid)) continue;
      await ctx.fsOps.unlink(path.join(dir, name)).catch(() => undefined);
      ctx.touchedDirs?.add(dir);
    }
  }
}

/**
 * Runs the tasks of one classified stage that the guard let start, then settles the stage's
 * directories. Returns normally when every task was attempted; throws StopRun when the guard or
 * a failed write ends the run (having settled the directories made so far).
 */
export async function executeStage(
  ctx: RunContext,
  stage: PlanStage,
  work: StageWork,
  /** The plan's inode cost of each done task is added here per mount, as it is done. */
  predicted: Map<string, number> = new Map(),
): Promise<StageOutcome> {
  if (!ctx.reader) ctx.reader = await openMemberReader(ctx.plan.archive);
  const reader = ctx.reader;

  const stageDirs: Task[] = [];
  try {
    const restoredAll = await runTasks(ctx, stage, work, reader, stageDirs, predicted);
    await settleDirectories(ctx, stageDirs);
    await flushBatch(ctx);
    return { restoredAll };
  } catch (error) {
    // Stopped inside the stage (guard, failed write, cancel): what it made is left usable.
    await settleDirectories(ctx, stageDirs).catch(() => {});
    throw error;
  }
}

async function runTasks(
  ctx: RunContext,
  stage: PlanStage,
  work: StageWork,
  reader: MemberReader,
  stageDirs: Task[],
  predicted: Map<string, number>,
): Promise<boolean> {
  const tasks = work.tasks;
  let restoredAll = work.skipped.length === 0;
  let sinceGuard = 0;
  let batchBytes = 0;
  let batchStart = 0;
  for (let i = 0; i < tasks.length; i += 1) {
    const task = tasks[i] as Task;
    if (ctx.options.signal?.aborted) {
      await flushBatch(ctx);
      throw new RestoreplanError('ABORTED', 'cancelled');
    }
    if (sinceGuard >= GUARD_EVERY) {
      sinceGuard = 0;
      await enforceBudget(ctx, stage, tasks, i);
    }
    if (task.step.type === 'file' && !reader.seekable && i >= batchStart) {
      // One pass over the compressed archive for the next batch of files.
      batchBytes = 0;
      let end = i;
      while (
        end < tasks.length &&
        tasks[end]?.step.type === 'file' &&
        (end === i || batchBytes + (tasks[end]?.step.size ?? 0) <= STREAM_BATCH_BYTES)
      ) {
        batchBytes += tasks[end]?.step.size ?? 0;
        end += 1;
      }
      await reader.prepare(
        tasks.slice(i, end).map((t) => t.step),
        ctx.options.signal,
      );
      batchStart = end;
    }
    let outcome: 'done' | 'skipped';
    try {
      outcome = await runTask(ctx, reader, task, stageDirs);
    } catch (error) {
      restoredAll = false;
      await handleTaskError(ctx, task, error);
      outcome = 'skipped';
    } finally {
      if (task.step.type === 'file') reader.release(task.step);
    }
    if (outcome === 'done') {
      addTaskInodes(predicted, task);
      ctx.outcome.done += 1;
    } else restoredAll = false;
    ctx.progress.done += 1;
    sinceGuard += 1;
    reportProgress(ctx, task.step.memberPath);
    if (ctx.journal && ctx.journal.pending() >= JOURNAL_BATCH) await flushBatch(ctx);
  }
  return restoredAll;
}

/** Makes the batch durable: first the directories holding its renames, then the journal. */
export async function flushBatch(
  ctx: Pick<RunContext, 'dirtyDirs' | 'journal' | 'fsOps'>,
): Promise<void> {
  for (const dir of ctx.dirtyDirs) await syncDirectory(dir, ctx.fsOps).catch(() => {});
  ctx.dirtyDirs.clear();
  await ctx.journal?.flush();
}

function skip(
  ctx: Pick<RunContext, 'outcome' | 'emit'>,
  targetPath: string,
  kind: SkipWhy['kind'],
  reason: string,
): void {
  addSkipped(ctx, skipOf(targetPath, { kind, reason }));
}

/**
 * A refused path or a member that does not verify is skipped and the run goes on; any other
 * failure ends the run `failed` once what was done is journaled: a filesystem error (EROFS,
 * EIO, EACCES, and ENOSPC or EDQUOT the budget guard did not foresee) is WRITE_FAILED with the
 * step's path and the errno.
 */
async function handleTaskError(ctx: RunContext, task: Task, error: unknown): Promise<void> {
  const targetPath = task.step.targetPath;
  if (isRestoreplanError(error) && error.code === 'UNSAFE_PATH') {
    skip(ctx, targetPath, 'unsafe', `unsafe: ${String(error.details.reason)}: ${error.message}`);
    return;
  }
  if (isRestoreplanError(error) && error.code === 'VERIFY_FAILED') {
    ctx.outcome.verifyFailed = true;
    skip(ctx, targetPath, 'verify-failed', `verify-failed: ${error.message}`);
    return;
  }
  const code = errnoCode(error);
  skip(ctx, targetPath, 'not-restored', `not restored: ${describeError(error)}`);
  await flushBatch(ctx).catch(() => {});
  let note = '';
  if (task.step.write === 'rewrite' && code !== undefined) {
    note = ` (while rewriting it in place: it may be torn until apply is re-run, which rewrites it from the verified member)`;
  } else if (code !== undefined) {
    note = ' (no partial file remains)';
  }
  const applyError = applyErrorOf(error, targetPath, note);
  throw new StopRun('failed', applyError.message, applyError);
}

async function makeMissingDirs(
  ctx: Pick<RunContext, 'fsOps' | 'knownDirs' | 'dirtyDirs' | 'touchedDirs'>,
  dirs: readonly string[],
): Promise<void> {
  for (const dir of dirs) {
    if (ctx.knownDirs.has(dir)) continue;
    ctx.touchedDirs.add(path.dirname(dir));
    try {
      await ctx.fsOps.mkdir(dir, 0o755);
    } catch (error) {
      if (errnoCode(error) !== 'EEXIST') throw error;
      const stats = await ctx.fsOps.lstat(dir);
      if (!stats.isDirectory()) {
        throw new RestoreplanError('UNSAFE_PATH', `${dir} appeared and is not a directory`, {
          targetPath: dir,
          reason: 'not-a-directory-in-path',
        });
      }
    }
    ctx.knownDirs.add(dir);
    ctx.dirtyDirs.add(path.dirname(dir));
  }
}

function mtimeOf(ctx: Pick<RunContext, 'now'>, step: PlanStep): number {
  return step.freshMtime ? ctx.now.getTime() / 1000 : step.mtime;
}

function record(
  ctx: Pick<RunContext, 'journal' | 'plan'>,
  task: DirRef,
  sha256: string,
  bytes: number,
): void {
  ctx.journal?.append({
    stage: task.stage.name,
    memberPath: task.step.memberPath,
    targetPath: task.targetPath,
    sha256,
    bytes,
    at: new Date().toISOString(),
    plan: planIdentity(ctx.plan),
  });
}

async function runTask(
  ctx: RunContext,
  reader: MemberReader,
  task: Task,
  stageDirs: Task[],
): Promise<'done' | 'skipped'> {
  const { step, root } = task;
  // Re-resolved right before the write: earlier steps (or someone else) changed the tree.
  const resolved = await resolveInsideRoot(root, task.targetPath, {
    fsOps: ctx.fsOps,
    knownDirs: ctx.knownDirs,
  });
  const refusal = refuseStep(ctx, step, root, resolved);
  if (refusal) {
    addSkipped(ctx, skipOf(step.targetPath, refusal));
    return 'skipped';
  }
  await makeMissingDirs(ctx, resolved.missingDirs);
  const targetPath = resolved.targetPath;
  // A step that writes (a new name, a rename, a temp file made and removed on failure) changes
  // its directory's entries: the directory pass gives that directory its mtime again.
  const parent = path.dirname(targetPath);
  if (step.type !== 'dir' && step.type !== 'hardlink') ctx.touchedDirs.add(parent);
  switch (step.type) {
    case 'dir': {
      if (!resolved.existing) {
        // 0o700 until the stage ends: the final mode may forbid writing its files.
        ctx.touchedDirs.add(parent);
        await ctx.fsOps.mkdir(targetPath, 0o700);
        ctx.dirtyDirs.add(path.dirname(targetPath));
      }
      // One found there was made by a run that ended before its directory pass (stopped,
      // failed, killed): it is finished like one made now.
      stageDirs.push(task);
      ctx.dirTasks.push(task);
      ctx.knownDirs.add(targetPath);
      return 'done';
    }
    case 'file':
      await restoreFile(ctx, reader, task, resolved);
      return 'done';
    case 'hardlink': {
      const linkTarget = step.linkTarget ?? '';
      const linked = await createHardLink(root, targetPath, linkTarget, {
        fsOps: ctx.fsOps,
        knownDirs: ctx.knownDirs,
      }).catch((error: unknown) => {
        ctx.touchedDirs.add(parent); // its temp name may have come and gone
        throw error;
      });
      if (linked === 'linked') ctx.touchedDirs.add(parent);
      if (linked === 'already-linked' && ctx.records.has(targetPath)) {
        // Done by an earlier run: this one did nothing (and took no inode).
        skip(ctx, targetPath, 'already-restored', 'already-restored');
        return 'skipped';
      }
      ctx.dirtyDirs.add(path.dirname(targetPath));
      let sha =
        ctx.restoredSha.get(path.resolve(linkTarget)) ??
        ctx.records.get(path.resolve(linkTarget))?.sha256;
      const stats = await ctx.fsOps.lstat(targetPath);
      if (sha === undefined) sha = (await hashFile(targetPath, ctx.fsOps)).sha256;
      record(ctx, task, '', 0);
      addRestored(ctx, task, { targetPath, bytes: stats.size, sha256: sha });
      return 'done';
    }
    case 'symlink': {
      const text = step.linkTarget ?? '';
      await createSymlink(root, targetPath, text, {
        owner: step.owner,
        mtime: mtimeOf(ctx, step),
        fsOps: ctx.fsOps,
      });
      ctx.dirtyDirs.add(path.dirname(targetPath));
      const sha = sha256Of(text);
      record(ctx, task, sha, Buffer.byteLength(text));
      addRestored(ctx, task, { targetPath, bytes: Buffer.byteLength(text), sha256: sha });
      return 'done';
    }
    case 'fifo': {
      await createFifo(targetPath, step.mode, { mtime: mtimeOf(ctx, step), fsOps: ctx.fsOps });
      ctx.dirtyDirs.add(path.dirname(targetPath));
      record(ctx, task, '', 0);
      addRestored(ctx, task, { targetPath, bytes: 0, sha256: sha256Of('') });
      return 'done';
    }
    default:
      skip(ctx, targetPath, 'special', 'special: device nodes are never created by apply');
      return 'skipped';
  }
}

async function restoreFile(
  ctx: RunContext,
  reader: MemberReader,
  task: Task,
  resolved: ResolvedTarget,
): Promise<void> {
  const { step } = task;
  if (step.type !== 'file')
    throw new RestoreplanError('INTERNAL', `${step.memberPath} is not a regular file`);
  const targetPath = resolved.targetPath;
  const meta = { mode: step.mode, owner: step.owner, mtime: mtimeOf(ctx, step) };
  const expect =
    step.sha256 !== undefined ? { size: step.size, sha256: step.sha256 } : { size: step.size };
  const inMemory =
    step.write === 'rewrite' || (!step.source.sparse && step.size <= IN_MEMORY_BYTES);
  let written: { bytes: number; sha256: string };
  if (inMemory) {
    // Read and verify BEFORE anything is created: a bad member never costs an inode.
    const data = await collectChunks(reader.read(step));
    verifyMember(step, targetPath, data);
    if (step.write === 'rewrite') {
      const secureDir = await secureDirFor(ctx, resolved.existing);
      written = await rewriteInPlace(targetPath, data, {
        ...meta,
        expect,
        secureDir,
        fsOps: ctx.fsOps,
      });
    } else {
      written = await writeFileAtomic(targetPath, data, {
        ...meta,
        expect,
        syncDirectory: false,
        fsOps: ctx.fsOps,
      });
    }
  } else {
    written = await writeFileAtomic(targetPath, reader.read(step), {
      ...meta,
      expect,
      syncDirectory: false,
      fsOps: ctx.fsOps,
    });
  }
  ctx.dirtyDirs.add(path.dirname(targetPath));
  await verifyOnDisk(step.memberPath, targetPath, written, ctx.fsOps);
  ctx.progress.bytes += written.bytes;
  ctx.restoredSha.set(targetPath, written.sha256);
  record(ctx, task, written.sha256, written.bytes);
  addRestored(ctx, task, { targetPath, bytes: written.bytes, sha256: written.sha256 });
}

/**
 * Where an in-place rewrite secures the verified content first: the caller's choice, else the
 * journal's directory when it is on another filesystem than the file (a copy on the same full
 * filesystem would need the inode the rewrite exists to avoid), else memory only.
 */
async function secureDirFor(
  ctx: Pick<RunContext, 'options' | 'journal'>,
  existing: Stats | null,
): Promise<string | null> {
  if (ctx.options.secureDir !== undefined) return ctx.options.secureDir;
  if (!ctx.journal) return null;
  const dir = path.dirname(ctx.journal.path);
  const dirStats = await stat(dir).catch(() => null);
  if (!dirStats || !existing || dirStats.dev === existing.dev) return null;
  return dir;
}

function deepestFirst<T extends { targetPath: string }>(dirs: readonly T[]): T[] {
  const depth = (p: string): number => p.split('/').length;
  return [...dirs].sort((a, b) => depth(b.targetPath) - depth(a.targetPath));
}

/** Owner (as root), mode and mtime of a directory step, deepest first (chown before chmod). */
async function applyDirMetadata(
  ctx: Pick<RunContext, 'fsOps' | 'now'>,
  dir: DirRef,
  mode: number,
): Promise<void> {
  const { step, targetPath } = dir;
  if (isRoot && step.owner) await ctx.fsOps.lchown(targetPath, step.owner.uid, step.owner.gid);
  await ctx.fsOps.chmod(targetPath, mode);
  await ctx.fsOps.utimes(targetPath, ctx.now, mtimeOf(ctx, step));
}

/**
 * A stage's directories, usable now (see the top of this file): owner, mode and mtime, not
 * journaled; an unprivileged run keeps u+rwx until the directory pass. Best effort: the
 * directory pass is what reports a directory it cannot finish.
 */
async function settleDirectories(ctx: RunContext, dirs: readonly Task[]): Promise<void> {
  for (const dir of deepestFirst(dirs)) {
    const stats = await ctx.fsOps.lstat(dir.targetPath).catch(() => null);
    if (!stats?.isDirectory()) continue;
    const mode = dir.step.mode & 0o7777;
    await applyDirMetadata(ctx, dir, isRoot ? mode : mode | 0o700).catch(() => {});
  }
}

/** Errors that mean "this filesystem or user may not set that", not "the filesystem failed". */
const METADATA_REFUSED = new Set(['EPERM', 'EACCES', 'EINVAL', 'ENOTSUP', 'EOPNOTSUPP']);

/**
 * The directory pass, once a run has been through every stage (see the top of this file): the
 * directories this run carried out get their exact owner, mode and mtime and are journaled;
 * those earlier runs journaled get their mtime again where this run changed an entry. A
 * directory refused on the way (a symlink put in its path, gone, replaced) is reported, and so
 * is metadata the filesystem refuses (`metadata-not-applied`); a filesystem error ends the run
 * (WRITE_FAILED).
 */
export async function finishDirectories(ctx: RunContext): Promise<void> {
  const repair = ctx.journaledDirs.filter((dir) => ctx.touchedDirs.has(dir.targetPath));
  const work = [
    ...ctx.dirTasks.map((dir) => ({ dir, targetPath: dir.targetPath, journal: true })),
    ...repair.map((dir) => ({ dir, targetPath: dir.targetPath, journal: false })),
  ];
  for (const { dir, targetPath, journal } of deepestFirst(work)) {
    const { step } = dir;
    try {
      // Re-resolved right before the write, as every step is.
      const resolved = await resolveInsideRoot(dir.root, targetPath, { fsOps: ctx.fsOps });
      if (!resolved.existing?.isDirectory()) {
        skip(
          ctx,
          step.targetPath,
          'metadata-not-applied',
          `metadata not applied: ${targetPath} is ${resolved.existing ? 'no longer a directory' : 'gone'}`,
        );
        continue;
      }
      if (journal) {
        await applyDirMetadata(ctx, dir, step.mode & 0o7777);
        record(ctx, dir, '', 0);
      } else {
        await ctx.fsOps.utimes(targetPath, ctx.now, mtimeOf(ctx, step));
        ctx.outcome.done += 1;
      }
    } catch (error) {
      if (isRestoreplanError(error) && error.code === 'UNSAFE_PATH') {
        skip(
          ctx,
          step.targetPath,
          'unsafe',
          `unsafe: ${String(error.details.reason)}: ${error.message}`,
        );
        continue;
      }
      const code = errnoCode(error);
      if (code === undefined || METADATA_REFUSED.has(code)) {
        skip(
          ctx,
          step.targetPath,
          'metadata-not-applied',
          `metadata not applied: ${describeError(error)}`,
        );
        continue;
      }
      skip(ctx, step.targetPath, 'not-restored', `not restored: ${describeError(error)}`);
      const applyError = applyErrorOf(error, step.targetPath, ' (setting its mode and times)');
      throw new StopRun('failed', applyError.message, applyError);
    }
  }
}
