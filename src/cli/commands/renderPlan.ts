/** `plan`'s human output, apart from the command's definition (plan.ts), which loads it lazily. */
import { isStreamPlan } from '../../apply/checkArchiveUnchanged.js';
import type { PlanDocument } from '../../types.js';
import { makeTable } from '../makeTable.js';
import { printableLine, writeLine, writeOneLine, type Io } from '../output.js';
import { formatBytes, formatCount } from '../progressBar.js';

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
      const evidence = (list.evidence ?? []).map((e) => e.detail);
      lists.push([
        printableLine(list.name),
        list.status,
        list.action,
        printableLine([list.reason, ...evidence].join('; ')),
      ]);
    }
    writeLine(io, lists.toString());
  }
  const steps = plan.stages.reduce((n, stage) => n + stage.steps.length, 0);
  writeOneLine(
    io,
    `${plan.feasible ? 'Feasible' : 'NOT feasible'}: ${plan.strategy ?? 'no strategy fits'} — ${plan.reason}`,
  );
  for (const stage of plan.stages) {
    const bytes = stage.steps.reduce((n, step) => n + step.size, 0);
    writeOneLine(
      io,
      `Stage ${stage.name} → ${stage.root}: ${formatCount(stage.steps.length)} steps, ${formatBytes(bytes)}`,
    );
    const shown = stage.steps.slice(0, 12);
    for (const step of shown)
      writeOneLine(
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
    writeOneLine(io, `${problem.severity} ${problem.kind}: ${problem.message}`);
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
