/**
 * The order apply runs a stage's steps in, decided here once so the planner prices the steps in
 * that order (a missing parent directory is charged to the step that first needs it) and apply's
 * guard can sum what is left: directories first, shallowest first (parents before children);
 * then files — Mailman list configs first (they are the service: a run stopped part-way has
 * brought lists back before their state and archives), then in archive order (sequential reads
 * of the archive); then hard links (their files
 * exist by then); then symlinks (so nothing the archive links can be written through later in
 * the same stage); then fifos and devices. Stable: equal keys keep the selection's order.
 */
import type { PlanStep } from '../types.js';

const RANK: Record<PlanStep['type'], number> = {
  dir: 0,
  file: 1,
  hardlink: 2,
  symlink: 3,
  fifo: 4,
  chardev: 5,
  blockdev: 5,
};

function depth(targetPath: string): number {
  let n = 0;
  for (let i = 0; i < targetPath.length; i += 1) if (targetPath.charCodeAt(i) === 0x2f) n += 1;
  return n;
}

/** 0 for a Mailman list config (what Utils.list_exists looks for), else 1. Cheap: no regex. */
function configRank(targetPath: string): number {
  const slash = targetPath.lastIndexOf('/');
  const name = targetPath.slice(slash + 1);
  return name === 'config.pck' ||
    name === 'config.pck.last' ||
    name === 'config.db' ||
    name === 'config.db.last'
    ? 0
    : 1;
}

export function compareSteps(
  a: Pick<PlanStep, 'type' | 'targetPath' | 'source'>,
  b: Pick<PlanStep, 'type' | 'targetPath' | 'source'>,
): number {
  const byType = RANK[a.type] - RANK[b.type];
  if (byType !== 0) return byType;
  if (a.type === 'dir') return depth(a.targetPath) - depth(b.targetPath);
  if (a.type === 'file')
    return (
      configRank(a.targetPath) - configRank(b.targetPath) ||
      a.source.dataOffset - b.source.dataOffset
    );
  return 0;
}

/** A new array of `steps` in execution order. */
export function orderSteps<T extends Pick<PlanStep, 'type' | 'targetPath' | 'source'>>(
  steps: readonly T[],
): T[] {
  return [...steps].sort(compareSteps);
}
