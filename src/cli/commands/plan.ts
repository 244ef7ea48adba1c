import type { Command } from 'commander';

import { RestoreplanError } from '../../errors.js';
import type { PlanOptions } from '../../plan/planRestore.js';
import type { PlanDocument, Strategy } from '../../types.js';
import { addCommonFlags, addIndexFlags, runCommand, type CliContext } from '../command.js';
import { exitCodeForVerdict } from '../exitCodes.js';
import { writeJson } from '../output.js';
import { writeOutputFile } from '../writeOutputFile.js';
import { archiveArgument } from './archiveArgument.js';
import { addBudgetFlags, readBudgetFlags } from './budgetFlags.js';

const STRATEGIES = ['auto', 'in-place', 'staged', 'alternate'] as const;

/** The options `plan` shares with the wizard and `check --profile mailman`. */
export function readPlanOptions(
  opts: Record<string, unknown>,
): Omit<PlanOptions, 'signal' | 'onProgress'> {
  const strategy = (opts.strategy as string | undefined) ?? 'auto';
  if (!(STRATEGIES as readonly string[]).includes(strategy)) {
    throw new RestoreplanError(
      'USAGE',
      `--strategy must be one of ${STRATEGIES.join(', ')}, not ${JSON.stringify(strategy)}`,
    );
  }
  return {
    target: String(opts.target),
    strategy: strategy as 'auto' | Strategy,
    ...(typeof opts.staging === 'string' ? { staging: opts.staging } : {}),
    ...readBudgetFlags(opts),
  };
}

export function registerPlanCommand(program: Command, ctx: CliContext): void {
  addIndexFlags(
    addCommonFlags(
      addBudgetFlags(
        program
          .command('plan')
          .summary('decide what to restore, where, in which order, and whether it fits (read-only)')
          .description(
            'Plan a restore of ARCHIVE into DIR. With a Mailman var dir as DIR (or --profile mailman), only the lists that are down are restored: each corrupt list gets the newest valid config.pck from the archive, a lost or missing list its whole directory. Never writes to DIR. Exit 0 OK, 1 the plan runs with warnings, 2 nothing fits or a list stays down, 3 error.',
          )
          .argument('<archive>', 'archive file, or - for stdin')
          .requiredOption(
            '--target <dir>',
            'the directory to restore into (a Mailman var dir for the mailman profile)',
          )
          .option('--strategy <strategy>', 'auto, in-place, staged or alternate', 'auto')
          .option('--staging <dir>', 'alternate root, normally on another filesystem')
          .option('--out <file>', 'also write the plan document to FILE (for restoreplan apply)'),
      ),
    ),
  ).action(async (archive: string, opts: Record<string, unknown>) => {
    await runCommand(ctx, opts, async ({ flags, progress, signal, index }) => {
      const options = readPlanOptions(opts);
      const { planRestore } = await import('../../plan/planRestore.js');
      const plan = await planRestore(archiveArgument(archive, ctx.io), {
        index,
        ...options,
        signal,
        onProgress: progress.onProgress,
      });
      progress.done();
      if (typeof opts.out === 'string') await writePlanFile(opts.out, plan);
      if (flags.json) writeJson(ctx.io, plan);
      else {
        // Loaded only to print text: it needs the apply layer's isStreamPlan, whose module
        // (archive fingerprints) would otherwise load at every command's startup.
        const { renderPlan } = await import('./renderPlan.js');
        renderPlan(ctx.io, plan, typeof opts.out === 'string' ? opts.out : null, {
          verbosity: flags.verbosity,
        });
      }
      return exitCodeForVerdict(plan.verdict);
    });
  });
}

/**
 * The plan is data for apply: written whole or not at all (writeOutputFile); a plan file that
 * already exists stays as it was when the new one cannot be written.
 */
async function writePlanFile(out: string, plan: PlanDocument): Promise<void> {
  await writeOutputFile(out, Buffer.from(`${JSON.stringify(plan, null, 2)}\n`), {
    flag: '--out',
    what: 'the plan',
    example: 'plan.json',
    stdoutHint: '--json prints the plan on stdout',
    mode: 0o600,
  });
}
