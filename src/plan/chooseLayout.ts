/**
 * The planner's ladder: which layout of the placed steps to carry out. In place first (nothing
 * to move later) — with existing files rewritten in place when only the temporary files of
 * replaces do not fit (no inode to spare: the incident) — then staged (the service-critical
 * configs now, the bulk when room is made), then an alternate root. Each layout is priced and
 * judged by budgetStages; the choice itself is chooseStrategy's.
 */
import { probePath, type ExistingProbe } from '../filesystems/probeExisting.js';
import {
  budgetStages,
  type BudgetContext,
  type LayoutPolicy,
  type StageDraft,
  type StageEvaluation,
} from './budgetStages.js';
import { chooseStrategy, layoutsToTry, type LayoutFit } from './chooseStrategy.js';
import type { UnpricedStep } from './makeStep.js';
import { orderSteps } from './orderSteps.js';
import type { Placement, StageName } from './placeDrafts.js';
import type { Problem } from '../problems.js';
import type { Strategy } from '../types.js';

const STAGE_ORDER: readonly StageName[] = ['configs', 'state', 'archives', 'files'];

export interface Layout {
  strategy: Strategy;
  stages: StageDraft[];
  skipped: Problem[];
}

export interface Candidate {
  layout: Layout;
  evaluations: StageEvaluation[];
}

/**
 * A strategy's layout of placed steps, each stage in execution order: staged keeps one stage
 * per kind, in order (configs, state, archives); the others put everything in one stage.
 */
export function groupLayout(
  strategy: Strategy,
  placement: Placement,
  keep: (stage: StageName) => boolean = () => true,
): Layout {
  const byStage = new Map<string, UnpricedStep[]>();
  for (const { stage: kind, step } of placement.placed) {
    if (!keep(kind)) continue;
    const name = strategy === 'staged' ? kind : strategy;
    let steps = byStage.get(name);
    if (!steps) byStage.set(name, (steps = []));
    steps.push(step);
  }
  const stages = [...byStage].map(([name, steps]) => ({
    name,
    root: placement.root,
    steps: orderSteps(steps),
  }));
  if (strategy === 'staged') {
    stages.sort(
      (a, b) => STAGE_ORDER.indexOf(a.name as StageName) - STAGE_ORDER.indexOf(b.name as StageName),
    );
  }
  return { strategy, stages, skipped: [...placement.skipped] };
}

/**
 * Existing regular files rewritten in place instead of replaced: no new inode, even while it
 * runs. Only a file with one name and no holes: apply refuses to rewrite a file with other
 * names (they would all change), and would write a sparse member's holes.
 */
function withRewrites(
  layout: Layout,
  onlyFirstStage: boolean,
  probe: ExistingProbe,
): Layout | null {
  let changed = false;
  const stages = layout.stages.map((stage, index) => {
    if (onlyFirstStage && index > 0) return stage;
    return {
      ...stage,
      steps: stage.steps.map((step): UnpricedStep => {
        if (step.type !== 'file' || step.write !== 'replace' || step.source.sparse) return step;
        const existing = probePath(probe, step.targetPath);
        if (!existing || existing.links > 1) return step;
        changed = true;
        return { ...step, write: 'rewrite' };
      }),
    };
  });
  return changed ? { ...layout, stages } : null;
}

/** Only the temporary files do not fit: rewriting in place is the way out. */
export function isShortOnlyAtPeak(problems: readonly Problem[]): boolean {
  return problems.some((p) => p.kind === 'peak-short');
}

export const fits = (c: Candidate): boolean => c.evaluations.every((e) => e.fits);
export const firstFits = (c: Candidate): boolean => c.evaluations[0]?.fits ?? true;

export async function evaluateLayout(
  layout: Layout,
  policy: LayoutPolicy,
  context: BudgetContext,
): Promise<Candidate> {
  return { layout, evaluations: await budgetStages(layout.stages, policy, context) };
}

/** The layout as planned, or rewritten in place when that is what makes it fit. */
export async function evaluateWithRewrite(
  layout: Layout,
  policy: LayoutPolicy,
  context: BudgetContext,
  firstOnly: boolean,
): Promise<Candidate> {
  const plain = await evaluateLayout(layout, policy, context);
  if (firstOnly ? firstFits(plain) : fits(plain)) return plain;
  const failing = firstOnly ? plain.evaluations.slice(0, 1) : plain.evaluations;
  if (!failing.some((e) => isShortOnlyAtPeak(e.problems))) return plain;
  const rewritten = withRewrites(layout, firstOnly, context.probe);
  return rewritten ? evaluateLayout(rewritten, policy, context) : plain;
}

export interface LadderInput {
  wanted: 'auto' | Strategy;
  atTarget: Placement;
  /** The drafts placed under the alternate root, when one was given. */
  atStaging: Placement | null;
  policy: LayoutPolicy;
  stagingPolicy: LayoutPolicy | null;
  context: BudgetContext;
}

export interface LadderResult {
  /** null: nothing fits. */
  chosen: Candidate | null;
  /** The chosen candidate, or the one whose shortfall explains why nothing fits. */
  shown: Candidate;
  /** Every candidate evaluated, by strategy. */
  evaluated: Partial<Record<Strategy, Candidate>>;
}

export async function chooseLayout(input: LadderInput): Promise<LadderResult> {
  const { wanted, atTarget, policy, context } = input;
  const stagedLayout = groupLayout('staged', atTarget);
  const tries = layoutsToTry(wanted, stagedLayout.stages.length, input.atStaging !== null);
  const evaluated: Partial<Record<Strategy, Candidate>> = {};
  if (tries['in-place']) {
    evaluated['in-place'] = await evaluateWithRewrite(
      groupLayout('in-place', atTarget),
      policy,
      context,
      false,
    );
  }
  if (tries.staged) {
    evaluated.staged = await evaluateWithRewrite(stagedLayout, policy, context, true);
  }
  if (tries.alternate && input.atStaging && input.stagingPolicy) {
    evaluated.alternate = await evaluateLayout(
      groupLayout('alternate', input.atStaging),
      input.stagingPolicy,
      context,
    );
  }
  const fitOf = (c: Candidate | undefined): LayoutFit | undefined =>
    c ? { fits: fits(c), firstFits: firstFits(c) } : undefined;
  const inPlaceFit = fitOf(evaluated['in-place']);
  const stagedFit = fitOf(evaluated.staged);
  const alternateFit = fitOf(evaluated.alternate);
  const choice = chooseStrategy({
    wanted,
    stagedStages: stagedLayout.stages.length,
    hasStaging: input.atStaging !== null,
    ...(inPlaceFit ? { inPlace: inPlaceFit } : {}),
    ...(stagedFit ? { staged: stagedFit } : {}),
    ...(alternateFit ? { alternate: alternateFit } : {}),
  });
  const chosen = choice.strategy ? (evaluated[choice.strategy] ?? null) : null;
  const shown =
    chosen ??
    evaluated[choice.shown] ??
    evaluated['in-place'] ??
    (await evaluateWithRewrite(groupLayout('in-place', atTarget), policy, context, false));
  return { chosen, shown, evaluated };
}
