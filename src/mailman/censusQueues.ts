/**
 * How much mail sits in Mailman's queues (qfiles/<queue>/, one .pck per message) and how fast
 * it arrives. Each queued message is an inode: when lists are down, incoming mail piles up in
 * qfiles/in and qfiles/shunt, which is how the incident ran out of inodes. The inflow (files
 * whose mtime is within the last hour) feeds the growth allowance of the inode reserve.
 */
import { lstat, readdir } from 'node:fs/promises';
import path from 'node:path';

import { RestoreplanError, throwIfAborted } from '../errors.js';
import type { QueueCensus } from '../types.js';

export interface QueueCount extends QueueCensus {
  /** Files whose mtime is within the hour before `now`. */
  inflowLastHour: number;
  /** Bytes those files occupy on disk (allocated blocks, as df counts them). */
  inflowBytesLastHour: number;
}

export interface QueueCensusResult {
  queues: Record<string, QueueCount>;
  /** Files in all queues. */
  files: number;
  /** Sum of the queues' inflow over the last hour. */
  inflowPerHour: number;
  /** Bytes (allocated) of that inflow: what the queues take of the space per hour. */
  inflowBytesPerHour: number;
}

const HOUR_MS = 3_600_000;
/** lstat calls in flight at once: enough to hide latency, few enough not to exhaust fds. */
const BATCH = 256;

/** Counts the files of every queue under `<root>/qfiles`. A missing qfiles/ is an empty census. */
export async function censusQueues(
  root: string,
  options: { now?: Date; signal?: AbortSignal } = {},
): Promise<QueueCensusResult> {
  const now = (options.now ?? new Date()).getTime();
  const qfiles = path.join(root, 'qfiles');
  const result: QueueCensusResult = {
    queues: {},
    files: 0,
    inflowPerHour: 0,
    inflowBytesPerHour: 0,
  };
  let queues: string[];
  try {
    queues = (await readdir(qfiles, { withFileTypes: true }))
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
  } catch {
    return result;
  }
  for (const queue of queues.sort()) {
    throwIfAborted(options.signal);
    const dir = path.join(qfiles, queue);
    // A queue this user may not list (doctor run as another user than Mailman's), or one gone
    // since qfiles/ was listed, is left out of the census: it ended the whole diagnosis with
    // INTERNAL (exit 3).
    const names = await readdir(dir).catch(() => null);
    if (names === null) continue;
    let files = 0;
    let inflow = 0;
    let inflowBytes = 0;
    let oldest = Infinity;
    let newest = -Infinity;
    for (let i = 0; i < names.length; i += BATCH) {
      const stats = await Promise.all(
        names.slice(i, i + BATCH).map((name) => lstat(path.join(dir, name)).catch(() => null)),
      );
      for (const stat of stats) {
        if (!stat?.isFile()) continue;
        files++;
        const mtime = stat.mtimeMs;
        if (mtime < oldest) oldest = mtime;
        if (mtime > newest) newest = mtime;
        if (mtime > now - HOUR_MS && mtime <= now) {
          inflow++;
          // st_blocks counts 512-byte units whatever the filesystem's block size.
          inflowBytes += stat.blocks * 512;
        }
      }
    }
    const count: QueueCount = { files, inflowLastHour: inflow, inflowBytesLastHour: inflowBytes };
    if (files > 0) {
      count.oldest = new Date(oldest).toISOString();
      count.newest = new Date(newest).toISOString();
    }
    result.queues[queue] = count;
    result.files += files;
    result.inflowPerHour += inflow;
    result.inflowBytesPerHour += inflowBytes;
  }
  return result;
}

/** Hours of queue inflow the growth allowance covers unless told otherwise. */
export const DEFAULT_GROWTH_WINDOW_HOURS = 12;

/**
 * Inodes the live system is expected to take while a restore is planned and run: the measured
 * hourly inflow for `windowHours` (default 12: the incident's lists were down for 16 hours;
 * 12 hours of headroom covers a night until someone reacts). 0 hours: no allowance. This is
 * the measurement; capGrowthAllowance bounds it by what the filesystem can give.
 */
export function estimateQueueGrowth(
  census: Pick<QueueCensusResult, 'inflowPerHour'>,
  windowHours = DEFAULT_GROWTH_WINDOW_HOURS,
): number {
  if (!Number.isFinite(windowHours) || windowHours < 0) {
    throw new RestoreplanError(
      'USAGE',
      `--growth-window ${String(windowHours)}: expected a number of hours, 0 or more`,
      { option: '--growth-window', value: String(windowHours) },
    );
  }
  const product = Math.max(0, census.inflowPerHour) * windowHours;
  // Any finite window is a number of hours, but 50/h × 1e308 h is Infinity, which JSON prints
  // as null (a document against its schema). No filesystem has 2^53 inodes: clamped there.
  if (product >= Number.MAX_SAFE_INTEGER) return Number.MAX_SAFE_INTEGER;
  // Rounded to a millionth first: 100/h × 0.07 h is 7.000000000000001 in floating point, not 8.
  return Math.ceil(Math.round(product * 1e6) / 1e6);
}

/**
 * The growth allowance never asks for more inodes than the filesystem has free: the live
 * system cannot take more than that, so an inflow of 7,700/h × 12 h on a filesystem with 500
 * free inodes is an allowance of 500 (all of them), not 92,400. Capped at what is free (not at
 * the total: the used inodes are not the queues' to take) and read when the allowance is
 * measured, so one number is shown by doctor and kept by check, plan and apply alike. With the
 * base reserve added the whole reserve can still exceed what is free: then the reserve alone
 * leaves no room for a restore that adds an inode, and check and plan say so.
 */
export function capGrowthAllowance(measured: number, freeInodes: number): number {
  return Math.min(Math.max(0, Math.ceil(measured)), Math.max(0, Math.floor(freeInodes)));
}
