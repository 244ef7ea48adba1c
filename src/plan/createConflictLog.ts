/**
 * The type conflicts a restore meets (a path of another type where a member goes, or a
 * non-directory where one of its parents belongs), reported the same way by placement and by
 * `check`: the first few by path, the rest counted.
 */
import { makeProblem, type Problem } from '../problems.js';
import { MAX_LISTED_PROBLEMS } from './createMemberFilter.js';

export interface ConflictLog {
  /** The ledger's onConflict: 1 found, -1 retracted (its member superseded by one that fits). */
  record(targetPath: string, sign?: 1 | -1): void;
  /** The path recorded last ('' before any). */
  readonly last: string;
  /** `beneath`: members not restored because a parent of theirs is in conflict. */
  problems(beneath?: number): Problem[];
}

export function createConflictLog(): ConflictLog {
  const listed: string[] = [];
  let count = 0;
  let last = '';
  return {
    record(targetPath, sign = 1) {
      if (sign === -1) {
        count -= 1;
        const at = listed.indexOf(targetPath);
        if (at !== -1) listed.splice(at, 1);
        return;
      }
      last = targetPath;
      count += 1;
      if (listed.length < MAX_LISTED_PROBLEMS) listed.push(targetPath);
    },
    get last() {
      return last;
    },
    problems(beneath = 0) {
      const problems = listed.map((targetPath) =>
        makeProblem(
          'type-conflict',
          `${targetPath}: a path of another type is in the way; what the archive has there is not restored`,
          { targetPath },
        ),
      );
      // Only what there is to say: "0 more type conflicts; 1 members beneath …" read as a count
      // of conflicts that are not there.
      const more = count - listed.length;
      const parts = [
        more > 0 ? `${more} more type conflict${more === 1 ? '' : 's'}` : '',
        beneath > 0
          ? `${beneath} member${beneath === 1 ? '' : 's'} beneath a path of another type ${beneath === 1 ? 'is' : 'are'} not restored`
          : '',
      ].filter(Boolean);
      if (parts.length > 0) problems.push(makeProblem('type-conflict', parts.join('; ')));
      return problems;
    },
  };
}
