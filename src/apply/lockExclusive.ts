/**
 * One apply at a time per plan and per target: an exclusive flock(2) held on an open file
 * descriptor — the journal's, and that of each stage root directory. A lock held on a
 * descriptor is released by the kernel when the descriptor closes, and so when the process
 * ends however it ends: a `kill -9` leaves nothing that blocks the next run (no stale-lock
 * guess by pid or by age). The second apply does not wait: it ends at once with APPLY_RUNNING
 * (exit 3), before it writes anything.
 *
 * The target's lock is the stage root directory itself, not a lock file beside it: a lock file
 * in the root's parent costs an inode on the very filesystem apply is budgeting to the inode
 * (the plan does not price it, `df -i` would move by one more than `needed`, and at zero free
 * inodes it cannot be made at all), and it is a write outside the root. A flock on a directory
 * needs no inode, no write access, works on a read-only mount, and leaves nothing behind. The
 * cost: a local user who may open the directory can hold the same lock and make apply refuse
 * (APPLY_RUNNING names the directory; `fuser -v DIR` shows who has it open).
 *
 * Node has no flock in core. It is taken here by util-linux's `flock(1)` (busybox has it too)
 * on a descriptor we pass to it: `flock -xn 3` with our descriptor as the child's fd 3 locks the
 * open file description the child shares with us, and a flock lock belongs to the open file
 * description, so it stays held after the child exits, for as long as our descriptor is open
 * (flock(2): "the lock is released ... when all such file descriptors have been closed") — the
 * shell's `exec 9>lock; flock -n 9` idiom. Node opens files O_CLOEXEC, so no other child
 * (a decompressor) inherits it. Why not a package: fs-ext and os-lock are native addons built
 * by node-gyp at install time (a compiler on the mail server being repaired, at 3 a.m.);
 * proper-lockfile is mkdir-based with staleness by mtime (a paused or slow holder loses its
 * lock after seconds and a second apply goes ahead; and every run needs a free inode for its
 * lock directory — the one thing the filesystem being repaired lacks).
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';

import { RestoreplanError } from '../errors.js';
import { defaultFsOps, type FsOps } from './fsOps.js';

/** Takes an exclusive flock on `fd` without waiting: false when another descriptor holds it. */
export async function flockExclusive(fd: number): Promise<boolean> {
  const { code, stderr, spawnError } = await new Promise<{
    code: number | null;
    stderr: string;
    spawnError: NodeJS.ErrnoException | null;
  }>((resolve) => {
    let text = '';
    const child = spawn('flock', ['--exclusive', '--nonblock', '3'], {
      stdio: ['ignore', 'ignore', 'pipe', fd],
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8');
    });
    child.on('error', (error: NodeJS.ErrnoException) =>
      resolve({ code: null, stderr: text, spawnError: error }),
    );
    child.on('close', (status) => resolve({ code: status, stderr: text, spawnError: null }));
  });
  if (code === 0) return true;
  if (code === 1) return false;
  const why = spawnError
    ? spawnError.code === 'ENOENT'
      ? 'flock(1) is not installed'
      : spawnError.message
    : `flock(1) exited ${String(code)}: ${stderr.trim()}`;
  throw new RestoreplanError('INTERNAL', `cannot take the apply lock: ${why}`, {
    hint: 'apply locks with util-linux flock(1) (or busybox flock): install util-linux',
  });
}

/** A lock this run holds; released by `release()`, or by the kernel when the process ends. */
export interface HeldLock {
  /** The directory locked. */
  path: string;
  release(): Promise<void>;
}

/**
 * Locks each stage root directory (realpaths, deduplicated, in sorted order). Throws
 * APPLY_RUNNING, having released what it took, when another apply holds any of them.
 */
export async function lockTargets(
  roots: readonly string[],
  fsOps: FsOps = defaultFsOps,
): Promise<HeldLock[]> {
  const held: HeldLock[] = [];
  try {
    for (const root of [...new Set(roots)].sort()) {
      let handle: FileHandle;
      try {
        handle = await fsOps.open(
          root,
          constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW,
        );
      } catch (error) {
        throw new RestoreplanError(
          'TARGET_INVALID',
          `cannot open the stage root ${root} to lock it: ${(error as Error).message}`,
          { path: root },
        );
      }
      let locked = false;
      try {
        locked = await flockExclusive(handle.fd);
      } finally {
        if (!locked) await handle.close().catch(() => {});
      }
      if (!locked) {
        throw new RestoreplanError(
          'APPLY_RUNNING',
          `another restoreplan apply is writing into ${root} (it holds the lock on that directory): nothing was done`,
          {
            path: root,
            hint: `wait for it to end (fuser -v ${root} shows who has it open), then run this apply again: it resumes from the journal`,
          },
        );
      }
      held.push({ path: root, release: () => handle.close() });
    }
    return held;
  } catch (error) {
    await releaseAll(held);
    throw error;
  }
}

/** Locks an open journal: APPLY_RUNNING when another apply of the same plan holds it. */
export async function lockJournal(handle: FileHandle, journalPath: string): Promise<void> {
  if (await flockExclusive(handle.fd)) return;
  throw new RestoreplanError(
    'APPLY_RUNNING',
    `another restoreplan apply of this plan is running (it holds the journal ${journalPath}): nothing was done`,
    {
      path: journalPath,
      hint: `wait for it to end (fuser -v ${journalPath} shows who has it open), then run this apply again: it resumes from the journal`,
    },
  );
}

export async function releaseAll(locks: readonly HeldLock[]): Promise<void> {
  for (const lock of locks) await lock.release().catch(() => {});
}
