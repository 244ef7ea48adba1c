/**
 * Containment. Stops the classic extraction escapes: a `..` or absolute name, and writing
 * THROUGH a symlink — the archive plants `a -> /etc` and then a file `a/passwd`, or a chain
 * `a -> b`, `b -> ../..`. Every component between the root and the target is lstat'ed (never
 * followed) and a symlink anywhere in the path is refused, whether this run created it or it
 * was already there: a pre-existing symlink that resolves inside the root today could be
 * re-pointed tomorrow, and a restore never needs to go through one (the archive holds the real
 * directory too). The root itself is resolved with realpath once, by the caller, so a target
 * root that is a symlink (`/var/lib/mailman -> /srv/mailman`) still works.
 *
 * Node has no openat(2), so the check and the write are separate calls: a local user with
 * write access inside the root could swap a checked directory for a symlink in between. The
 * final component is always opened with O_NOFOLLOW (openNoFollow), which closes the common
 * case; the archive itself can never win the race because apply writes symlinks only after all
 * files (see applyPlan) and re-checks the path of every step.
 */
import type { Stats } from 'node:fs';
import path from 'node:path';

import { RestoreplanError } from '../errors.js';
import { isInside } from '../filesystems/judgeSymlinkText.js';
import { defaultFsOps, errnoCode, type FsOps } from './fsOps.js';

/** Linux PATH_MAX and NAME_MAX: beyond them the kernel refuses, so refuse first, clearly. */
export const PATH_MAX = 4095;
export const NAME_MAX = 255;

export type UnsafeReason =
  | 'not-absolute'
  | 'dotdot'
  | 'outside-root'
  | 'nul-byte'
  | 'name-too-long'
  | 'symlink-in-path'
  | 'not-a-directory-in-path'
  | 'link-outside-root'
  | 'link-target-invalid'
  | 'link-through-symlink';

export function unsafePath(
  targetPath: string,
  reason: UnsafeReason,
  message: string,
): RestoreplanError {
  return new RestoreplanError('UNSAFE_PATH', message, { targetPath, reason });
}

/**
 * Lexical containment: `targetPath` is absolute, has no `..` or NUL, fits PATH_MAX, and lies
 * strictly below `root`. Returns the components below the root.
 */
export { isInside };

export function splitInsideRoot(root: string, targetPath: string): string[] {
  if (targetPath.includes('\0'))
    throw unsafePath(targetPath, 'nul-byte', `${JSON.stringify(targetPath)} contains a NUL byte`);
  if (!path.isAbsolute(targetPath))
    throw unsafePath(targetPath, 'not-absolute', `${targetPath} is not an absolute path`);
  if (targetPath.split('/').includes('..'))
    throw unsafePath(targetPath, 'dotdot', `${targetPath} contains a '..' component`);
  const normalized = path.resolve(targetPath);
  if (normalized === root || !isInside(root, normalized))
    throw unsafePath(targetPath, 'outside-root', `${targetPath} is not inside ${root}`);
  if (Buffer.byteLength(normalized) > PATH_MAX)
    throw unsafePath(
      targetPath,
      'name-too-long',
      `${targetPath.slice(0, 80)}... is longer than PATH_MAX`,
    );
  const parts = normalized.slice(root === '/' ? 1 : root.length + 1).split('/');
  for (const part of parts) {
    if (Buffer.byteLength(part) > NAME_MAX)
      throw unsafePath(
        targetPath,
        'name-too-long',
        `a component of ${targetPath.slice(0, 80)}... is longer than NAME_MAX`,
      );
  }
  return parts;
}

export interface ResolvedTarget {
  /** The normalized absolute path. */
  targetPath: string;
  /** Ancestor directories (absolute, shallowest first) that do not exist yet. */
  missingDirs: string[];
  /** lstat of the target itself, or null when it does not exist. */
  existing: Stats | null;
}

export interface ResolveOptions {
  fsOps?: FsOps;
  /** Directories already verified (or created) in this run: not lstat'ed again. */
  knownDirs?: Set<string>;
}

/**
 * Resolves `targetPath` inside `root` (a realpath) without following any symlink: throws
 * UNSAFE_PATH when it cannot be written safely.
 */
export async function resolveInsideRoot(
  root: string,
  targetPath: string,
  options: ResolveOptions = {},
): Promise<ResolvedTarget> {
  const fsOps = options.fsOps ?? defaultFsOps;
  const parts = splitInsideRoot(root, targetPath);
  const normalized = path.resolve(targetPath);
  const missingDirs: string[] = [];
  let current = root;
  for (let i = 0; i < parts.length - 1; i += 1) {
    current = current === '/' ? `/${parts[i]}` : `${current}/${parts[i]}`;
    if (missingDirs.length > 0) {
      missingDirs.push(current);
      continue;
    }
    if (options.knownDirs?.has(current)) continue;
    let stats: Stats;
    try {
      stats = await fsOps.lstat(current);
    } catch (error) {
      if (errnoCode(error) !== 'ENOENT') throw error;
      missingDirs.push(current);
      continue;
    }
    if (stats.isSymbolicLink())
      throw unsafePath(
        targetPath,
        'symlink-in-path',
        `${current} is a symlink: never written through`,
      );
    if (!stats.isDirectory())
      throw unsafePath(
        targetPath,
        'not-a-directory-in-path',
        `${current} exists and is not a directory`,
      );
    options.knownDirs?.add(current);
  }
  let existing: Stats | null = null;
  if (missingDirs.length === 0) {
    try {
      existing = await fsOps.lstat(normalized);
    } catch (error) {
      if (errnoCode(error) !== 'ENOENT') throw error;
    }
  }
  return { targetPath: normalized, missingDirs, existing };
}
