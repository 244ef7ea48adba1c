/**
 * The journal: one JSON line per finished step, next to the plan (`<plan>.journal`). It is what
 * makes apply resumable and idempotent after a stop, a crash or ENOSPC: a re-run skips a step
 * whose targetPath still hashes to the journaled sha256. Lines are appended in batches and
 * fsynced (after the directories of the batch's renames), so a crash loses at most one batch —
 * those steps are simply redone. A torn last line from a crash mid-append is ignored. While a
 * run has it open it holds an exclusive flock on it (lockExclusive): one apply of a plan at a
 * time, released by the kernel however the run ends.
 */
import { constants } from 'node:fs';
import { readFile, type FileHandle } from 'node:fs/promises';

import { defaultFsOps, type FsOps } from './fsOps.js';
import { lockJournal } from './lockExclusive.js';
import { openNoFollow } from './openNoFollow.js';

export interface JournalRecord {
  stage: string;
  memberPath: string;
  targetPath: string;
  /** sha256 of the file's content; of the link text for a symlink; '' for a directory. */
  sha256: string;
  bytes: number;
  /** ISO-8601 time the step finished. */
  at: string;
  /**
   * The plan the step belonged to (`planIdentity`): a new plan written to the same file must
   * not find the old plan's steps "already restored" (its members may differ).
   */
  plan?: string;
}

/** What ties journal records to one plan: when it was made, and from which archive. */
export function planIdentity(plan: {
  createdAt: string;
  archive: { fingerprint: string };
}): string {
  return `${plan.createdAt} ${plan.archive.fingerprint}`;
}

/** The records that belong to `plan` (see planIdentity). */
export function recordsOfPlan(
  records: ReadonlyMap<string, JournalRecord>,
  plan: string,
): Map<string, JournalRecord> {
  return new Map([...records].filter(([, record]) => record.plan === plan));
}

export interface Journal {
  path: string;
  /** Records read at open plus those appended since, by targetPath (the last one wins). */
  records: Map<string, JournalRecord>;
  /** Queues a record; it is durable only after the next flush. */
  append(record: JournalRecord): void;
  /** Records queued and not yet flushed. */
  pending(): number;
  /** Writes the queued records and fsyncs the journal. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

function parseRecords(text: string): Map<string, JournalRecord> {
  const records = new Map<string, JournalRecord>();
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      continue;
    }
    const record = value as Partial<JournalRecord> | null;
    if (
      record &&
      typeof record.targetPath === 'string' &&
      typeof record.sha256 === 'string' &&
      typeof record.bytes === 'number'
    ) {
      records.set(record.targetPath, record as JournalRecord);
    }
  }
  return records;
}

/** The records of an existing journal, without creating one (for --dry-run). */
export async function readJournal(journalPath: string): Promise<Map<string, JournalRecord>> {
  try {
    return parseRecords(await readFile(journalPath, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw error;
  }
}

export async function openJournal(
  journalPath: string,
  fsOps: FsOps = defaultFsOps,
  options: { lock?: boolean } = {},
): Promise<Journal> {
  let handle: FileHandle | null = await openNoFollow(
    journalPath,
    constants.O_RDWR | constants.O_CREAT | constants.O_APPEND,
    0o600,
    fsOps,
  );
  let records: Map<string, JournalRecord>;
  // A torn last line (crash mid-append) must not swallow the first record appended now.
  let separator = '';
  try {
    // One apply of a plan at a time: locked before it is read, so what it holds is final.
    if (options.lock !== false) await lockJournal(handle, journalPath);
    const text = await handle.readFile({ encoding: 'utf8' });
    if (text.length > 0 && !text.endsWith('\n')) separator = '\n';
    records = parseRecords(text);
  } catch (error) {
    await handle.close();
    throw error;
  }
  const queued: JournalRecord[] = [];
  return {
    path: journalPath,
    records,
    append(record) {
      queued.push(record);
      records.set(record.targetPath, record);
    },
    pending: () => queued.length,
    async flush() {
      if (!handle || queued.length === 0) return;
      const text = separator + queued.map((record) => JSON.stringify(record)).join('\n') + '\n';
      separator = '';
      queued.length = 0;
      await handle.write(text);
      await handle.sync();
    },
    async close() {
      if (!handle) return;
      const closing = handle;
      handle = null;
      await closing.close();
    },
  };
}
