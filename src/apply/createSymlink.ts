/**
 * Symlinks. Stops the planted-link escape: an archive member `www -> /etc` (or `../../..`) is
 * harmless to create only if nothing ever writes through it — resolveInsideRoot refuses any
 * symlink in a path — but it still hands whoever later serves the tree (a web server showing
 * pipermail archives) a way out. So a link whose text, resolved from its own directory, leaves
 * the root is refused; the text is otherwise stored verbatim. Created under a temp name and
 * renamed over, so an existing link or file is replaced atomically.
 */
import path from 'node:path';

import { defaultFsOps, type FsOps } from './fsOps.js';
import { isInside, unsafePath } from './resolveInsideRoot.js';
import { makeTempName, type Owner } from './writeFileAtomic.js';

export interface SymlinkOptions {
  owner?: Owner | null;
  mtime?: number;
  fsOps?: FsOps;
}

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/** Throws UNSAFE_PATH when `linkText` at `targetPath` would point outside `root`. */
export function checkSymlinkText(root: string, targetPath: string, linkText: string): void {
  if (linkText === '' || linkText.includes('\0')) {
    throw unsafePath(targetPath, 'link-target-invalid', `${targetPath}: empty or NUL symlink text`);
  }
  const resolved = path.resolve(path.dirname(targetPath), linkText);
  if (!isInside(root, resolved)) {
    throw unsafePath(
      targetPath,
      'link-outside-root',
      `${targetPath} -> ${linkText} points outside ${root}`,
    );
  }
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
