/**
 * Measuring the run against the filesystems: the live budget guard is asked before each stage
 * and every GUARD_EVERY steps (a running Mailman keeps taking inodes while apply runs), and the
 * inodes the run predicted are set against what statfs says it took — the number DESIGN.md
 * promises matches `df -i` exactly. The cost model behind the guard is guardStage's.
 */
import type { ApplyResult, PlanStage } from '../types.js';
import type { RunContext, Task } from './createRunContext.js';
import { checkBudget } from './guardStage.js';
import { StopRun } from './StopRun.js';

/** The budget is re-read from statfs every this many steps within a stage. */
export const GUARD_EVERY = 256;

/** Free inodes per mount before this run wrote to it, and the inodes it expects to have taken. */
export interface InodeMeter {
  /** statfs `ffree` per mount, read before this run first writes to it. */
  readonly before: Map<string, number>;
  /**
   * The plan's cost of every task this run did, per mount, added as each one is done: a stage
   * stopped part-way (by the guard, a full disk) is predicted for exactly what it wrote.
   */
  readonly predicted: Map<string, number>;
}

export function createInodeMeter(): InodeMeter {
  return { before: new Map(), predicted: new Map() };
}

/** Adds the inodes `task` takes to the count of its mount. */
export function addTaskInodes(counts: Map<string, number>, task: Task): void {
  counts.set(
    task.mount.mountPoint,
    (counts.get(task.mount.mountPoint) ?? 0) + task.step.cost.inodes,
  );
}

/** Reads statfs "before" for every mount these tasks touch and that was not read yet. */
export async function readInodesBefore(
  ctx: Pick<RunContext, 'fsOps'>,
  meter: InodeMeter,
  tasks: readonly Task[],
): Promise<void> {
  for (const task of tasks) {
    const key = task.mount.mountPoint;
    if (!meter.before.has(key)) meter.before.set(key, (await ctx.fsOps.statfs(key)).ffree);
  }
}

/**
 * The live budget guard: stops the run cleanly (StopRun `stopped`) when `tasks[from..]` would
 * take a filesystem below its reserve — before the stage starts, or part-way through it.
 */
export async function enforceBudget(
  ctx: Pick<RunContext, 'guarded' | 'fsOps'>,
  stage: PlanStage,
  tasks: readonly Task[],
  from: number,
): Promise<void> {
  const stop = await checkBudget(ctx, stage, tasks, from);
  if (!stop) return;
  throw new StopRun(
    'stopped',
    from === 0
      ? `stage ${stage.name} does not fit: ${stop.message}`
      : `stage ${stage.name} stopped: ${stop.message}`,
  );
}

/** Predicted against actual inodes, per mount the run wrote to (statfs "after" read now). */
export async function measureInodes(
  ctx: Pick<RunContext, 'fsOps'>,
  meter: InodeMeter,
): Promise<ApplyResult['inodes']> {
  const rows: ApplyResult['inodes'] = [];
  for (const [mountPoint, free] of meter.before) {
    const after = (await ctx.fsOps.statfs(mountPoint)).ffree;
    const predicted = meter.predicted.get(mountPoint) ?? 0;
    rows.push({ mountPoint, predicted, actual: free - after });
  }
  return rows;
}
