/**
 * Which lists may not be restored right now: Mailman 2.1 holds `locks/<list>.lock` while a
 * process has the list open for writing, and that process saves its in-memory config when it
 * unlocks — over whatever apply just restored. Lock files are read by the mailman layer
 * (detectLocks); here they are mapped to the steps they block. Re-checked by every apply run,
 * not taken from the plan: a lock is a fact of the moment.
 */
import path from 'node:path';

import { detectLocks } from '../mailman/detectRunning.js';

export type DescribeListLock = (mailmanRoot: string, list: string) => Promise<string | null>;

/** A checker that reads each Mailman root's locks once and says why a list's lock is held. */
export function createListLockChecker(): DescribeListLock {
  const byRoot = new Map<string, Promise<Map<string, string>>>();
  return async (mailmanRoot, list) => {
    let held = byRoot.get(mailmanRoot);
    if (!held) {
      held = detectLocks(mailmanRoot).then((locks) => {
        const reasons = new Map<string, string>();
        for (const lock of locks) {
          if (!lock.held) continue;
          const owner = lock.owner ? ` by pid ${lock.owner.pid} on ${lock.owner.host}` : '';
          reasons.set(lock.name, `locks/${lock.name}.lock is held${owner} until ${lock.expires}`);
        }
        return reasons;
      });
      byRoot.set(mailmanRoot, held);
    }
    return (await held).get(list) ?? null;
  };
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
