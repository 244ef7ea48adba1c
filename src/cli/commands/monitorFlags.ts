/**
 * The monitoring outputs' flags, shared by check and doctor: --nagios (one plugin line on
 * stdout), --prometheus FILE (the text exposition format, for node_exporter's textfile
 * collector; `-` is stdout), and doctor's thresholds. stdout carries exactly one document, so
 * the outputs that would share it exclude each other (USAGE).
 */
import { RestoreplanError } from '../../errors.js';

export interface MonitorOutputs {
  json: boolean;
  nagios: boolean;
  /** The file to write the Prometheus text to; `-` for stdout; undefined: none. */
  prometheus: string | undefined;
}

/** The outputs asked for; USAGE when two would print on stdout. */
export function readMonitorOutputs(opts: Record<string, unknown>): MonitorOutputs {
  const json = opts.json === true;
  const nagios = opts.nagios === true;
  const prometheus = typeof opts.prometheus === 'string' ? opts.prometheus : undefined;
  if (prometheus === '') {
    throw new RestoreplanError('USAGE', '--prometheus needs a file (or - for stdout)');
  }
  if (json && nagios) {
    throw new RestoreplanError('USAGE', '--json and --nagios exclude each other', {
      hint: 'stdout carries one document: ask for one of them',
    });
  }
  if (prometheus === '-' && (json || nagios)) {
    throw new RestoreplanError(
      'USAGE',
      `--prometheus - and ${json ? '--json' : '--nagios'} exclude each other`,
      { hint: 'stdout carries one document: write the metrics to a file (--prometheus FILE)' },
    );
  }
  return { json, nagios, prometheus };
}

export interface DoctorThresholds {
  /** WARNING when inodes or space run out within this many hours at the measured inflow. */
  warnHours: number;
  /** CRITICAL when they run out within this many hours. */
  critHours: number;
  /** WARNING when a queue holds more files than this; undefined: no threshold. */
  warnQueue?: number;
  /** CRITICAL when a queue holds more files than this; undefined: no threshold. */
  critQueue?: number;
}

/** A day's warning before the inodes run out: someone reads it next morning. */
export const DEFAULT_WARN_HOURS = 24;
/** Four hours: the time to get someone to the console at night and act. */
export const DEFAULT_CRIT_HOURS = 4;

function parseNumber(option: string, value: unknown, integer: boolean): number {
  const text = String(value).trim();
  // Hours take a trailing "h", as --growth-window does ("4h").
  const match = integer ? /^(\d+)$/.exec(text) : /^(\d+(?:\.\d+)?)\s*h?$/i.exec(text);
  const ok = match !== null;
  const number = Number(match?.[1]);
  if (!ok || !Number.isFinite(number)) {
    throw new RestoreplanError(
      'USAGE',
      `${option} ${JSON.stringify(String(value))}: expected ${integer ? 'a whole number of files, 0 or more' : 'a number of hours, 0 or more'}`,
      { option, value: String(value) },
    );
  }
  // Past 2^53 a number is no longer the one given (and perfdata would carry 1e+23).
  if (number > Number.MAX_SAFE_INTEGER) {
    throw new RestoreplanError(
      'USAGE',
      `${option} ${JSON.stringify(String(value))}: too large (at most ${Number.MAX_SAFE_INTEGER})`,
      { option, value: String(value) },
    );
  }
  return number;
}

/** doctor's --warn-hours/--crit-hours/--warn-queue/--crit-queue; USAGE on a bad or inverted pair. */
export function readDoctorThresholds(opts: Record<string, unknown>): DoctorThresholds {
  const warnHours =
    opts.warnHours !== undefined
      ? parseNumber('--warn-hours', opts.warnHours, false)
      : DEFAULT_WARN_HOURS;
  const critHours =
    opts.critHours !== undefined
      ? parseNumber('--crit-hours', opts.critHours, false)
      : DEFAULT_CRIT_HOURS;
  if (warnHours < critHours) {
    throw new RestoreplanError(
      'USAGE',
      `--warn-hours ${warnHours} is under --crit-hours ${critHours}: the warning comes first, so it needs more hours`,
    );
  }
  const warnQueue =
    opts.warnQueue !== undefined ? parseNumber('--warn-queue', opts.warnQueue, true) : undefined;
  const critQueue =
    opts.critQueue !== undefined ? parseNumber('--crit-queue', opts.critQueue, true) : undefined;
  if (warnQueue !== undefined && critQueue !== undefined && warnQueue > critQueue) {
    throw new RestoreplanError(
      'USAGE',
      `--warn-queue ${warnQueue} is over --crit-queue ${critQueue}: the warning comes first, so it needs fewer files`,
    );
  }
  return {
    warnHours,
    critHours,
    ...(warnQueue !== undefined ? { warnQueue } : {}),
    ...(critQueue !== undefined ? { critQueue } : {}),
  };
}
