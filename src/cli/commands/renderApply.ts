/**
 * `apply`'s human output, apart from the command's definition (apply.ts), which loads it
 * lazily: it needs the apply layer's describeSpecialSteps, whose module (plan validation)
 * would otherwise load at every command's startup.
 */
import { describeSpecialSteps } from '../../apply/checkRunTrust.js';
import type { ApplyResult, PlanDocument } from '../../types.js';
import { makeTable } from '../makeTable.js';
import { printableLine, writeLine, writeOneLine, type Io } from '../output.js';
import { formatBytes, formatCount } from '../progressBar.js';

/**
 * The roots a plan writes under, one line each: what the confirmation and a dry run show, so
 * the operator sees where root is about to write before saying yes (a plan file names them).
 */
export function describeRoots(plan: PlanDocument): string[] {
  const stagesByRoot = new Map<string, string[]>();
  for (const stage of plan.stages) {
    if (stage.steps.length === 0) continue;
    const names = stagesByRoot.get(stage.root) ?? [];
    names.push(stage.name);
    stagesByRoot.set(stage.root, names);
  }
  return [...stagesByRoot].map(([root, names]) => {
    const what = root === plan.target.path ? 'the target' : 'the staging root';
    return `${root} (${what}; ${names.length === 1 ? 'stage' : 'stages'} ${names.join(', ')})`;
  });
}

function writeRoots(io: Io, plan: PlanDocument): void {
  const roots = describeRoots(plan);
  if (roots.length === 0) return;
  writeOneLine(io, `Writes under: ${roots.join('; ')}`);
  const special = describeSpecialSteps(plan);
  if (special !== '') writeOneLine(io, `Made with --allow-special: restores ${special}.`);
}

export function renderApply(io: Io, result: ApplyResult, plan?: PlanDocument): void {
  if (result.dryRun) {
    const table = makeTable(io, { head: ['stage', 'type', 'write', 'targetPath'] });
    for (const step of result.preview) {
      table.push([step.stage, step.type, step.write, printableLine(step.targetPath)]);
    }
    writeLine(
      io,
      `Dry run: ${formatCount(result.preview.length)} paths would be restored; nothing was written.`,
    );
    if (plan) writeRoots(io, plan);
    if (result.preview.length > 0) writeLine(io, table.toString());
  } else {
    const bytes = result.restored.reduce((sum, r) => sum + r.bytes, 0);
    writeLine(
      io,
      `Apply ${result.status}: ${formatCount(result.restored.length)} restored (${formatBytes(bytes)}), ${formatCount(result.skipped.length)} skipped, ${result.verified ? 'all verified' : 'NOT all verified'}.`,
    );
    if (result.inodes.length > 0) {
      const table = makeTable(io, { head: ['filesystem', 'inodes predicted', 'inodes used'] });
      for (const row of result.inodes) {
        table.push([row.mountPoint, formatCount(row.predicted), formatCount(row.actual)]);
      }
      writeLine(io, table.toString());
    }
  }
  const notable = result.skipped.filter((s) => s.kind !== 'already-restored');
  const already = result.skipped.length - notable.length;
  if (already > 0)
    writeLine(io, `${formatCount(already)} already restored by an earlier run (skipped).`);
  if (notable.length > 0) {
    const table = makeTable(io, {
      head: ['skipped', 'reason'],
      wordWrap: true,
      colWidths: [50, 70],
    });
    for (const s of notable.slice(0, 50))
      table.push([printableLine(s.targetPath), printableLine(s.reason)]);
    writeLine(io, table.toString());
    if (notable.length > 50)
      writeLine(io, `... and ${formatCount(notable.length - 50)} more (see --json).`);
  }
  if (result.reason)
    writeOneLine(
      io,
      `${result.dryRun ? `Would end ${result.status}` : 'Reason'}: ${result.reason}`,
    );
  if (result.status === 'incomplete' && !result.dryRun) {
    writeLine(
      io,
      'Incomplete: the steps above were refused, so the target is not what the plan describes.',
    );
    writeLine(
      io,
      'Fix the cause (a symlink put in the target, a path in the way), then run the same `restoreplan apply` again, or plan again.',
    );
  }
  if (result.status === 'stopped' && !result.dryRun) {
    writeLine(
      io,
      `Stopped cleanly: everything restored so far is complete and journaled in ${result.journal}.`,
    );
    writeLine(
      io,
      'Make room (or wait for the lock), then run the same `restoreplan apply` again to resume.',
    );
  } else if (!result.dryRun) {
    writeLine(io, `Journal: ${result.journal}`);
  }
}
