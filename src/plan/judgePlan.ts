/**
 * The verdict on a plan, the same rule as check's (`verdictOfProblems`): critical when nothing
 * fits, or when a list stays down (an unrestored corrupt, lost or missing list is a critical
 * problem of its own, see selectMailmanLists); warning when the plan runs with warnings; ok
 * otherwise. `plan` exits with it, the wizard and scripts read it from the document.
 */
import { verdictOfProblems, type Problem } from '../problems.js';
import type { Verdict } from '../types.js';

export function judgePlan(plan: { feasible: boolean; problems: readonly Problem[] }): Verdict {
  return plan.feasible ? verdictOfProblems(plan.problems) : 'critical';
}
