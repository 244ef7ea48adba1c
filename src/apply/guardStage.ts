/**
 * What each task costs on its filesystem, and whether the rest of a stage still fits: the cost
 * model of apply's live budget guard, kept in this one module on purpose. apply prices a step
 * from what is on disk right before the stage (a parent made by an earlier step, a file that
 * now exists) by the counting rules of DESIGN.md; the statfs judgement itself is guardBudget's.
 * Whoever changes how apply prices steps (e.g. to take the plan's own per-step costs) changes
 * this file and nothing else: classify calls priceStep, measure calls checkBudget.
 */
import type { PlanStage, PlanStep } from '../types.js';
import type { MountInfo, RunContext, Task } from './createRunContext.js';
import {
  emptyDemand,
  guardBudget,
  type BudgetStop,
  type GuardedMount,
  type MountDemand,
} from './guardBudget.js';
import type { ResolvedTarget } from './resolveInsideRoot.js';

/** ext4 stores a symlink text shorter than this in the inode (no data block). */
const FAST_SYMLINK_BYTES = 60;

export function blocksFor(bytes: number, blockSize: number): number {
  return Math.ceil(bytes / blockSize);
}

/** Stored bytes of a member: what a (sparse) restored file occupies. */
export function storedBytes(step: PlanStep): number {
  return step.source.sparse ? step.source.dataLength : step.size;
}

/**
 * The cost of one step: its missing parents (each counted once per stage, in `plannedDirs`)
 * plus the step itself.
 */
export function priceStep(
  step: PlanStep,
  resolved: ResolvedTarget,
  mount: MountInfo,
  plannedDirs: Set<string>,
): MountDemand {
  const cost = emptyDemand();
  for (const dir of resolved.missingDirs) {
    if (plannedDirs.has(dir)) continue;
    plannedDirs.add(dir);
    cost.inodes += 1;
    cost.blocks += 1;
  }
  addStepCost(step, resolved, mount, cost, plannedDirs);
  return cost;
}

export function addStepCost(
  step: PlanStep,
  resolved: ResolvedTarget,
  mount: MountInfo,
  cost: MountDemand,
  plannedDirs: Set<string>,
): void {
  const existing = resolved.existing;
  const bs = mount.blockSize;
  switch (step.type) {
    case 'dir':
      if (!existing && !plannedDirs.has(resolved.targetPath)) {
        plannedDirs.add(resolved.targetPath);
        cost.inodes += 1;
        cost.blocks += 1;
      }
      return;
    case 'file': {
      const newBlocks = blocksFor(storedBytes(step), bs);
      if (!existing) {
        cost.inodes += 1;
        cost.blocks += newBlocks;
      } else if (step.write === 'rewrite') {
        cost.blocks += Math.max(0, newBlocks - blocksFor(existing.size, bs));
      } else {
        // The temp file exists next to the old one until the rename: +1 inode, full size.
        cost.peakInodes = 1;
        cost.peakBlocks = newBlocks;
        cost.blocks += Math.max(
          0,
          newBlocks - (existing.isFile() ? blocksFor(existing.size, bs) : 0),
        );
      }
      return;
    }
    case 'symlink': {
      const dataBlock = Buffer.byteLength(step.linkTarget ?? '') >= FAST_SYMLINK_BYTES ? 1 : 0;
      if (!existing) {
        cost.inodes += 1;
        cost.blocks += dataBlock;
      } else {
        cost.peakInodes = 1;
        cost.peakBlocks = dataBlock;
      }
      return;
    }
    case 'hardlink':
      return;
    default:
      if (!existing) cost.inodes += 1;
      else cost.peakInodes = 1;
  }
}

/** The reserves to keep on a mount for this stage: its budget row, else an earlier stage's. */
export function guardedMount(
  ctx: Pick<RunContext, 'guarded'>,
  stage: PlanStage,
  mount: MountInfo,
): GuardedMount {
  const budget = stage.budget.find((b) => b.mountPoint === mount.mountPoint);
  const guarded: GuardedMount = {
    mountPoint: mount.mountPoint,
    dynamicInodes: mount.dynamicInodes,
    inodesReserve: budget?.inodesReserve ?? ctx.guarded.get(mount.mountPoint)?.inodesReserve ?? 0,
    blocksReserve: budget?.blocksReserve ?? ctx.guarded.get(mount.mountPoint)?.blocksReserve ?? 0,
  };
  ctx.guarded.set(mount.mountPoint, guarded);
  return guarded;
}

/** Sums the cost of `tasks[from..]` per mount and asks the guard whether it still fits. */
export async function checkBudget(
  ctx: Pick<RunContext, 'guarded' | 'fsOps'>,
  stage: PlanStage,
  tasks: readonly Task[],
  from: number,
): Promise<BudgetStop | null> {
  const demand = new Map<string, MountDemand>();
  const mounts = new Map<string, GuardedMount>();
  for (let i = from; i < tasks.length; i += 1) {
    const task = tasks[i];
    if (!task) continue;
    const key = task.mount.mountPoint;
    if (!mounts.has(key)) mounts.set(key, guardedMount(ctx, stage, task.mount));
    const sum = demand.get(key) ?? emptyDemand();
    sum.inodes += task.cost.inodes;
    sum.blocks += task.cost.blocks;
    sum.peakInodes = Math.max(sum.peakInodes, task.cost.peakInodes);
    sum.peakBlocks = Math.max(sum.peakBlocks, task.cost.peakBlocks);
    demand.set(key, sum);
  }
  return guardBudget([...mounts.values()], demand, ctx.fsOps);
}
