/**
 * The backlog Mailman hands to the MTA once its lists load again (issue 16): what waits in
 * `qfiles/out`, `qfiles/virgin` and `qfiles/retry` (already addressed: their metadata carries
 * `recips`), the posts in `qfiles/in` (each goes out to its list's members), and the shunted
 * posts of the lists being repaired (`bin/unshunt` re-queues them). Each becomes one or more
 * messages in the MTA's queue — files on the spool's filesystem, usually the root filesystem the
 * repair just spent inodes on. In the incident, 10,000 outgoing messages were submitted at once.
 *
 * Fan-out, as Mailman 2.1's SMTPDirect delivers: a personalized list or a VERP'd message is
 * one MTA message per recipient; otherwise the recipients are cut into chunks of at most
 * SMTP_MAX_RCPTS (500) within chunkify's 4 domain groups — at most ceil(n / 500) + 3 messages
 * (each group may leave one partial chunk), never more than n. That bound is what is counted:
 * a drain predicted too small is the "feasible that ends in ENOSPC" this project exists to
 * prevent. A post whose recipients cannot be known (its list's config unreadable, a metadata
 * dict without `recips`) counts as one message and is reported in `unknownRecipients`.
 *
 * Read-only, bounded: each queue file is read once (up to MAX_QUEUE_FILE_BYTES) through the
 * non-executing pickle reader; each list's config at most once.
 */
import { closeSync, constants, fstatSync, openSync, readFileSync, statSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';

import { throwIfAborted } from '../errors.js';
import type { BacklogCounts } from '../types.js';
import { CONFIG_FILES } from './diagnoseList.js';
import { readPickle, type PyValue } from './readPickle.js';

/** Mailman 2.1's default SMTP_MAX_RCPTS: recipients per SMTP transaction. */
export const SMTP_MAX_RCPTS = 500;
/** chunkify's domain groups beyond the first: each may leave one partial chunk. */
const EXTRA_PARTIAL_CHUNKS = 3;
/** A queue file larger than this is counted (1 message of its size) but not parsed. */
const MAX_QUEUE_FILE_BYTES = 64 * 1024 * 1024;
/** Queue files read between two turns of the event loop (progress, a cancel). */
const YIELD_EVERY = 256;

/** The queues whose messages will be delivered when Mailman runs again. */
export const DRAIN_QUEUES = ['out', 'virgin', 'retry', 'in'] as const;
export type DrainQueue = (typeof DRAIN_QUEUES)[number];

export interface BacklogPart {
  /** Queue files (Mailman's messages). */
  entries: number;
  /** Messages they become in the MTA's queue (the fan-out bound above). */
  mtaMessages: number;
  /** Bytes of those MTA messages: each message's size times its copies. */
  bytes: number;
  /** Entries whose recipients could not be known (counted as one message each). */
  unknownRecipients: number;
}

export interface MailmanBacklog {
  queues: Record<DrainQueue, BacklogPart>;
  /** Shunted posts of the lists asked about (`bin/unshunt` releases them). */
  shunt: BacklogPart & { lists: string[] };
  /** Everything above. */
  total: BacklogPart;
  /**
   * MTA messages by size, for a cost model whose block count rounds each file up: sizes in
   * bytes (rounded up to 1 KiB), each with how many messages have it.
   */
  sizes: Array<{ bytes: number; messages: number }>;
}

/** The counts a document shows (check's and plan's drain, doctor's backlog). Pure. */
export function summarizeBacklog(backlog: MailmanBacklog): BacklogCounts {
  return {
    entries: backlog.total.entries,
    messages: backlog.total.mtaMessages,
    out: backlog.queues.out.mtaMessages,
    virgin: backlog.queues.virgin.mtaMessages,
    retry: backlog.queues.retry.mtaMessages,
    in: backlog.queues.in.mtaMessages,
    shunt: backlog.shunt.mtaMessages,
    shuntedLists: backlog.shunt.lists,
    unknownRecipients: backlog.total.unknownRecipients,
  };
}

/** The MTA messages `recipients` become: see the module's comment. Pure. */
export function countMtaMessages(recipients: number | null, perRecipient: boolean): number {
  if (recipients === null) return 1;
  if (recipients <= 0) return 0;
  if (perRecipient) return recipients;
  return Math.min(recipients, Math.ceil(recipients / SMTP_MAX_RCPTS) + EXTRA_PARTIAL_CHUNKS);
}

interface ListFacts {
  /** Regular (non-digest) members; null when no config copy could be read. */
  members: number | null;
  personalize: boolean;
}

const EMPTY_PART = (): BacklogPart => ({
  entries: 0,
  mtaMessages: 0,
  bytes: 0,
  unknownRecipients: 0,
});

function add(into: BacklogPart, part: BacklogPart): void {
  into.entries += part.entries;
  into.mtaMessages += part.mtaMessages;
  into.bytes += part.bytes;
  into.unknownRecipients += part.unknownRecipients;
}

function truthy(value: PyValue | undefined): boolean {
  return value === true || (typeof value === 'number' && value !== 0);
}

/** One queue file: its message's size, its list, its recipients and VERP flag, when readable. */
interface QueueEntry {
  messageBytes: number;
  listName: string | null;
  recipients: number | null;
  verp: boolean;
}

export function readQueueEntry(data: Uint8Array): QueueEntry {
  const message = readPickle(data);
  if (message.kind !== 'dict' && message.kind !== 'other')
    return { messageBytes: data.length, listName: null, recipients: null, verp: false };
  const meta = readPickle(data, { start: message.offset, decode: true }).value;
  const fields = meta instanceof Map ? meta : new Map<PyValue, PyValue>();
  const listName = fields.get('listname');
  const recips = fields.get('recips');
  return {
    // The first pickle is the message (its text, or an email.Message): its size bounds the
    // message's; the metadata after it (the recipient list) is not sent.
    messageBytes: message.offset,
    listName: typeof listName === 'string' ? listName.toLowerCase() : null,
    recipients: Array.isArray(recips) ? recips.length : null,
    verp: truthy(fields.get('verp')),
  };
}

/**
 * A regular file's bytes, or `{ size }` alone past MAX_QUEUE_FILE_BYTES; null when it is not a
 * regular file or cannot be read. Never opens anything else: a fifo named like a queue file
 * would block the open until a writer comes, and a device may act on being opened.
 *
 * Synchronous: a live backlog is 10,000s of small files, and a promise-based open, stat, read
 * and close each file took 40 s for 100,000 of them (0.8 s this way); the caller yields between
 * slices (YIELD_EVERY), and reads one file at a time, so at most one is in memory.
 */
function readBounded(file: string): Uint8Array | { size: number } | null {
  try {
    if (!statSync(file).isFile()) return null;
  } catch {
    return null;
  }
  let fd: number;
  try {
    // O_NONBLOCK: swapped for a fifo since the stat, the open still returns at once.
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch {
    return null;
  }
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) return null;
    if (stats.size > MAX_QUEUE_FILE_BYTES) return { size: stats.size };
    return new Uint8Array(readFileSync(fd));
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}

/**
 * A name that can be a directory in lists/: the listname of a queue file is whatever was
 * written into it, and `../../x` or `a/../b` must not read a config outside lists/ (Mailman's
 * own names are `[-+_.=a-z0-9]`; anything with a slash or a NUL, `.` or `..` is no list).
 */
function isListDirName(name: string | null): name is string {
  return name !== null && name !== '' && name !== '.' && name !== '..' && !/[/\0]/.test(name);
}

/** Members and personalization of a list, from the first config copy that reads as a dict. */
async function readListFacts(varDir: string, name: string): Promise<ListFacts> {
  for (const file of CONFIG_FILES) {
    if (!file.endsWith('.pck') && !file.endsWith('.pck.last')) continue;
    const data = readBounded(path.join(varDir, 'lists', name, file));
    if (!(data instanceof Uint8Array) || data.length === 0) continue;
    const verdict = readPickle(data, { decode: true });
    if (verdict.kind !== 'dict' || !(verdict.value instanceof Map)) continue;
    const members = verdict.value.get('members');
    return {
      members: members instanceof Map ? members.size : null,
      personalize: truthy(verdict.value.get('personalize')),
    };
  }
  return { members: null, personalize: false };
}

export interface CountBacklogOptions {
  /** The lists whose shunted posts are counted (the lists being repaired); default none. */
  shuntedLists?: readonly string[];
  signal?: AbortSignal;
}

/** Counts the backlog under `<varDir>/qfiles`. Missing queues are empty. */
export async function countBacklog(
  varDir: string,
  options: CountBacklogOptions = {},
): Promise<MailmanBacklog> {
  const facts = new Map<string, Promise<ListFacts>>();
  const factsOf = (name: string): Promise<ListFacts> => {
    let found = facts.get(name);
    if (!found) {
      found = readListFacts(varDir, name);
      facts.set(name, found);
    }
    return found;
  };
  const sizes = new Map<number, number>();
  const countQueue = async (
    queue: string,
    accept: (entry: QueueEntry) => boolean,
  ): Promise<BacklogPart> => {
    const part = EMPTY_PART();
    const dir = path.join(varDir, 'qfiles', queue);
    const names = (await readdir(dir).catch(() => [] as string[])).filter((n) =>
      n.endsWith('.pck'),
    );
    let read = 0;
    for (const name of names.sort()) {
      if (++read % YIELD_EVERY === 0) await new Promise((resolve) => setImmediate(resolve));
      throwIfAborted(options.signal);
      const data = readBounded(path.join(dir, name));
      if (data === null) continue;
      // Too large to parse: one message of its size, its recipients unknown.
      const entry: QueueEntry =
        data instanceof Uint8Array
          ? readQueueEntry(data)
          : { messageBytes: data.size, listName: null, recipients: null, verp: false };
      if (!accept(entry)) continue;
      const list = isListDirName(entry.listName) ? await factsOf(entry.listName) : null;
      // An addressed message (out, virgin, retry) carries its recipients; a post (in, shunt)
      // goes to its list's members.
      const recipients = entry.recipients ?? list?.members ?? null;
      const messages = countMtaMessages(recipients, entry.verp || (list?.personalize ?? false));
      part.entries += 1;
      part.mtaMessages += messages;
      part.bytes += messages * entry.messageBytes;
      if (recipients === null) part.unknownRecipients += 1;
      const rounded = Math.max(1024, Math.ceil(entry.messageBytes / 1024) * 1024);
      sizes.set(rounded, (sizes.get(rounded) ?? 0) + messages);
    }
    return part;
  };
  const queues = {} as Record<DrainQueue, BacklogPart>;
  const total = EMPTY_PART();
  for (const queue of DRAIN_QUEUES) {
    queues[queue] = await countQueue(queue, () => true);
    add(total, queues[queue]);
  }
  const lists = [...new Set((options.shuntedLists ?? []).map((n) => n.toLowerCase()))].sort();
  const shunted =
    lists.length === 0
      ? EMPTY_PART()
      : await countQueue('shunt', (e) => e.listName !== null && lists.includes(e.listName));
  add(total, shunted);
  return {
    queues,
    shunt: { ...shunted, lists },
    total,
    sizes: [...sizes].sort((a, b) => a[0] - b[0]).map(([bytes, messages]) => ({ bytes, messages })),
  };
}
