/**
 * A one-line progress display on stderr, only when stderr is a TTY, never with --json, and
 * off with --no-progress (CONTRACT.md). It redraws in place and clears itself when done.
 */
import type { ProgressCallback, ProgressEvent, ProgressPhase } from '../progress.js';
import {
  cutToWidth,
  markProgressLine,
  printableLine,
  type GlobalFlags,
  type Io,
} from './output.js';

export interface ProgressDisplay {
  onProgress: ProgressCallback;
  done: () => void;
}

const noDisplay: ProgressDisplay = { onProgress: () => {}, done: () => {} };

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

/** What each phase is doing, as the line's first word. */
const PHASE_LABELS: Record<ProgressPhase, string> = {
  scan: 'reading',
  probe: 'probing',
  diagnose: 'diagnosing',
  plan: 'planning',
  apply: 'applying',
  verify: 'verifying',
};

/** What `done`/`total` count, by phase. */
const COUNT_NOUNS: Record<ProgressPhase, string> = {
  scan: 'members',
  probe: 'members',
  diagnose: 'lists',
  plan: 'members',
  apply: 'steps',
  verify: 'members',
};

const COMPRESSION_SUFFIXES: Record<NonNullable<ProgressEvent['compression']>, string> = {
  gzip: 'gz',
  bzip2: 'bz2',
  xz: 'xz',
  zstd: 'zst',
};

/** Columns assumed when the terminal does not say (a pty that reports 0, a serial console). */
const UNKNOWN_COLUMNS = 80;

function percent(part: number, whole: number): string {
  return `${Math.min(100, Math.floor((part / whole) * 100))}%`;
}

/**
 * The progress line for `event` on a terminal of `columns` columns (0 or undefined: unknown,
 * taken as 80), cut to one column less (terminal columns: a wide character takes two) so that
 * it never wraps. The percentage and the rate are of the same bytes: for compressed input the
 * compressed bytes read of the file's size (what can be known in advance), with the
 * decompressed bytes beside them as `out`; without a size
 * (stdin) there is no percentage. E.g. `reading  34% of 120.0 MiB gz at 12.0 MiB/s  ·  47.0 MiB
 * out  ·  58,000 members`.
 */
export function formatProgressLine(event: ProgressEvent, columns: number | undefined): string {
  const parts: string[] = [PHASE_LABELS[event.phase]];
  const seconds = (event.elapsedMs ?? 0) / 1000;
  const read = event.inputBytes ?? event.bytes;
  if (read !== undefined) {
    const suffix = event.compression ? ` ${COMPRESSION_SUFFIXES[event.compression]}` : '';
    let text =
      event.totalBytes !== undefined && event.totalBytes > 0
        ? `${percent(read, event.totalBytes)} of ${formatBytes(event.totalBytes)}${suffix}`
        : `${formatBytes(read)}${suffix}`;
    if (seconds > 0 && read > 0) text += ` at ${formatBytes(Math.round(read / seconds))}/s`;
    parts.push(text);
    if (event.inputBytes !== undefined && event.bytes !== undefined)
      parts.push(`${formatBytes(event.bytes)} out`);
  }
  if (event.done !== undefined) {
    const noun = COUNT_NOUNS[event.phase];
    parts.push(
      event.total !== undefined && event.total > 0
        ? `${read === undefined || !event.totalBytes ? `${percent(event.done, event.total)} ` : ''}${formatCount(event.done)}/${formatCount(event.total)} ${noun}`
        : `${formatCount(event.done)} ${noun}`,
    );
  }
  if (event.item) parts.push(printableLine(event.item));
  const line = parts[0]! + (parts.length > 1 ? `  ${parts.slice(1).join('  ·  ')}` : '');
  const width = (columns !== undefined && columns > 0 ? columns : UNKNOWN_COLUMNS) - 1;
  // Cut by terminal columns, not characters: a path in Japanese counted by characters took
  // twice the width, wrapped, and every redraw (which clears one line) left a line behind.
  return cutToWidth(line, width);
}

export function createProgressDisplay(io: Io, flags: GlobalFlags): ProgressDisplay {
  if (flags.json || !flags.progress || !io.stderr.isTTY) return noDisplay;
  let shown = false;
  return {
    onProgress(event) {
      io.stderr.write(`\r\x1b[2K${formatProgressLine(event, io.stderr.columns)}`);
      shown = true;
      markProgressLine(io, true);
    },
    done() {
      if (shown) io.stderr.write('\r\x1b[2K');
      shown = false;
      markProgressLine(io, false);
    },
  };
}
