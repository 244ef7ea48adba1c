/**
 * `apply`'s human output, apart from the command's definition (apply.ts), which loads it
 * lazily: it needs the apply layer's describeSpecialSteps, whose module (plan validation)
 * would otherwise load at every command's startup.
 */
import { describeSpecialSteps } from '../../apply/checkRunTrust.js';
import type { ApplyResult, PlanDocument } from '../../types.js';
import { makeTable } from '../makeTable.js';
import {
  printableLine,
  writeLine,
  writeOneLine,
  writeWrapped,
  type Io,
  type Verbosity,
} from '../output.js';
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
  writeWrapped(io, `Writes under: ${roots.join('; ')}`, { oneLine: true });
  const special = describeSpecialSteps(plan);
  if (special !== '')
    writeWrapped(io, `Made with --allow-special: restores ${special}.`, { oneLine: true });
}

/** Paths of a dry run's preview and of the skipped steps shown without --verbose. */
const PREVIEW_SHOWN = 20;
const SKIPPED_SHOWN = 50;

/** The outcome line: what --quiet prints, and the first line of the screen. */
function formatOutcome(result: ApplyResult): string {
  if (result.dryRun)
    return `Dry run: ${formatCount(result.preview.length)} paths would be restored; nothing was written.`;
  const bytes = result.restored.reduce((sum, r) => sum + r.bytes, 0);
  return `Apply ${result.status}: ${formatCount(result.restored.length)} restored (${formatBytes(bytes)}), ${formatCount(result.skipped.length)} skipped, ${result.verified ? 'all verified' : 'NOT all verified'}.`;
}

/**
 * apply's screen. --quiet prints the outcome line alone (errors still go to stderr); --verbose
 * every path of a dry run, every skipped one and every restored one, with whole paths.
 */
export function renderApply(
  io: Io,
  result: ApplyResult,
  plan?: PlanDocument,
  screen: { verbosity?: Verbosity } = {},
): void {
  if (screen.verbosity === 'quiet') {
    writeOneLine(io, formatOutcome(result));
    return;
  }
  const verbose = screen.verbosity === 'verbose';
  writeWrapped(io, formatOutcome(result));
  if (result.dryRun) {
    if (plan) writeRoots(io, plan);
    // Paths lose their middle to fit the screen: the plan file and --json hold them whole.
    const table = makeTable(io, {
      head: ['stage', 'type', 'write', 'targetPath'],
      ...(verbose ? {} : { shortenColumns: [3] }),
    });
    const shown = verbose ? result.preview : result.preview.slice(0, PREVIEW_SHOWN);
    for (const step of shown) {
      table.push([step.stage, step.type, step.write, printableLine(step.targetPath)]);
    }
    if (shown.length > 0) writeLine(io, table.toString());
    if (result.preview.length > shown.length)
      writeLine(
        io,
        `… and ${formatCount(result.preview.length - shown.length)} more (--verbose lists them).`,
      );
  } else {
    if (verbose && result.restored.length > 0) {
      const table = makeTable(io, { head: ['restored', 'bytes'] });
      for (const r of result.restored)
        table.push([printableLine(r.targetPath), formatBytes(r.bytes)]);
      writeLine(io, table.toString());
    }
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
    writeWrapped(io, `${formatCount(already)} already restored by an earlier run (skipped).`);
  if (notable.length > 0) {
    // Whole paths, wrapped: a skipped path is one the operator has to go and fix.
    const table = makeTable(io, { head: ['skipped', 'reason'] });
    const shown = verbose ? notable : notable.slice(0, SKIPPED_SHOWN);
    for (const s of shown) table.push([printableLine(s.targetPath), printableLine(s.reason)]);
    writeLine(io, table.toString());
    if (notable.length > shown.length)
      writeLine(
        io,
        `... and ${formatCount(notable.length - shown.length)} more (--verbose or --json lists them).`,
      );
  }
  if (result.reason)
    writeWrapped(
      io,
      `${result.dryRun ? `Would end ${result.status}` : 'Reason'}: ${result.reason}`,
      { oneLine: true },
    );
  if (result.status === 'incomplete' && !result.dryRun) {
    writeWrapped(
      io,
      'Incomplete: the steps above were refused, so the target is not what the plan describes.',
    );
    writeWrapped(
      io,
      'Fix the cause (a symlink put in the target, a path in the way), then run the same `restoreplan apply` again, or plan again.',
    );
  }
  if (result.status === 'stopped' && !result.dryRun) {
    writeWrapped(
      io,
      `Stopped cleanly: everything restored so far is complete and journaled in ${result.journal}.`,
    );
    writeWrapped(
      io,
      'Make room (or wait for the lock), then run the same `restoreplan apply` again to resume.',
    );
  } else if (!result.dryRun) {
    writeWrapped(io, `Journal: ${result.journal}`);
  }
}
