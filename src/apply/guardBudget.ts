/**
 * The live budget guard. The plan's numbers were true when it was made; a running Mailman keeps
 * taking inodes (one queue file per message), so apply re-reads statfs before each stage and
 * every few hundred files and stops cleanly — between files, everything so far complete and
 * journaled — before the remaining steps would push a filesystem below its reserve. A step that
 * needs no new inode (an in-place rewrite) is never blocked by the inode reserve: with zero free
 * inodes the broken configs must still be repairable. ENOSPC mid-run means this guard was wrong.
 */
import type { StatsFs } from 'node:fs';

import {
  createReserveBlocks,
  usableInodes,
  type XfsInodeGeometry,
} from '../filesystems/usableInodes.js';
import { judgeBudget, type Demand } from '../plan/judgeBudget.js';

import type { FsOps } from './fsOps.js';

export interface GuardedMount {
  mountPoint: string;
  /** The filesystem reports no inode limit (btrfs): only blocks are guarded. */
  dynamicInodes: boolean;
  /** mountinfo's type: XFS is judged on the inodes it can really create, not on f_ffree. */
  fsType: string;
  /** XFS's superblock geometry (null: unknown, the mkfs.xfs defaults are assumed). */
  xfs: XfsInodeGeometry | null;
  inodesReserve: number;
  blocksReserve: number;
}

export interface BudgetStop {
  mountPoint: string;
  resource: 'inodes' | 'blocks';
  /** Free now (ffree or bavail). */
  free: number;
  needed: number;
  reserve: number;
  message: string;
}

/**
 * Decides from one statfs reading whether `demand` still fits, by the planner's own rule
 * (judgeBudget) on the planner's own supply (usableInodes: what statFilesystem derives from
 * the same reading): the first critical finding stops the run.
 */
export function judgeDemand(
  mount: GuardedMount,
  stats: Pick<StatsFs, 'ffree' | 'bavail' | 'bfree' | 'files' | 'bsize'>,
  demand: Demand,
): BudgetStop | null {
  const inodes = usableInodes(
    {
      fsType: mount.fsType,
      blockSize: stats.bsize,
      files: stats.files,
      ffree: stats.ffree,
      bfree: stats.bfree,
    },
    mount.xfs,
  );
  const judgement = judgeBudget(
    {
      inodesFree: inodes,
      limitedInodes: !mount.dynamicInodes && stats.files > 0,
      // XFS refuses a create below its create reservation: a run that still creates keeps it.
      blocksAvailable:
        stats.bavail -
        (demand.peakInodes > 0
          ? createReserveBlocks({ fsType: mount.fsType, blockSize: stats.bsize }, mount.xfs)
          : 0),
    },
    demand,
    { inodes: mount.inodesReserve, blocks: mount.blocksReserve },
  );
  const finding = judgement.findings.find((f) => f.kind !== 'below-reserve');
  return finding
    ? stop(mount, finding.resource, finding.free, finding.needed, finding.reserve)
    : null;
}

function stop(
  mount: GuardedMount,
  resource: 'inodes' | 'blocks',
  free: number,
  needed: number,
  reserve: number,
): BudgetStop {
  const what = resource === 'inodes' ? 'inodes' : 'blocks';
  const state = resource === 'inodes' ? 'free' : 'available';
  return {
    mountPoint: mount.mountPoint,
    resource,
    free,
    needed,
    reserve,
    message:
      reserve > 0
        ? `${mount.mountPoint}: ${needed} more ${what} needed, ${free} ${state}, reserve ${reserve}`
        : `${mount.mountPoint}: ${needed} ${what} needed while the restore runs, ${free} ${state}`,
  };
}

/** Reads statfs for every mount with demand and returns the first that would cross its reserve. */
export async function guardBudget(
  mounts: readonly GuardedMount[],
  demand: ReadonlyMap<string, Demand>,
  fsOps: Pick<FsOps, 'statfs'>,
): Promise<BudgetStop | null> {
  for (const mount of mounts) {
    const wanted = demand.get(mount.mountPoint);
    if (!wanted) continue;
    const stats = await fsOps.statfs(mount.mountPoint);
    const stop = judgeDemand(mount, stats, wanted);
    if (stop) return stop;
  }
  return null;
}
