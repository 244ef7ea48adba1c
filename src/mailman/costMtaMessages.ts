/**
 * What a backlog costs an MTA spool at its peak: every message queued at once, none delivered
 * yet (the wave after a repair, when Mailman hands the MTA everything the lists held back and
 * the remote hosts defer). Measured on Exim 4.96 and Postfix 3.7 (issue 16 research; the
 * tests re-measure it on a loop-mounted ext4 and hold the inode counts exact):
 *
 * - Exim: per message `input/ID-H` (envelope + headers), `input/ID-D` (the body, after a first
 *   line naming the file) and, with message_logs, `msglog/ID`. One-time: the spool, input/ and
 *   msglog/ when missing; with split_spool_directory one subdirectory of each per arrival
 *   second (at most 62, the base-62 digit Exim splits on).
 * - Postfix, master running: the queue file `deferred/H/ID` and its defer log `defer/H/ID`.
 *   One-time: the hash subdirectories (16 per level) of the queues a message reaches, and the
 *   0-byte lock files services create in pid/ on their first run.
 * - Postfix, master down: one file `maildrop/ID` per message until master starts (to budget
 *   the peak after it starts, pass `{ ...mta, masterRunning: true }`).
 *
 * Inodes are exact when the split or hash subdirectories exist already (a live spool: the tests
 * hold this to df -i); on a fresh spool the one-time part is an upper bound, since how many of
 * them a backlog creates depends on its arrival seconds (Exim) or queue IDs (Postfix).
 * Blocks are an upper bound: file sizes are estimated from above, and the directory-growth
 * bound (boundDirectoryGrowth) is included; the prediction exceeds the truth by at most
 * `directoryGrowth` when the sizes given are the real ones (and the one-time part is known).
 * Not included: files that exist only while a message is being received or delivered (Exim's
 * hdr.<pid> and -J journal, Postfix's incoming/ copy), bounded by the MTA's concurrency, not by
 * the backlog; Exim's hints databases in db/ (a few files, present on any live host).
 */
import { boundDirectoryGrowth, directoryEntryBytes } from './boundDirectoryGrowth.js';
import type { EximInfo, MtaInfo, PostfixInfo } from './MtaInfo.js';
import {
  POSTFIX_LOCK_FILES,
  POSTFIX_MESSAGE_QUEUES,
  type SpoolDirectoryState,
  type SpoolLayout,
} from './readSpoolLayout.js';

export interface MtaMessages {
  count: number;
  /** The whole message as Mailman hands it over: headers and body. */
  bytesEach: number;
  /** The header section's bytes, when known: splits the message between Exim's -H and -D. */
  headerBytesEach?: number;
  /** Lines per message, when known: Postfix stores each line as a record. */
  linesEach?: number;
}

export interface InodesBlocks {
  inodes: number;
  blocks: number;
}

export interface MtaCost extends InodesBlocks {
  perMessage: InodesBlocks;
  oneTime: InodesBlocks;
  /** Blocks of `blocks` that are the directory-growth upper bound. */
  directoryGrowth: number;
}

/** -H beyond the headers: envelope, recipients, the Received: and other headers Exim adds. */
export const EXIM_ENVELOPE_BYTES = 700;
/** Without known headers: -H is charged this much of the message (Mailman's are 1-4 KiB). */
export const EXIM_HEADER_BYTES_MAX = 8192;
/** -D's first line `ID-D\n`: 23-character IDs since Exim 4.97 (16 before). */
export const EXIM_BODY_OVERHEAD_BYTES = 26;
/** msglog/ID: about 115 bytes plus about 100 per delivery attempt; this allows ~19 attempts. */
export const EXIM_MSGLOG_BYTES = 2048;
/** Exim's split key is one base-62 character. */
export const EXIM_SPLIT_DIRECTORIES = 62;
/** `ID-H` with Exim 4.97's 23-character IDs (4.96: 18 characters in all). */
const EXIM_INPUT_NAME_LENGTH = 25;
const EXIM_MSGLOG_NAME_LENGTH = 23;

/** The queue file's records beyond the message: envelope, Received:, record headers (~450). */
export const POSTFIX_QUEUE_FILE_OVERHEAD_BYTES = 470;
/**
 * Without known lines, one line per this many bytes: shorter than base64's 76-character lines,
 * about the length of text lines. Each line costs about a byte more as a record.
 */
export const POSTFIX_BYTES_PER_LINE = 64;
/** The defer log: about 190 bytes per recipient and attempt. */
export const POSTFIX_DEFER_LOG_BYTES = 512;
/** Queue IDs: 10-12 characters, up to 17 with enable_long_queue_ids. */
const POSTFIX_QUEUE_ID_LENGTH = 20;

const NONE: InodesBlocks = { inodes: 0, blocks: 0 };

export function costMtaMessages(
  mta: MtaInfo,
  spool: SpoolLayout,
  messages: MtaMessages,
  blockSize: number,
): MtaCost {
  const count = Math.max(0, Math.floor(messages.count));
  if (count === 0) return { ...NONE, perMessage: NONE, oneTime: NONE, directoryGrowth: 0 };
  const parts =
    mta.kind === 'exim'
      ? costEximMessages(mta, spool, messages, count, blockSize)
      : costPostfixMessages(mta, spool, messages, count, blockSize);
  return {
    inodes: count * parts.perMessage.inodes + parts.oneTime.inodes,
    blocks: count * parts.perMessage.blocks + parts.oneTime.blocks + parts.directoryGrowth,
    ...parts,
  };
}

type CostParts = Pick<MtaCost, 'perMessage' | 'oneTime' | 'directoryGrowth'>;

function blocksFor(bytes: number, blockSize: number): number {
  return Math.ceil(Math.max(0, bytes) / blockSize);
}

/** The existing directories of `spool` exactly `levels` below `parent`. */
function childDirectories(
  spool: SpoolLayout,
  parent: string,
  levels: number,
): SpoolDirectoryState[] {
  const prefix = `${parent}/`;
  return Object.entries(spool.directories)
    .filter(
      ([rel]) => rel.startsWith(prefix) && rel.slice(prefix.length).split('/').length === levels,
    )
    .map(([, state]) => state);
}

function costEximMessages(
  mta: EximInfo,
  spool: SpoolLayout,
  messages: MtaMessages,
  count: number,
  blockSize: number,
): CostParts {
  const bytes = Math.max(0, messages.bytesEach);
  const headers =
    messages.headerBytesEach === undefined
      ? Math.min(bytes, EXIM_HEADER_BYTES_MAX)
      : Math.min(bytes, Math.max(0, messages.headerBytesEach));
  const body = messages.headerBytesEach === undefined ? bytes : bytes - headers;
  const logs = mta.messageLogs ? 1 : 0;
  const perMessage = {
    inodes: 2 + logs,
    blocks:
      blocksFor(headers + EXIM_ENVELOPE_BYTES, blockSize) +
      blocksFor(body + EXIM_BODY_OVERHEAD_BYTES, blockSize) +
      logs * blocksFor(EXIM_MSGLOG_BYTES, blockSize),
  };
  let dirs = spool.spoolExists ? 0 : 1;
  let growth = 0;
  const places: Array<{ dir: string; entries: number; nameLength: number }> = [
    { dir: 'input', entries: 2 * count, nameLength: EXIM_INPUT_NAME_LENGTH },
  ];
  if (mta.messageLogs)
    places.push({ dir: 'msglog', entries: count, nameLength: EXIM_MSGLOG_NAME_LENGTH });
  for (const place of places) {
    const top = spool.directories[place.dir];
    if (!top) dirs++;
    const entryBytes = directoryEntryBytes(place.nameLength);
    if (mta.splitSpool) {
      // One subdirectory per distinct arrival second: a backlog of `count` messages creates
      // at most `count` of them, and never more than the 62 the key allows.
      const existing = childDirectories(spool, place.dir, 1);
      const missing = Math.max(0, EXIM_SPLIT_DIRECTORIES - existing.length);
      const created = Math.min(missing, count);
      dirs += created;
      growth += boundDirectoryGrowth({
        existing,
        missing: created,
        newEntries: place.entries,
        entryBytes,
        blockSize,
      });
    } else {
      growth += boundDirectoryGrowth({
        existing: top ? [top] : [],
        missing: top ? 0 : 1,
        newEntries: place.entries,
        entryBytes,
        blockSize,
      });
    }
  }
  // A directory takes one inode and, on ext4, one block when created.
  return { perMessage, oneTime: { inodes: dirs, blocks: dirs }, directoryGrowth: growth };
}

function costPostfixMessages(
  mta: PostfixInfo,
  spool: SpoolLayout,
  messages: MtaMessages,
  count: number,
  blockSize: number,
): CostParts {
  const bytes = Math.max(0, messages.bytesEach);
  const lines = messages.linesEach ?? Math.ceil(bytes / POSTFIX_BYTES_PER_LINE);
  const queueFile = blocksFor(bytes + lines + POSTFIX_QUEUE_FILE_OVERHEAD_BYTES, blockSize);
  const entryBytes = directoryEntryBytes(POSTFIX_QUEUE_ID_LENGTH);
  if (!mta.masterRunning) {
    // postdrop writes maildrop/ID, unhashed, and nothing else until pickup runs.
    const maildrop = spool.directories.maildrop;
    const dirs = maildrop ? 0 : 1;
    return {
      perMessage: { inodes: 1, blocks: queueFile },
      oneTime: { inodes: dirs, blocks: dirs },
      directoryGrowth: boundDirectoryGrowth({
        existing: maildrop ? [maildrop] : [],
        missing: dirs,
        newEntries: count,
        entryBytes,
        blockSize,
      }),
    };
  }
  let dirs = 0;
  let growth = 0;
  const depth = Math.max(1, mta.hashQueueDepth);
  for (const queue of POSTFIX_MESSAGE_QUEUES) {
    const top = spool.directories[queue];
    if (!top) dirs++;
    // At the peak every message sits in deferred/ with its log in defer/; incoming/ and
    // active/ are passed through and left empty, but their hash directories stay.
    const settled = queue === 'deferred' || queue === 'defer' ? count : 0;
    if (!mta.hashQueueNames.includes(queue)) {
      growth += boundDirectoryGrowth({
        existing: top ? [top] : [],
        missing: top ? 0 : 1,
        newEntries: settled,
        entryBytes,
        blockSize,
      });
      continue;
    }
    for (let level = 1; level <= depth; level++) {
      const existing = childDirectories(spool, queue, level);
      const created = Math.min(Math.max(0, 16 ** level - existing.length), count);
      dirs += created;
      if (level === depth)
        growth += boundDirectoryGrowth({
          existing,
          missing: created,
          newEntries: settled,
          entryBytes,
          blockSize,
        });
    }
  }
  const locks = POSTFIX_LOCK_FILES.filter((name) => !spool.lockFiles.includes(name)).length;
  return {
    perMessage: {
      inodes: 2,
      blocks: queueFile + blocksFor(POSTFIX_DEFER_LOG_BYTES, blockSize),
    },
    // The lock files are empty: an inode each, no block.
    oneTime: { inodes: dirs + locks, blocks: dirs },
    directoryGrowth: growth,
  };
}
