/**
 * The monitoring-plugin line of check --nagios (Monitoring Plugins Development Guidelines), and
 * the perfdata grammar doctor --nagios shares: `'label'=value[UOM];[warn];[crit];[min];[max]`.
 *
 * check's perfdata says what each number is: free NOW, needed, and what would be left AFTER
 * the restore (negative: short by that much; never labelled "free"). Its thresholds are the
 * verdict rule (src/plan/judgeBudget.ts, src/plan/evaluateBudget.ts) restated as ranges, each
 * in the slot of the status it causes:
 *   - `*_after` crit `R:` (R the reserve) only when the restore adds something: that is when
 *     eating into the reserve is critical (`short`);
 *   - `*_free` / `bytes_avail` warn `R:` only when it adds nothing: then being below the
 *     reserve is a warning (`below-reserve`);
 *   - `inodes_after` warn `W:` with W = --warn-inodes of the total (`inodes-low-after`);
 *   - `*_peak` crit `~:F` (F what is free): the temporary files must fit (`peak-short`).
 * Values are those the rule judges: usable inodes (statfs's f_ffree, less on a nearly full XFS)
 * and available bytes less XFS's create reservation (kept in the reserve slot: R + kept).
 */
import { EXIT, type ExitCode } from '../exitCodes.js';
import type { CheckResult, FilesystemBudget } from '../../types.js';
import { printableLine } from '../output.js';
import { formatBytes } from '../progressBar.js';

/** The plugin status word of an exit code. */
export const PLUGIN_STATUS: Record<ExitCode, string> = {
  [EXIT.OK]: 'OK',
  [EXIT.WARNING]: 'WARNING',
  [EXIT.CRITICAL]: 'CRITICAL',
  [EXIT.UNKNOWN]: 'UNKNOWN',
};

/** A perfdata label: always quoted (mount points may hold spaces or =); ' doubled. */
export function perfLabel(label: string): string {
  return `'${label.replace(/'/g, "''")}'`;
}

export interface PerfSlots {
  uom?: string;
  warn?: string;
  crit?: string;
  min?: number;
  max?: number;
}

/**
 * A number as the perfdata grammar has it, `[-0-9.]` only: String() writes 1e+21 and 1e-7,
 * which no perfdata parser reads (a --warn-hours of 10^21 put `1e+21:` in a threshold slot).
 * `U` (the guidelines' "undetermined") for what is not a finite number.
 */
export function perfNumber(n: number): string {
  if (!Number.isFinite(n)) return 'U';
  const text = String(n);
  return text.includes('e')
    ? n.toLocaleString('en-US', { useGrouping: false, maximumFractionDigits: 20 })
    : text;
}

/** One perfdata item; empty slots stay empty (trailing ones included, as the guidelines allow). */
export function formatPerfItem(label: string, value: number, slots: PerfSlots = {}): string {
  const num = (n: number | undefined): string => (n === undefined ? '' : perfNumber(n));
  return `${perfLabel(label)}=${perfNumber(value)}${slots.uom ?? ''};${slots.warn ?? ''};${slots.crit ?? ''};${num(slots.min)};${num(slots.max)}`;
}

/** Perfdata of one filesystem of a check (see the header for what each label means). */
export function formatPerfdata(fs: FilesystemBudget, warnInodesPercent: number): string[] {
  const m = fs.mountPoint;
  const out: string[] = [];
  const i = fs.inodes;
  const adds = (n: number): boolean => n > 0;
  if (!i.dynamic) {
    const usable = i.usable ?? i.free;
    const warnLevel = Math.ceil((i.total * warnInodesPercent) / 100);
    out.push(
      formatPerfItem(`inodes_free_${m}`, usable, {
        ...(adds(i.needed) ? {} : { warn: `${i.reserve}:` }),
        min: 0,
        max: i.total,
      }),
    );
    out.push(formatPerfItem(`inodes_needed_${m}`, i.needed, { min: 0 }));
    out.push(
      formatPerfItem(`inodes_after_${m}`, usable - i.needed, {
        warn: `${warnLevel}:`,
        ...(adds(i.needed) ? { crit: `${i.reserve}:` } : {}),
        max: i.total,
      }),
    );
    if (i.peak > 0)
      out.push(formatPerfItem(`inodes_peak_${m}`, i.peak, { crit: `~:${usable}`, min: 0 }));
  } else {
    out.push(formatPerfItem(`inodes_needed_${m}`, i.needed, { min: 0 }));
  }
  const b = fs.blocks;
  const bs = fs.blockSize;
  const kept = b.keptForCreates ?? 0;
  const floor = (b.reserve + kept) * bs;
  out.push(
    formatPerfItem(`bytes_avail_${m}`, b.available * bs, {
      uom: 'B',
      ...(adds(b.needed) ? {} : { warn: `${floor}:` }),
      min: 0,
      max: b.total * bs,
    }),
  );
  out.push(formatPerfItem(`bytes_needed_${m}`, b.needed * bs, { uom: 'B' }));
  out.push(
    formatPerfItem(`bytes_after_${m}`, (b.available - b.needed) * bs, {
      uom: 'B',
      ...(adds(b.needed) ? { crit: `${floor}:` } : {}),
      max: b.total * bs,
    }),
  );
  if (b.peak > 0) {
    out.push(
      formatPerfItem(`bytes_peak_${m}`, b.peak * bs, {
        uom: 'B',
        crit: `~:${(b.available - kept) * bs}`,
        min: 0,
      }),
    );
  }
  return out;
}

/** `RESTOREPLAN OK|WARNING|CRITICAL - <summary> | <perfdata>` (one line, plugin conventions). */
export function formatNagiosLine(result: CheckResult, warnInodesPercent: number): string {
  const status =
    result.verdict === 'ok' ? 'OK' : result.verdict === 'warning' ? 'WARNING' : 'CRITICAL';
  const worst = result.problems.find((p) => p.severity === result.verdict);
  const fits = result.filesystems
    .map(
      (fs) =>
        `${fs.mountPoint} needs ${fs.inodes.needed} inodes and ${formatBytes(fs.blocks.needed * fs.blockSize)}`,
    )
    .join(', ');
  const summary =
    worst && result.verdict !== 'ok'
      ? worst.message
      : `restore fits: ${fits || 'nothing selected'}`;
  const perfdata = result.filesystems
    .flatMap((fs) => formatPerfdata(fs, warnInodesPercent))
    .join(' ');
  // "|" separates output from perfdata: it must not appear in the summary.
  return printableLine(`RESTOREPLAN ${status} - ${summary.replace(/\|/g, '/')} | ${perfdata}`);
}

/** The plugin line of a check that could not run: UNKNOWN (exit 3). */
export function formatCheckUnknown(errorLine: string): string {
  return printableLine(`RESTOREPLAN UNKNOWN - ${errorLine.replace(/\|/g, '/')}`);
}
