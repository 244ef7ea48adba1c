import type { Command } from 'commander';

import { addCommonFlags, addIndexFlags, runCommand, type CliContext } from '../command.js';
import { exitCodeForVerdict } from '../exitCodes.js';
import { formatErrorLine, writeJson, writeLine } from '../output.js';
import { archiveArgument } from './archiveArgument.js';
import { addBudgetFlags, readBudgetFlags } from './budgetFlags.js';
import { readMonitorOutputs } from './monitorFlags.js';

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
          .argument('<archive>', 'archive file, - for stdin, restic:SNAPSHOT or borg:REPO::ARCHIVE')
          .requiredOption(
            '--target <dir>',
            'the directory the archive (or --member-root) restores into',
          )
          .option('--nagios', 'print one monitoring-plugin line with perfdata')
          .option(
            '--prometheus <file>',
            "write the metrics in Prometheus' text format to FILE, atomically (- : stdout)",
          ),
      ),
    ),
  ).action(async (archive: string, opts: Record<string, unknown>) => {
    const nagios = opts.nagios === true;
    // The plugin line is the one document: no progress, and an error is an UNKNOWN line —
    // unless --json was asked too: then the JSON error is the one document (USAGE).
    const plugin = nagios && opts.json !== true;
    const writeUnknown = async (error: unknown): Promise<void> => {
      if (!plugin) return;
      const { formatCheckUnknown } = await import('./formatNagios.js');
      writeLine(ctx.io, formatCheckUnknown(formatErrorLine(error)));
    };
    await runCommand(
      ctx,
      { ...opts, ...(nagios ? { progress: false } : {}) },
      async ({ flags, progress, signal, index }) => {
        try {
          const outputs = readMonitorOutputs(opts);
          const budgetFlags = readBudgetFlags(opts);
          const { checkBudget } = await import('../../plan/checkBudget.js');
          const result = await checkBudget(archiveArgument(archive, ctx.io), {
            index,
            target: String(opts.target),
            ...budgetFlags,
            signal,
            onProgress: progress.onProgress,
          });
          progress.done();
          if (outputs.prometheus !== undefined) {
            const [{ formatCheckPrometheus }, { writePrometheusOutput }] = await Promise.all([
              import('./formatPrometheus.js'),
              import('./writePrometheusFile.js'),
            ]);
            await writePrometheusOutput(
              ctx.io,
              outputs.prometheus,
              await formatCheckPrometheus(result),
            );
          }
          if (nagios) {
            const [{ formatNagiosLine }, { parsePercentOnly, DEFAULT_WARN_INODES_PERCENT }] =
              await Promise.all([
                import('./formatNagios.js'),
                import('../../plan/reservePolicy.js'),
              ]);
            const warnInodes =
              budgetFlags.warnInodes !== undefined
                ? parsePercentOnly(budgetFlags.warnInodes)
                : DEFAULT_WARN_INODES_PERCENT;
            writeLine(ctx.io, formatNagiosLine(result, warnInodes));
          } else if (outputs.prometheus === '-') {
            // The metrics are the document.
          } else if (flags.json) writeJson(ctx.io, result);
          else {
            const { renderCheck } = await import('./renderCheck.js');
            renderCheck(ctx.io, result, { verbosity: flags.verbosity });
          }
          return exitCodeForVerdict(result.verdict);
        } catch (error) {
          await writeUnknown(error);
          throw error;
        }
      },
      { onFlagsError: writeUnknown },
    );
  });
}
