/**
 * THE verdict rule (DESIGN.md "Invariants"): does a demand fit a filesystem's supply while the
 * reserve stays free? `check`, the planner's stage budgets and apply's live guard all call this
 * one pure function, so they cannot disagree on what "fits" means.
 *
 * - What the restore adds for good must leave the reserve free.
 * - What exists only while a step runs (the temporary file of an atomic replace) must fit in
 *   what is really free, and may dip into the reserve: a filesystem already below its reserve
 *   (the incident) can still have its broken files replaced when nothing is added.
 * - A filesystem that reports no inode limit (btrfs: f_files == 0) is judged on blocks only.
 */

/** What a filesystem can give, from one statfs reading. */
export interface Supply {
  /** f_ffree; ignored when `limitedInodes` is false. */
  inodesFree: number;
  /** The filesystem reports an inode limit (f_files > 0). */
  limitedInodes: boolean;
  /** f_bavail: what an unprivileged user (Mailman) may use. */
  blocksAvailable: number;
}

/** What a restore (or what is left of it) takes on one filesystem. */
export interface Demand {
  /** Net inodes added. */
  inodes: number;
  /** Inodes at the worst moment: net plus the temporary file of a replace. */
  peakInodes: number;
  /** Net blocks added (may be negative: a broken file replaced by a smaller one). */
  blocks: number;
  /** Blocks at the worst moment: net plus the old copy of the largest file being replaced. */
  peakBlocks: number;
}

/** What must stay free afterwards. */
export interface Reserve {
  inodes: number;
  blocks: number;
}

export type Resource = 'inodes' | 'blocks';

/**
 * One reason a demand does not fit, or a state worth saying: `short` (the net demand eats into
 * the reserve: critical), `peak-short` (the temporary files do not fit in what is free:
 * critical), `below-reserve` (already below the reserve, and the restore adds nothing: warning).
 */
export interface Finding {
  resource: Resource;
  kind: 'short' | 'peak-short' | 'below-reserve';
  /** Free (inodes) or available (blocks) now. */
  free: number;
  /** The demand compared: net for `short`, peak for `peak-short`, net for `below-reserve`. */
  needed: number;
  /** The reserve compared against (0 for `peak-short`). */
  reserve: number;
  /** How much is missing (0 for `below-reserve`). */
  short: number;
}

export interface Judgement {
  /** No critical finding. */
  fits: boolean;
  findings: Finding[];
}

function judgeResource(
  resource: Resource,
  free: number,
  net: number,
  peak: number,
  reserve: number,
  findings: Finding[],
): void {
  const spare = free - reserve;
  if (net > 0 && net > spare) {
    findings.push({ resource, kind: 'short', free, needed: net, reserve, short: net - spare });
  } else if (spare < 0) {
    findings.push({ resource, kind: 'below-reserve', free, needed: net, reserve, short: 0 });
  }
  if (peak > free) {
    findings.push({
      resource,
      kind: 'peak-short',
      free,
      needed: peak,
      reserve: 0,
      short: peak - free,
    });
  }
}

export function judgeBudget(supply: Supply, demand: Demand, reserve: Reserve): Judgement {
  const findings: Finding[] = [];
  if (supply.limitedInodes) {
    judgeResource(
      'inodes',
      supply.inodesFree,
      demand.inodes,
      demand.peakInodes,
      reserve.inodes,
      findings,
    );
  }
  judgeResource(
    'blocks',
    supply.blocksAvailable,
    demand.blocks,
    demand.peakBlocks,
    reserve.blocks,
    findings,
  );
  return { fits: findings.every((f) => f.kind === 'below-reserve'), findings };
}

/** The demand of nothing at all. */
export const NO_DEMAND: Readonly<Demand> = Object.freeze({
  inodes: 0,
  peakInodes: 0,
  blocks: 0,
  peakBlocks: 0,
});
