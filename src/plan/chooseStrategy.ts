/**
 * The strategy decision of `planRestore`, as a pure function of how each layout fits. The
 * order is the operator's preference: in place (nothing to move later), then staged (the
 * service-critical configs now, the bulk when room is made), then an alternate root (the live
 * target untouched, but everything has to be moved back by hand).
 */
import type { Strategy } from '../types.js';

export interface LayoutFit {
  /** Every stage fits now. */
  fits: boolean;
  /** The first stage fits now (a staged plan's later stages are gated by apply). */
  firstFits: boolean;
}

export interface StrategyCandidates {
  wanted: 'auto' | Strategy;
  /** Fit results of the layouts that were evaluated; a missing one was not tried. */
  inPlace?: LayoutFit;
  staged?: LayoutFit;
  alternate?: LayoutFit;
  /** Stages of the staged layout (auto tries staging only when there is more than one). */
  stagedStages: number;
  /** An alternate root was given (--staging). */
  hasStaging: boolean;
}

export interface StrategyChoice {
  /** null: nothing fits. */
  strategy: Strategy | null;
  /** The layout the plan document shows: the chosen one, or the one whose shortfall explains. */
  shown: Strategy;
}

/** Which layouts `chooseStrategy` looks at for this request, so only those are evaluated. */
export function layoutsToTry(
  wanted: 'auto' | Strategy,
  stagedStages: number,
  hasStaging: boolean,
): Record<Strategy, boolean> {
  return {
    'in-place': wanted === 'auto' || wanted === 'in-place',
    staged: wanted === 'staged' || (wanted === 'auto' && stagedStages > 1),
    alternate: hasStaging && (wanted === 'auto' || wanted === 'alternate'),
  };
}

export function chooseStrategy(candidates: StrategyCandidates): StrategyChoice {
  const { wanted } = candidates;
  const tries = layoutsToTry(wanted, candidates.stagedStages, candidates.hasStaging);
  if (tries['in-place'] && candidates.inPlace?.fits)
    return { strategy: 'in-place', shown: 'in-place' };
  if (tries.staged && candidates.staged?.firstFits) return { strategy: 'staged', shown: 'staged' };
  if (tries.alternate && candidates.alternate?.fits)
    return { strategy: 'alternate', shown: 'alternate' };
  // Nothing fits: explain with the layout the operator asked for (auto: in place).
  return { strategy: null, shown: wanted === 'auto' ? 'in-place' : wanted };
}
