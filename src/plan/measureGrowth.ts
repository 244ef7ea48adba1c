/**
 * The live system's expected inode growth while a restore and its aftermath run: given by the
 * caller, or — when the target is a Mailman var dir — the queue inflow of the last hour times
 * the window (mail keeps arriving, one file per message; the incident's queues filled for 16
 * hours). One function for check and plan, whatever the profile.
 */
import { censusQueues, estimateQueueGrowth } from '../mailman/censusQueues.js';
import { isMailmanVarDir } from '../mailman/findMailmanRoot.js';
import type { CommonOptions } from '../progress.js';

export interface GrowthOptions extends CommonOptions {
  /** A number, or a function of the target (default: measured from Mailman's queues). */
  growthInodes?: number | ((target: string) => Promise<number>);
  /** Hours of queue inflow to keep free (default 12). */
  growthWindowHours?: number;
}

export async function measureGrowth(target: string, options: GrowthOptions): Promise<number> {
  if (typeof options.growthInodes === 'function') return options.growthInodes(target);
  if (options.growthInodes !== undefined) return options.growthInodes;
  if (!(await isMailmanVarDir(target))) return 0;
  const census = await censusQueues(target, options.signal ? { signal: options.signal } : {});
  return estimateQueueGrowth(census, options.growthWindowHours ?? 12);
}
