/**
 * applyPlan: the entry point of the only component of restoreplan that writes. It orchestrates
 * a run's phases, each its own module and a plain function of one run context
 * (createRunContext): per stage, classify decides which steps run and which are skipped and why
 * (classifyStage: no write), measure asks the live budget guard whether the stage still fits
 * (measureInodes, with guardStage's cost model), execute writes (executeStage: the only caller
 * of the write helpers; verifyOnDisk re-reads what it wrote); at the end measure sets the
 * inodes the run predicted against what statfs says it took. A dry run is classify alone: the
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
  type ApplyPreviewResult,
  type ApplyPreviewStep,
  type ApplyResult,
  type ApplyRunResult,
  type ApplyStatus,
  type PlanDocument,
  type PlanStage,
} from '../types.js';
import { checkRunTrust } from './checkRunTrust.js';
import { classifyStage } from './classifyStage.js';
import { createRunContext, reportProgress, type RunContext } from './createRunContext.js';
import {
  executeStage,
  flushBatch,
  openJournalWithFallback,
  removeStaleTemps,
} from './executeStage.js';
import type { DescribeListLock } from './findLockedLists.js';
import type { FsOps } from './fsOps.js';
import { loadPlan } from './loadPlan.js';
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
import { describeError, StopRun } from './StopRun.js';
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
  try {
    const startedAt = Date.now();
    const roots = await Promise.all(plan.stages.map((stage) => resolveRoot(stage.root)));
    const ctx = createRunContext(plan, await readMountInfo(), options, startedAt);
    if (options.dryRun) return await previewRun(ctx, roots, journalPath);
    ctx.reader = reader;
    return await runStages(ctx, roots, journalPath);
  } finally {
    await reader.close().catch(() => {});
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
  const meter = createInodeMeter();
  let stop: { status: ApplyStatus; reason: string } | null = null;
  try {
    for (const [index, stage] of ctx.plan.stages.entries()) {
      // statfs "before" is read lazily per mount, but always before this run writes to it.
      await runStage(ctx, meter, stage, roots[index] ?? stage.root);
    }
  } catch (error) {
    if (!(error instanceof StopRun)) {
      await flushBatch(ctx).catch(() => {});
      await closeRun(ctx);
      throw error;
    }
    stop = { status: error.status, reason: error.reason };
  }
  try {
    await flushBatch(ctx);
  } catch (error) {
    stop ??= { status: 'failed', reason: `journal: ${describeError(error)}` };
  }
  await closeRun(ctx);
  const inodes = await measureInodes(ctx, meter);
  const { verifyFailed, restored, skipped } = ctx.outcome;
  const end = stop ?? finishStatus(ctx.outcome);
  reportProgress(ctx, null, true);
  return {
    schemaVersion: SCHEMA_VERSION,
    status: end?.status ?? 'complete',
    restored,
    skipped,
    verified: !verifyFailed,
    inodes,
    journal,
    ...(end?.reason !== undefined ? { reason: end.reason } : {}),
  };
}

/**
 * How a run that went through every stage ends: `failed` when a member did not verify,
 * `stopped` when a list was locked (re-run when it is released), `nothing-to-do` when an
 * earlier run had restored everything, else complete (null).
 */
function finishStatus(
  outcome: RunContext['outcome'],
): { status: ApplyStatus; reason?: string } | null {
  const { verifyFailed, lockStop, done, skipped } = outcome;
  if (verifyFailed) return { status: 'failed', reason: 'some members did not verify: see skipped' };
  if (lockStop) {
    return {
      status: 'stopped',
      reason: 'some lists are locked by a live process: re-run apply when they are released',
    };
  }
  // Nothing-to-do only when this run did nothing at all: a run that only made directories did.
  if (done === 0 && skipped.every((s) => s.kind === 'already-restored'))
    return { status: 'nothing-to-do' };
  return null;
}

async function runStage(
  ctx: RunContext,
  meter: InodeMeter,
  stage: PlanStage,
  root: string,
): Promise<void> {
  await removeStaleTemps(ctx, stage, root);
  const work = await classifyStage(ctx, stage, root);
  for (const skipped of work.skipped) ctx.outcome.skipped.push(skipped);
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

/** A dry run: every stage classified as the run would (journal read, not opened), none written. */
async function previewRun(
  ctx: RunContext,
  roots: readonly string[],
  journalPath: string,
): Promise<ApplyPreviewResult> {
  ctx.records = recordsOfPlan(await readJournal(journalPath), planIdentity(ctx.plan));
  const preview: ApplyPreviewStep[] = [];
  const predicted = new Map<string, number>();
  for (const [index, stage] of ctx.plan.stages.entries()) {
    const work = await classifyStage(ctx, stage, roots[index] ?? stage.root);
    for (const skipped of work.skipped) ctx.outcome.skipped.push(skipped);
    for (const task of work.tasks) {
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
  }
  return {
    schemaVersion: SCHEMA_VERSION,
    status: 'nothing-to-do',
    restored: ctx.outcome.restored,
    skipped: ctx.outcome.skipped,
    verified: false,
    inodes: [...predicted].map(([mountPoint, n]) => ({ mountPoint, predicted: n, actual: 0 })),
    journal: journalPath,
    dryRun: true,
    preview,
  };
}
