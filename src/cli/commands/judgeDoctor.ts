/**
 * doctor's verdict, one rule for every output: the screen's exit code, --json's, --quiet's line,
 * --nagios' status and --prometheus'. Two copies of it disagreed (an unreadable alias file was
 * WARNING on the plugin line and exit 0 on the screen; stale qrunners and a forecast exhaustion
 * were CRITICAL for Nagios and green for the operator at the console), so there is one.
 */
import path from 'node:path';

import type { DoctorReport } from '../../mailman/diagnoseMailman.js';
import type { ProblemKind } from '../../problems.js';
import { EXIT, type ExitCode } from '../exitCodes.js';
import { formatBytes, formatCount } from '../progressBar.js';
import { formatHours } from './describeForecast.js';
import { DEFAULT_CRIT_HOURS, DEFAULT_WARN_HOURS, type DoctorThresholds } from './monitorFlags.js';

/** Names shown before "and N more": the verdict must stay one readable line. */
const NAMES_SHOWN = 5;

export const DEFAULT_DOCTOR_THRESHOLDS: DoctorThresholds = {
  warnHours: DEFAULT_WARN_HOURS,
  critHours: DEFAULT_CRIT_HOURS,
};

export interface DoctorJudgement {
  exitCode: ExitCode;
  /** What makes it critical, then what makes it a warning: short clauses, most urgent first. */
  critical: string[];
  warning: string[];
}

/** Problems a clause below already sums up (the rest of severity warning or above are said as they are). */
const SUMMED_UP = new Set<ProblemKind>([
  'list-corrupt',
  'list-lost',
  'list-missing',
  'list-degraded',
  'no-lists',
  'alias-file-unreadable',
]);

function names(items: string[]): string {
  const shown = items.slice(0, NAMES_SHOWN).join(', ');
  return items.length > NAMES_SHOWN ? `${shown} and ${items.length - NAMES_SHOWN} more` : shown;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/**
 * Exhaustion within `hours` at the measured inflow: free < inflow × hours (the forecast's
 * hours are free / inflow). Nothing free at all is always within any window.
 */
function runsOutWithin(free: number, inflowPerHour: number, hours: number): boolean {
  return free <= 0 || free < inflowPerHour * hours;
}

export function judgeDoctor(
  report: Pick<
    DoctorReport,
    'lists' | 'problems' | 'qrunnerPidStale' | 'mailmanPid' | 'queues' | 'forecast' | 'root'
  >,
  t: DoctorThresholds = DEFAULT_DOCTOR_THRESHOLDS,
): DoctorJudgement {
  const critical: string[] = [];
  const warning: string[] = [];

  const down = report.lists.filter(
    (l) => l.status === 'corrupt' || l.status === 'lost' || l.status === 'missing',
  );
  if (down.length > 0) {
    critical.push(
      `${plural(down.length, 'list')} down: ${names(down.map((l) => `${l.name} (${l.status})`))}`,
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
      `${plural(degraded.length, 'list')} degraded: ${names(degraded.map((l) => l.name))}`,
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
  // Every other problem keeps its catalog severity (docs/problems: warning means exit 1 at
  // least): an interrupted save, a broken request.pck, a list locked by a live process.
  for (const severity of ['critical', 'warning'] as const) {
    const rest = report.problems.filter((p) => p.severity === severity && !SUMMED_UP.has(p.kind));
    const byKind = new Map<string, string[]>();
    for (const p of rest) byKind.set(p.kind, [...(byKind.get(p.kind) ?? []), p.list ?? p.message]);
    for (const [kind, subjects] of byKind) {
      (severity === 'critical' ? critical : warning).push(`${kind}: ${names(subjects)}`);
    }
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
    // Mailman's backlog, released to an MTA spool on this filesystem, goes first.
    const spare = f.free - (f.backlog ?? 0);
    const when =
      f.free <= 0
        ? `no ${resource === 'inodes' ? 'inode' : 'space'} free`
        : spare <= 0
          ? `${resource} exhausted by Mailman's backlog once it reaches the MTA (${resource === 'inodes' ? `${formatCount(f.backlog ?? 0)} inodes` : formatBytes(f.backlog ?? 0)}, ${resource === 'inodes' ? formatCount(f.free) : formatBytes(f.free)} free)`
          : `${resource} exhausted in ${formatHours(f.hours ?? 0)} at ${rate}/h${f.backlog ? ' after the backlog reaches the MTA' : ''}`;
    if (runsOutWithin(spare, f.inflowPerHour, t.critHours)) critical.push(when);
    else if (runsOutWithin(spare, f.inflowPerHour, t.warnHours)) warning.push(when);
  }
  const exitCode =
    critical.length > 0 ? EXIT.CRITICAL : warning.length > 0 ? EXIT.WARNING : EXIT.OK;
  return { exitCode, critical, warning };
}
