import { makeTable } from '../makeTable.js';
import type { Command } from 'commander';

import { RestoreplanError } from '../../errors.js';
import type { CheckResult, FilesystemBudget } from '../../types.js';
import { addCommonFlags, addIndexFlags, runCommand, type CliContext } from '../command.js';
import { exitCodeForVerdict } from '../exitCodes.js';
import {
  formatErrorLine,
  printableLine,
  writeJson,
  writeLine,
  writeOneLine,
  type Io,
} from '../output.js';
import { formatBytes, formatCount } from '../progressBar.js';
import { archiveArgument } from './archiveArgument.js';
import { addBudgetFlags, readBudgetFlags } from './budgetFlags.js';

export function registerCheckCommand(program: Command, ctx: CliContext): void {
  addIndexFlags(
    addCommonFlags(
      addBudgetFlags(
        program
          .command('check')
          .summary('would the restore fit, keeping the reserve? (pre-flight, read-only)')
          .description(
            'Compute, per filesystem the restore touches, the inodes and blocks restoring the selection of ARCHIVE into DIR would take, against what is free and what must stay free: exactly the selection, prices and verdict of plan with the same flags (a Mailman var dir as DIR gets the Mailman profile). Never writes anything. Exit 0 ok, 1 warning, 2 critical, 3 error (a selection of nothing is an error, never OK).',
          )
          .argument('<archive>', 'archive file, or - for stdin')
          .requiredOption(
            '--target <dir>',
            'the directory the archive (or --member-root) restores into',
          )
          .option('--nagios', 'print one monitoring-plugin line with perfdata'),
      ),
    ),
  ).action(async (archive: string, opts: Record<string, unknown>) => {
    const nagios = opts.nagios === true;
    // Both asked for: stdout still carries one document, the plugin line (a monitoring system
    // reads the first line), so the usage error is not also printed as JSON.
    const both = nagios && opts.json === true;
    await runCommand(
      ctx,
      { ...opts, ...(nagios ? { progress: false, json: false } : {}) },
      async ({ flags, progress, signal, index }) => {
        try {
          if (both) throw new RestoreplanError('USAGE', '--json and --nagios exclude each other');
          const { checkBudget } = await import('../../plan/checkBudget.js');
          const result = await checkBudget(archiveArgument(archive, ctx.io), {
            index,
            target: String(opts.target),
            ...readBudgetFlags(opts),
            signal,
            onProgress: progress.onProgress,
          });
          progress.done();
          if (nagios) writeLine(ctx.io, formatNagiosLine(result));
          else if (flags.json) writeJson(ctx.io, result);
          else renderCheck(ctx.io, result);
          return exitCodeForVerdict(result.verdict);
        } catch (error) {
          if (nagios) writeLine(ctx.io, `RESTOREPLAN UNKNOWN - ${formatErrorLine(error)}`);
          throw error;
        }
      },
    );
  });
}

function row(label: string, cells: (string | number)[]): (string | number)[] {
  return [label, ...cells];
}

export function renderCheck(io: Io, result: CheckResult): void {
  const s = result.selection;
  writeLine(
    io,
    `Selection: ${formatCount(s.entries)} entries (${formatCount(s.files)} files, ${formatCount(s.dirs)} dirs, ${formatCount(s.symlinks)} symlinks, ${formatCount(s.hardlinks)} hard links, ${formatCount(s.other)} other), ${formatBytes(s.bytes)}`,
  );
  for (const fs of result.filesystems) {
    writeLine(io, '');
    writeLine(
      io,
      `${fs.mountPoint} (${fs.fsType}, ${fs.device}, blocks of ${fs.blockSize} B): ${fs.verdict.toUpperCase()}`,
    );
    const table = makeTable(io, {
      head: ['', 'needed', 'peak', 'free', 'reserve', 'after', 'total'],
    });
    const i = fs.inodes;
    table.push(
      row(i.dynamic ? 'inodes (dynamic)' : 'inodes', [
        formatCount(i.needed),
        formatCount(i.peak),
        i.total > 0 ? formatCount(i.free) : 'n/a',
        formatCount(i.reserve),
        i.total > 0 ? formatCount(i.freeAfter) : 'n/a',
        i.total > 0 ? formatCount(i.total) : 'n/a',
      ]),
    );
    const b = fs.blocks;
    const bytes = (n: number): string => formatBytes(n * fs.blockSize);
    table.push(
      row('space (available)', [
        bytes(b.needed),
        bytes(b.peak),
        bytes(b.available),
        bytes(b.reserve),
        bytes(b.availableAfter),
        bytes(b.total),
      ]),
    );
    writeLine(io, table.toString());
  }
  if (result.problems.length > 0) {
    writeLine(io, '');
    for (const p of result.problems) writeOneLine(io, `${p.severity} ${p.kind}: ${p.message}`);
  }
  writeLine(io, '');
  writeLine(io, `Verdict: ${result.verdict.toUpperCase()}`);
}

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
