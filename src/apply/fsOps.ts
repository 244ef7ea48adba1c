/**
 * The filesystem calls the writer makes, gathered in one object so tests can inject faults
 * (ENOSPC after N bytes, EACCES on rename) exactly where a real disk would fail. Production
 * code always uses `defaultFsOps`; nothing else in the project should pass its own.
 */
import * as fsp from 'node:fs/promises';

export interface FsOps {
  open: typeof fsp.open;
  rename: typeof fsp.rename;
  unlink: typeof fsp.unlink;
  mkdir: typeof fsp.mkdir;
  rmdir: typeof fsp.rmdir;
  symlink: typeof fsp.symlink;
  link: typeof fsp.link;
  lstat: typeof fsp.lstat;
  readlink: typeof fsp.readlink;
  chmod: typeof fsp.chmod;
  lchown: typeof fsp.lchown;
  utimes: typeof fsp.utimes;
  lutimes: typeof fsp.lutimes;
  statfs: typeof fsp.statfs;
}

export const defaultFsOps: FsOps = {
  open: fsp.open,
  rename: fsp.rename,
  unlink: fsp.unlink,
  mkdir: fsp.mkdir,
  rmdir: fsp.rmdir,
  symlink: fsp.symlink,
  link: fsp.link,
  lstat: fsp.lstat,
  readlink: fsp.readlink,
  chmod: fsp.chmod,
  lchown: fsp.lchown,
  utimes: fsp.utimes,
  lutimes: fsp.lutimes,
  statfs: fsp.statfs,
};

export function errnoCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | null)?.code;
}
