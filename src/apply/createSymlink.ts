/**
 * Symlinks. Stops the planted-link escape: an archive member `www -> /etc` (or `../../..`) is
 * harmless to create only if nothing ever writes through it — resolveInsideRoot refuses any
 * symlink in a path — but it still hands whoever later serves the tree (a web server showing
 * pipermail archives) a way out. So a link whose text, resolved from its own directory, leaves
 * the root is refused; the text is otherwise stored verbatim. Created under a temp name and
 * renamed over, so an existing link or file is replaced atomically.
 */
import { lstatSync } from 'node:fs';
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

/**
 * Throws UNSAFE_PATH when `linkText` at `targetPath` would point outside `root`. The text is
 * followed component by component from the link's directory: lexical resolution alone is
 * fooled by a chain (`l1 -> ..`, then `l2 -> l1/../..` reads as inside but the kernel follows
 * l1 first and lands above the root), so a component after one that is a symlink — on disk, or
 * made by this run (`isSymlink`) — is refused: where it leads is not knowable from the text.
 */
export function checkSymlinkText(
  root: string,
  targetPath: string,
  linkText: string,
  isSymlink: (candidate: string) => boolean = isSymlinkOnDisk,
): void {
  if (linkText === '' || linkText.includes('\0')) {
    throw unsafePath(targetPath, 'link-target-invalid', `${targetPath}: empty or NUL symlink text`);
  }
  const outside = (): never => {
    throw unsafePath(
      targetPath,
      'link-outside-root',
      `${targetPath} -> ${linkText} points outside ${root}`,
    );
  };
  if (path.isAbsolute(linkText)) {
    if (!isInside(root, path.resolve(linkText))) outside();
  }
  let current = path.isAbsolute(linkText) ? '/' : path.dirname(targetPath);
  const parts = linkText.split('/').filter((part) => part !== '' && part !== '.');
  for (const [index, part] of parts.entries()) {
    current = part === '..' ? path.dirname(current) : path.join(current, part);
    if (!isInside(root, current) && !(path.isAbsolute(linkText) && index < rootDepth(root))) {
      outside();
    }
    if (index < parts.length - 1 && isInside(root, current) && isSymlink(current)) {
      throw unsafePath(
        targetPath,
        'link-through-symlink',
        `${targetPath} -> ${linkText} goes on through the symlink ${current}`,
      );
    }
  }
  if (!isInside(root, current)) outside();
}

function rootDepth(root: string): number {
  return root.split('/').filter(Boolean).length;
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
