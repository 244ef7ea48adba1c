/**
 * Demand against supply on one filesystem: the reserve, what is left afterwards, the verdict
 * and the problems that explain it (with the exact shortfall, so an operator knows how much
 * to free or to leave out).
 */
import { makeProblem, type Problem } from '../problems.js';
import type { FilesystemInfo } from '../filesystems/statFilesystem.js';
import type { FilesystemBudget, Verdict } from '../types.js';
import type { FilesystemDemand } from './computeDemand.js';
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
  demand: FilesystemDemand,
  policy: BudgetPolicy,
): BudgetEvaluation {
  const problems: Problem[] = [];
  const where = { mountPoint: fs.mountPoint };
  const on = `on ${fs.mountPoint} (${fs.fsType})`;
  const fixedInodes = !fs.dynamicInodes && fs.inodes.total > 0;

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

  // Inodes.
  if (fixedInodes) {
    const { free, total } = fs.inodes;
    const spare = free - inodeReserve;
    if (demand.inodes > 0 && demand.inodes > spare) {
      const short = demand.inodes - spare;
      raise(
        makeProblem(
          'inodes-short',
          `needs ${fmt(demand.inodes)} inodes ${on}; ${fmt(free)} are free and ${fmt(inodeReserve)} must stay free: short by ${fmt(short)}`,
          { ...where, severity: 'critical' },
        ),
      );
    } else if (spare < 0) {
      // Already below the reserve: a restore that adds no inode (repairing broken files in
      // place of themselves) may still go ahead, as long as its peak fits what is really free.
      raise(
        makeProblem(
          'below-reserve',
          `${fmt(free)} inodes free ${on}, below the reserve of ${fmt(inodeReserve)}; the restore adds none`,
          where,
        ),
      );
    }
    if (demand.peakInodes > free) {
      raise(
        makeProblem(
          'peak-short',
          `needs ${fmt(demand.peakInodes)} inodes ${on} while the restore runs; ${fmt(free)} are free: short by ${fmt(demand.peakInodes - free)}`,
          where,
        ),
      );
    }
    const after = free - demand.inodes;
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
        `${fs.fsType} allocates inodes from free space ${on}: the ${fmt(demand.inodes)} new inodes are budgeted as blocks`,
        where,
      ),
    );
  }

  // Blocks, against bavail.
  const { available } = fs.blocks;
  const spareBlocks = available - blockReserve;
  if (demand.blocks > 0 && demand.blocks > spareBlocks) {
    const short = demand.blocks - spareBlocks;
    raise(
      makeProblem(
        'blocks-short',
        `needs ${fmt(demand.blocks)} blocks of ${fs.blockSize} B ${on}; ${fmt(available)} are available and ${fmt(blockReserve)} must stay available: short by ${fmt(short)} blocks (${fmt(short * fs.blockSize)} bytes)`,
        { ...where, severity: 'critical' },
      ),
    );
  } else if (spareBlocks < 0) {
    raise(
      makeProblem(
        'below-reserve',
        `${fmt(available)} blocks available ${on}, below the reserve of ${fmt(blockReserve)}; the restore adds none`,
        where,
      ),
    );
  }
  if (demand.peakBlocks > available) {
    raise(
      makeProblem(
        'peak-short',
        `needs ${fmt(demand.peakBlocks)} blocks ${on} while the restore runs; ${fmt(available)} are available: short by ${fmt(demand.peakBlocks - available)}`,
        where,
      ),
    );
  }
  budget.verdict = verdict;
  return { budget, problems };
}
