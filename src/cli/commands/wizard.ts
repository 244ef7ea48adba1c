import type { Command } from 'commander';

import { addCommonFlags, addIndexFlags, runCommand, type CliContext } from '../command.js';

export function registerWizardCommand(program: Command, ctx: CliContext): void {
  addIndexFlags(
    addCommonFlags(
      program
        .command('wizard')
        .summary('interactive: diagnose, choose, confirm, restore (needs a terminal)')
        .description(
          'Walk through an outage: the diagnosis, what the backup holds, the recommended plan and its inode and space budget; pick lists, extras and strategy (Enter keeps the recommendation), confirm, watch the restore, read what to do next. Also started by `restoreplan` alone on a terminal. Nothing is written before the confirmation; Ctrl-C at a prompt exits 3 having written nothing. Without a terminal it exits 3: use doctor, plan and apply instead.',
        )
        .option('--archive <archive>', 'the backup archive (asked when not given)')
        .option('--target <dir>', 'the directory to restore into (asked when not given)'),
      { json: false },
    ),
  ).action(async (opts: Record<string, unknown>) => {
    await runCommand(ctx, opts, async ({ flags, progress, signal, index }) => {
      // Loaded only for the wizard: the prompt library alone costs ~100 ms of startup, which
      // every other command (and every monitoring check) would otherwise pay.
      const { runWizard } = await import('../../wizard/runWizard.js');
      return runWizard({
        io: ctx.io,
        progress,
        signal,
        index,
        verbosity: flags.verbosity,
        ...(typeof opts.archive === 'string' ? { archive: opts.archive } : {}),
        ...(typeof opts.target === 'string' ? { target: opts.target } : {}),
      });
    });
  });
}
