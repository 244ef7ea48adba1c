/** The exhaustion forecast in words, for doctor's screen and its plugin line alike. */
import type { DoctorBacklog, ExhaustionForecast, ResourceForecast } from '../../types.js';
import { formatBytes, formatCount } from '../progressBar.js';

/** "3.1 h", "45 min", "12.5 days": hours as an operator reads them. */
export function formatHours(hours: number): string {
  if (hours < 1) return `${Math.max(0, Math.floor(hours * 60))} min`;
  if (hours < 72) return `${(Math.floor(hours * 10) / 10).toFixed(1)} h`;
  return `${(Math.floor((hours / 24) * 10) / 10).toFixed(1)} days`;
}

function describeResource(f: ResourceForecast): string {
  if (f.hours === null) return f.reason === 'no-inode-limit' ? 'no limit' : 'not running out';
  if (f.hours === 0)
    return f.free > 0 && f.backlog ? "taken by Mailman's backlog" : 'none free now';
  return formatHours(f.hours);
}

/**
 * One line, short enough for an 80-column console: "Forecast at 60 files (240.0 KiB) an hour:
 * inodes 4.9 h, space 32.8 h" (how long each lasts at the queues' inflow of the last hour).
 */
export function describeForecast(forecast: ExhaustionForecast): string {
  const { inodes, bytes } = forecast;
  if (inodes.reason === 'no-inflow' && bytes.reason === 'no-inflow') {
    return 'Forecast: nothing runs out (no queue file arrived in the last hour)';
  }
  return `Forecast at ${formatCount(inodes.inflowPerHour)} files (${formatBytes(bytes.inflowPerHour)}) an hour: inodes ${describeResource(inodes)}, space ${describeResource(bytes)}`;
}

/**
 * What Mailman's backlog takes in the MTA's spool once the lists run, in one sentence: "Backlog
 * for Postfix (/var/spool/postfix): 1,206 messages once the lists run (1,200 out, 6 in, 0
 * shunted); 2,448 inodes, 5.1 MiB; 12 queued in the MTA now".
 */
export function describeBacklog(backlog: DoctorBacklog): string {
  const c = backlog.counts;
  const queued =
    backlog.queuedNow === null ? '' : `; ${formatCount(backlog.queuedNow)} queued in the MTA now`;
  return `Backlog for ${backlog.mta === 'exim' ? 'Exim' : 'Postfix'} (${backlog.spool}): ${formatCount(c.messages)} messages once the lists run (${formatCount(c.out + c.virgin + c.retry)} out, ${formatCount(c.in)} in, ${formatCount(c.shunt)} shunted); ${formatCount(backlog.inodes)} inodes, ${formatBytes(backlog.bytes)}${backlog.fits ? '' : `, more than is free on ${backlog.mountPoint}`}${queued}`;
}
