/** `plan`'s human output, apart from the command's definition (plan.ts), which loads it lazily. */
import { isStreamPlan } from '../../apply/checkArchiveUnchanged.js';
import type { PlanDocument } from '../../types.js';
import { makeTable, shortenPath } from '../makeTable.js';
import {
  displayWidth,
  printableLine,
  screenColumns,
  writeLine,
  writeOneLine,
  writeWrapped,
  type Io,
  type Verbosity,
} from '../output.js';
import { formatBytes, formatCount } from '../progressBar.js';

/** Steps shown per stage without --verbose (the plan file and --json hold them all). */
const STEPS_SHOWN = 12;

/**
 * A step on one line of the screen: its two paths shortened in the middle when the line would
 * wrap (the target path first keeps what the member path leaves); --verbose shows them whole.
 */
function formatStep(
  step: PlanDocument['stages'][number]['steps'][number],
  width: number | null,
): string {
  const head = `  ${step.write.padEnd(7)} ${step.type.padEnd(8)} `;
  const arrow = '  ← ';
  let target = printableLine(step.targetPath);
  let member = printableLine(step.memberPath);
  if (width !== null) {
    // Terminal columns, not characters: a path in Japanese counted by characters overflowed
    // the line, which was then wrapped (and its aligned columns squeezed) like prose.
    const room = width - displayWidth(head) - displayWidth(arrow);
    const [t, m] = [displayWidth(target), displayWidth(member)];
    if (t + m > room) {
      const half = Math.floor(room / 2);
      const memberRoom = m <= half ? m : Math.max(half, room - t);
      member = shortenPath(member, memberRoom);
      target = shortenPath(target, room - displayWidth(member));
    }
  }
  return `${head}${target}${arrow}${member}`;
}

/**
 * The plan's verdict line (all --quiet prints): feasible or not, the strategy and why, and a
 * verdict other than OK with the kinds of problem that make it so. "Feasible" alone over exit 2
 * (a corrupt list with no valid copy in the backup stays down) read as all clear.
 */
export function formatPlanVerdict(plan: PlanDocument): string {
  // A feasible plan without a strategy has nothing to do: "no strategy fits" read as a refusal.
  const strategy = plan.strategy ?? (plan.feasible ? 'nothing to do' : 'no strategy fits');
  const line = `${plan.feasible ? 'Feasible' : 'NOT feasible'}: ${strategy} — ${plan.reason}`;
  if (!plan.feasible || plan.verdict === 'ok') return line;
  const kinds = [
    ...new Set(plan.problems.filter((p) => p.severity === plan.verdict).map((p) => p.kind)),
  ];
  return `${line} · ${plan.verdict.toUpperCase()}${kinds.length > 0 ? `: ${kinds.join(', ')}` : ''}`;
}

/**
 * plan's screen: the lists it restores or that need attention (the rest summed up in one line),
 * the verdict, the first steps of each stage and the budget. --quiet prints the verdict line
 * alone; --verbose every list and every step, with whole paths.
 */
export function renderPlan(
  io: Io,
  plan: PlanDocument,
  outFile: string | null,
  screen: { verbosity?: Verbosity } = {},
): void {
  const verdict = formatPlanVerdict(plan);
  if (screen.verbosity === 'quiet') {
    writeOneLine(io, verdict);
    return;
  }
  const verbose = screen.verbosity === 'verbose';
  const sorted = [...plan.lists].sort((a, b) =>
    a.action === b.action ? 0 : a.action === 'restore' ? -1 : 1,
  );
  const shownLists = verbose
    ? sorted
    : sorted.filter((list) => list.action === 'restore' || list.status !== 'ok');
  if (shownLists.length > 0) {
    const lists = makeTable(io, { head: ['list', 'status', 'action', 'why'] });
    for (const list of shownLists) {
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
  const otherLists = plan.lists.length - shownLists.length;
  if (otherLists > 0)
    writeWrapped(
      io,
      `${formatCount(otherLists)} ${shownLists.length > 0 ? 'more ' : ''}list${otherLists === 1 ? '' : 's'} ok, not restored (--verbose lists them)`,
    );
  const steps = plan.stages.reduce((n, stage) => n + stage.steps.length, 0);
  writeWrapped(io, verdict, { oneLine: true });
  const width = verbose ? null : screenColumns(io);
  for (const stage of plan.stages) {
    const bytes = stage.steps.reduce((n, step) => n + step.size, 0);
    writeWrapped(
      io,
      `Stage ${stage.name} → ${stage.root}: ${formatCount(stage.steps.length)} steps, ${formatBytes(bytes)}`,
      { oneLine: true },
    );
    const shown = verbose ? stage.steps : stage.steps.slice(0, STEPS_SHOWN);
    for (const step of shown) writeWrapped(io, formatStep(step, width), { oneLine: true });
    if (stage.steps.length > shown.length)
      writeLine(
        io,
        `  … and ${formatCount(stage.steps.length - shown.length)} more (--verbose lists them)`,
      );
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
  if (plan.mailman) writeWrapped(io, plan.mailman.note);
  for (const problem of plan.problems)
    writeWrapped(io, `${problem.severity} ${problem.kind}: ${problem.message}`, { oneLine: true });
  if (!outFile || steps === 0) return;
  if (!plan.feasible)
    writeWrapped(
      io,
      `Plan written to ${outFile}; it does not fit: apply refuses it (PLAN_INFEASIBLE) — see the reason above`,
    );
  else if (plan.archive.path === '-' && isStreamPlan(plan.archive))
    writeWrapped(
      io,
      `Plan written to ${outFile}; it was made from stdin: carry it out by piping the same archive into it, … | restoreplan apply ${outFile} --yes, or from a saved copy of that stream: restoreplan apply ${outFile} --archive FILE`,
    );
  else if (plan.archive.path === '-')
    writeWrapped(
      io,
      `Plan written to ${outFile}; it was made from a file on stdin: carry it out with that same file, restoreplan apply ${outFile} --yes < FILE, or restoreplan apply ${outFile} --archive FILE`,
    );
  else
    writeWrapped(io, `Plan written to ${outFile}; carry it out with: restoreplan apply ${outFile}`);
}
