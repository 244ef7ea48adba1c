/**
 * Opens the final component of a path with O_NOFOLLOW. Stops the swap attack: a path that was
 * checked as absent or as a regular file is replaced by a symlink (planted by the archive
 * earlier in the run, or by a local user) just before the open, and the write would land
 * wherever the link points (`/etc/shadow`). With O_NOFOLLOW the kernel refuses with ELOOP.
 */
import { constants } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';

import { defaultFsOps, errnoCode, type FsOps } from './fsOps.js';
import { unsafePath } from './resolveInsideRoot.js';

export async function openNoFollow(
  targetPath: string,
  flags: number,
  mode = 0o600,
  fsOps: FsOps = defaultFsOps,
): Promise<FileHandle> {
  try {
    return await fsOps.open(targetPath, flags | constants.O_NOFOLLOW, mode);
  } catch (error) {
    if (errnoCode(error) === 'ELOOP')
      throw unsafePath(targetPath, 'symlink-in-path', `${targetPath} is a symlink: not opened`);
    throw error;
  }
}
