/**
 * Which archive members a restore without a profile selects, the same for `check` and `plan`:
 * those under the member root, matching --include / --exclude; never one whose name would
 * escape the target (`..`, absolute); fifos and devices only when allowed. What is left out
 * for a reason is counted and reported as problems, the first few one by one.
 */
import type { ArchiveEntry } from '../archive/ArchiveEntry.js';
import { makeProblem, type Problem } from '../problems.js';
import { createSelector } from './matchGlob.js';
import { normalizeMemberRoot, relativeToRoot } from './memberRoot.js';

/** At most this many unsafe members are listed one by one; the rest are summed up. */
export const MAX_LISTED_PROBLEMS = 20;

export interface MemberFilterOptions {
  memberRoot?: string;
  include?: string[];
  exclude?: string[];
  allowSpecial?: boolean;
}

export interface MemberFilter {
  readonly memberRoot: string;
  /** The member's path relative to the member root when it is selected, else null. */
  accept(entry: ArchiveEntry): string | null;
  /** Whether a path relative to the member root matches --include / --exclude. */
  matches(relPath: string): boolean;
  /** What was left out for a reason (unsafe names, special files). */
  problems(): Problem[];
}

export function createMemberFilter(options: MemberFilterOptions): MemberFilter {
  const memberRoot = normalizeMemberRoot(options.memberRoot);
  const matches = createSelector(options.include, options.exclude);
  const listed: Problem[] = [];
  let unsafe = 0;
  let specials = 0;
  return {
    memberRoot,
    matches,
    accept(entry) {
      const rel = relativeToRoot(entry.memberPath, memberRoot);
      // The member root itself is the target: nothing to restore.
      if (rel === null || rel === '') return null;
      if (entry.unsafe !== null) {
        unsafe += 1;
        if (unsafe <= MAX_LISTED_PROBLEMS) {
          listed.push(
            makeProblem('unsafe-member', `${entry.rawPath} is never restored (${entry.unsafe})`, {
              memberPath: entry.rawPath,
            }),
          );
        }
        return null;
      }
      if (!matches(rel)) return null;
      const special =
        entry.type === 'fifo' || entry.type === 'chardev' || entry.type === 'blockdev';
      if (special && !options.allowSpecial) {
        specials += 1;
        return null;
      }
      return rel;
    },
    problems() {
      const problems = [...listed];
      if (unsafe > MAX_LISTED_PROBLEMS) {
        problems.push(
          makeProblem(
            'unsafe-member',
            `${unsafe - MAX_LISTED_PROBLEMS} more unsafe members are never restored`,
          ),
        );
      }
      if (specials > 0) {
        problems.push(
          makeProblem(
            'special-member',
            `${specials} fifo/device members are not restored (and not counted); allow special files to restore them`,
          ),
        );
      }
      return problems;
    },
  };
}
