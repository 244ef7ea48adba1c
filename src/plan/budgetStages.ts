/**
 * Prices the steps of a layout and budgets its stages. Every step gets its cost from one demand
 * ledger fed the steps in the order apply runs them (stage by stage), so a directory created by
 * an early step is not charged again later, and a stage's demand is the sum of its steps' costs
 * (sumStepCosts) — the same sum apply's guard makes over the steps it has left. The supply a
 * stage is judged against is what will be free when it starts (now, minus the earlier stages),
 * which is also what apply's gate re-reads before it.
 */
import path from 'node:path';

import type { ExistingProbe } from '../filesystems/probeExisting.js';
import { createExistingProbe } from '../filesystems/probeExisting.js';
import type { FilesystemInfo } from '../filesystems/statFilesystem.js';
import type { Problem } from '../problems.js';
import type { FilesystemBudget, PlanStep, StageBudget, StepCost } from '../types.js';
import { createDemandLedger, type DemandMember } from './computeDemand.js';
import { createFilesystemRegistry, type FilesystemRegistry } from './createFilesystemRegistry.js';
import { evaluateBudget, type BudgetPolicy } from './evaluateBudget.js';
import { NO_DEMAND } from './judgeBudget.js';
import type { UnpricedStep } from './makeStep.js';
import { sumStepCosts } from './sumStepCosts.js';

export interface StageDraft {
  name: string;
  root: string;
  /** In execution order (orderSteps). */
  steps: UnpricedStep[];
}

export interface StageEvaluation {
  name: string;
  /** The stage's steps, each with its cost. */
  steps: PlanStep[];
  budget: StageBudget[];
  filesystems: FilesystemBudget[];
  problems: Problem[];
  /** No critical problem: the stage fits on every filesystem it touches. */
  fits: boolean;
  /** It does not fit only because of the reserve (see BudgetEvaluation). */
  reserveOnly: boolean;
}

export interface LayoutPolicy extends BudgetPolicy {
  /** `growth` is what the live system takes on the filesystem of this path (elsewhere none). */
  growthPath: string;
}

export interface BudgetContext {
  probe: ExistingProbe;
  registry: FilesystemRegistry;
}

/** Bytes of data a file step writes: a sparse file's data extents, not its apparent size. */
export function storedBytesOf(step: Pick<UnpricedStep, 'type' | 'size' | 'source'>): number {
  if (step.type !== 'file') return 0;
  if (!step.source.sparse) return step.size;
  let sum = 0;
  for (const [, length] of step.source.sparse) sum += length;
  return sum;
}

function demandOfStep(step: UnpricedStep, member: DemandMember): DemandMember {
  member.type = step.type;
  member.dataBytes = storedBytesOf(step);
  member.linkLength = step.type === 'symlink' ? Buffer.byteLength(step.linkTarget) : 0;
  member.linkResolved = true;
  member.sparse = step.source.sparse !== null;
  if (step.type === 'hardlink') member.linkTargetPath = step.linkTarget;
  else delete member.linkTargetPath;
  return member;
}

function priceStep(step: UnpricedStep, cost: StepCost): PlanStep {
  return { ...step, cost } as PlanStep;
}

export async function budgetStages(
  stages: readonly StageDraft[],
  policy: LayoutPolicy,
  context?: BudgetContext,
): Promise<StageEvaluation[]> {
  const registry = context?.registry ?? (await createFilesystemRegistry());
  const { filesystems } = registry;
  const ledger = createDemandLedger({
    probe: context?.probe ?? createExistingProbe(),
    resolveFilesystem: registry.resolveFilesystem,
    modelOf: registry.modelOf,
  });
  const growthFs = ledger.touch(path.resolve(policy.growthPath));
  const member: DemandMember = { type: 'file', dataBytes: 0, linkLength: 0, linkResolved: true };
  /** Net inodes and blocks the earlier stages take, per mount point. */
  const earlier = new Map<string, { inodes: number; blocks: number }>();
  const evaluations: StageEvaluation[] = [];
  for (const stage of stages) {
    const stageFs = ledger.touch(path.resolve(stage.root));
    const steps: PlanStep[] = [];
    for (const step of stage.steps) {
      const outcome = ledger.add(step.targetPath, demandOfStep(step, member), null);
      const fs = filesystems[outcome.fsIndex] ?? filesystems[stageFs];
      // A rewrite in place needs no temporary file: it holds nothing beyond its net cost.
      const rewrite = step.type === 'file' && step.write === 'rewrite';
      steps.push(
        priceStep(step, {
          mountPoint: fs?.mountPoint ?? '/',
          inodes: outcome.inodes,
          blocks: outcome.blocks,
          peakInodes: rewrite ? 0 : outcome.peakInodes,
          peakBlocks: rewrite ? 0 : outcome.peakBlocks,
        }),
      );
    }
    const demands = sumStepCosts(steps.map((s) => s.cost));
    const growthMount = filesystems[growthFs]?.mountPoint;
    if (growthMount !== undefined && !demands.has(growthMount)) demands.set(growthMount, NO_DEMAND);
    const evaluation: StageEvaluation = {
      name: stage.name,
      steps,
      budget: [],
      filesystems: [],
      problems: [],
      fits: true,
      reserveOnly: false,
    };
    let critical = 0;
    let byReserve = 0;
    for (const [mountPoint, demand] of demands) {
      const info = filesystems.find((f) => f.mountPoint === mountPoint);
      if (!info) continue;
      const prior = earlier.get(mountPoint) ?? { inodes: 0, blocks: 0 };
      // What will be free when the stage starts: now, minus what earlier stages take.
      const projected: FilesystemInfo = {
        ...info,
        inodes: {
          ...info.inodes,
          free: info.inodes.free - prior.inodes,
          usable: info.inodes.usable - prior.inodes,
        },
        blocks: {
          ...info.blocks,
          free: info.blocks.free - prior.blocks,
          available: info.blocks.available - prior.blocks,
        },
      };
      const result = evaluateBudget(projected, demand, {
        ...policy,
        growth: mountPoint === growthMount ? policy.growth : null,
      });
      evaluation.filesystems.push(result.budget);
      evaluation.problems.push(...result.problems);
      if (result.budget.verdict === 'critical') {
        evaluation.fits = false;
        critical += 1;
        if (result.reserveOnly) byReserve += 1;
      }
      evaluation.budget.push({
        mountPoint,
        inodesNeeded: demand.inodes,
        inodesPeak: demand.peakInodes,
        inodesFree: projected.inodes.free,
        inodesReserve: result.budget.inodes.reserve,
        ...(result.budget.inodes.growth ? { inodesGrowth: result.budget.inodes.growth } : {}),
        blocksNeeded: demand.blocks,
        blocksPeak: demand.peakBlocks,
        blocksAvailable: projected.blocks.available,
        blocksReserve: result.budget.blocks.reserve,
      });
      earlier.set(mountPoint, {
        inodes: prior.inodes + demand.inodes,
        blocks: prior.blocks + demand.blocks,
      });
    }
    evaluation.reserveOnly = critical > 0 && byReserve === critical;
    evaluations.push(evaluation);
  }
  return evaluations;
}
