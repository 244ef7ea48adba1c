/**
 * Which lists may not be restored right now: Mailman 2.1 holds `locks/<list>.lock` while a
 * process has the list open for writing, and that process saves its in-memory config when it
 * unlocks — over whatever apply just restored. Mailman's LockFile makes the lock a hard link
 * to `<list>.lock.<host>.<pid>.<n>` (whose name is also the lock file's content) and sets its
 * mtime to the lock's expiry. Held: the file exists and its owner is alive on this host, or it
 * belongs to another host and has not expired. A lock whose pid is dead is stale (Mailman
 * would break it too).
 */
import { readFile, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Why `name`'s lock is held, or null when it is free or stale. */
export async function describeListLock(
  mailmanRoot: string,
  name: string,
  now = new Date(),
): Promise<string | null> {
  const lockPath = path.join(mailmanRoot, 'locks', `${name}.lock`);
  let content: string;
  let mtimeMs: number;
  try {
    [content, mtimeMs] = await Promise.all([
      readFile(lockPath, 'utf8'),
      stat(lockPath).then((s) => s.mtimeMs),
    ]);
  } catch {
    return null;
  }
  const match = /\.lock\.(.+)\.(\d+)\.\d+\s*$/.exec(path.basename(content.trim()));
  if (!match) return mtimeMs >= now.getTime() ? `locks/${name}.lock is held (owner unknown)` : null;
  const host = match[1] ?? '';
  const pid = Number(match[2]);
  if (host === os.hostname())
    return isAlive(pid) ? `locks/${name}.lock is held by pid ${pid}` : null;
  return mtimeMs >= now.getTime() ? `locks/${name}.lock is held by pid ${pid} on ${host}` : null;
}

/** The list a targetPath belongs to under the Mailman var dir, or null. */
export function listOfTargetPath(mailmanRoot: string, targetPath: string): string | null {
  const relative = path.relative(mailmanRoot, targetPath);
  if (relative.startsWith('..') || path.isAbsolute(relative)) return null;
  const parts = relative.split(path.sep);
  if (parts[0] === 'lists' && parts.length >= 2) return parts[1] ?? null;
  if (parts[0] === 'archives' && (parts[1] === 'private' || parts[1] === 'public') && parts[2]) {
    return parts[2].replace(/\.mbox$/, '');
  }
  return null;
}
