/**
 * Hard links. Stops the hard-link escape: a member `x` linked to `/etc/passwd` (or to
 * `../../etc/passwd`, or to `a/passwd` where `a -> /etc` was planted first) would give the
 * restored tree a second name for a file outside it, and a later write to that name (ours, or
 * Mailman's) would change the outside file. The link target must lie inside the root, be
 * reached without any symlink, and be a regular file — one restored in this run or already
 * there. Created under a temp name and renamed over, so an existing file is replaced atomically.
 */
import path from 'node:path';

import { defaultFsOps, type FsOps } from './fsOps.js';
import { resolveInsideRoot, unsafePath } from './resolveInsideRoot.js';
import { makeTempName } from './writeFileAtomic.js';

export interface HardLinkOptions {
  fsOps?: FsOps;
  knownDirs?: Set<string>;
}

/** Returns 'already-linked' when `targetPath` is already that file. */
export async function createHardLink(
  root: string,
  targetPath: string,
  linkTargetPath: string,
  options: HardLinkOptions = {},
): Promise<'linked' | 'already-linked'> {
  const fsOps = options.fsOps ?? defaultFsOps;
  let source;
  try {
    source = await resolveInsideRoot(root, linkTargetPath, options);
  } catch (error) {
    const reason = (error as { details?: { reason?: string } }).details?.reason;
    throw unsafePath(
      targetPath,
      reason === 'outside-root' || reason === 'dotdot' || reason === 'not-absolute'
        ? 'link-outside-root'
        : 'link-target-invalid',
      `${targetPath}: hard link to ${linkTargetPath} refused (${(error as Error).message})`,
    );
  }
  if (!source.existing || !source.existing.isFile()) {
    throw unsafePath(
      targetPath,
      'link-target-invalid',
      `${targetPath}: hard link target ${linkTargetPath} is not a regular file inside the root`,
    );
  }
  const current = await fsOps.lstat(targetPath).catch(() => null);
  if (current && current.ino === source.existing.ino && current.dev === source.existing.dev) {
    return 'already-linked';
  }
  const tempPath = path.join(path.dirname(targetPath), makeTempName(path.basename(targetPath)));
  await fsOps.link(source.targetPath, tempPath);
  try {
    await fsOps.rename(tempPath, targetPath);
  } catch (error) {
    await fsOps.unlink(tempPath).catch(() => {});
    throw error;
  }
  return 'linked';
}
