/**
 * The archive a plan was made from, proven to be that archive — and each planned step proven
 * to match the member it names (checkPlannedMembers) — before apply writes anything, and the
 * reader of its members. From a file, or a stream saved to one, the proof is read first and
 * the members after (by offset, or in batched passes when compressed). From a pipe there is
 * one pass: readStreamOnce keeps the planned members' data while it reads the whole stream for
 * its fingerprint, and returns only when the stream is the plan's and the steps its members.
 * From a restic snapshot or a borg archive: openBackupMembers (the id, then one run of the tool).
 */
import { toolSourceOf } from '../archive/parseBackupSource.js';
import type { PlanDocument } from '../types.js';
import type { ApplyOptions } from './applyPlan.js';
import { checkArchiveUnchanged, isStreamPlan } from './checkArchiveUnchanged.js';
import { MemberCheck } from './checkPlannedMembers.js';
import { loadAccessPoints } from './loadAccessPoints.js';
import { openArchiveSource } from './openArchiveSource.js';
import { openMemberReader, type MemberReader } from './openMemberReader.js';

export async function openPlannedArchive(
  plan: PlanDocument,
  options: Pick<ApplyOptions, 'archive' | 'dryRun' | 'signal' | 'onProgress' | 'index'>,
): Promise<MemberReader> {
  // A restic snapshot or borg archive: its id proven, the planned files read through the tool.
  const tool = toolSourceOf(options.archive ?? plan.archive.path);
  if (tool) {
    const { openBackupMembers } = await import('./openBackupMembers.js');
    return openBackupMembers(plan, tool, {
      collect: options.dryRun !== true,
      signal: options.signal,
    });
  }
  const source = await openArchiveSource(plan.archive, options.archive);
  try {
    if (source.readAt || !isStreamPlan(plan.archive)) {
      await checkArchiveUnchanged(plan.archive, source, options.signal);
      const accessPoints =
        plan.archive.compression === 'none'
          ? []
          : await loadAccessPoints(
              source,
              options.index,
              isStreamPlan(plan.archive) ? null : plan.archive.fingerprint,
            );
      return await openMemberReader(plan.archive, source, {
        accessPoints,
        check: new MemberCheck(plan),
        collect: options.dryRun !== true,
        ...(options.signal ? { signal: options.signal } : {}),
      });
    }
    // Loaded only for a pipe: it brings the walker, which a plain file apply does not need.
    const { readStreamOnce } = await import('./readStreamOnce.js');
    return await readStreamOnce(plan, source, {
      collect: options.dryRun !== true,
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
  } catch (error) {
    await source.close();
    throw error;
  }
}
