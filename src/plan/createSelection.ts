/**
 * THE selection of a restore without a profile: which archive members `check`, `plan` and the
 * wizard take, and what each becomes — decided here once, member by member as the walk goes:
 *
 * - under the member root, matching --include / --exclude, never an unsafe name, special files
 *   only when allowed (createMemberFilter);
 * - the last occurrence of a memberPath wins, as extraction would leave it: an earlier one is
 *   reported as superseded so a consumer retracts it (the member table, one implementation);
 * - a hard link is made when its target is restored in this run (selected earlier: tar stores
 *   the target first) or is already on disk as a file; otherwise it is not restored (its data
 *   lives in a member that is not selected) and says so — GNU tar fails on such a link too.
 *
 * Memory: the member table's ~17 bytes a member, nothing per member besides.
 */
import path from 'node:path';

import type { ArchiveEntry } from '../archive/ArchiveEntry.js';
import { judgeSymlinkText } from '../filesystems/judgeSymlinkText.js';
import { probePath, type ExistingProbe } from '../filesystems/probeExisting.js';
import { countMember, emptyCounts } from '../inventory/buildInventory.js';
import { createMemberTable, TYPE_BY_CODE, TYPE_CODES } from '../inventory/createMemberTable.js';
import { RestoreplanError } from '../errors.js';
import { makeProblem, type Problem } from '../problems.js';
import type { TypeCounts } from '../types.js';
import type { DemandMember } from './computeDemand.js';
import {
  createMemberFilter,
  MAX_LISTED_PROBLEMS,
  type MemberFilterOptions,
} from './createMemberFilter.js';
import { relativeToRoot } from './memberRoot.js';
import { createRootSuggester } from './suggestMemberRoots.js';

/** One selected member. The object (and its `member` and `previous`) is reused by the next offer. */
export interface SelectedMember {
  /** Path relative to the member root. */
  rel: string;
  /** The walk's entry: copy it to keep it. */
  entry: ArchiveEntry;
  /** How the accounting sees it (a hard link whose target is not restored: `linkResolved` false). */
  member: DemandMember;
  /** For a hard link that is made: its target relative to the member root. */
  linkRel: string | null;
  /** The earlier occurrence of the same memberPath this one supersedes, or null. */
  previous: DemandMember | null;
}

export interface Selection {
  readonly memberRoot: string;
  /** The member as selected, or null when it is not. */
  offer(entry: ArchiveEntry): SelectedMember | null;
  /** Distinct members selected (last occurrence wins), by type. */
  readonly counts: TypeCounts;
  /** What was left out for a reason (unsafe names, specials, links whose target is not restored). */
  problems(): Problem[];
  /**
   * Throws SELECTION_EMPTY, naming the directories the archive holds, when no member was
   * selected: a mistyped root or glob is an error, never a restore of nothing that "fits".
   */
  assertSelected(): void;
  /** The member at `memberPath` is not restored after all (a path of another type is there). */
  markNotRestored(memberPath: string): void;
  /**
   * The selected symlinks whose text may not be made (judgeSymlinkText, over every selected
   * symlink, as the planner and apply judge them): each is taken out of the counts and reported;
   * the caller retracts it with `refused` as the new member and `member` as the previous one.
   */
  refuseSymlinks(): Array<{ targetPath: string; member: DemandMember; refused: DemandMember }>;
}

export interface SelectionOptions extends MemberFilterOptions {
  /** The directory the member root is restored into (hard-link targets already on disk). */
  target: string;
  probe: ExistingProbe;
}

/** Whether what is on disk at `targetPath` is of `kind` (read through the probe). */
export function isKindOnDisk(
  probe: ExistingProbe,
  targetPath: string,
  kind: 'file' | 'symlink',
): boolean {
  return probePath(probe, targetPath)?.kind === kind;
}

/** Whether `rel` (relative to the member root) is a regular file on disk under `root`. */
export function isFileOnDisk(probe: ExistingProbe, root: string, rel: string): boolean {
  return isKindOnDisk(probe, path.join(root, rel), 'file');
}

export function createSelection(options: SelectionOptions): Selection {
  const filter = createMemberFilter(options);
  const suggester = createRootSuggester(filter.memberRoot);
  let accepted = 0;
  const table = createMemberTable();
  const counts = emptyCounts();
  const unlinked: string[] = [];
  let unlinkedCount = 0;
  const member: DemandMember = {
    type: 'file',
    dataBytes: 0,
    linkLength: 0,
    linkResolved: true,
    sparse: false,
  };
  const notRestored = new Set<string>();
  /** Selected symlinks by targetPath (bounded by the archive's symlinks). */
  const symlinks = new Map<string, { text: string; memberPath: string }>();
  /** memberPaths whose last occurrence is a symlink refused at once (its text leaves the root). */
  const refusedNow = new Set<string>();
  const isSymlinkSoFar = (candidate: string): boolean =>
    symlinks.has(candidate) || isKindOnDisk(options.probe, candidate, 'symlink');
  const refusedLinks: Problem[] = [];
  let refusedCount = 0;
  function reportRefusedLink(memberPath: string, reason: string, message: string): void {
    refusedCount += 1;
    if (refusedLinks.length < MAX_LISTED_PROBLEMS) {
      refusedLinks.push(
        makeProblem('unsafe-member', `${memberPath} is never restored (${reason}: ${message})`, {
          memberPath,
        }),
      );
    }
  }
  const previous: DemandMember = { type: 'file', dataBytes: 0, linkLength: 0, linkResolved: true };
  const selected: SelectedMember = {
    rel: '',
    entry: null as unknown as ArchiveEntry,
    member,
    linkRel: null,
    previous: null,
  };

  function resolveLink(entry: ArchiveEntry): string | null {
    const linkRel = relativeToRoot(entry.linkPath, filter.memberRoot);
    if (linkRel === null || linkRel === '') return null;
    const code = table.lookup(entry.linkPath);
    if (
      (code === TYPE_CODES.file || code === TYPE_CODES.hardlink) &&
      !notRestored.has(entry.linkPath)
    )
      return linkRel;
    return isFileOnDisk(options.probe, options.target, linkRel) ? linkRel : null;
  }

  return {
    memberRoot: filter.memberRoot,
    counts,
    offer(entry) {
      suggester.observe(entry.memberPath);
      const rel = filter.accept(entry);
      if (rel === null) return null;
      accepted += 1;
      const linkRel = entry.type === 'hardlink' ? resolveLink(entry) : null;
      member.type = entry.type;
      member.dataBytes = entry.type === 'file' ? entry.storedSize : 0;
      member.linkLength = entry.type === 'symlink' ? Buffer.byteLength(entry.linkPath) : 0;
      member.linkResolved = entry.type !== 'hardlink' || linkRel !== null;
      // A symlink whose text leaves the root is refused at once, before the accounting creates
      // a parent directory for it; one that leads through a symlink selected later is found at
      // the end (refuseSymlinks), over all of them.
      member.refused = false;
      if (entry.type === 'symlink') {
        const targetPath = path.join(options.target, rel);
        const why = judgeSymlinkText(options.target, targetPath, entry.linkPath, isSymlinkSoFar);
        if (why) {
          member.refused = true;
          reportRefusedLink(entry.memberPath, why.reason, why.message);
        }
      }
      member.sparse = entry.sparse !== null;
      if (linkRel !== null) member.linkTargetPath = path.join(options.target, linkRel);
      else delete member.linkTargetPath;
      // Symlinks are judged at the end, over all of them (the hot path joins no path otherwise).
      if (entry.type === 'symlink' && !member.refused) {
        symlinks.set(path.join(options.target, rel), {
          text: entry.linkPath,
          memberPath: entry.memberPath,
        });
      } else if (symlinks.size > 0) symlinks.delete(path.join(options.target, rel));
      const wasRefused = refusedNow.size > 0 && refusedNow.delete(entry.memberPath);
      if (member.refused) refusedNow.add(entry.memberPath);
      if (!member.linkResolved && !member.refused) {
        unlinkedCount += 1;
        if (unlinked.length < MAX_LISTED_PROBLEMS) unlinked.push(entry.memberPath);
      }
      // The table keeps a type code and two numbers per path; what they mean depends on the
      // type, so a superseded occurrence can be retracted exactly.
      const size =
        entry.type === 'file'
          ? entry.size
          : entry.type === 'symlink'
            ? member.linkLength
            : entry.type === 'hardlink'
              ? Number(member.linkResolved)
              : 0;
      const prevCode = table.upsert(
        entry.memberPath,
        TYPE_CODES[entry.type],
        size,
        member.dataBytes,
      );
      selected.previous = null;
      if (prevCode !== -1) {
        const prevType = TYPE_BY_CODE[prevCode] ?? 'file';
        previous.type = prevType;
        previous.dataBytes = prevType === 'file' ? table.previousStored() : 0;
        previous.linkLength = prevType === 'symlink' ? table.previousSize() : 0;
        previous.linkResolved = prevType === 'hardlink' ? table.previousSize() === 1 : true;
        previous.refused = wasRefused;
        if (previous.linkResolved && !previous.refused)
          countMember(counts, prevType, prevType === 'file' ? table.previousSize() : 0, -1);
        selected.previous = previous;
      }
      if (member.linkResolved && !member.refused) countMember(counts, entry.type, entry.size, 1);
      selected.rel = rel;
      selected.entry = entry;
      selected.linkRel = linkRel;
      return selected;
    },
    assertSelected() {
      if (accepted > 0) return;
      const globs = [
        ...(options.include ?? []).map((g) => `--include ${g}`),
        ...(options.exclude ?? []).map((g) => `--exclude ${g}`),
      ];
      const root =
        filter.memberRoot === '' ? 'the archive root' : `--member-root ${filter.memberRoot}`;
      const holds = suggester.suggest();
      throw new RestoreplanError(
        'SELECTION_EMPTY',
        `${[root, ...globs].join(' with ')} selects no member of the archive`,
        {
          memberRoot: filter.memberRoot,
          hint:
            holds.length > 0
              ? `the archive holds ${holds.join(', ')}${filter.memberRoot === '' ? '' : ' at that depth'}; restoreplan scan ARCHIVE lists the tree`
              : 'the archive holds no directory at that depth; restoreplan scan ARCHIVE lists the tree',
        },
      );
    },
    markNotRestored(memberPath) {
      notRestored.add(memberPath);
    },
    refuseSymlinks() {
      const refused: Array<{ targetPath: string; member: DemandMember; refused: DemandMember }> =
        [];
      const isSymlink = (candidate: string): boolean =>
        symlinks.has(candidate) || isKindOnDisk(options.probe, candidate, 'symlink');
      for (const [targetPath, link] of symlinks) {
        const why = judgeSymlinkText(options.target, targetPath, link.text, isSymlink);
        if (!why) continue;
        const linkMember: DemandMember = {
          type: 'symlink',
          dataBytes: 0,
          linkLength: Buffer.byteLength(link.text),
          linkResolved: true,
        };
        countMember(counts, 'symlink', 0, -1);
        refused.push({ targetPath, member: linkMember, refused: { ...linkMember, refused: true } });
        reportRefusedLink(link.memberPath, why.reason, why.message);
      }
      return refused;
    },
    problems() {
      const problems = [...filter.problems(), ...refusedLinks];
      if (refusedCount > refusedLinks.length) {
        problems.push(
          makeProblem(
            'unsafe-member',
            `${refusedCount - refusedLinks.length} more symlinks whose text leaves the target are never restored`,
          ),
        );
      }
      for (const memberPath of unlinked) {
        problems.push(
          makeProblem(
            'hardlink-unresolved',
            `${memberPath} is a hard link whose target is neither restored nor on disk: not restored (select its target too)`,
            { memberPath },
          ),
        );
      }
      if (unlinkedCount > unlinked.length) {
        problems.push(
          makeProblem(
            'hardlink-unresolved',
            `${unlinkedCount - unlinked.length} more hard links whose target is neither restored nor on disk are not restored`,
          ),
        );
      }
      return problems;
    },
  };
}
