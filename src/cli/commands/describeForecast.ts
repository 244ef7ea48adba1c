/** The exhaustion forecast in words, for doctor's screen and its plugin line alike. */
import type { ExhaustionForecast, ResourceForecast } from '../../types.js';
import { formatBytes, formatCount } from '../progressBar.js';

/** "3.1 h", "45 min", "12.5 days": hours as an operator reads them. */
export function formatHours(hours: number): string {
  if (hours < 1) return `${Math.max(0, Math.floor(hours * 60))} min`;
  if (hours < 72) return `${(Math.floor(hours * 10) / 10).toFixed(1)} h`;
  return `${(Math.floor((hours / 24) * 10) / 10).toFixed(1)} days`;
}

function describeResource(what: string, f: ResourceForecast): string {
  if (f.hours === null)
    return f.reason === 'no-inode-limit' ? `${what}: no limit` : `${what}: not running out`;
  if (f.hours === 0) return `${what} exhausted now`;
  return `${what} run out in ${formatHours(f.hours)}`;
}

/** One line: "At the last hour's inflow (120 files, 1.2 MiB): inodes run out in 3.1 h, space in 40.0 days". */
export function describeForecast(forecast: ExhaustionForecast): string {
  const { inodes, bytes } = forecast;
  const inflow = `${formatCount(inodes.inflowPerHour)} files, ${formatBytes(bytes.inflowPerHour)} an hour`;
  if (inodes.reason === 'no-inflow' && bytes.reason === 'no-inflow') {
    return 'Exhaustion forecast: none (no queue file arrived in the last hour)';
  }
  return `Exhaustion forecast at the queues' inflow (${inflow}): ${describeResource('inodes', inodes)}; ${describeResource('space', bytes)}`;
}
