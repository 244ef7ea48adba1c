/**
 * Is Mailman running, and which list locks are held — read from the files Mailman keeps,
 * without taking any lock ourselves.
 *
 * mailmanctl writes the master qrunner's pid to data/master-qrunner.pid. Mailman 2.1's
 * LockFile claims `locks/<name>.lock` by writing a temp file `<lockfile>.<host>.<pid>[.<n>]`
 * that names itself and hard-linking the lock file to it: while held, the lock file has two
 * links and its text names the owner. The owner sets the lock file's mtime to the moment the
 * lock expires; others break a lock only once now > mtime + CLOCK_SLOP.
 */
import { existsSync } from 'node:fs';
import { lstat, readdir, readFile, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/** Mailman's LockFile.CLOCK_SLOP: seconds of grace before an expired lock may be broken. */
export const CLOCK_SLOP_SECONDS = 10;

/** Whether a pid is alive on this host: /proc when present, else signal 0 (EPERM: alive). */
export function isPidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (existsSync('/proc/self')) return existsSync(`/proc/${pid}`);
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface RunningState {
  running: boolean;
  pid: number | null;
  pidFile: string;
  /** The pid file exists but its process is gone (Mailman crashed or was killed). */
  stalePidFile: boolean;
}

export async function detectMailmanRunning(root: string): Promise<RunningState> {
  const pidFile = path.join(root, 'data', 'master-qrunner.pid');
  let text: string;
  try {
    // Only a regular file is read, as lock files are: a fifo there would block the read.
    if (!(await stat(pidFile)).isFile()) throw new Error('not a regular file');
    text = await readFile(pidFile, 'latin1');
  } catch {
    return { running: false, pid: null, pidFile, stalePidFile: false };
  }
  const pid = /^\s*(\d+)\s*$/.test(text) ? Number(text.trim()) : null;
  const running = pid !== null && isPidAlive(pid);
  return { running, pid, pidFile, stalePidFile: !running };
}

export interface LockOwner {
  host: string;
  pid: number;
}

export interface LockState {
  /** The lock's name: the list name for `<list>.lock`. */
  name: string;
  path: string;
  owner: LockOwner | null;
  /** Whether the owner pid is alive; null when the owner is on another host or unknown. */
  ownerAlive: boolean | null;
  linkCount: number;
  /** When the lock expires (the lock file's mtime). */
  expires: string;
  expired: boolean;
  /** Held by a live process (or, for another host's owner, linked and not expired). */
  held: boolean;
}

/** The owner named in a lock file's text: `<lockfile>.<host>.<pid>` or `...<pid>.<n>` (2.1.x). */
export function parseLockOwner(text: string, lockFile: string): LockOwner | null {
  const claim = text.trim();
  const base = path.basename(lockFile);
  const rest = path.basename(claim).startsWith(`${base}.`)
    ? path.basename(claim).slice(base.length + 1)
    : null;
  if (!rest) return null;
  const parts = rest.split('.');
  const isNumber = (s: string | undefined): boolean => s !== undefined && /^\d+$/.test(s);
  if (parts.length >= 3 && isNumber(parts[parts.length - 1]) && isNumber(parts[parts.length - 2])) {
    return { host: parts.slice(0, -2).join('.'), pid: Number(parts[parts.length - 2]) };
  }
  if (parts.length >= 2 && isNumber(parts[parts.length - 1])) {
    return { host: parts.slice(0, -1).join('.'), pid: Number(parts[parts.length - 1]) };
  }
  return null;
}

/** Every lock file in `<root>/locks` (not the claimants' temp files) and whether it is held. */
export async function detectLocks(
  root: string,
  options: { now?: Date; hostname?: string } = {},
): Promise<LockState[]> {
  const now = (options.now ?? new Date()).getTime();
  const hostname = options.hostname ?? os.hostname();
  const dir = path.join(root, 'locks');
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const locks: LockState[] = [];
  for (const name of names.sort()) {
    // Temp claim files carry the lock file's name plus .<host>.<pid>; only *.lock (and the
    // master's lock) are lock files.
    if (!name.endsWith('.lock') && name !== 'master-qrunner') continue;
    const lockPath = path.join(dir, name);
    const stat = await lstat(lockPath).catch(() => null);
    if (!stat?.isFile()) continue;
    const text = await readFile(lockPath, 'latin1').catch(() => '');
    const owner = parseLockOwner(text, lockPath);
    const ownerAlive =
      owner && (owner.host === hostname || owner.host === hostname.split('.')[0])
        ? isPidAlive(owner.pid)
        : null;
    const expired = now > stat.mtimeMs + CLOCK_SLOP_SECONDS * 1000;
    const held = !expired && (ownerAlive === true || (ownerAlive === null && stat.nlink >= 2));
    locks.push({
      name: name.replace(/\.lock$/, ''),
      path: lockPath,
      owner,
      ownerAlive,
      linkCount: stat.nlink,
      expires: new Date(stat.mtimeMs).toISOString(),
      expired,
      held,
    });
  }
  return locks;
}
