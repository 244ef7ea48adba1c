/**
 * Whether the rest of a stage still fits, from the costs the planner gave each step (one price
 * per step, computed once by the block model of its filesystem: plan/budgetStages). The guard
 * sums the costs of the tasks it has left, per filesystem, and asks guardBudget — which judges
 * by the planner's own rule — so apply never prices a step a second, different way.
 *
 * The filesystem a cost is charged to is the one apply finds the task on right before the stage
 * (its own statfs), not the mount point the plan file names: a plan is untrusted input, and an
 * edited `cost.mountPoint` must not make the guard watch another filesystem.
 */
import { RestoreplanError } from '../errors.js';
import { sumStepCosts } from '../plan/sumStepCosts.js';
import type { Demand } from '../plan/judgeBudget.js';
import type { PlanStage, StepCost } from '../types.js';
import type { MountInfo, RunContext, Task } from './createRunContext.js';
import { guardBudget, type BudgetStop, type GuardedMount } from './guardBudget.js';

/**
 * The reserves to keep on a mount for this stage: its budget row, else an earlier stage's. A
 * mount no stage budgeted (the target now lies on another filesystem, or the plan was edited)
 * has no known reserve: apply does not write there (PLAN_STALE) rather than guard it with none.
 */
export function guardedMount(
  ctx: Pick<RunContext, 'guarded'>,
  stage: PlanStage,
  mount: MountInfo,
): GuardedMount {
  const budget = stage.budget.find((b) => b.mountPoint === mount.mountPoint);
  const earlier = ctx.guarded.get(mount.mountPoint);
  if (!budget && !earlier) {
    throw new RestoreplanError(
      'PLAN_STALE',
      `stage ${stage.name} writes on ${mount.mountPoint}, a filesystem its plan has no budget for (the plan names ${stage.budget.map((b) => b.mountPoint).join(', ') || 'none'}): what must stay free there is unknown`,
      {
        mountPoint: mount.mountPoint,
        hint: 'the target was remounted or the plan edited since planning: make a new plan',
      },
    );
  }
  const guarded: GuardedMount = {
    mountPoint: mount.mountPoint,
    dynamicInodes: mount.dynamicInodes,
    fsType: mount.fsType ?? 'unknown',
    xfs: mount.xfs ?? null,
    inodesReserve: budget?.inodesReserve ?? earlier?.inodesReserve ?? 0,
    blocksReserve: budget?.blocksReserve ?? earlier?.blocksReserve ?? 0,
  };
  ctx.guarded.set(mount.mountPoint, guarded);
  return guarded;
}

/** What the tasks `tasks[from..]` still take, per mount apply found them on. */
export function remainingDemand(tasks: readonly Task[], from: number): Map<string, Demand> {
  const costs: StepCost[] = [];
  for (let i = from; i < tasks.length; i += 1) {
    const task = tasks[i];
    if (task) costs.push({ ...task.step.cost, mountPoint: task.mount.mountPoint });
  }
  return sumStepCosts(costs);
}

/** Sums the plan's costs of `tasks[from..]` per mount and asks the guard whether they still fit. */
export async function checkBudget(
  ctx: Pick<RunContext, 'guarded' | 'fsOps'>,
  stage: PlanStage,
  tasks: readonly Task[],
  from: number,
): Promise<BudgetStop | null> {
  const mounts = new Map<string, GuardedMount>();
  for (let i = from; i < tasks.length; i += 1) {
    const task = tasks[i];
    if (task && !mounts.has(task.mount.mountPoint))
      mounts.set(task.mount.mountPoint, guardedMount(ctx, stage, task.mount));
  }
  return guardBudget([...mounts.values()], remainingDemand(tasks, from), ctx.fsOps);
}
