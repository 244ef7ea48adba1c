/**
 * What a run of steps takes per filesystem, from the costs the planner gave each step: the
 * stage budgets of a plan and apply's guard over the steps it has left are this one sum. The
 * net demand adds up. The peak holds in any order the steps may run in: everything the steps
 * add (a step that gives something back — a file replaced by a smaller one, a name replaced by
 * a link — may come after the one that needs it), plus the most any one step holds while it
 * runs (its temporary file is gone before the next step starts).
 */
import type { StepCost } from '../types.js';
import type { Demand } from './judgeBudget.js';

export function sumStepCosts(costs: Iterable<StepCost>): Map<string, Demand> {
  const sums = new Map<
    string,
    Demand & { extraInodes: number; extraBlocks: number; addedInodes: number; addedBlocks: number }
  >();
  for (const cost of costs) {
    let sum = sums.get(cost.mountPoint);
    if (!sum) {
      sum = {
        inodes: 0,
        peakInodes: 0,
        blocks: 0,
        peakBlocks: 0,
        extraInodes: 0,
        extraBlocks: 0,
        addedInodes: 0,
        addedBlocks: 0,
      };
      sums.set(cost.mountPoint, sum);
    }
    sum.inodes += cost.inodes;
    sum.blocks += cost.blocks;
    sum.addedInodes += Math.max(0, cost.inodes);
    sum.addedBlocks += Math.max(0, cost.blocks);
    sum.extraInodes = Math.max(sum.extraInodes, cost.peakInodes);
    sum.extraBlocks = Math.max(sum.extraBlocks, cost.peakBlocks);
  }
  const result = new Map<string, Demand>();
  for (const [mountPoint, sum] of sums) {
    result.set(mountPoint, {
      inodes: sum.inodes,
      peakInodes: sum.addedInodes + sum.extraInodes,
      blocks: sum.blocks,
      peakBlocks: sum.addedBlocks + sum.extraBlocks,
    });
  }
  return result;
}
