/**
 * The selected members (drafts) placed under one root: each becomes a step, or is skipped for a
 * reason, by the same rules the accounting counts with — the demand ledger decides `create`,
 * `replace`, "already there" and "skipped" (a type conflict, a non-directory in the way of a
 * parent, a hard link whose target is neither restored nor on disk), so check, plan and apply
 * cannot disagree on what a member does. Read-only: the disk is read through the probe.
 */
import path from 'node:path';

import type { ArchiveEntry } from '../archive/ArchiveEntry.js';
import { judgeSymlinkText } from '../filesystems/judgeSymlinkText.js';
import type { ExistingProbe } from '../filesystems/probeExisting.js';
import { makeProblem, type Problem } from '../problems.js';
import { createDemandLedger, type DemandMember } from './computeDemand.js';
import type { FilesystemRegistry } from './createFilesystemRegistry.js';
import { createConflictLog } from './createConflictLog.js';
import { isFileOnDisk, isKindOnDisk } from './createSelection.js';
import { makeStep, type StepContext, type UnpricedStep } from './makeStep.js';

export type StageName = 'configs' | 'state' | 'archives' | 'files';

/** A member chosen for restoring, before it is placed under a root. */
export interface Draft {
  stage: StageName;
  /** Path relative to the member root. */
  rel: string;
  /** A copy of the walk's entry. */
  entry: ArchiveEntry;
  sha256?: string;
  /** A path whose mode a new file takes (config.pck.last for a missing config.pck). */
  modeFrom?: string;
  /** For hard links: the link target's path relative to the member root. */
  linkRel?: string;
  /**
   * Restore only when nothing is at the targetPath: list state and archives on disk are newer
   * than any backup (every post archived since it is in the mbox only), so they are kept.
   */
  onlyIfMissing?: boolean;
  /** Give the file the apply time as mtime (Mailman configs and state while Mailman runs). */
  freshMtime?: boolean;
}

export interface PlacedStep {
  stage: StageName;
  step: UnpricedStep;
}

export interface Placement {
  root: string;
  placed: PlacedStep[];
  skipped: Problem[];
}

export interface PlaceContext {
  probe: ExistingProbe;
  registry: FilesystemRegistry;
}

/** The accounting's view of a draft; the stored data of a sparse file, not its apparent size. */
export function demandOf(
  entry: Pick<ArchiveEntry, 'type' | 'storedSize' | 'linkPath' | 'sparse'>,
  linkResolved: boolean,
  linkTargetPath?: string,
): DemandMember {
  return {
    type: entry.type,
    dataBytes: entry.type === 'file' ? entry.storedSize : 0,
    linkLength: entry.type === 'symlink' ? Buffer.byteLength(entry.linkPath) : 0,
    linkResolved,
    sparse: entry.sparse !== null,
    ...(linkTargetPath !== undefined ? { linkTargetPath } : {}),
  };
}

export function placeDrafts(
  context: PlaceContext,
  root: string,
  drafts: readonly Draft[],
): Placement {
  const conflicts = createConflictLog();
  const ledger = createDemandLedger({
    probe: context.probe,
    resolveFilesystem: context.registry.resolveFilesystem,
    modelOf: context.registry.modelOf,
    onConflict: conflicts.record,
  });
  ledger.touch(root);
  const steps: StepContext = { probe: context.probe, freshMtime: false, owners: new Map() };
  const fresh: StepContext = { ...steps, freshMtime: true };
  const placed: PlacedStep[] = [];
  const skipped: Problem[] = [];
  /** What this placement restores, in draft (archive) order: a link's target comes first. */
  const placedRels = new Set<string>();
  const plannedSymlinks = new Set(
    drafts.filter((d) => d.entry.type === 'symlink').map((d) => path.join(root, d.rel)),
  );
  const isSymlink = (candidate: string): boolean =>
    plannedSymlinks.has(candidate) || isKindOnDisk(context.probe, candidate, 'symlink');
  let kept = 0;
  let blockedBeneath = 0;
  for (const draft of drafts) {
    const { entry } = draft;
    const targetPath = path.join(root, draft.rel);
    if (entry.type === 'symlink') {
      // The rule apply enforces (it refuses such a link): never planned, never counted.
      const why = judgeSymlinkText(root, targetPath, entry.linkPath, isSymlink);
      if (why) {
        skipped.push(
          makeProblem(
            'unsafe-member',
            `${entry.memberPath} is never restored (${why.reason}: ${why.message})`,
            {
              memberPath: entry.memberPath,
            },
          ),
        );
        continue;
      }
    }
    // A link is made when its target is restored here (not kept out by what is in the way) or
    // is a file on disk already.
    const linkResolved =
      draft.linkRel === undefined ||
      placedRels.has(draft.linkRel) ||
      isFileOnDisk(context.probe, root, draft.linkRel);
    const linkTargetPath = draft.linkRel !== undefined ? path.join(root, draft.linkRel) : undefined;
    const outcome = ledger.add(targetPath, demandOf(entry, linkResolved, linkTargetPath), null);
    if (outcome.write === 'skip') {
      if (outcome.crossDevice) {
        skipped.push(
          makeProblem(
            'hardlink-unresolved',
            `${entry.memberPath} links to ${entry.linkPath}, which lands on another filesystem: not restored (a link cannot cross filesystems)`,
            { memberPath: entry.memberPath },
          ),
        );
      } else if (!linkResolved) {
        skipped.push(
          makeProblem(
            'hardlink-unresolved',
            `${entry.memberPath} links to ${entry.linkPath}, which is neither restored nor on disk: not restored`,
            { memberPath: entry.memberPath },
          ),
        );
      } else if (conflicts.last !== targetPath) blockedBeneath += 1;
      continue;
    }
    if (outcome.write === 'none') continue; // a directory that is already there
    if (draft.onlyIfMissing && outcome.write === 'replace') {
      kept += 1;
      continue;
    }
    placedRels.add(draft.rel);
    placed.push({
      stage: draft.stage,
      step: makeStep(draft.freshMtime ? fresh : steps, root, draft.rel, entry, outcome.write, {
        ...(draft.sha256 !== undefined ? { sha256: draft.sha256 } : {}),
        ...(draft.modeFrom !== undefined ? { modeFrom: draft.modeFrom } : {}),
        ...(draft.linkRel !== undefined ? { linkTarget: path.join(root, draft.linkRel) } : {}),
      }),
    });
  }
  skipped.push(...conflicts.problems(blockedBeneath));
  if (kept > 0) {
    skipped.push(
      makeProblem(
        'kept-existing',
        `${kept} archive files already on disk are kept: they are newer than the backup's copies`,
      ),
    );
  }
  return { root, placed, skipped };
}
