/** The monitoring-plugin line of check --nagios (Monitoring Plugins Development Guidelines). */
import type { CheckResult, FilesystemBudget } from '../../types.js';
import { printableLine } from '../output.js';
import { formatBytes } from '../progressBar.js';

/** A perfdata label: always quoted (mount points may hold spaces or =); ' doubled. */
export function perfLabel(label: string): string {
  return `'${label.replace(/'/g, "''")}'`;
}

function perf(
  label: string,
  value: number,
  uom = '',
  warn = '',
  crit = '',
  min = '',
  max = '',
): string {
  return `${perfLabel(label)}=${value}${uom};${warn};${crit};${min};${max}`;
}

/** Perfdata of one filesystem: what stays free afterwards (with the thresholds) and the demand. */
export function formatPerfdata(fs: FilesystemBudget, warnInodes?: number): string[] {
  const m = fs.mountPoint;
  const out: string[] = [];
  if (!fs.inodes.dynamic) {
    // Ranges "N:" alert when the value falls below N (plugin guidelines, threshold format).
    const warn = warnInodes !== undefined ? `${warnInodes}:` : '';
    out.push(
      perf(
        `inodes_free_${m}`,
        fs.inodes.freeAfter,
        '',
        warn,
        `${fs.inodes.reserve}:`,
        '0',
        String(fs.inodes.total),
      ),
    );
  }
  out.push(perf(`inodes_needed_${m}`, fs.inodes.needed, '', '', '', '0'));
  const bs = fs.blockSize;
  out.push(
    perf(
      `bytes_avail_${m}`,
      fs.blocks.availableAfter * bs,
      'B',
      '',
      `${fs.blocks.reserve * bs}:`,
      '0',
      String(fs.blocks.total * bs),
    ),
  );
  out.push(perf(`bytes_needed_${m}`, fs.blocks.needed * bs, 'B', '', '', '0'));
  return out;
}

/** `RESTOREPLAN OK|WARNING|CRITICAL - <summary> | <perfdata>` (one line, plugin conventions). */
export function formatNagiosLine(result: CheckResult): string {
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
  const perfdata = result.filesystems.flatMap((fs) => formatPerfdata(fs)).join(' ');
  // "|" separates output from perfdata: it must not appear in the summary.
  return printableLine(`RESTOREPLAN ${status} - ${summary.replace(/\|/g, '/')} | ${perfdata}`);
}
