/**
 * `apply --syslog`: the run's actions (ApplyActionEvent) as one syslog line each, tagged
 * `restoreplan` with the process id, so that `journalctl -t restoreplan` (or grep in
 * /var/log/syslog) gives the next incident its timeline: what was restored, skipped, when a run
 * stopped and when one resumed, and each run's start and end with the plan it carried out.
 *
 * Transport: logger(1) from util-linux (Debian: bsdutils, which is Essential: on every Debian
 * system), ONE process for the whole run, fed a line per action on stdin with `--prio-prefix`
 * (each line's `<PRI>` sets its priority). Node has no unix datagram sockets, and a spawn per
 * action would fork once per restored file. Not systemd-cat: it writes only to journald, and
 * the incident hosts may have rsyslog on /dev/log, which logger writes to either way (journald
 * serves /dev/log too); nor could a test point it at a socket of its own. The socket is
 * /dev/log unless RESTOREPLAN_SYSLOG_SOCKET names another (tests, containers with a syslog
 * socket mounted elsewhere).
 *
 * The trail is asked for, so it is proven before anything is written: a first message (the
 * invocation) is sent with `--socket-errors=on` and its exit status waited for; logger
 * missing or the socket not taking it is SYSLOG_UNAVAILABLE and apply does not start. If the
 * trail breaks later (syslogd restarted, logger killed) the restore is NOT left half done for
 * it: one warning on stderr, and the JSON/human result and the journal remain the record.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';

import { RestoreplanError, type ErrorCode } from '../errors.js';
import { isSatisfied } from '../apply/skipCatalog.js';
import type { ApplyActionEvent } from '../types.js';
import { printableLine, writeNoteLine, type Io } from './output.js';

/** The default syslog socket (rsyslog's, or journald's syslog socket under systemd). */
const DEFAULT_SOCKET = '/dev/log';
/** The environment variable that names another socket (tests, containers). */
export const SYSLOG_SOCKET_ENV = 'RESTOREPLAN_SYSLOG_SOCKET';
export const SYSLOG_TAG = 'restoreplan';
/** rsyslog's default maximum message size: a longer line is cut, never split into two. */
const MAX_LINE_CHARS = 8000;
/** How long the end of the run waits for logger to deliver the last lines. */
const CLOSE_TIMEOUT_MS = 5000;

/** The facility and level of each line: user.notice, user.warning, user.err. */
export type AuditPriority = 'notice' | 'warning' | 'err';
const PRI: Record<AuditPriority, number> = { err: 8 + 3, warning: 8 + 4, notice: 8 + 5 };

/** What the CLI itself adds to the core's actions: the invocation, and an error thrown. */
export type AuditEvent =
  | ApplyActionEvent
  | { action: 'invoked'; planFile: string; planSha256: string | null; archive: string }
  | { action: 'error'; code: ErrorCode; message: string };

export interface AuditLine {
  priority: AuditPriority;
  /** One line, `action=... key=value ...`: values quoted and escaped when they need it. */
  text: string;
}

/**
 * A value as grep and a reader take it: bare when it is one plain word, else in double quotes
 * with `\` and `"` escaped; a newline as `\n`; every other control or invisible character
 * escaped by printableLine (`\x1b`, `\u202e`). A list or file name can thus never start a
 * line, end one, or pass for another key.
 */
export function auditValue(value: string | number): string {
  if (typeof value === 'number') return String(value);
  const escaped = printableLine(
    value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n'),
  );
  return escaped !== '' && !/[\s"=]/u.test(escaped) ? escaped : `"${escaped}"`;
}

function fields(entries: ReadonlyArray<[string, string | number | undefined | null]>): string {
  return entries
    .filter(
      (entry): entry is [string, string | number] => entry[1] !== undefined && entry[1] !== null,
    )
    .map(([key, value]) => `${key}=${auditValue(value)}`)
    .join(' ');
}

/** The syslog line for an event: the one place its wording and priority are decided. */
export function formatAuditLine(event: AuditEvent, planSha256: string | null = null): AuditLine {
  const line = (
    priority: AuditPriority,
    ...entries: Array<[string, string | number | undefined | null]>
  ): AuditLine => {
    const text = fields([['action', event.action], ...entries]);
    const chars = [...text];
    return {
      priority,
      text: chars.length <= MAX_LINE_CHARS ? text : `${chars.slice(0, MAX_LINE_CHARS).join('')}...`,
    };
  };
  switch (event.action) {
    case 'invoked':
      return line(
        'notice',
        ['plan_file', event.planFile],
        ['plan_sha256', event.planSha256],
        ['archive', event.archive],
        ['uid', process.getuid?.() ?? null],
      );
    case 'started':
      return line(
        'notice',
        ['plan_sha256', planSha256],
        ['plan_created', event.planCreatedAt],
        ['archive_fingerprint', event.archiveFingerprint],
        ['journal', event.journal],
        ['steps', event.steps],
      );
    case 'resumed':
      return line('notice', ['journal', event.journal], ['done_before', event.done]);
    case 'restored':
      return line(
        'notice',
        ['target', event.targetPath],
        ['type', event.type],
        ['bytes', event.bytes],
        ['sha256', event.sha256],
        ['member', event.memberPath],
        ['stage', event.stage],
      );
    case 'skipped':
      return line(
        isSatisfied(event.kind) ? 'notice' : 'warning',
        ['target', event.targetPath],
        ['kind', event.kind],
        ['reason', event.reason],
      );
    case 'stopped':
      return line('warning', ['reason', event.reason]);
    case 'ended':
      return line(
        event.status === 'failed'
          ? 'err'
          : event.status === 'stopped' || event.status === 'incomplete'
            ? 'warning'
            : 'notice',
        ['status', event.status],
        ['restored', event.restored],
        ['skipped', event.skipped],
        ['plan_sha256', planSha256],
        ['plan_created', event.planCreatedAt],
        ['archive_fingerprint', event.archiveFingerprint],
        ['code', event.error?.code],
        ['reason', event.reason],
      );
    case 'error':
      return line('err', ['code', event.code], ['message', event.message]);
  }
}

export interface AuditTrail {
  write(event: AuditEvent): void;
  /** Ends logger's input and waits (a bounded time) for it to deliver the last lines. */
  close(): Promise<void>;
}

function loggerArgs(socket: string): string[] {
  return [
    '--socket-errors=on',
    '--socket',
    socket,
    '--tag',
    SYSLOG_TAG,
    `--id=${process.pid}`,
    '--size',
    String(MAX_LINE_CHARS * 4 + 64),
  ];
}

function unavailable(socket: string, why: string): RestoreplanError {
  return new RestoreplanError(
    'SYSLOG_UNAVAILABLE',
    `--syslog: ${why}: nothing was written (the audit trail was asked for)`,
    {
      socket,
      hint: `install logger(1) (Debian: apt-get install bsdutils) and run a syslog daemon or journald on ${socket}${socket === DEFAULT_SOCKET ? ` (or set ${SYSLOG_SOCKET_ENV})` : ''}; or run apply without --syslog`,
    },
  );
}

/**
 * Opens the trail: sends `first` (the invocation) and waits for logger's verdict on it, then
 * starts the one logger that takes the rest of the run. Throws SYSLOG_UNAVAILABLE.
 */
export function openSyslog(
  io: Io,
  first: AuditEvent,
  options: { planSha256: string | null; env?: NodeJS.ProcessEnv } = { planSha256: null },
): AuditTrail {
  const env = options.env ?? process.env;
  const socket = env[SYSLOG_SOCKET_ENV] || DEFAULT_SOCKET;
  const args = loggerArgs(socket);
  const opening = formatAuditLine(first, options.planSha256);
  const probe = spawnSync(
    'logger',
    [...args, '--priority', `user.${opening.priority}`, '--', opening.text],
    {
      encoding: 'utf8',
      stdio: ['ignore', 'ignore', 'pipe'],
      timeout: CLOSE_TIMEOUT_MS,
    },
  );
  if (probe.error) {
    const code = (probe.error as NodeJS.ErrnoException).code;
    throw unavailable(
      socket,
      code === 'ENOENT'
        ? 'logger(1) is not installed'
        : `running logger failed: ${code ?? probe.error.message}`,
    );
  }
  if (probe.status !== 0) {
    const detail = (probe.stderr ?? '').trim().split('\n')[0] ?? '';
    throw unavailable(
      socket,
      `the syslog socket ${socket} does not take messages${detail ? ` (${detail})` : ''}`,
    );
  }
  const child: ChildProcess = spawn('logger', [...args, '--prio-prefix'], {
    stdio: ['pipe', 'ignore', 'pipe'],
  });
  let broken = false;
  let closing = false;
  let errorText = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (text: string) => {
    if (errorText.length < 1024) errorText += text;
  });
  const exited = new Promise<void>((resolve) => {
    child.on('close', (code, signal) => {
      if (code !== 0 && !closing)
        breakTrail(
          `logger ${signal ? `was killed by ${signal}` : `exited ${code}`}${errorText.trim() ? `: ${errorText.trim().split('\n')[0]}` : ''}`,
        );
      resolve();
    });
  });
  function breakTrail(why: string): void {
    if (broken) return;
    broken = true;
    writeNoteLine(
      io,
      `warning: the --syslog audit trail stopped (${why}); apply goes on: its result and journal remain the record`,
    );
  }
  child.on('error', (error: NodeJS.ErrnoException) =>
    breakTrail(`logger: ${error.code ?? error.message}`),
  );
  child.stdin?.on('error', (error: NodeJS.ErrnoException) =>
    breakTrail(`writing to logger: ${error.code ?? error.message}`),
  );
  return {
    write(event) {
      if (broken || !child.stdin || child.stdin.destroyed) return;
      const { priority, text } = formatAuditLine(event, options.planSha256);
      child.stdin.write(`<${PRI[priority]}>${text}\n`);
    },
    async close() {
      closing = true;
      child.stdin?.end();
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        exited,
        new Promise<void>((resolve) => {
          timer = setTimeout(() => {
            breakTrail(`logger did not finish within ${CLOSE_TIMEOUT_MS / 1000} s`);
            child.kill();
            resolve();
          }, CLOSE_TIMEOUT_MS);
        }),
      ]);
      clearTimeout(timer);
      if (child.exitCode !== null && child.exitCode !== 0) {
        breakTrail(
          `logger exited ${child.exitCode}${errorText.trim() ? `: ${errorText.trim().split('\n')[0]}` : ''}`,
        );
      }
    },
  };
}
