/**
 * Demand against supply on one filesystem: the reserve, what is left afterwards, the verdict
 * and the problems that explain it (with the exact shortfall, so an operator knows how much
 * to free or to leave out).
 */
import { makeProblem, type Problem } from '../problems.js';
import type { FilesystemInfo } from '../filesystems/statFilesystem.js';
import { createReserveBlocks } from '../filesystems/usableInodes.js';
import type { FilesystemBudget, Verdict } from '../types.js';
import { judgeBudget, type Demand, type Finding } from './judgeBudget.js';
import {
  describeGrowth,
  describeInodeReserve,
  remedyBlockReserve,
  remedyInodeReserve,
  resolveBlockReserve,
  resolveInodeReserve,
  type GrowthAllowance,
  type InodeReserve,
  type ReserveSpec,
} from './reservePolicy.js';

export interface BudgetPolicy {
  inodeReserve: ReserveSpec;
  /** --reserve-inodes was given: it is the whole inode reserve, no growth allowance is added. */
  inodeReserveGiven: boolean;
  blockReserve: ReserveSpec;
  /** Below this share of the total free afterwards, the verdict is at least a warning. */
  warnInodesPercent: number;
  /** What the live system takes meanwhile on this filesystem (Mailman's queues), or null. */
  growth: GrowthAllowance | null;
}

export interface BudgetEvaluation {
  budget: FilesystemBudget;
  problems: Problem[];
  /**
   * It does not fit, and only because of the reserve: every critical shortfall would fit in
   * what is free (its problem names the flags that lower the reserve).
   */
  reserveOnly: boolean;
}

const fmt = (n: number): string => n.toLocaleString('en-US');

function worst(a: Verdict, b: Verdict): Verdict {
  if (a === 'critical' || b === 'critical') return 'critical';
  if (a === 'warning' || b === 'warning') return 'warning';
  return 'ok';
}

export function evaluateBudget(
  fs: FilesystemInfo,
  demand: Demand,
  policy: BudgetPolicy,
): BudgetEvaluation {
  const problems: Problem[] = [];
  const where = { mountPoint: fs.mountPoint };
  const on = `on ${fs.mountPoint} (${fs.fsType})`;
  const fixedInodes = !fs.dynamicInodes;

  const reserve: InodeReserve = fixedInodes
    ? resolveInodeReserve(
        policy.inodeReserve,
        policy.inodeReserveGiven,
        fs.inodes.total,
        policy.growth,
      )
    : { inodes: 0, base: 0, growth: 0 };
  const inodeReserve = reserve.inodes;
  const blockReserve = resolveBlockReserve(policy.blockReserve, fs.blocks.total, fs.blockSize);
  const budget: FilesystemBudget = {
    mountPoint: fs.mountPoint,
    fsType: fs.fsType,
    device: fs.device,
    blockSize: fs.blockSize,
    inodes: {
      total: fs.inodes.total,
      free: fs.inodes.free,
      needed: demand.inodes,
      peak: demand.peakInodes,
      reserve: inodeReserve,
      freeAfter: fs.inodes.total > 0 ? fs.inodes.free - demand.inodes : 0,
      usable: fs.inodes.usable,
      dynamic: !fixedInodes,
    },
    blocks: {
      total: fs.blocks.total,
      free: fs.blocks.free,
      available: fs.blocks.available,
      needed: demand.blocks,
      peak: demand.peakBlocks,
      reserve: blockReserve,
      availableAfter: fs.blocks.available - demand.blocks,
      keptForCreates: keptForCreates(fs, demand),
    },
    verdict: 'ok',
  };
  if (fixedInodes && policy.growth) {
    budget.inodes.growth = {
      inflowPerHour: policy.growth.inflowPerHour,
      windowHours: policy.growth.windowHours,
      measured: policy.growth.measured,
      allowance: policy.growth.inodes,
      counted: !policy.inodeReserveGiven,
      note: describeGrowth(policy.growth, policy.inodeReserveGiven, fs.mountPoint),
    };
  }
  let verdict = 'ok' as Verdict;
  const raise = (problem: Problem): void => {
    problems.push(problem);
    if (problem.severity !== 'info') verdict = worst(verdict, problem.severity);
  };

  // Judged on the inodes that can really be created (f_ffree but on a nearly full XFS), and,
  // when the restore creates any, on the blocks it leaves for XFS's create reservation.
  const judgement = judgeBudget(
    {
      inodesFree: fs.inodes.usable,
      limitedInodes: fixedInodes,
      blocksAvailable: fs.blocks.available - keptForCreates(fs, demand),
    },
    demand,
    { inodes: inodeReserve, blocks: blockReserve },
  );
  const kept = keptForCreates(fs, demand);
  const reserveText = describeInodeReserve(
    policy.inodeReserve,
    policy.inodeReserveGiven,
    fs.inodes.total,
    reserve,
    policy.growth,
  );
  let critical = 0;
  let remedied = 0;
  for (const finding of judgement.findings) {
    const remedy = remedyOf(finding, reserve, fs.blockSize);
    if (finding.kind === 'short') {
      critical += 1;
      if (remedy) remedied += 1;
    } else if (finding.kind === 'peak-short') critical += 1;
    raise(describeFinding(finding, fs, where, on, kept, remedy ? { reserveText, remedy } : null));
  }
  if (fixedInodes) {
    const { usable, total } = fs.inodes;
    const after = usable - demand.inodes;
    if (after < (total * policy.warnInodesPercent) / 100 && verdict !== 'critical') {
      raise(
        makeProblem(
          'inodes-low-after',
          `${fmt(after)} inodes (${((after * 100) / total).toFixed(1)}%) would stay free ${on}, under the ${policy.warnInodesPercent}% warning threshold`,
          where,
        ),
      );
    }
  } else {
    raise(
      makeProblem(
        'inodes-dynamic',
        `${fs.fsType} reports no inode limit ${on}: the ${fmt(demand.inodes)} new inodes are budgeted as blocks`,
        where,
      ),
    );
  }
  budget.verdict = verdict;
  return { budget, problems, reserveOnly: critical > 0 && remedied === critical };
}

/** The flags that make a `short` finding fit, when only the reserve stands in its way. */
function remedyOf(finding: Finding, reserve: InodeReserve, blockSize: number): string | null {
  if (finding.kind !== 'short') return null;
  return finding.resource === 'inodes'
    ? remedyInodeReserve(reserve, finding.free, finding.needed)
    : remedyBlockReserve(finding.free, finding.needed, blockSize);
}

/** Blocks a restore that creates inodes must leave free (XFS's create reservation), else 0. */
function keptForCreates(fs: FilesystemInfo, demand: Demand): number {
  return demand.peakInodes > 0 ? createReserveBlocks(fs, fs.xfs) : 0;
}

/**
 * Why the inodes judged free are fewer than df -i shows, when they are: statfs's f_ffree on XFS
 * counts inodes it would carve from free space that a create cannot get (usableInodes).
 */
function usableNote(fs: FilesystemInfo): string {
  const { free, usable } = fs.inodes;
  if (usable >= free) return '';
  return ` (statfs reports ${fmt(free)} free, but with ${fmt(fs.blocks.free)} blocks free ${fs.fsType} can create only ${fmt(usable)})`;
}

/** The problem that explains one finding of judgeBudget, with the exact shortfall. */
function describeFinding(
  finding: Finding,
  fs: FilesystemInfo,
  where: { mountPoint: string },
  on: string,
  kept: number,
  byReserve: { reserveText: string; remedy: string } | null,
): Problem {
  const { free, needed, reserve, short } = finding;
  // Short only because of the reserve: say what it is made of, and which flag lowers it. When it
  // is all of what is free (or more), no restore that adds anything can fit: say that plainly.
  const shortfall = (unit: string, by: string): string =>
    byReserve
      ? free - reserve <= 0
        ? `the reserve alone leaves no room for a restore that adds ${unit} (short by ${by}); ${byReserve.remedy}`
        : `short by ${by}, only because of the reserve; ${byReserve.remedy}`
      : `short by ${by}`;
  const keptNote =
    kept > 0
      ? ` (${fmt(fs.blocks.available)} less the ${fmt(kept)} every ${fs.fsType} create reserves first)`
      : '';
  if (finding.resource === 'inodes') {
    switch (finding.kind) {
      case 'short':
        return makeProblem(
          'inodes-short',
          `needs ${fmt(needed)} inodes ${on}; ${fmt(free)} are free${usableNote(fs)} and ${fmt(reserve)} must stay free${byReserve ? ` (${byReserve.reserveText})` : ''}: ${shortfall('an inode', fmt(short))}`,
          { ...where, severity: 'critical' },
        );
      case 'below-reserve':
        return makeProblem(
          'below-reserve',
          `${fmt(free)} inodes free ${on}${usableNote(fs)}, below the reserve of ${fmt(reserve)}; the restore adds none`,
          where,
        );
      case 'peak-short':
        return makeProblem(
          'peak-short',
          `needs ${fmt(needed)} inodes ${on} while the restore runs; ${fmt(free)} are free${usableNote(fs)}: short by ${fmt(short)}`,
          where,
        );
    }
  }
  switch (finding.kind) {
    case 'short':
      return makeProblem(
        'blocks-short',
        `needs ${fmt(needed)} blocks of ${fs.blockSize} B ${on}; ${fmt(free)} are available${keptNote} and ${fmt(reserve)} must stay available: ${shortfall('a block', `${fmt(short)} blocks (${fmt(short * fs.blockSize)} bytes)`)}`,
        { ...where, severity: 'critical' },
      );
    case 'below-reserve':
      return makeProblem(
        'below-reserve',
        `${fmt(free)} blocks available ${on}, below the reserve of ${fmt(reserve)}; the restore adds none`,
        where,
      );
    case 'peak-short':
      return makeProblem(
        'peak-short',
        `needs ${fmt(needed)} blocks ${on} while the restore runs; ${fmt(free)} are available${keptNote}: short by ${fmt(short)}`,
        where,
      );
  }
}
