import type { Command } from 'commander';

import { redactSource } from '../../archive/parseBackupSource.js';
import { RestoreplanError } from '../../errors.js';
import type {
  ApplyActionEvent,
  ApplyPreviewResult,
  ApplyResult,
  PlanDocument,
} from '../../types.js';
import { addCommonFlags, addIndexFlags, runCommand, type CliContext } from '../command.js';
import { EXIT, type ExitCode } from '../exitCodes.js';
import {
  printableLine,
  toRestoreplanError,
  writeErrorLine,
  writeJson,
  type Io,
} from '../output.js';
import type { AuditTrail } from '../openSyslog.js';
import { formatCount } from '../progressBar.js';

/**
 * 0 complete, nothing-to-do (and a dry run's ready); 2 incomplete or stopped (steps of the plan
 * are not done: refused, or a stop to resume from); 3 failed (the document's `error`).
 */
export function exitCodeForApply(result: ApplyResult): ExitCode {
  if (result.status === 'stopped' || result.status === 'incomplete') return EXIT.CRITICAL;
  if (result.status === 'failed') return EXIT.UNKNOWN;
  return EXIT.OK;
}

/** Asks on the terminal (prompt on stderr, so --json keeps stdout to one document). */
async function confirmApply(
  io: Io,
  preview: ApplyPreviewResult,
  plan: PlanDocument,
): Promise<boolean> {
  const steps = preview.preview.length;
  // Loaded only when asking: the prompt library costs startup time that `--yes` runs never need.
  const { confirm } = await import('@inquirer/prompts');
  const { describeSpecialSteps } = await import('../../apply/checkRunTrust.js');
  const inodes = preview.inodes.map((i) => `${i.mountPoint}: +${i.predicted} inodes`).join(', ');
  const roots = [...new Set(plan.stages.filter((s) => s.steps.length > 0).map((s) => s.root))];
  const special = describeSpecialSteps(plan);
  return confirm(
    {
      message: printableLine(
        `Restore ${formatCount(steps)} paths under ${roots.join(' and ')}${inodes ? ` (${inodes})` : ''}${special ? `, including ${special}` : ''}?`,
      ),
      default: false,
    },
    { input: io.stdin as NodeJS.ReadableStream, output: io.stderr as NodeJS.WritableStream },
  );
}

export function registerApplyCommand(program: Command, ctx: CliContext): void {
  addIndexFlags(
    addCommonFlags(
      program
        .command('apply')
        .summary('carry out a plan file (the only command that restores)')
        .description(
          'Restore what PLAN (from `restoreplan plan --out`) says, atomically and verified, re-checking the free inodes and blocks before every stage; stops cleanly above the reserve (exit 2) and resumes from its journal when run again.',
        )
        .argument('<plan>', 'plan file written by `restoreplan plan --out`')
        .option(
          '--yes',
          'do not ask for confirmation (required when stdin is not a terminal, or carries the archive)',
        )
        .option('--dry-run', 'print the steps; write nothing')
        .option(
          '--archive <file>',
          "read the archive from FILE (or - for stdin) instead of the plan's archive.path: e.g. a saved copy of the stream a plan was made from",
        )
        .option('--journal <file>', 'journal file (default: <plan>.journal)')
        .option(
          '--syslog',
          'log each action (restored, skipped, stopped, resumed; the start and end of the run) to syslog / the journal, tag restoreplan; refused (SYSLOG_UNAVAILABLE) before anything is written if that cannot be done',
        )
        .option(
          '--allow-special',
          'confirm what a plan made with --allow-special restores: setuid/setgid bits and fifos (device nodes are never created); required with --yes for such a plan',
        ),
    ),
  ).action(async (planPath: string, opts: Record<string, unknown>) => {
    await runCommand(ctx, opts, async ({ flags, progress, signal, index }) => {
      const dryRun = opts.dryRun === true;
      // Read and checked once: the plan the operator confirms is the plan that runs, even if
      // the file changes in between.
      const { loadPlan } = await import('../../apply/loadPlan.js');
      const loaded = await loadPlan(planPath);
      const plan = loaded.plan;
      let allowSpecial = opts.allowSpecial === true;
      // Opened (and proven) before anything is asked or written; a dry run writes nothing, so
      // it has nothing to log.
      const trail =
        opts.syslog === true && !dryRun
          ? (await import('../openSyslog.js')).openSyslog(
              ctx.io,
              {
                action: 'invoked',
                planFile: loaded.planPath ?? planPath,
                planSha256: loaded.sha256,
                archive: redactSource(
                  typeof opts.archive === 'string' ? opts.archive : plan.archive.path,
                ),
              },
              { planSha256: loaded.sha256 },
            )
          : null;
      try {
        return await carryOut(trail);
      } catch (error) {
        const failure = toRestoreplanError(error);
        trail?.write({ action: 'error', code: failure.code, message: failure.message });
        throw error;
      } finally {
        await trail?.close();
      }
      async function carryOut(trail: AuditTrail | null): Promise<ExitCode> {
        const common = {
          signal,
          index,
          journalPath:
            typeof opts.journal === 'string' ? opts.journal : `${loaded.planPath}.journal`,
          ...(typeof opts.archive === 'string' ? { archive: opts.archive } : {}),
        };
        const { applyPlan } = await import('../../apply/applyPlan.js');
        if (!dryRun && opts.yes !== true) {
          // The archive on stdin (a plan made from `-`): stdin is then not there to answer a
          // prompt, and a preview would consume the one pass the stream allows.
          const archive = common.archive ?? plan.archive.path;
          if (archive === '-' && !ctx.io.stdin.isTTY) {
            throw new RestoreplanError(
              'CONFIRMATION_REQUIRED',
              'apply reads the archive from stdin, so it cannot ask for confirmation there: pass --yes',
              {
                hint: `preview first: pipe the same archive into restoreplan apply ${planPath} --dry-run`,
              },
            );
          }
          if (!ctx.io.stdin.isTTY) {
            throw new RestoreplanError(
              'CONFIRMATION_REQUIRED',
              'apply writes to the target and stdin is not a terminal: pass --yes',
              { hint: `restoreplan apply ${planPath} --dry-run shows what it would do` },
            );
          }
          const preview = await applyPlan(plan, { ...common, dryRun: true });
          if (!flags.json) {
            const { renderApply } = await import('./renderApply.js');
            renderApply(ctx.io, preview, plan, { verbosity: flags.verbosity });
          }
          if (!(await confirmApply(ctx.io, preview, plan))) {
            throw new RestoreplanError('ABORTED', 'not confirmed: nothing was written');
          }
          // The prompt named them: saying yes confirmed them (with --yes, --allow-special does).
          allowSpecial = true;
        }
        const result = await applyPlan(plan, {
          ...common,
          ...(allowSpecial ? { allowSpecial: true } : {}),
          ...(dryRun ? { dryRun: true } : {}),
          onProgress: progress.onProgress,
          ...(trail ? { onAction: (event: ApplyActionEvent) => trail.write(event) } : {}),
        });
        progress.done();
        if (flags.json) writeJson(ctx.io, result);
        else {
          const { renderApply } = await import('./renderApply.js');
          renderApply(ctx.io, result, plan, { verbosity: flags.verbosity });
        }
        // A failed run's error is the command's one error line too (its document carries it).
        if (!result.dryRun && result.error) writeErrorLine(ctx.io, result.error);
        return exitCodeForApply(result);
      }
    });
  });
}
