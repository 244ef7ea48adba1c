/**
 * Per-stage, per-filesystem budgets of a layout (the steps of a plan, grouped in stages). The
 * demand of stage k is what stages 1..k need minus what stages 1..k-1 need, from one
 * cumulative ledger, so a directory created by an early stage is not charged again later; the
 * supply a stage is judged against is what will be free when it starts (now, minus the
 * earlier stages), which is also what apply's gate re-reads before it.
 */
import path from 'node:path';

import type { Problem } from '../problems.js';
import { createExistingProbe } from '../filesystems/probeExisting.js';
import type { FilesystemInfo } from '../filesystems/statFilesystem.js';
import type { FilesystemBudget, PlanStep, StageBudget } from '../types.js';
import { createFilesystemRegistry } from './createFilesystemRegistry.js';
import {
  createDemandLedger,
  NO_DEMAND,
  type DemandMember,
  type FilesystemDemand,
} from './computeDemand.js';
import { evaluateBudget, type BudgetPolicy } from './evaluateBudget.js';

export interface StageDraft {
  name: string;
  root: string;
  steps: PlanStep[];
}

export interface StageEvaluation {
  name: string;
  budget: StageBudget[];
  filesystems: FilesystemBudget[];
  problems: Problem[];
  /** No critical problem: the stage fits on every filesystem it touches. */
  fits: boolean;
}

export interface LayoutPolicy extends Omit<BudgetPolicy, 'growthInodes'> {
  /** Inodes the live system consumes meanwhile, on the filesystem of `growthPath`. */
  growthInodes: number;
  growthPath: string;
}

function storedBytes(step: PlanStep): number {
  if (step.type !== 'file') return 0;
  if (!step.source.sparse) return step.size;
  let sum = 0;
  for (const [, length] of step.source.sparse) sum += length;
  return sum;
}

export async function budgetStages(
  stages: readonly StageDraft[],
  policy: LayoutPolicy,
): Promise<StageEvaluation[]> {
  const registry = await createFilesystemRegistry();
  const { filesystems } = registry;
  const ledger = createDemandLedger({
    probe: createExistingProbe(),
    resolveFilesystem: registry.resolveFilesystem,
    modelOf: registry.modelOf,
  });
  const growthFs = ledger.touch(path.resolve(policy.growthPath));
  const member: DemandMember = { type: 'file', dataBytes: 0, linkLength: 0, linkResolved: true };
  let before = new Map<number, FilesystemDemand>();
  const evaluations: StageEvaluation[] = [];
  for (const stage of stages) {
    ledger.touch(path.resolve(stage.root));
    let replaces = 0;
    for (const step of stage.steps) {
      member.type = step.type;
      member.dataBytes = storedBytes(step);
      member.linkLength = step.type === 'symlink' ? Buffer.byteLength(step.linkTarget ?? '') : 0;
      member.linkResolved = true;
      if (step.write === 'replace') replaces += 1;
      ledger.add(step.targetPath, member, null);
    }
    const after = ledger.finish();
    const evaluation: StageEvaluation = {
      name: stage.name,
      budget: [],
      filesystems: [],
      problems: [],
      fits: true,
    };
    for (const [fsIndex, total] of after) {
      const info = filesystems[fsIndex];
      if (!info) continue;
      const prior = before.get(fsIndex) ?? NO_DEMAND;
      const inodes = total.inodes - prior.inodes;
      const blocks = total.blocks - prior.blocks;
      const touched = total.creates - prior.creates + (total.replaces - prior.replaces) > 0;
      if (!touched && fsIndex !== growthFs) continue;
      // Rewrites need no temporary file: a stage without replaces peaks at its net demand.
      const demand: FilesystemDemand = {
        ...total,
        inodes,
        blocks,
        peakInodes: replaces > 0 ? inodes + 1 : inodes,
        peakBlocks: replaces > 0 ? blocks + (total.peakBlocks - total.blocks) : blocks,
      };
      // What will be free when the stage starts: now, minus what earlier stages take.
      const projected: FilesystemInfo = {
        ...info,
        inodes: { ...info.inodes, free: info.inodes.free - prior.inodes },
        blocks: {
          ...info.blocks,
          free: info.blocks.free - prior.blocks,
          available: info.blocks.available - prior.blocks,
        },
      };
      const result = evaluateBudget(projected, demand, {
        ...policy,
        growthInodes: fsIndex === growthFs ? policy.growthInodes : 0,
      });
      evaluation.filesystems.push(result.budget);
      evaluation.problems.push(...result.problems);
      if (result.budget.verdict === 'critical') evaluation.fits = false;
      evaluation.budget.push({
        mountPoint: info.mountPoint,
        inodesNeeded: inodes,
        inodesFree: projected.inodes.free,
        inodesReserve: result.budget.inodes.reserve,
        blocksNeeded: blocks,
        blocksAvailable: projected.blocks.available,
        blocksReserve: result.budget.blocks.reserve,
      });
    }
    evaluations.push(evaluation);
    before = after;
  }
  return evaluations;
}
