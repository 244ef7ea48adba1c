/**
 * When the var dir's filesystem runs out of inodes (and space) if mail keeps arriving in the
 * queues as fast as in the last hour: the incident's failure, seen coming. One place computes
 * it; doctor's screen, its plugin line and its Prometheus metrics all show this number.
 *
 * The inflow is censusQueues' (files whose mtime is within the last hour, and the blocks they
 * occupy): the same measure the growth allowance of the reserve is made of. A linear forecast
 * is what an operator can act on ("at this rate, 3 h"); Prometheus' predict_linear over
 * node_exporter's samples is the complementary view, over a longer history.
 */
import type { ExhaustionForecast, ResourceForecast } from '../types.js';

export interface ForecastInput {
  /** Inodes a new file can still take now (usable: f_ffree, less what XFS cannot carve). */
  inodesFree: number;
  /** The filesystem reports an inode limit (f_files > 0; btrfs does not). */
  limitedInodes: boolean;
  /** Bytes available to an unprivileged user now (f_bavail × block size). */
  bytesAvailable: number;
  /** Queue files that arrived in the last hour. */
  inflowFilesPerHour: number;
  /** Bytes (allocated) those files occupy. */
  inflowBytesPerHour: number;
  /** What Mailman's backlog takes here once released to the MTA (its spool on this filesystem). */
  backlog?: { inodes: number; bytes: number };
}

/** Hours are kept to the millisecond's order (1e-6 h): stable in JSON, exact enough to alarm on. */
function roundHours(hours: number): number {
  return Math.round(hours * 1e6) / 1e6;
}

/**
 * Hours until none is free: what is free less the backlog (released at once, it goes first),
 * over the inflow. A backlog that takes all of it is 0 hours whatever the inflow.
 */
function forecastResource(free: number, inflowPerHour: number, backlog?: number): ResourceForecast {
  const now = Math.max(0, Math.floor(free));
  const taken = backlog === undefined ? {} : { backlog: Math.max(0, Math.ceil(backlog)) };
  const spare = Math.max(0, now - (taken.backlog ?? 0));
  const inflow = Math.max(0, Math.round(inflowPerHour));
  if (spare === 0) return { free: now, inflowPerHour: inflow, hours: 0, ...taken };
  if (inflow === 0)
    return { free: now, inflowPerHour: inflow, hours: null, reason: 'no-inflow', ...taken };
  return { free: now, inflowPerHour: inflow, hours: roundHours(spare / inflow), ...taken };
}

export function forecastExhaustion(input: ForecastInput): ExhaustionForecast {
  const inodes: ResourceForecast = input.limitedInodes
    ? forecastResource(input.inodesFree, input.inflowFilesPerHour, input.backlog?.inodes)
    : {
        free: 0,
        inflowPerHour: Math.max(0, Math.round(input.inflowFilesPerHour)),
        hours: null,
        reason: 'no-inode-limit',
      };
  return {
    inodes,
    bytes: forecastResource(input.bytesAvailable, input.inflowBytesPerHour, input.backlog?.bytes),
  };
}
