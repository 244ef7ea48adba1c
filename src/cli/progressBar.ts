/**
 * A one-line progress display on stderr, only when stderr is a TTY, never with --json, and
 * off with --no-progress (CONTRACT.md). It redraws in place and clears itself when done.
 */
import type { ProgressCallback, ProgressEvent } from '../progress.js';
import type { GlobalFlags, Io } from './output.js';

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

function describe(event: ProgressEvent): string {
  const parts: string[] = [event.phase];
  const seconds = (event.elapsedMs ?? 0) / 1000;
  const measured = event.inputBytes ?? event.bytes;
  if (event.totalBytes && measured !== undefined) {
    parts.push(`${Math.min(100, (measured / event.totalBytes) * 100).toFixed(0)}%`);
  }
  if (event.bytes !== undefined) {
    parts.push(formatBytes(event.bytes));
    if (seconds > 0) parts.push(`${formatBytes(event.bytes / seconds)}/s`);
  }
  if (event.done !== undefined) {
    parts.push(
      event.total !== undefined
        ? `${formatCount(event.done)}/${formatCount(event.total)}`
        : `${formatCount(event.done)} members`,
    );
    if (seconds > 0 && event.total === undefined)
      parts.push(`${formatCount(Math.round(event.done / seconds))}/s`);
  }
  if (event.item) parts.push(event.item);
  return parts.join('  ');
}

export function createProgressDisplay(io: Io, flags: GlobalFlags): ProgressDisplay {
  if (flags.json || !flags.progress || !io.stderr.isTTY) return noDisplay;
  let shown = false;
  return {
    onProgress(event) {
      const width = Math.max(20, (io.stderr.columns ?? 80) - 1);
      io.stderr.write(`\r\x1b[2K${describe(event).slice(0, width)}`);
      shown = true;
    },
    done() {
      if (shown) io.stderr.write('\r\x1b[2K');
      shown = false;
    },
  };
}
