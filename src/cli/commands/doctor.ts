import type { Command } from 'commander';

import type { DoctorReport } from '../../mailman/diagnoseMailman.js';
import { addCommonFlags, runCommand, type CliContext } from '../command.js';
import { EXIT, type ExitCode } from '../exitCodes.js';
import { writeJson } from '../output.js';

export function registerDoctorCommand(program: Command, ctx: CliContext): void {
  addCommonFlags(
    program
      .command('doctor')
      .summary('diagnose a Mailman 2.1 var dir as Mailman would load it (read-only)')
      .description(
        "Judge every list's config files in Mailman 2.1's load order (config.pck, config.pck.last, config.db, config.db.last) without running or writing anything, count the queues, and show the filesystem's inodes and space. DIR is the var dir or a directory holding exactly one. A list directory without any config file is lost, and a list whose directory is gone while its alias stanza, shunted mail or archives remain is missing: both are down. Exit 0 all ok, 1 some degraded, 2 some corrupt, lost or missing, 3 error.",
      )
      .argument('<dir>', 'the Mailman var dir (e.g. /var/lib/mailman)')
      .option(
        '--growth-window <hours>',
        'hours of queue inflow the growth allowance covers (default 12; 0: none)',
      )
      .option('--all', 'list every list, the healthy ones too (default: summed up in one line)'),
  ).action(async (dir: string, opts: Record<string, unknown>) => {
    await runCommand(ctx, opts, async ({ flags, progress, signal }) => {
      const window = typeof opts.growthWindow === 'string' ? opts.growthWindow : undefined;
      // Loaded when the command runs, not when it is defined (issue 13): the diagnosis
      // modules cost every other command's startup.
      const [{ diagnoseMailman }, { parseGrowthWindow }] = await Promise.all([
        import('../../mailman/diagnoseMailman.js'),
        import('../../plan/reservePolicy.js'),
      ]);
      const result = await diagnoseMailman(dir, {
        signal,
        onProgress: progress.onProgress,
        ...(window !== undefined ? { growthWindowHours: parseGrowthWindow(window) } : {}),
      });
      progress.done();
      if (flags.json) writeJson(ctx.io, result);
      else {
        const { renderDoctor } = await import('./renderDoctor.js');
        renderDoctor(ctx.io, result, { all: opts.all === true, verbosity: flags.verbosity });
      }
      return exitCodeForDoctor(result);
    });
  });
}

/** 2 while any list is down (corrupt, lost, missing), 1 for a degraded one, else 0. */
export function exitCodeForDoctor(result: Pick<DoctorReport, 'summary'>): ExitCode {
  const { summary } = result;
  if (summary.corrupt + summary.lost + summary.missing > 0) return EXIT.CRITICAL;
  if (summary.degraded > 0) return EXIT.WARNING;
  return EXIT.OK;
}
