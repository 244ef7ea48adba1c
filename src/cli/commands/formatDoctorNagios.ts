/**
 * doctor --nagios: the var dir's health as one monitoring-plugin line (Monitoring Plugins
 * Development Guidelines): status, what is wrong, perfdata. An alarm on inodes that knows why
 * they are going (the queues' inflow), which check_disk cannot know.
 */
import type { DoctorReport } from '../../mailman/diagnoseMailman.js';
import { EXIT, type ExitCode } from '../exitCodes.js';
import { printableLine } from '../output.js';
import { judgeDoctor, type DoctorJudgement } from './judgeDoctor.js';
import { formatPerfItem, perfNumber, PLUGIN_STATUS } from './formatNagios.js';
import type { DoctorThresholds } from './monitorFlags.js';

export interface DoctorNagios {
  exitCode: ExitCode;
  line: string;
}

export function formatDoctorNagios(
  report: DoctorReport,
  t: DoctorThresholds,
  judgement: DoctorJudgement = judgeDoctor(report, t),
): DoctorNagios {
  const { exitCode, critical, warning } = judgement;
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
        ...freeThresholds(inodes.inflowPerHour, t, inodes.backlog),
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
      ...freeThresholds(bytes.inflowPerHour, t, bytes.backlog),
      min: 0,
      max: fs.blocks.total * fs.blockSize,
    }),
  );
  if (report.backlog) {
    out.push(formatPerfItem('backlog_messages', report.backlog.counts.messages, { min: 0 }));
    out.push(formatPerfItem('backlog_inodes', report.backlog.inodes, { min: 0 }));
  }
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
  backlog = 0,
): { warn?: string; crit?: string } {
  // Mailman's backlog, released to an MTA spool on this filesystem, goes first (judgeDoctor).
  if (inflowPerHour <= 0 && backlog <= 0) return {};
  return {
    warn: `${perfNumber(Math.ceil(backlog + inflowPerHour * t.warnHours))}:`,
    crit: `${perfNumber(Math.ceil(backlog + inflowPerHour * t.critHours))}:`,
  };
}
