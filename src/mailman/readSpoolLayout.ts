/**
 * What of an MTA spool's structure exists already: the directories a queued message lands in
 * (with their entry counts and sizes, for the directory-growth bound), the split or hash
 * subdirectories, and Postfix's service lock files. The cost model charges only for what is
 * missing, so a live spool — where all of it exists after the first busy day — costs exactly
 * the per-message files, and a fresh one its one-time structure too.
 */
import path from 'node:path';

import { throwIfAborted } from '../errors.js';
import type { MtaInfo } from './MtaInfo.js';
import { readSpoolDirectory } from './readSpoolDirectory.js';

export interface SpoolDirectoryState {
  entries: number;
  /** st_blocks × 512 of the directory itself. */
  allocatedBytes: number;
}

export interface SpoolLayout {
  spool: string;
  spoolExists: boolean;
  /**
   * The directories that exist, by path relative to the spool: Exim `input`, `msglog` and
   * their split subdirectories (`input/a`); Postfix `maildrop`, the queues a deferred message
   * reaches (`deferred`, `defer`, and `incoming`/`active` when hashed) and their hash
   * subdirectories (`deferred/3`, `deferred/3/A`).
   */
  directories: Record<string, SpoolDirectoryState>;
  /** Postfix lock files under pid/ (POSTFIX_LOCK_FILES) that exist. */
  lockFiles: string[];
  /**
   * Directories that exist but could not be listed (not root): their contents count as
   * missing, so the model charges the whole one-time structure below them (an upper bound).
   */
  unreadable: string[];
}

/**
 * The 0-byte lock files Postfix services create in pid/ the first time they run (measured
 * with master running and smtp deferred: cleanup, defer, retry; showq once mailq runs). They
 * cost inodes, no blocks.
 */
export const POSTFIX_LOCK_FILES = ['unix.cleanup', 'unix.defer', 'unix.retry', 'unix.showq'];

/**
 * The Postfix queues a queued message passes through or settles in (deferred plus its defer
 * log); incoming and active are left empty again but their hash subdirectories, when those
 * queues are hashed, are never removed.
 */
export const POSTFIX_MESSAGE_QUEUES = ['incoming', 'active', 'deferred', 'defer'];

/** Postfix names hash subdirectories with one uppercase hex digit per level. */
const POSTFIX_HASH_NAME = /^[0-9A-F]$/;
/** Exim's split key is one base-62 character. */
const EXIM_SPLIT_NAME = /^[0-9A-Za-z]$/;

export async function readSpoolLayout(
  mta: MtaInfo,
  options: { signal?: AbortSignal } = {},
): Promise<SpoolLayout> {
  const layout: SpoolLayout = {
    spool: mta.spool,
    spoolExists: false,
    directories: {},
    lockFiles: [],
    unreadable: [],
  };
  const top = await readSpoolDirectory(mta.spool);
  if (top.state === 'missing') return layout;
  layout.spoolExists = true;
  if (top.state === 'unreadable') {
    layout.unreadable.push('.');
    return layout;
  }
  // Reads `rel` and, `depth` levels down, its subdirectories whose names match `pattern`.
  const visit = async (rel: string, depth: number, pattern: RegExp): Promise<void> => {
    throwIfAborted(options.signal);
    const result = await readSpoolDirectory(path.join(mta.spool, rel));
    if (result.state === 'missing') return;
    if (result.state === 'unreadable') {
      layout.unreadable.push(rel);
      return;
    }
    const { entries, allocatedBytes, subdirectories } = result.listing;
    layout.directories[rel] = { entries, allocatedBytes };
    if (depth === 0) return;
    for (const name of subdirectories.filter((n) => pattern.test(n)).sort())
      await visit(`${rel}/${name}`, depth - 1, pattern);
  };
  if (mta.kind === 'exim') {
    const depth = mta.splitSpool ? 1 : 0;
    await visit('input', depth, EXIM_SPLIT_NAME);
    if (mta.messageLogs) await visit('msglog', depth, EXIM_SPLIT_NAME);
    return layout;
  }
  await visit('maildrop', 0, POSTFIX_HASH_NAME);
  for (const queue of POSTFIX_MESSAGE_QUEUES) {
    const hashed = mta.hashQueueNames.includes(queue);
    await visit(queue, hashed ? mta.hashQueueDepth : 0, POSTFIX_HASH_NAME);
  }
  const pid = await readSpoolDirectory(path.join(mta.spool, 'pid'));
  if (pid.state === 'unreadable') layout.unreadable.push('pid');
  if (pid.state === 'listed') {
    const present = new Set(pid.listing.files);
    layout.lockFiles = POSTFIX_LOCK_FILES.filter((name) => present.has(name));
  }
  return layout;
}
