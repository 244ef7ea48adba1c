/**
 * applyPlan: the entry point of the only component of restoreplan that writes. It orchestrates
 * a run's phases, each its own module and a plain function of one run context
 * (createRunContext): per stage, classify decides which steps run and which are skipped and why
 * (classifyStage: no write), measure asks the live budget guard whether the stage still fits
 * (measureInodes, with guardStage's cost model), execute writes (executeStage: the only caller
 * of the write helpers; verifyOnDisk re-reads what it wrote); after the last stage the
 * directory pass gives every directory of the plan its owner, mode and mtime (executeStage's
 * finishDirectories); at the end measure sets the inodes the run predicted against what statfs
 * says it took, and endOfRun judges the status by one rule (SKIP_CATALOG's `run` of each skip).
 * A run holds an exclusive lock on each stage root and on its journal (lockExclusive) from
 * before its first write to its end. A dry run is classify (and the guard's statfs) alone: the
 * plan is data, and previewing it is not a flag threaded through the writer.
 */
import { realpath } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { RestoreplanError } from '../errors.js';
import { readMountInfo } from '../filesystems/readMountInfo.js';
import type { CommonOptions } from '../progress.js';
import {
  SCHEMA_VERSION,
  type ApplyActionEvent,
  type ApplyError,
  type ApplyPreviewResult,
  type ApplyPreviewStep,
  type ApplyResult,
  type ApplyRunResult,
  type ApplyRunStatus,
  type PlanDocument,
  type PlanStage,
} from '../types.js';
import { checkRunTrust } from './checkRunTrust.js';
import { classifyStage } from './classifyStage.js';
import {
  addSkipped,
  createRunContext,
  reportProgress,
  skipOf,
  type RunContext,
  type Task,
} from './createRunContext.js';
import {
  executeStage,
  finishDirectories,
  flushBatch,
  openJournalWithFallback,
  removeStaleTemps,
} from './executeStage.js';
import type { DescribeListLock } from './findLockedLists.js';
import type { FsOps } from './fsOps.js';
import { checkBudget } from './guardStage.js';
import { loadPlan } from './loadPlan.js';
import { lockTargets, releaseAll, type HeldLock } from './lockExclusive.js';
import { openPlannedArchive } from './openPlannedArchive.js';
import {
  addTaskInodes,
  createInodeMeter,
  enforceBudget,
  measureInodes,
  readInodesBefore,
  type InodeMeter,
} from './measureInodes.js';
import { planIdentity, readJournal, recordsOfPlan } from './openJournal.js';
import { describeUndone, incompleteSkips, isSatisfied } from './skipCatalog.js';
import { applyErrorOf, StopRun } from './StopRun.js';
import { sha256Of } from './verifyOnDisk.js';

export interface ApplyOptions extends CommonOptions {
  /** Report what would be done; write nothing (not even the journal). */
  dryRun?: boolean;
  /**
   * Where to read the archive instead of the plan's `archive.path`: a file (the archive moved,
   * or a saved copy of the stream a plan was made from), `-` for stdin, or a readable stream.
   * Default: `archive.path`, where `-` (a plan made from stdin) means stdin. Either way it must
   * be the archive the plan was made from (PLAN_STALE otherwise, before anything is written).
   */
  archive?: string | NodeJS.ReadableStream;
  /** Journal file; default `<plan>.journal`, or a file in the temp dir for a plan object. */
  journalPath?: string;
  /**
   * The operator's confirmation of what a plan made with --allow-special holds: setuid/setgid
   * bits and fifos (device nodes are never created). Without it such a plan is refused
   * (CONFIRMATION_REQUIRED) before anything is written; a dry run only shows them.
   */
  allowSpecial?: boolean;
  /** The apply time, given to `freshMtime` steps (default: now). */
  now?: Date;
  /**
   * Where an in-place rewrite secures the verified content first. Default: the journal's
   * directory when it is on another filesystem than the file; null: memory only.
   */
  secureDir?: string | null;
  /**
   * Told each action of a run as it happens (ApplyActionEvent: started, resumed, restored,
   * skipped, stopped, ended), e.g. for an audit trail; never in a dry run. It must not throw
   * (what it throws is ignored: a run does not end between a write and its journal line).
   */
  onAction?: (event: ApplyActionEvent) => void;
  /** Test seam: the filesystem calls (fault injection). Never set in production. */
  fsOps?: FsOps;
  /** Test seam: why a list's lock is held, or null (default: Mailman 2.1 lock files). */
  describeListLock?: DescribeListLock;
}

/**
 * Carries out a plan (a plan file's path, or the document). With `dryRun` it only previews: the
 * result type says which one a caller holds.
 */
export function applyPlan(
  planOrPath: string | PlanDocument,
  options: ApplyOptions & { dryRun: true },
): Promise<ApplyPreviewResult>;
export function applyPlan(
  planOrPath: string | PlanDocument,
  options?: ApplyOptions & { dryRun?: false },
): Promise<ApplyRunResult>;
export function applyPlan(
  planOrPath: string | PlanDocument,
  options?: ApplyOptions,
): Promise<ApplyResult>;
export async function applyPlan(
  planOrPath: string | PlanDocument,
  options: ApplyOptions = {},
): Promise<ApplyResult> {
  const { plan, planPath } = await loadPlan(planOrPath);
  if (!plan.feasible) {
    throw new RestoreplanError('PLAN_INFEASIBLE', `the plan does not fit: ${plan.reason}`, {
      hint: 'make a new plan (another strategy, --staging, or free inodes first)',
    });
  }
  const journalPath = path.resolve(
    options.journalPath ?? (planPath ? `${planPath}.journal` : defaultJournalPath(plan)),
  );
  // Special files confirmed, the journal trusted (as root); then the archive proves each step.
  await checkRunTrust(plan, journalPath, options);
  const reader = await openPlannedArchive(plan, options);
  let locks: HeldLock[] = [];
  try {
    const startedAt = Date.now();
    const roots = await Promise.all(plan.stages.map((stage) => resolveRoot(stage.root)));
    const ctx = createRunContext(plan, await readMountInfo(), options, startedAt);
    if (options.dryRun) return await previewRun(ctx, roots, journalPath);
    // One apply at a time per target (and, by the journal's lock, per plan): taken once the
    // archive is known to be the plan's and before anything is written; released at the end,
    // or by the kernel when the process dies.
    locks = await lockTargets(roots, ctx.fsOps);
    ctx.reader = reader;
    return await runStages(ctx, roots, journalPath);
  } finally {
    await reader.close().catch(() => {});
    await releaseAll(locks);
  }
}

function defaultJournalPath(plan: PlanDocument): string {
  const id = sha256Of(`${plan.createdAt}\0${plan.archive.fingerprint}\0${plan.target.path}`).slice(
    0,
    16,
  );
  return path.join(os.tmpdir(), `restoreplan-${id}.journal`);
}

async function resolveRoot(root: string): Promise<string> {
  try {
    return await realpath(root);
  } catch (error) {
    throw new RestoreplanError(
      'TARGET_MISSING',
      `the stage root ${root} does not exist: ${(error as Error).message}`,
      {
        targetPath: root,
      },
    );
  }
}

async function runStages(
  ctx: RunContext,
  roots: readonly string[],
  journalPath: string,
): Promise<ApplyRunResult> {
  ctx.journal = await openJournalWithFallback(journalPath, ctx.fsOps);
  ctx.records = recordsOfPlan(ctx.journal.records, planIdentity(ctx.plan));
  const journal = ctx.journal.path;
  const identity = {
    planCreatedAt: ctx.plan.createdAt,
    archiveFingerprint: ctx.plan.archive.fingerprint,
  };
  ctx.emit({
    action: 'started',
    ...identity,
    journal,
    steps: ctx.progress.total,
  });
  if (ctx.records.size > 0) ctx.emit({ action: 'resumed', journal, done: ctx.records.size });
  const meter = createInodeMeter();
  let stop: RunEnd | null = null;
  try {
    for (const [index, stage] of ctx.plan.stages.entries()) {
      // statfs "before" is read lazily per mount, but always before this run writes to it.
      await runStage(ctx, meter, stage, roots[index] ?? stage.root);
    }
    // Every stage was gone through: the directories get their final metadata (and only now a
    // journal line), whatever earlier runs left them at.
    await finishDirectories(ctx);
  } catch (error) {
    if (!(error instanceof StopRun)) {
      await flushBatch(ctx).catch(() => {});
      await closeRun(ctx);
      throw error;
    }
    stop = {
      status: error.status,
      reason: error.reason,
      ...(error.error ? { error: error.error } : {}),
    };
  }
  try {
    await flushBatch(ctx);
  } catch (error) {
    const applyError = applyErrorOf(error, journal, ' (writing the journal)');
    stop ??= { status: 'failed', reason: applyError.message, error: applyError };
  }
  await closeRun(ctx);
  const inodes = await measureInodes(ctx, meter);
  const { verifyFailed, restored, skipped } = ctx.outcome;
  const end = stop ?? endOfRun(ctx.outcome);
  reportProgress(ctx, null, true);
  if (end.status === 'stopped') ctx.emit({ action: 'stopped', reason: end.reason ?? '' });
  ctx.emit({
    action: 'ended',
    ...identity,
    status: end.status,
    restored: restored.length,
    skipped: skipped.length,
    ...(end.reason !== undefined ? { reason: end.reason } : {}),
    ...(end.error !== undefined ? { error: end.error } : {}),
  });
  return {
    schemaVersion: SCHEMA_VERSION,
    status: end.status,
    restored,
    skipped,
    verified: !verifyFailed,
    inodes,
    journal,
    ...(end.reason !== undefined ? { reason: end.reason } : {}),
    ...(end.error !== undefined ? { error: end.error } : {}),
  };
}

interface RunEnd {
  status: ApplyRunStatus;
  reason?: string;
  error?: ApplyError;
}

/**
 * How a run that went through every stage ends — THE rule, by each skip's `run` in
 * SKIP_CATALOG: `failed` when a member did not verify; `stopped` when a list was locked (re-run
 * when it is released); `incomplete` when any step of the plan was left undone (refused as
 * unsafe, a type conflict, a special file, a refused rewrite, directory metadata), naming them;
 * `nothing-to-do` when this run did nothing and every step was done before; else `complete`.
 */
export function endOfRun(outcome: RunContext['outcome']): RunEnd {
  const { verifyFailed, lockStop, done, skipped } = outcome;
  const undone = incompleteSkips(skipped);
  const also = undone.length > 0 ? `; and ${describeUndone(undone)}` : '';
  if (verifyFailed) {
    const bad = skipped.filter((s) => s.kind === 'verify-failed');
    const message = `${bad.length} member${bad.length === 1 ? '' : 's'} did not verify: ${bad
      .slice(0, 5)
      .map((s) => s.targetPath)
      .join(', ')}${bad.length > 5 ? ' ...' : ''} (see skipped)`;
    return {
      status: 'failed',
      reason: `${message}${also}`,
      error: {
        code: 'VERIFY_FAILED',
        message,
        ...(bad[0] ? { path: bad[0].targetPath } : {}),
        hint: 'the archive changed since planning, or the disk returned other bytes: check dmesg, plan again from a verified copy',
      },
    };
  }
  if (lockStop) {
    return {
      status: 'stopped',
      reason: `some lists are locked by a live process: re-run apply when they are released${also}`,
    };
  }
  if (undone.length > 0) {
    return {
      status: 'incomplete',
      reason: `${describeUndone(undone)}; see skipped for why; fix the cause and re-run apply (it resumes), or plan again`,
    };
  }
  // Nothing-to-do only when this run did nothing at all: a run that only made directories did.
  if (done === 0 && skipped.every((s) => isSatisfied(s.kind))) return { status: 'nothing-to-do' };
  return { status: 'complete' };
}

async function runStage(
  ctx: RunContext,
  meter: InodeMeter,
  stage: PlanStage,
  root: string,
): Promise<void> {
  await removeStaleTemps(ctx, stage, root);
  const work = await classifyStage(ctx, stage, root);
  for (const skipped of work.skipped) addSkipped(ctx, skipped);
  ctx.journaledDirs.push(...work.journaledDirs);
  ctx.progress.done += work.skipped.length;
  await readInodesBefore(ctx, meter, work.tasks);
  if (work.tasks.length === 0) return;
  await enforceBudget(ctx, stage, work.tasks, 0);
  await executeStage(ctx, stage, work, meter.predicted);
}

async function closeRun(ctx: Pick<RunContext, 'journal' | 'reader'>): Promise<void> {
  await ctx.journal?.close().catch(() => {});
  await ctx.reader?.close().catch(() => {});
  ctx.journal = null;
  ctx.reader = null;
}

/**
 * A dry run: every stage classified as the run would (journal read, not opened), none written;
 * its status is what the run would end with, judged now: the same rule as a run's, and the
 * budget guard's statfs for each stage with the stages before it counted as written.
 */
async function previewRun(
  ctx: RunContext,
  roots: readonly string[],
  journalPath: string,
): Promise<ApplyPreviewResult> {
  ctx.records = recordsOfPlan(await readJournal(journalPath), planIdentity(ctx.plan));
  const stages: Array<{ stage: PlanStage; tasks: Task[] }> = [];
  for (const [index, stage] of ctx.plan.stages.entries()) {
    const work = await classifyStage(ctx, stage, roots[index] ?? stage.root);
    for (const skipped of work.skipped) addSkipped(ctx, skipped);
    stages.push({ stage, tasks: work.tasks });
  }
  // A hard link is judged when it runs (its file may be written again first): one an earlier
  // run made, to a file no step writes again, is what the run will find already restored.
  const rewritten = new Set(
    stages.flatMap(({ tasks }) =>
      tasks.filter((t) => t.step.type === 'file').map((t) => t.targetPath),
    ),
  );
  const preview: ApplyPreviewStep[] = [];
  const predicted = new Map<string, number>();
  const planned: Task[] = [];
  let wouldStop: string | null = null;
  for (const { stage, tasks } of stages) {
    const todo: Task[] = [];
    for (const task of tasks) {
      if (await isLinkedAlready(ctx, task, rewritten)) {
        addSkipped(ctx, skipOf(task.step.targetPath, ALREADY));
        continue;
      }
      todo.push(task);
      const { step } = task;
      preview.push({
        stage: stage.name,
        memberPath: step.memberPath,
        targetPath: task.targetPath,
        type: step.type,
        write: step.write,
      });
      addTaskInodes(predicted, task);
    }
    if (todo.length > 0 && wouldStop === null) {
      planned.push(...todo);
      const over = await checkBudget(ctx, stage, planned, 0);
      if (over) wouldStop = `stage ${stage.name} does not fit now: ${over.message}`;
    }
  }
  const end = previewEnd(ctx.outcome, preview.length, wouldStop);
  return {
    schemaVersion: SCHEMA_VERSION,
    status: end.status,
    restored: ctx.outcome.restored,
    skipped: ctx.outcome.skipped,
    verified: false,
    inodes: [...predicted].map(([mountPoint, n]) => ({ mountPoint, predicted: n, actual: 0 })),
    journal: journalPath,
    ...(end.reason !== undefined ? { reason: end.reason } : {}),
    dryRun: true,
    preview,
  };
}

const ALREADY = { kind: 'already-restored', reason: 'already-restored' } as const;

/** A journaled hard link that is still that file, and whose file no step writes again. */
async function isLinkedAlready(
  ctx: Pick<RunContext, 'records' | 'fsOps'>,
  task: Task,
  rewritten: ReadonlySet<string>,
): Promise<boolean> {
  const { step } = task;
  if (step.type !== 'hardlink' || !ctx.records.has(task.targetPath)) return false;
  const linkTarget = path.resolve(step.linkTarget);
  if (rewritten.has(linkTarget)) return false;
  const [link, file] = await Promise.all([
    ctx.fsOps.lstat(task.targetPath).catch(() => null),
    ctx.fsOps.lstat(linkTarget).catch(() => null),
  ]);
  return !!link?.isFile() && !!file && link.ino === file.ino && link.dev === file.dev;
}

/** The dry run's status: the run's rule applied to what classify and the guard see now. */
function previewEnd(
  outcome: RunContext['outcome'],
  steps: number,
  wouldStop: string | null,
): { status: ApplyPreviewResult['status']; reason?: string } {
  const undone = incompleteSkips(outcome.skipped);
  const also = undone.length > 0 ? `; it would leave ${describeUndone(undone)}` : '';
  if (outcome.lockStop)
    return {
      status: 'stopped',
      reason: `some lists are locked by a live process: the run would skip them and stop${also}`,
    };
  if (wouldStop) return { status: 'stopped', reason: `the run would stop: ${wouldStop}${also}` };
  if (undone.length > 0)
    return {
      status: 'incomplete',
      reason: `the run would leave ${describeUndone(undone)}; see skipped for why`,
    };
  return steps > 0 ? { status: 'ready' } : { status: 'nothing-to-do' };
}
