import type { Command } from 'commander';

import { RestoreplanError } from '../../errors.js';
import { addCommonFlags, addIndexFlags, runCommand, type CliContext } from '../command.js';
import { exitCodeForVerdict } from '../exitCodes.js';
import { formatErrorLine, writeJson, writeLine } from '../output.js';
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
          if (nagios) {
            const { formatNagiosLine } = await import('./formatNagios.js');
            writeLine(ctx.io, formatNagiosLine(result));
          } else if (flags.json) writeJson(ctx.io, result);
          else {
            const { renderCheck } = await import('./renderCheck.js');
            renderCheck(ctx.io, result, { verbosity: flags.verbosity });
          }
          return exitCodeForVerdict(result.verdict);
        } catch (error) {
          if (nagios) writeLine(ctx.io, `RESTOREPLAN UNKNOWN - ${formatErrorLine(error)}`);
          throw error;
        }
      },
    );
  });
}
