/**
 * What a run of steps takes per filesystem, from the costs the planner gave each step: the
 * stage budgets of a plan and apply's guard over the steps it has left are this one sum. The
 * net demand adds up; the peak is the net plus the largest temporary need of any one step (a
 * step's temporary file is gone before the next step starts).
 */
import type { StepCost } from '../types.js';
import type { Demand } from './judgeBudget.js';

export function sumStepCosts(costs: Iterable<StepCost>): Map<string, Demand> {
  const sums = new Map<string, Demand & { extraInodes: number; extraBlocks: number }>();
  for (const cost of costs) {
    let sum = sums.get(cost.mountPoint);
    if (!sum) {
      sum = { inodes: 0, peakInodes: 0, blocks: 0, peakBlocks: 0, extraInodes: 0, extraBlocks: 0 };
      sums.set(cost.mountPoint, sum);
    }
    sum.inodes += cost.inodes;
    sum.blocks += cost.blocks;
    sum.extraInodes = Math.max(sum.extraInodes, cost.peakInodes);
    sum.extraBlocks = Math.max(sum.extraBlocks, cost.peakBlocks);
  }
  const result = new Map<string, Demand>();
  for (const [mountPoint, sum] of sums) {
    result.set(mountPoint, {
      inodes: sum.inodes,
      peakInodes: sum.inodes + sum.extraInodes,
      blocks: sum.blocks,
      peakBlocks: sum.blocks + sum.extraBlocks,
    });
  }
  return result;
}
