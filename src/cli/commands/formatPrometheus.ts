/**
 * --prometheus: doctor's and check's results in the Prometheus text exposition format, for
 * node_exporter's textfile collector. prom-client writes the format (escaping label values: a
 * list name may hold quotes, backslashes, newlines), on a Registry of our own: no default
 * metrics, nothing from the process. Loaded only when --prometheus is given.
 *
 * Names follow Prometheus' conventions (base units in the name: _seconds, _bytes, _files) and
 * node_exporter's labels (mountpoint, device, fstype) so rules can join with
 * node_filesystem_*. doctor's and check's families have prefixes of their own
 * (restoreplan_mailman_, restoreplan_check_): both files can sit in one textfile directory
 * without a series collected twice.
 */
import { Gauge, Registry } from 'prom-client';

import type { DoctorReport } from '../../mailman/diagnoseMailman.js';
import type { CheckResult, ListStatus, Verdict } from '../../types.js';
import { EXIT } from '../exitCodes.js';
import type { DoctorJudgement } from './judgeDoctor.js';

const LIST_STATUSES: readonly ListStatus[] = ['ok', 'degraded', 'corrupt', 'lost', 'missing'];
const VERDICT_VALUE: Record<Verdict, number> = { ok: 0, warning: 1, critical: 2 };
const FS_LABELS = ['mountpoint', 'device', 'fstype'] as const;

function gauge<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: readonly L[] = [],
): Gauge<L> {
  return new Gauge({ name, help, labelNames: [...labelNames], registers: [registry] });
}

function lastRun(registry: Registry, command: string, now: Date): void {
  gauge(
    registry,
    'restoreplan_last_run_timestamp_seconds',
    'When restoreplan wrote these metrics (alert when it stops: the file is kept as it was when a run fails).',
    ['command'],
  ).set({ command }, Math.floor(now.getTime() / 1000));
}

/** The exposition of a doctor run. */
export async function formatDoctorPrometheus(
  report: DoctorReport,
  judgement: DoctorJudgement,
  now = new Date(),
): Promise<string> {
  const registry = new Registry();
  // The verdict of every other output (judgeDoctor's, as the exit code): an alert rule on it
  // fires exactly when --nagios would, with the same thresholds.
  const verdict: Verdict =
    judgement.exitCode === EXIT.CRITICAL
      ? 'critical'
      : judgement.exitCode === EXIT.WARNING
        ? 'warning'
        : 'ok';
  gauge(
    registry,
    'restoreplan_mailman_verdict',
    "doctor's verdict, as its exit code and --nagios have it: 0 ok, 1 warning, 2 critical.",
    ['verdict'],
  ).set({ verdict }, VERDICT_VALUE[verdict]);
  const status = gauge(
    registry,
    'restoreplan_mailman_list_status',
    "1 for the list's status as Mailman would load it (ok, degraded, corrupt, lost, missing), 0 for the others.",
    ['list', 'status'],
  );
  for (const list of report.lists) {
    for (const s of LIST_STATUSES)
      status.set({ list: list.name, status: s }, s === list.status ? 1 : 0);
  }
  const lists = gauge(registry, 'restoreplan_mailman_lists', 'Lists by status.', ['status']);
  for (const s of LIST_STATUSES) lists.set({ status: s }, report.summary[s]);

  const files = gauge(
    registry,
    'restoreplan_mailman_queue_files',
    'Files (messages) in a Mailman queue.',
    ['queue'],
  );
  const inflow = gauge(
    registry,
    'restoreplan_mailman_queue_inflow_files_per_second',
    'Files that arrived in a queue during the last hour, per second.',
    ['queue'],
  );
  for (const [queue, count] of Object.entries(report.queues)) {
    files.set({ queue }, count.files);
    inflow.set({ queue }, count.inflowLastHour / 3600);
  }

  const fs = report.filesystem;
  const labels = { mountpoint: fs.mountPoint, device: fs.device, fstype: fs.fsType };
  if (!fs.dynamicInodes) {
    gauge(
      registry,
      'restoreplan_mailman_filesystem_files_free',
      "Inodes a new file can take on the var dir's filesystem.",
      FS_LABELS,
    ).set(labels, report.forecast.inodes.free);
    gauge(
      registry,
      'restoreplan_mailman_filesystem_files',
      "Inodes of the var dir's filesystem.",
      FS_LABELS,
    ).set(labels, fs.inodes.total);
  }
  gauge(
    registry,
    'restoreplan_mailman_filesystem_avail_bytes',
    "Bytes available to an unprivileged user (Mailman) on the var dir's filesystem.",
    FS_LABELS,
  ).set(labels, fs.blocks.available * fs.blockSize);
  gauge(
    registry,
    'restoreplan_mailman_filesystem_size_bytes',
    "Size of the var dir's filesystem.",
    FS_LABELS,
  ).set(labels, fs.blocks.total * fs.blockSize);
  const exhaustion = gauge(
    registry,
    'restoreplan_mailman_exhaustion_seconds',
    "Seconds until the resource (inodes, bytes) runs out at the queues' inflow of the last hour; absent when nothing arrives.",
    [...FS_LABELS, 'resource'],
  );
  for (const [resource, forecast] of [
    ['inodes', report.forecast.inodes],
    ['bytes', report.forecast.bytes],
  ] as const) {
    if (forecast.hours !== null) exhaustion.set({ ...labels, resource }, forecast.hours * 3600);
  }
  if (report.backlog) {
    const mta = { mta: report.backlog.mta, spool: report.backlog.spool };
    gauge(
      registry,
      'restoreplan_mailman_backlog_messages',
      "Messages Mailman's queues hand to the MTA once the lists run (the shunted posts of the lists that are down included).",
      ['mta', 'spool'],
    ).set(mta, report.backlog.counts.messages);
    gauge(
      registry,
      'restoreplan_mailman_backlog_inodes',
      "Inodes that backlog takes in the MTA's spool, queued at once.",
      ['mta', 'spool'],
    ).set(mta, report.backlog.inodes);
  }
  gauge(
    registry,
    'restoreplan_mailman_qrunner_running',
    '1 when the master qrunner named in data/master-qrunner.pid is alive.',
  ).set(report.mailmanRunning ? 1 : 0);
  gauge(
    registry,
    'restoreplan_mailman_qrunner_pid_stale',
    '1 when data/master-qrunner.pid names a process that is gone: the qrunners should run but do not.',
  ).set(report.qrunnerPidStale ? 1 : 0);
  lastRun(registry, 'doctor', now);
  return registry.metrics();
}

/** The exposition of a check run. */
export async function formatCheckPrometheus(
  result: CheckResult,
  now = new Date(),
): Promise<string> {
  const registry = new Registry();
  const needInodes = gauge(
    registry,
    'restoreplan_check_inodes_needed',
    'Inodes the restore adds on a filesystem.',
    FS_LABELS,
  );
  const needBytes = gauge(
    registry,
    'restoreplan_check_bytes_needed',
    'Bytes the restore adds on a filesystem (negative: it frees some).',
    FS_LABELS,
  );
  const reserveInodes = gauge(
    registry,
    'restoreplan_check_inodes_reserve',
    'Inodes that must stay free after the restore.',
    FS_LABELS,
  );
  const reserveBytes = gauge(
    registry,
    'restoreplan_check_bytes_reserve',
    'Bytes that must stay available after the restore.',
    FS_LABELS,
  );
  const freeInodes = gauge(
    registry,
    'restoreplan_check_filesystem_files_free',
    'Inodes a new file can take now.',
    FS_LABELS,
  );
  const availBytes = gauge(
    registry,
    'restoreplan_check_filesystem_avail_bytes',
    'Bytes available to an unprivileged user now.',
    FS_LABELS,
  );
  const fsVerdict = gauge(
    registry,
    'restoreplan_check_filesystem_verdict',
    'The verdict on one filesystem: 0 ok, 1 warning, 2 critical.',
    [...FS_LABELS, 'verdict'],
  );
  for (const fs of result.filesystems) {
    const labels = { mountpoint: fs.mountPoint, device: fs.device, fstype: fs.fsType };
    needInodes.set(labels, fs.inodes.needed);
    needBytes.set(labels, fs.blocks.needed * fs.blockSize);
    reserveBytes.set(labels, fs.blocks.reserve * fs.blockSize);
    availBytes.set(labels, fs.blocks.available * fs.blockSize);
    if (!fs.inodes.dynamic) {
      reserveInodes.set(labels, fs.inodes.reserve);
      freeInodes.set(labels, fs.inodes.usable ?? fs.inodes.free);
    }
    fsVerdict.set({ ...labels, verdict: fs.verdict }, VERDICT_VALUE[fs.verdict]);
  }
  gauge(
    registry,
    'restoreplan_check_verdict',
    'Would the restore fit, keeping the reserve: 0 ok, 1 warning, 2 critical.',
    ['verdict'],
  ).set({ verdict: result.verdict }, VERDICT_VALUE[result.verdict]);
  lastRun(registry, 'check', now);
  return registry.metrics();
}
