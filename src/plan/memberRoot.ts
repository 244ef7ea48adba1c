import { findUnsafeReason, normalizeMemberPath } from '../archive/normalizeMemberPath.js';
import { RestoreplanError } from '../errors.js';

/** Normalizes a --member-root exactly like a memberPath; one with `..` could name nothing safe. */
export function normalizeMemberRoot(memberRoot: string | undefined): string {
  if (!memberRoot) return '';
  if (findUnsafeReason(memberRoot) === 'dotdot') {
    throw new RestoreplanError('USAGE', `--member-root ${memberRoot}: must not contain ..`);
  }
  return normalizeMemberPath(memberRoot);
}

/** The path of `memberPath` relative to `root`, or null when it is not under it. */
export function relativeToRoot(memberPath: string, root: string): string | null {
  if (root === '') return memberPath;
  if (memberPath === root) return '';
  return memberPath.startsWith(root + '/') ? memberPath.slice(root.length + 1) : null;
}
