import { rename, rm, writeFile } from 'node:fs/promises';

import { makeTable } from '../makeTable.js';
import type { Command } from 'commander';

import { isStreamPlan } from '../../apply/checkArchiveUnchanged.js';
import { RestoreplanError } from '../../errors.js';
import type { PlanOptions } from '../../plan/planRestore.js';
import type { PlanDocument, Strategy } from '../../types.js';
import { addCommonFlags, runCommand, type CliContext } from '../command.js';
import { EXIT } from '../exitCodes.js';
import { writeJson, writeLine, type Io } from '../output.js';
import { formatBytes, formatCount } from '../progressBar.js';
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
  addCommonFlags(
    addBudgetFlags(
      program
        .command('plan')
        .summary('decide what to restore, where, in which order, and whether it fits (read-only)')
        .description(
          'Plan a restore of ARCHIVE into DIR. With a Mailman var dir as DIR (or --profile mailman), only the broken lists are restored: each corrupt list gets the newest valid config.pck from the archive. Never writes to DIR. Exit 0 feasible or nothing to do, 2 not feasible, 3 error.',
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
  ).action(async (archive: string, opts: Record<string, unknown>) => {
    await runCommand(ctx, opts, async ({ flags, progress, signal }) => {
      const options = readPlanOptions(opts);
      const { planRestore } = await import('../../plan/planRestore.js');
      const plan = await planRestore(archiveArgument(archive, ctx.io), {
        ...options,
        signal,
        onProgress: progress.onProgress,
      });
      progress.done();
      if (typeof opts.out === 'string') await writePlanFile(opts.out, plan);
      if (flags.json) writeJson(ctx.io, plan);
      else renderPlan(ctx.io, plan, typeof opts.out === 'string' ? opts.out : null);
      return plan.feasible ? EXIT.OK : EXIT.CRITICAL;
    });
  });
}

/** The plan is data for apply: written whole, never half (temp + rename), or not at all. */
async function writePlanFile(out: string, plan: PlanDocument): Promise<void> {
  const temp = `${out}.tmp-${process.pid}`;
  try {
    await writeFile(temp, `${JSON.stringify(plan, null, 2)}\n`, { mode: 0o600 });
    await rename(temp, out);
  } catch (error) {
    await rm(temp, { force: true }).catch(() => {});
    throw new RestoreplanError(
      'WRITE_FAILED',
      `cannot write the plan to ${out}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      { path: out, hint: '--out names a file in an existing, writable directory' },
    );
  }
}

export function renderPlan(io: Io, plan: PlanDocument, outFile: string | null): void {
  if (plan.lists.length > 0) {
    const lists = makeTable(io, {
      head: ['list', 'status', 'action', 'why'],
      colWidths: [16, 10, 9, 80],
      wordWrap: true,
    });
    for (const list of [...plan.lists].sort((a, b) =>
      a.action === b.action ? 0 : a.action === 'restore' ? -1 : 1,
    )) {
      lists.push([list.name, list.status, list.action, list.reason]);
    }
    writeLine(io, lists.toString());
  }
  const steps = plan.stages.reduce((n, stage) => n + stage.steps.length, 0);
  writeLine(
    io,
    `${plan.feasible ? 'Feasible' : 'NOT feasible'}: ${plan.strategy ?? 'no strategy fits'} — ${plan.reason}`,
  );
  for (const stage of plan.stages) {
    const bytes = stage.steps.reduce((n, step) => n + step.size, 0);
    writeLine(
      io,
      `Stage ${stage.name} → ${stage.root}: ${formatCount(stage.steps.length)} steps, ${formatBytes(bytes)}`,
    );
    const shown = stage.steps.slice(0, 12);
    for (const step of shown)
      writeLine(
        io,
        `  ${step.write.padEnd(7)} ${step.type.padEnd(8)} ${step.targetPath}  ← ${step.memberPath}`,
      );
    if (stage.steps.length > shown.length)
      writeLine(io, `  … and ${formatCount(stage.steps.length - shown.length)} more`);
    const budget = makeTable(io, {
      head: [
        'filesystem',
        'inodes needed',
        'free',
        'reserve',
        'blocks needed',
        'available',
        'reserve',
      ],
    });
    for (const row of stage.budget) {
      budget.push([
        row.mountPoint,
        formatCount(row.inodesNeeded),
        formatCount(row.inodesFree),
        formatCount(row.inodesReserve),
        formatCount(row.blocksNeeded),
        formatCount(row.blocksAvailable),
        formatCount(row.blocksReserve),
      ]);
    }
    if (stage.budget.length > 0) writeLine(io, budget.toString());
  }
  if (plan.mailman) writeLine(io, plan.mailman.note);
  for (const problem of plan.problems)
    writeLine(io, `${problem.severity} ${problem.kind}: ${problem.message}`);
  if (!outFile || steps === 0) return;
  if (!plan.feasible)
    writeLine(
      io,
      `Plan written to ${outFile}; it does not fit: apply refuses it (PLAN_INFEASIBLE) — see the reason above`,
    );
  else if (plan.archive.path === '-' && isStreamPlan(plan.archive))
    writeLine(
      io,
      `Plan written to ${outFile}; it was made from stdin: carry it out by piping the same archive into it, … | restoreplan apply ${outFile} --yes, or from a saved copy of that stream: restoreplan apply ${outFile} --archive FILE`,
    );
  else if (plan.archive.path === '-')
    writeLine(
      io,
      `Plan written to ${outFile}; it was made from a file on stdin: carry it out with that same file, restoreplan apply ${outFile} --yes < FILE, or restoreplan apply ${outFile} --archive FILE`,
    );
  else writeLine(io, `Plan written to ${outFile}; carry it out with: restoreplan apply ${outFile}`);
}
