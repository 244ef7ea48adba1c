/**
 * Symlinks, refused by the rule the planner uses too (filesystems/judgeSymlinkText: text that
 * leaves the root, or goes on through another symlink). Created under a temp name and renamed
 * over, so an existing link or file is replaced atomically.
 */
import { lstatSync } from 'node:fs';
import path from 'node:path';

import { judgeSymlinkText } from '../filesystems/judgeSymlinkText.js';

import { defaultFsOps, type FsOps } from './fsOps.js';
import { unsafePath } from './resolveInsideRoot.js';
import { makeTempName, type Owner } from './writeFileAtomic.js';

export interface SymlinkOptions {
  owner?: Owner | null;
  mtime?: number;
  fsOps?: FsOps;
}

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/** Throws UNSAFE_PATH when `linkText` at `targetPath` may not be made (judgeSymlinkText). */
export function checkSymlinkText(
  root: string,
  targetPath: string,
  linkText: string,
  isSymlink: (candidate: string) => boolean = isSymlinkOnDisk,
): void {
  const refusal = judgeSymlinkText(root, targetPath, linkText, isSymlink);
  if (refusal) throw unsafePath(targetPath, refusal.reason, refusal.message);
}

export function isSymlinkOnDisk(candidate: string): boolean {
  return lstatSync(candidate, { throwIfNoEntry: false })?.isSymbolicLink() ?? false;
}

export async function createSymlink(
  root: string,
  targetPath: string,
  linkText: string,
  options: SymlinkOptions = {},
): Promise<void> {
  const fsOps = options.fsOps ?? defaultFsOps;
  checkSymlinkText(root, targetPath, linkText);
  const tempPath = path.join(path.dirname(targetPath), makeTempName(path.basename(targetPath)));
  await fsOps.symlink(linkText, tempPath);
  try {
    if (isRoot && options.owner) await fsOps.lchown(tempPath, options.owner.uid, options.owner.gid);
    if (options.mtime !== undefined) await fsOps.lutimes(tempPath, new Date(), options.mtime);
    await fsOps.rename(tempPath, targetPath);
  } catch (error) {
    await fsOps.unlink(tempPath).catch(() => {});
    throw error;
  }
}
