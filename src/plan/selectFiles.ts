/**
 * The selection of a restore without a profile, collected as drafts for the planner: the same
 * `createSelection` that `check` streams through its ledger, so both take exactly the same
 * members. Memory: one draft per selected member (the plan lists every step anyway).
 */
import { copyEntry } from '../archive/ArchiveEntry.js';
import { archiveIndexOptions } from './archiveIndexOptions.js';
import { walkArchive } from '../archive/walkArchive.js';
import { throwIfAborted } from '../errors.js';
import type { ExistingProbe } from '../filesystems/probeExisting.js';
import type { CommonOptions } from '../progress.js';
import type { MemberFilterOptions } from './createMemberFilter.js';
import { createSelection } from './createSelection.js';
import type { Draft } from './placeDrafts.js';
import type { RestoreSelection } from './selectMailmanLists.js';

export async function selectFiles(
  archive: string | NodeJS.ReadableStream,
  target: string,
  probe: ExistingProbe,
  options: MemberFilterOptions & CommonOptions,
): Promise<RestoreSelection> {
  const selection = createSelection({ ...options, target, probe });
  const drafts = new Map<string, Draft>();
  const walk = await walkArchive(archive, {
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    ...(await archiveIndexOptions(options, [target])),
    onEntry(entry) {
      const selected = selection.offer(entry);
      if (!selected) return;
      // The selection decided which occurrence wins; a superseded draft is dropped here, and
      // so is a member the selection does not restore (reported there, once).
      if (!selected.member.linkResolved || selected.member.refused === true) {
        drafts.delete(entry.memberPath);
        return;
      }
      drafts.set(entry.memberPath, {
        stage: 'files',
        rel: selected.rel,
        entry: copyEntry(entry),
        ...(selected.linkRel !== null ? { linkRel: selected.linkRel } : {}),
      });
    },
  });
  throwIfAborted(options.signal);
  selection.assertSelected();
  return {
    walk,
    targetRoot: target,
    drafts: [...drafts.values()],
    lists: [],
    problems: selection.problems(),
    mailman: null,
    growth: null,
  };
}
