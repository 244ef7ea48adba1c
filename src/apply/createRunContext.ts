/**
 * What the phases of one apply run share, in one explicit object instead of the fields of a
 * class: classify reads it to decide, execute adds to it as it writes, measure and the
 * orchestrator read the tallies at the end. Each phase is a plain function of this context, so
 * what a phase may touch is visible in its signature (most take a `Pick` of it) and a test can
 * hand it a context built here without an archive. State only one phase needs stays with that
 * phase: the inode meter (measureInodes).
 */
import path from 'node:path';

import type { MountInfoEntry } from '../filesystems/readMountInfo.js';
import { statFilesystem } from '../filesystems/statFilesystem.js';
import type { XfsInodeGeometry } from '../filesystems/usableInodes.js';
import { throttleProgress } from '../progress.js';
import type {
  ApplyActionEvent,
  ApplyResult,
  ApplySkip,
  PlanDocument,
  PlanStage,
  PlanStep,
  SkipKind,
} from '../types.js';
import type { ApplyOptions } from './applyPlan.js';
import { createListLockChecker } from './findLockedLists.js';
import { defaultFsOps, type FsOps } from './fsOps.js';
import type { GuardedMount } from './guardBudget.js';
import type { Journal, JournalRecord } from './openJournal.js';
import type { MemberReader } from './openMemberReader.js';

/** The filesystem a step lands on, as far as the budget is concerned. */
export interface MountInfo {
  mountPoint: string;
  blockSize: number;
  dynamicInodes: boolean;
  /**
   * mountinfo's type and, on XFS, its superblock geometry: what the live guard needs to judge
   * a fresh statfs by the inodes that can really be created (usableInodes), as the plan was.
   * Absent (a test's stub): judged on f_ffree.
   */
  fsType?: string;
  xfs?: XfsInodeGeometry | null;
}

/** A step classify let through: where it lands and on which filesystem (its cost is the plan's). */
export interface Task {
  stage: PlanStage;
  step: PlanStep;
  root: string;
  targetPath: string;
  mount: MountInfo;
}

/** A directory step of the plan and where it is: what the directory pass finishes. */
export type DirRef = Pick<Task, 'stage' | 'step' | 'root' | 'targetPath'>;

/** One stage, decided: the tasks to run in write order, and the steps skipped with their reason. */
export interface StageWork {
  tasks: Task[];
  skipped: ApplySkip[];
  /** Directory steps an earlier run finished (skipped as already-restored). */
  journaledDirs: DirRef[];
}

/** Why a step is not carried out: its kind (SKIP_CATALOG) and the reason line runbooks grep. */
export interface SkipWhy {
  kind: SkipKind;
  reason: string;
}

/** The `skipped[]` item for a step (fields in the order the JSON has always had, `kind` last). */
export function skipOf(targetPath: string, { kind, reason }: SkipWhy): ApplySkip {
  return { targetPath, reason, kind };
}

export interface RunContext {
  readonly plan: PlanDocument;
  /** Tells the caller what was done (ApplyOptions.onAction); a no-op in a dry run. */
  readonly emit: (event: ApplyActionEvent) => void;
  /** The caller's options, for what only one place reads (allowSpecial, secureDir, signal). */
  readonly options: Readonly<ApplyOptions>;
  readonly fsOps: FsOps;
  /** The apply time, given to `freshMtime` steps. */
  readonly now: Date;

  /** statfs facts of the filesystem holding `dir`, read once per directory. */
  readonly mountOf: (dir: string) => Promise<MountInfo>;
  /** Why a Mailman list's lock is held, or null; read once per list and run. */
  readonly lockOf: (list: string) => Promise<string | null>;

  /** Directories known to be real directories (resolveInsideRoot's cache; execute adds its mkdirs). */
  readonly knownDirs: Set<string>;
  /** Every symlink the plan creates: a link's text must not lead on through one of them. */
  readonly plannedSymlinks: Set<string>;
  /** Directories holding renames since the last flush: fsynced before the journal is. */
  readonly dirtyDirs: Set<string>;
  /**
   * Directories whose entries this run changed (made, renamed into, unlinked in): their mtime
   * moved, so the directory pass gives a plan directory among them its mtime again.
   */
  readonly touchedDirs: Set<string>;
  /** The directory steps this run carried out (made, or found made by an earlier run), all stages. */
  readonly dirTasks: Task[];
  /** The directory steps earlier runs finished (journaled), all stages. */
  readonly journaledDirs: DirRef[];
  /** sha256 of what this run restored, by targetPath (hard links report their file's). */
  readonly restoredSha: Map<string, string>;
  /** Reserves remembered per mount: a stage without a budget row keeps an earlier stage's. */
  readonly guarded: Map<string, GuardedMount>;

  /** Null until the run opens it, and in a dry run (which writes nothing, not even this). */
  journal: Journal | null;
  /** What earlier runs of this same plan finished, by targetPath. */
  records: ReadonlyMap<string, JournalRecord>;
  /** Opened when the first stage with work starts. */
  reader: MemberReader | null;

  readonly outcome: {
    restored: ApplyResult['restored'];
    skipped: ApplyResult['skipped'];
    /** A member failed verification: the run ends `failed`, `verified: false`. */
    verifyFailed: boolean;
    /** A list was skipped for its lock: the run ends `stopped` (re-run when released). */
    lockStop: boolean;
    /** Tasks this run carried out (a created directory is one, though not in `restored`). */
    done: number;
  };
  readonly progress: {
    readonly report: ReturnType<typeof throttleProgress>;
    readonly startedAt: number;
    done: number;
    readonly total: number;
    bytes: number;
  };
}

export function createRunContext(
  plan: PlanDocument,
  mountTable: readonly MountInfoEntry[],
  options: ApplyOptions = {},
  startedAt = Date.now(),
): RunContext {
  const mounts = new Map<string, MountInfo>();
  const locks = new Map<string, string | null>();
  const describeLock = options.describeListLock ?? createListLockChecker();
  // One step per targetPath (loadPlan refuses a repeat: the planner's selection already let
  // the last occurrence of a member win), so apply arbitrates nothing here.
  let total = 0;
  for (const stage of plan.stages) total += stage.steps.length;
  const onAction = options.dryRun ? undefined : options.onAction;
  return {
    plan,
    // A callback that throws must not end a run between a write and its journal line.
    emit: onAction
      ? (event) => {
          try {
            onAction(event);
          } catch {
            // the caller's own failure: its trail lacks a line, the restore goes on
          }
        }
      : () => {},
    options,
    fsOps: options.fsOps ?? defaultFsOps,
    now: options.now ?? new Date(),
    mountOf: async (dir) => {
      const cached = mounts.get(dir);
      if (cached) return cached;
      const info = await statFilesystem(dir, mountTable);
      const mount: MountInfo = {
        mountPoint: info.mountPoint,
        blockSize: info.blockSize,
        dynamicInodes: info.dynamicInodes,
        fsType: info.fsType,
        xfs: info.xfs,
      };
      mounts.set(dir, mount);
      return mount;
    },
    lockOf: async (list) => {
      if (!locks.has(list)) locks.set(list, await describeLock(plan.mailman?.root ?? '', list));
      return locks.get(list) ?? null;
    },
    knownDirs: new Set(),
    // Every symlink of every stage, up front: the planner judged each link's text against all
    // of them, so apply does too (a later stage's link is on disk by the time it matters).
    plannedSymlinks: new Set(
      plan.stages.flatMap((stage) =>
        stage.steps
          .filter((step) => step.type === 'symlink')
          .map((step) => path.resolve(step.targetPath)),
      ),
    ),
    dirtyDirs: new Set(),
    touchedDirs: new Set(),
    dirTasks: [],
    journaledDirs: [],
    restoredSha: new Map(),
    guarded: new Map(),
    journal: null,
    records: new Map(),
    reader: null,
    outcome: { restored: [], skipped: [], verifyFailed: false, lockStop: false, done: 0 },
    progress: {
      report: throttleProgress(options.onProgress ?? (() => {})),
      startedAt,
      done: 0,
      total,
      bytes: 0,
    },
  };
}

/** A skipped step: in the result, and told to the caller (the one place a skip is added). */
export function addSkipped(ctx: Pick<RunContext, 'outcome' | 'emit'>, skipped: ApplySkip): void {
  ctx.outcome.skipped.push(skipped);
  ctx.emit({ action: 'skipped', ...skipped });
}

/** A step written and verified: in the result, and told to the caller (the one place). */
export function addRestored(
  ctx: Pick<RunContext, 'outcome' | 'emit'>,
  task: Pick<Task, 'stage' | 'step'>,
  restored: ApplyResult['restored'][number],
): void {
  ctx.outcome.restored.push(restored);
  ctx.emit({
    action: 'restored',
    stage: task.stage.name,
    memberPath: task.step.memberPath,
    targetPath: restored.targetPath,
    type: task.step.type,
    bytes: restored.bytes,
    sha256: restored.sha256,
  });
}

/** Reports the run's progress (throttled unless `force`), naming the member just handled. */
export function reportProgress(
  ctx: Pick<RunContext, 'progress'>,
  item: string | null,
  force = false,
): void {
  const { report, startedAt, done, total, bytes } = ctx.progress;
  report(
    item === null
      ? { phase: 'apply', done, total, bytes, elapsedMs: Date.now() - startedAt }
      : { phase: 'apply', done, total, bytes, item, elapsedMs: Date.now() - startedAt },
    force,
  );
}
