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
import { resolveBlockReserve, resolveInodeReserve, type ReserveSpec } from './reservePolicy.js';

export interface BudgetPolicy {
  inodeReserve: ReserveSpec;
  blockReserve: ReserveSpec;
  /** Below this share of the total free afterwards, the verdict is at least a warning. */
  warnInodesPercent: number;
  /** Inodes the live system is expected to consume meanwhile (Mailman queue inflow). */
  growthInodes: number;
}

export interface BudgetEvaluation {
  budget: FilesystemBudget;
  problems: Problem[];
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

  const inodeReserve = fixedInodes
    ? resolveInodeReserve(policy.inodeReserve, fs.inodes.total, policy.growthInodes)
    : 0;
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
    },
    verdict: 'ok',
  };
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
  for (const finding of judgement.findings) raise(describeFinding(finding, fs, where, on, kept));
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
  return { budget, problems };
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
): Problem {
  const { free, needed, reserve, short } = finding;
  const keptNote =
    kept > 0
      ? ` (${fmt(fs.blocks.available)} less the ${fmt(kept)} every ${fs.fsType} create reserves first)`
      : '';
  if (finding.resource === 'inodes') {
    switch (finding.kind) {
      case 'short':
        return makeProblem(
          'inodes-short',
          `needs ${fmt(needed)} inodes ${on}; ${fmt(free)} are free${usableNote(fs)} and ${fmt(reserve)} must stay free: short by ${fmt(short)}`,
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
        `needs ${fmt(needed)} blocks of ${fs.blockSize} B ${on}; ${fmt(free)} are available${keptNote} and ${fmt(reserve)} must stay available: short by ${fmt(short)} blocks (${fmt(short * fs.blockSize)} bytes)`,
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
