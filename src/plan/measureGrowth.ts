/**
 * The live system's expected inode growth while a restore and its aftermath run: given by the
 * caller, or — when the target is a Mailman var dir — the queue inflow of the last hour times
 * the window (mail keeps arriving, one file per message; the incident's queues filled for 16
 * hours), capped at the inodes free on the target's filesystem. One function for check and
 * plan without a profile; the Mailman profile gets the same numbers from the doctor's census.
 */
import { statFilesystem } from '../filesystems/statFilesystem.js';
import {
  capGrowthAllowance,
  censusQueues,
  DEFAULT_GROWTH_WINDOW_HOURS,
  estimateQueueGrowth,
} from '../mailman/censusQueues.js';
import { isMailmanVarDir } from '../mailman/findMailmanRoot.js';
import type { CommonOptions } from '../progress.js';
import type { GrowthAllowance } from './reservePolicy.js';

export interface GrowthOptions extends CommonOptions {
  /** A number, or a function of the target (default: measured from Mailman's queues). */
  growthInodes?: number | ((target: string) => Promise<number>);
}

/** The inodes an allowance may claim on `target`'s filesystem: its free ones (no limit: btrfs). */
export async function freeInodesAt(target: string): Promise<number> {
  const fs = await statFilesystem(target);
  return fs.dynamicInodes ? Infinity : fs.inodes.usable;
}

/** The growth on `target`'s filesystem, or null when nothing is known to grow there. */
export async function measureGrowth(
  target: string,
  options: GrowthOptions,
  windowHours = DEFAULT_GROWTH_WINDOW_HOURS,
): Promise<GrowthAllowance | null> {
  const given =
    typeof options.growthInodes === 'function'
      ? await options.growthInodes(target)
      : options.growthInodes;
  if (given !== undefined) {
    const measured = Math.max(0, Math.ceil(Number.isFinite(given) ? given : 0));
    return {
      inflowPerHour: null,
      windowHours: null,
      measured,
      inodes: capGrowthAllowance(measured, await freeInodesAt(target)),
    };
  }
  if (!(await isMailmanVarDir(target))) return null;
  const census = await censusQueues(target, options.signal ? { signal: options.signal } : {});
  const measured = estimateQueueGrowth(census, windowHours);
  return {
    inflowPerHour: census.inflowPerHour,
    windowHours,
    measured,
    inodes: capGrowthAllowance(measured, await freeInodesAt(target)),
  };
}
