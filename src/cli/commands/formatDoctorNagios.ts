/**
 * doctor --nagios: the var dir's health as one monitoring-plugin line (Monitoring Plugins
 * Development Guidelines): status, what is wrong, perfdata. An alarm on inodes that knows why
 * they are going (the queues' inflow), which check_disk cannot know.
 */
import path from 'node:path';

import type { DoctorReport } from '../../mailman/diagnoseMailman.js';
import { EXIT, type ExitCode } from '../exitCodes.js';
import { printableLine } from '../output.js';
import { formatBytes, formatCount } from '../progressBar.js';
import { formatHours } from './describeForecast.js';
import { formatPerfItem, perfNumber, PLUGIN_STATUS } from './formatNagios.js';
import type { DoctorThresholds } from './monitorFlags.js';

/** Names shown in the summary before "and N more": the line must stay readable. */
const NAMES_SHOWN = 5;

export interface DoctorNagios {
  exitCode: ExitCode;
  line: string;
}

function names(items: string[]): string {
  const shown = items.slice(0, NAMES_SHOWN).join(', ');
  return items.length > NAMES_SHOWN ? `${shown} and ${items.length - NAMES_SHOWN} more` : shown;
}

/**
 * Exhaustion within `hours` at the measured inflow: free < inflow × hours (the forecast's
 * hours are free / inflow). Nothing free at all is always within any window.
 */
function runsOutWithin(free: number, inflowPerHour: number, hours: number): boolean {
  return free <= 0 || free < inflowPerHour * hours;
}

export function formatDoctorNagios(report: DoctorReport, t: DoctorThresholds): DoctorNagios {
  const critical: string[] = [];
  const warning: string[] = [];

  const down = report.lists.filter(
    (l) => l.status === 'corrupt' || l.status === 'lost' || l.status === 'missing',
  );
  if (down.length > 0) {
    critical.push(
      `${down.length} list${down.length === 1 ? '' : 's'} down: ${names(down.map((l) => `${l.name} (${l.status})`))}`,
    );
  }
  if (report.problems.some((p) => p.kind === 'no-lists')) {
    critical.push("no list in lists/: every list is gone, Mailman's site list too");
  }
  if (report.qrunnerPidStale) {
    critical.push(
      `qrunners not running (stale data/master-qrunner.pid${report.mailmanPid !== null ? `, pid ${report.mailmanPid}` : ''})`,
    );
  }
  const degraded = report.lists.filter((l) => l.status === 'degraded');
  if (degraded.length > 0) {
    warning.push(
      `${degraded.length} list${degraded.length === 1 ? '' : 's'} degraded: ${names(degraded.map((l) => l.name))}`,
    );
  }
  // A check that could not see everything is no OK (verdicts never lie by omission): a list
  // named only by an alias stanza there would be missing, unseen.
  const unreadable = report.problems.filter((p) => p.kind === 'alias-file-unreadable');
  if (unreadable.length > 0) {
    warning.push(
      `cannot read ${names(unreadable.map((p) => path.relative(report.root, p.targetPath ?? '') || '?'))}: a list named only there goes unseen (run as root or Mailman's user)`,
    );
  }
  for (const [queue, count] of Object.entries(report.queues)) {
    if (t.critQueue !== undefined && count.files > t.critQueue) {
      critical.push(`queue ${queue} holds ${count.files} files (over ${t.critQueue})`);
    } else if (t.warnQueue !== undefined && count.files > t.warnQueue) {
      warning.push(`queue ${queue} holds ${count.files} files (over ${t.warnQueue})`);
    }
  }
  for (const [resource, f] of [
    ['inodes', report.forecast.inodes],
    ['space', report.forecast.bytes],
  ] as const) {
    if (f.reason === 'no-inode-limit') continue;
    const rate =
      resource === 'inodes'
        ? `${formatCount(f.inflowPerHour)} files`
        : formatBytes(f.inflowPerHour);
    const when =
      f.free <= 0
        ? `no ${resource === 'inodes' ? 'inode' : 'space'} free`
        : `${resource} exhausted in ${formatHours(f.hours ?? 0)} at ${rate}/h`;
    if (runsOutWithin(f.free, f.inflowPerHour, t.critHours)) critical.push(when);
    else if (runsOutWithin(f.free, f.inflowPerHour, t.warnHours)) warning.push(when);
  }

  const exitCode =
    critical.length > 0 ? EXIT.CRITICAL : warning.length > 0 ? EXIT.WARNING : EXIT.OK;
  const { summary } = report;
  const healthy = `${report.lists.length} lists ok, ${Object.values(report.queues).reduce((n, q) => n + q.files, 0)} queued files`;
  const text = exitCode === EXIT.OK ? healthy : [...critical, ...warning].join('; ');
  const perfdata = formatDoctorPerfdata(report, t, summary);
  // "|" separates output from perfdata: it must not appear in the summary (a list name may hold one).
  return {
    exitCode,
    line: printableLine(
      `RESTOREPLAN-MAILMAN ${PLUGIN_STATUS[exitCode]} - ${text.replace(/\|/g, '/')} | ${perfdata.join(' ')}`,
    ),
  };
}

/** The plugin line of a doctor that could not run: UNKNOWN (exit 3), what went wrong. */
export function formatDoctorUnknown(errorLine: string): string {
  return printableLine(`RESTOREPLAN-MAILMAN UNKNOWN - ${errorLine.replace(/\|/g, '/')}`);
}

function formatDoctorPerfdata(
  report: DoctorReport,
  t: DoctorThresholds,
  summary: DoctorReport['summary'],
): string[] {
  const out: string[] = [];
  const down = summary.corrupt + summary.lost + summary.missing;
  // Range "0": alert when the value is outside 0..0, i.e. any list down (critical) or degraded (warning).
  out.push(formatPerfItem('lists_down', down, { crit: '0', min: 0 }));
  out.push(formatPerfItem('lists_degraded', summary.degraded, { warn: '0', min: 0 }));
  out.push(formatPerfItem('lists_ok', summary.ok, { min: 0 }));
  out.push(
    formatPerfItem('qrunner_stale', report.qrunnerPidStale ? 1 : 0, { crit: '0', min: 0, max: 1 }),
  );
  for (const [queue, count] of Object.entries(report.queues)) {
    out.push(
      formatPerfItem(`queue_${queue}`, count.files, {
        ...(t.warnQueue !== undefined ? { warn: perfNumber(t.warnQueue) } : {}),
        ...(t.critQueue !== undefined ? { crit: perfNumber(t.critQueue) } : {}),
        min: 0,
      }),
    );
  }
  out.push(formatPerfItem('queue_inflow_per_hour', report.queueInflowPerHour, { min: 0 }));
  const fs = report.filesystem;
  const { inodes, bytes } = report.forecast;
  if (inodes.reason !== 'no-inode-limit') {
    // Thresholds on what is free, equivalent to the hours ones: free < inflow × hours.
    out.push(
      formatPerfItem('inodes_free', inodes.free, {
        ...freeThresholds(inodes.inflowPerHour, t),
        min: 0,
        max: fs.inodes.total,
      }),
    );
    out.push(
      formatPerfItem('inodes_used', Math.max(0, fs.inodes.total - fs.inodes.free), {
        min: 0,
        max: fs.inodes.total,
      }),
    );
  }
  out.push(
    formatPerfItem('bytes_avail', bytes.free, {
      uom: 'B',
      ...freeThresholds(bytes.inflowPerHour, t),
      min: 0,
      max: fs.blocks.total * fs.blockSize,
    }),
  );
  // Omitted when nothing arrives: "never" has no number (the guidelines' U would read as "unknown").
  if (inodes.hours !== null) {
    out.push(
      formatPerfItem('inodes_hours_left', inodes.hours, {
        warn: `${perfNumber(t.warnHours)}:`,
        crit: `${perfNumber(t.critHours)}:`,
        min: 0,
      }),
    );
  }
  if (bytes.hours !== null) {
    out.push(
      formatPerfItem('bytes_hours_left', bytes.hours, {
        warn: `${perfNumber(t.warnHours)}:`,
        crit: `${perfNumber(t.critHours)}:`,
        min: 0,
      }),
    );
  }
  return out;
}

/** "N:" (alert below N) for what is free, when something arrives; none when nothing does. */
function freeThresholds(
  inflowPerHour: number,
  t: DoctorThresholds,
): { warn?: string; crit?: string } {
  if (inflowPerHour <= 0) return {};
  return {
    warn: `${perfNumber(Math.ceil(inflowPerHour * t.warnHours))}:`,
    crit: `${perfNumber(Math.ceil(inflowPerHour * t.critHours))}:`,
  };
}
