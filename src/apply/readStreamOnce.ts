/**
 * A plan made from a pipe (`borg export-tar repo::a - | restoreplan plan -`), applied from the
 * same pipe. A pipe is read once: in that one pass the data of every planned file is kept, the
 * rest of the stream is read to its end for its fingerprint, and only when that matches the
 * plan's does apply go on to write. Nothing is written before it is known to be the right
 * stream — not even the journal — so a different stream (last night's backup instead of the
 * one planned from) is PLAN_STALE with the target untouched. What one pass may hold is what one
 * batch over a compressed archive may (STREAM_BATCH_BYTES, or one member up to
 * MAX_COMPRESSED_MEMBER_BYTES); a plan that needs more is refused before a byte is read, with
 * the way out: save the stream to a file and apply with `--archive FILE`.
 */
import type { ArchiveEntry } from '../archive/ArchiveEntry.js';
import { walkArchive } from '../archive/walkArchive.js';
import { isRestoreplanError, RestoreplanError } from '../errors.js';
import type { CommonOptions } from '../progress.js';
import type { PlanDocument } from '../types.js';
import { SAME_STREAM_HINT } from './checkArchiveUnchanged.js';
import { MemberCheck } from './checkPlannedMembers.js';
import {
  MAX_COMPRESSED_MEMBER_BYTES,
  STREAM_BATCH_BYTES,
  type MemberReader,
} from './openMemberReader.js';
import type { ArchiveSource } from './openArchiveSource.js';
import { holdPlannedMembers } from './holdPlannedMembers.js';

export interface StreamReadOptions extends CommonOptions {
  /** Keep the planned members' data (false for a dry run: the stream is only proven). */
  collect: boolean;
}

/** A corrupt stream may be cut short or not the plan's at all (trailing bytes): say both. */
const CUT_SHORT_HINT =
  'the stream was cut short (did the command before the pipe fail?) or is not the one the plan was made from. Nothing was written';

const MiB = 1024 * 1024;

export async function readStreamOnce(
  plan: Pick<PlanDocument, 'archive' | 'stages'>,
  source: ArchiveSource,
  options: StreamReadOptions,
): Promise<MemberReader> {
  const { archive } = plan;
  // Every planned member is compared as the pass goes by (checkPlannedMembers); the data of
  // the file steps — a rewrite's too — is kept, once it matched.
  const check = new MemberCheck(plan);
  const held = holdPlannedMembers(plan, (step) => step.source.dataLength);
  const { wanted, total, largest } = held;
  refuseTooLarge(source, wanted.size, total, largest);

  const walk = await walkArchive(source.input, {
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    progressPhase: 'verify',
    maxDataBytes: Math.max(largest, 1),
    // Never 'stop': the fingerprint is of the whole stream. A member unlike its step is not
    // collected; the mismatch is said once the stream is known to be the plan's.
    onEntry: (entry) =>
      check.see(entry) && options.collect && wanted.has(entry.headerOffset) ? 'data' : undefined,
    onData: (entry: ArchiveEntry, data: Buffer) => held.keep(entry.headerOffset, data),
  }).catch((error: unknown) => {
    throw explainStreamError(source, error);
  });

  if (walk.fingerprint !== archive.fingerprint) {
    const length = walk.sizeBytes ?? 0;
    const planned = archive.sizeBytes;
    if ((walk.warningCounts['missing-eof'] ?? 0) > 0 && (planned === null || length < planned)) {
      throw new RestoreplanError(
        'ARCHIVE_TRUNCATED',
        `${source.label} ended after ${length} bytes without an end-of-archive marker${planned !== null ? `; the stream the plan was made from had ${planned}` : ''}`,
        { path: source.label, sizeBytes: length, planned, hint: CUT_SHORT_HINT },
      );
    }
    throw new RestoreplanError(
      'PLAN_STALE',
      `${source.label} is not the stream the plan was made from (${length} bytes${planned !== null && planned !== length ? `, the plan's had ${planned}` : ', other bytes'}): nothing was written`,
      {
        path: source.label,
        sizeBytes: length,
        planned,
        fingerprint: walk.fingerprint,
        plannedFingerprint: archive.fingerprint,
        hint: SAME_STREAM_HINT,
      },
    );
  }
  // The stream is the plan's: a step unlike its member is the plan's doing.
  check.finish(`no member of ${source.label} starts there`);
  if (options.collect) {
    for (const [offset, { step }] of wanted) {
      if (!held.has(offset)) {
        throw new RestoreplanError(
          'INTERNAL',
          `${step.memberPath} at offset ${offset} of ${source.label} matched its step but was not kept`,
          { memberPath: step.memberPath },
        );
      }
    }
  }
  return held.reader({
    from: 'the stream',
    collect: options.collect,
    close: () => source.close(),
  });
}

/** Refuses, before a byte is read, a plan whose members one pass cannot hold in memory. */
function refuseTooLarge(
  source: ArchiveSource,
  members: number,
  total: number,
  largest: number,
): void {
  const fits =
    largest <= MAX_COMPRESSED_MEMBER_BYTES && (members <= 1 || total <= STREAM_BATCH_BYTES);
  if (fits) return;
  throw new RestoreplanError(
    'MEMBER_TOO_LARGE',
    `the plan restores ${Math.ceil(total / MiB)} MiB from ${source.label}, more than one pass over a stream may hold in memory (${STREAM_BATCH_BYTES / MiB} MiB, or one member up to ${MAX_COMPRESSED_MEMBER_BYTES / MiB} MiB): nothing was read`,
    {
      path: source.label,
      bytes: total,
      hint: 'save the stream to a file (… > backup.tar) and run restoreplan apply PLAN --archive backup.tar: it is checked against the plan the same way, and read in as many passes as it takes',
    },
  );
}

/** The walker's errors, said of the stream they happened in. */
function explainStreamError(source: ArchiveSource, error: unknown): unknown {
  if (!isRestoreplanError(error)) return error;
  if (error.code === 'NOT_A_TAR' && error.details.empty === true) {
    return new RestoreplanError(
      'NOT_A_TAR',
      `${source.label} is empty: apply reads the archive the plan was made from there`,
      {
        ...error.details,
        hint: source.stdin
          ? 'pipe the archive into apply (did the command before the pipe fail?), or name a saved copy with --archive FILE'
          : 'the stream held nothing: did its writer fail?',
      },
    );
  }
  if (error.code === 'ARCHIVE_TRUNCATED' || error.code === 'COMPRESSION_CORRUPT') {
    return new RestoreplanError(
      error.code,
      `${source.label}: ${error.message}`,
      { ...error.details, hint: CUT_SHORT_HINT },
      { cause: error },
    );
  }
  return error;
}
