import type { Command } from 'commander';

import { addCommonFlags, runCommand, type CliContext } from '../command.js';
import { formatErrorLine, writeJson, writeLine } from '../output.js';
import { readDrainFlags } from './budgetFlags.js';
import { judgeDoctor } from './judgeDoctor.js';
import { readDoctorThresholds, readMonitorOutputs } from './monitorFlags.js';

export function registerDoctorCommand(program: Command, ctx: CliContext): void {
  addCommonFlags(
    program
      .command('doctor')
      .summary('diagnose a Mailman 2.1 var dir as Mailman would load it (read-only)')
      .description(
        "Judge every list's config files in Mailman 2.1's load order (config.pck, config.pck.last, config.db, config.db.last) without running or writing anything, count the queues, and show the filesystem's inodes and space, and when they run out at the queues' inflow of the last hour. DIR is the var dir or a directory holding exactly one. A list directory without any config file is lost, and a list whose directory is gone while its alias stanza, shunted mail or archives remain is missing: both are down. Exit 0 all ok; 1 a warning: a list degraded, locked or with a broken state file, an alias file it cannot read, a queue over --warn-queue, inodes or space out within --warn-hours; 2 critical: a list corrupt, lost or missing (or no list at all), the qrunners dead (a stale pid file), a queue over --crit-queue, inodes or space out within --crit-hours; 3 error. Every output (screen, --json, --nagios, --prometheus) has the same verdict.",
      )
      .argument('<dir>', 'the Mailman var dir (e.g. /var/lib/mailman)')
      .option(
        '--growth-window <hours>',
        'hours of queue inflow the growth allowance covers (default 12; 0: none)',
      )
      .option('--all', 'list every list, the healthy ones too (default: summed up in one line)')
      .option(
        '--mta <mta>',
        "the MTA Mailman's backlog drains into: exim, postfix, none or auto (default)",
      )
      .option('--mta-spool <dir>', "the MTA's spool (default: asked of exim4 or postconf)")
      .option(
        '--nagios',
        'print one monitoring-plugin line: CRITICAL for a list down, stale qrunners or exhaustion within --crit-hours',
      )
      .option(
        '--warn-hours <hours>',
        'WARNING (exit 1) when inodes or space run out within this many hours at the inflow (default 24)',
      )
      .option(
        '--crit-hours <hours>',
        'CRITICAL (exit 2) when inodes or space run out within this many hours at the inflow (default 4)',
      )
      .option(
        '--warn-queue <files>',
        'WARNING (exit 1) when a queue holds more files (default: none)',
      )
      .option(
        '--crit-queue <files>',
        'CRITICAL (exit 2) when a queue holds more files (default: none)',
      )
      .option(
        '--prometheus <file>',
        "write the metrics in Prometheus' text format to FILE, atomically (- : stdout)",
      ),
  ).action(async (dir: string, opts: Record<string, unknown>) => {
    const nagios = opts.nagios === true;
    // The plugin line is the one document: no progress on the terminal a check runs from, and
    // an error is an UNKNOWN line — unless --json was asked too, then the JSON error is.
    const plugin = nagios && opts.json !== true;
    const writeUnknown = async (error: unknown): Promise<void> => {
      if (!plugin) return;
      const { formatDoctorUnknown } = await import('./formatDoctorNagios.js');
      writeLine(ctx.io, formatDoctorUnknown(formatErrorLine(error)));
    };
    await runCommand(
      ctx,
      { ...opts, ...(nagios ? { progress: false } : {}) },
      async ({ flags, progress, signal }) => {
        try {
          const outputs = readMonitorOutputs(opts);
          const thresholds = readDoctorThresholds(opts);
          const window = typeof opts.growthWindow === 'string' ? opts.growthWindow : undefined;
          // Loaded when the command runs, not when it is defined (issue 13): the diagnosis
          // modules cost every other command's startup.
          const [{ diagnoseMailman }, { parseGrowthWindow }] = await Promise.all([
            import('../../mailman/diagnoseMailman.js'),
            import('../../plan/reservePolicy.js'),
          ]);
          const drainFlags = readDrainFlags(opts);
          const result = await diagnoseMailman(dir, {
            signal,
            onProgress: progress.onProgress,
            ...(drainFlags.mta ? { mta: drainFlags.mta } : {}),
            ...(drainFlags.mtaSpool ? { mtaSpool: drainFlags.mtaSpool } : {}),
            ...(window !== undefined ? { growthWindowHours: parseGrowthWindow(window) } : {}),
          });
          progress.done();
          // One verdict, judged once: every output below says it and exits with it.
          const judgement = judgeDoctor(result, thresholds);
          if (outputs.prometheus !== undefined) {
            const [{ formatDoctorPrometheus }, { writePrometheusOutput }] = await Promise.all([
              import('./formatPrometheus.js'),
              import('./writePrometheusFile.js'),
            ]);
            await writePrometheusOutput(
              ctx.io,
              outputs.prometheus,
              await formatDoctorPrometheus(result, judgement),
            );
          }
          if (nagios) {
            const { formatDoctorNagios } = await import('./formatDoctorNagios.js');
            const line = formatDoctorNagios(result, thresholds, judgement);
            writeLine(ctx.io, line.line);
            return line.exitCode;
          }
          if (outputs.prometheus === '-') return judgement.exitCode;
          if (flags.json) writeJson(ctx.io, result);
          else {
            const { renderDoctor } = await import('./renderDoctor.js');
            renderDoctor(ctx.io, result, {
              all: opts.all === true,
              verbosity: flags.verbosity,
              judgement,
            });
          }
          return judgement.exitCode;
        } catch (error) {
          await writeUnknown(error);
          throw error;
        }
      },
      { onFlagsError: writeUnknown },
    );
  });
}
