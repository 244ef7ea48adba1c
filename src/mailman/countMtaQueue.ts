/**
 * What an MTA's queue holds now, counted from its spool without running the MTA: `exim -bpc`
 * creates a missing spool directory (and wants to write the main log), and `postqueue` needs
 * the showq service or warns; a read-only count of the files answers the same question (at
 * 500 messages `exim -bpc` and the count of -H files agreed).
 *
 * Unreadable spool: an error (MTA_SPOOL_UNREADABLE), not a partial count. Postfix's queue
 * directories are mode 700 and Exim's 750, so a count by an ordinary user would be 0 for every
 * queue it cannot list, and a budget built on it would read as "the MTA holds nothing". The
 * caller can run as root, or pass `--mta none`. A spool or queue directory that does not exist
 * counts 0 (Exim creates input/ with the first message).
 */
import { lstat } from 'node:fs/promises';
import path from 'node:path';

import { RestoreplanError, throwIfAborted } from '../errors.js';
import type { MtaInfo } from './MtaInfo.js';
import { readSpoolDirectory } from './readSpoolDirectory.js';

export interface MtaQueueCount {
  /** Messages queued: Exim's -H files; Postfix's queue files in maildrop incoming active deferred hold. */
  messages: number;
  /** Every file those messages take: Exim's input/ and msglog/; Postfix's queues and defer/bounce/trace logs. */
  files: number;
  /** Bytes the files occupy on the filesystem (st_blocks × 512, as df counts). */
  bytes: number;
}

/** Postfix queues that hold messages, and those that hold per-message logs. */
const POSTFIX_QUEUES = ['maildrop', 'incoming', 'active', 'deferred', 'hold'];
const POSTFIX_LOGS = ['defer', 'bounce', 'trace'];
/** lstat calls in flight at once: enough to hide latency, few enough not to exhaust fds. */
const BATCH = 256;
/** Exim's input/ is at most input/X/ deep; Postfix's hash depth is at most a few levels. */
const MAX_DEPTH = 8;

export async function countMtaQueue(
  mta: MtaInfo,
  options: { signal?: AbortSignal } = {},
): Promise<MtaQueueCount> {
  const count: MtaQueueCount = { messages: 0, files: 0, bytes: 0 };
  const top = await readSpoolDirectory(mta.spool);
  if (top.state === 'missing') return count;
  if (top.state === 'unreadable') throw unreadable(mta, mta.spool, top.errno);
  const walk = async (
    dir: string,
    depth: number,
    isMessage: (name: string) => boolean,
  ): Promise<void> => {
    throwIfAborted(options.signal);
    const result = await readSpoolDirectory(dir);
    if (result.state === 'missing') return;
    if (result.state === 'unreadable') throw unreadable(mta, dir, result.errno);
    const { files, subdirectories } = result.listing;
    for (let i = 0; i < files.length; i += BATCH) {
      const stats = await Promise.all(
        files.slice(i, i + BATCH).map((name) => lstat(path.join(dir, name)).catch(() => null)),
      );
      stats.forEach((stat, j) => {
        // Gone since the listing: delivered meanwhile.
        if (!stat?.isFile()) return;
        count.files++;
        count.bytes += stat.blocks * 512;
        if (isMessage(files[i + j]!)) count.messages++;
      });
    }
    if (depth < MAX_DEPTH)
      for (const name of subdirectories.sort())
        await walk(path.join(dir, name), depth + 1, isMessage);
  };
  if (mta.kind === 'exim') {
    await walk(path.join(mta.spool, 'input'), 0, (name) => name.endsWith('-H'));
    await walk(path.join(mta.spool, 'msglog'), 0, () => false);
  } else {
    for (const queue of POSTFIX_QUEUES) await walk(path.join(mta.spool, queue), 0, () => true);
    for (const queue of POSTFIX_LOGS) await walk(path.join(mta.spool, queue), 0, () => false);
  }
  return count;
}

function unreadable(mta: MtaInfo, dir: string, errno: string): RestoreplanError {
  return new RestoreplanError(
    'MTA_SPOOL_UNREADABLE',
    `cannot read the ${mta.kind === 'exim' ? 'Exim' : 'Postfix'} spool ${dir} (${errno}): count the queue as root, or pass --mta none`,
    { mta: mta.kind, spool: mta.spool, path: dir, errno },
  );
}
