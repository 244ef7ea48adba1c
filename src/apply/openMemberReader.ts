/**
 * Where apply gets member data. An uncompressed archive on disk is read at the offsets the plan
 * recorded (no scan at all). A compressed archive (or one that is not a regular file) cannot be
 * seeked: the data of a batch of steps is collected in ONE pass of walkArchive that asks only
 * for the planned members and stops right after the last of them — for configs near the start
 * of a big archive that is a fraction of the decompression. Batches are capped in bytes so
 * memory stays bounded by the batch, not by the selection. (A pipe allows one pass in all:
 * readStreamOnce collects every batch in it, under the same caps.)
 */
import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';

import type { AccessPoint } from '../archive/AccessPoint.js';
import { openTarReader } from '../archive/openTarReader.js';
import { resumeDecompression } from '../archive/resumeDecompression.js';
import { RestoreplanError } from '../errors.js';
import type { PlanDocument, PlanStep } from '../types.js';
import { checkMembersByOffset, type MemberCheck } from './checkPlannedMembers.js';
import type { ArchiveSource } from './openArchiveSource.js';
import {
  expandStoredData,
  readMemberChunks,
  type MemberChunk,
  type PositionalFile,
} from './readMemberChunks.js';

/** Largest sum of member sizes collected by one pass over a compressed archive. */
export const STREAM_BATCH_BYTES = 256 * 1024 * 1024;

/**
 * Largest single member read from a compressed archive: it is held whole in memory until it is
 * written. A multi-GB mbox would exhaust memory half-way through a run, so it is refused up
 * front with the way out (decompress first: then members stream from their offsets).
 */
export const MAX_COMPRESSED_MEMBER_BYTES = 512 * 1024 * 1024;

export interface MemberReader {
  /** True when members are read by offset (prepare is then a no-op). */
  seekable: boolean;
  /** Makes the data of these steps available: one pass for a compressed archive. */
  prepare(steps: readonly PlanStep[], signal?: AbortSignal): Promise<void>;
  /** The member's data, holes as numbers. */
  read(step: PlanStep): AsyncIterable<MemberChunk> | Iterable<MemberChunk>;
  /** Drops a prepared member's data once written. */
  release(step: PlanStep): void;
  close(): Promise<void>;
}

/**
 * The reader for the plan's archive, or for `source` (opened and checked by the caller) when
 * it is a regular file: an uncompressed one is read by offset whatever the plan says of the
 * file it was made from (a plan made from a pipe, applied to a saved copy of that stream).
 */
export interface MemberReaderOptions {
  /**
   * The plan's steps, to compare with the members the archive holds (checkPlannedMembers):
   * read by offset before the reader is returned; for a compressed archive, in one pass up to
   * the last planned member (which also collects the data when it all fits one batch), and
   * again in every pass that collects data.
   */
  check?: MemberCheck;
  /** Keep the data the checking pass reads (false for a dry run). */
  collect?: boolean;
  signal?: AbortSignal;
  /** A compressed file's access points (from its index): members are then read by offset. */
  accessPoints?: readonly AccessPoint[];
}

export async function openMemberReader(
  archive: PlanDocument['archive'],
  source?: ArchiveSource,
  options: MemberReaderOptions = {},
): Promise<MemberReader> {
  const { check } = options;
  if (source?.readAt && (archive.compression === 'none' || options.accessPoints?.length)) {
    // Uncompressed: the file itself. Compressed with an index: the tar stream decompressed
    // from the access point nearest each offset (openTarReader), read like the file.
    const tar =
      archive.compression === 'none'
        ? null
        : openTarReader(
            {
              readAt: source.readAt,
              sizeBytes: Number(source.stats?.size ?? 0),
              compression: archive.compression,
            },
            options.accessPoints ?? [],
            resumeDecompression,
            options.signal,
          );
    const readAt = tar ? tar.readAt : source.readAt;
    if (check) await checkMembersByOffset(readAt, check, options.signal);
    const file: PositionalFile = {
      read: async (buffer, offset, length, position) => ({
        bytesRead: await readAt(buffer.subarray(offset), length, position),
      }),
    };
    return {
      seekable: true,
      prepare: async () => {},
      read: (step) => readMemberChunks(file, step.source, step.size, step.memberPath),
      release: () => {},
      close: async () => {
        await tar?.close();
        await source.close();
      },
    };
  }
  if (!source && archive.seekable && archive.compression === 'none') {
    let handle: FileHandle;
    try {
      handle = await open(archive.path, constants.O_RDONLY);
    } catch (error) {
      throw new RestoreplanError(
        'ARCHIVE_NOT_FOUND',
        `cannot open ${archive.path}: ${(error as Error).message}`,
        {
          path: archive.path,
        },
      );
    }
    return {
      seekable: true,
      prepare: async () => {},
      read: (step) => readMemberChunks(handle, step.source, step.size, step.memberPath),
      release: () => {},
      close: () => handle.close(),
    };
  }
  const input = source?.input ?? archive.path;
  const label = source?.label ?? archive.path;
  const store = new Map<number, MemberChunk[]>();
  if (check) await checkInOnePass(input, check, store, options);
  return {
    seekable: false,
    async prepare(steps, signal) {
      const wanted = new Map<number, PlanStep>();
      let last = -1;
      let largest = 0;
      for (const step of steps) {
        if (store.has(step.source.headerOffset)) continue;
        wanted.set(step.source.headerOffset, step);
        last = Math.max(last, step.source.headerOffset);
        largest = Math.max(largest, step.source.dataLength);
      }
      if (wanted.size === 0) return;
      if (largest > MAX_COMPRESSED_MEMBER_BYTES) {
        const step = [...wanted.values()].find((s) => s.source.dataLength === largest);
        throw new RestoreplanError(
          'MEMBER_TOO_LARGE',
          `${step?.memberPath ?? 'a member'} is ${largest} bytes in a ${archive.compression} archive: decompress ${label} first and plan against the .tar`,
          { memberPath: step?.memberPath, bytes: largest },
        );
      }
      // Loaded only for a compressed archive: the seekable path (configs) starts faster.
      const { walkArchive } = await import('../archive/walkArchive.js');
      await walkArchive(input, {
        ...(signal ? { signal } : {}),
        maxDataBytes: Math.max(largest, 1),
        onEntry: (entry) => {
          if (wanted.has(entry.headerOffset)) {
            // Checked when the reader was opened; again here, for the bytes actually kept.
            if (check && !check.see(entry)) check.finish();
            return 'data';
          }
          if (entry.headerOffset > last) return 'stop';
          return undefined;
        },
        onData: (entry, data) => {
          const step = wanted.get(entry.headerOffset);
          if (!step) return;
          store.set(
            entry.headerOffset,
            expandStoredData(data, step.source, step.size, step.memberPath),
          );
        },
      });
      for (const [offset, step] of wanted) {
        if (!store.has(offset)) {
          throw new RestoreplanError(
            'PLAN_STALE',
            `${step.memberPath} is not at offset ${offset} of ${label} any more`,
            { memberPath: step.memberPath },
          );
        }
      }
    },
    read(step) {
      const chunks = store.get(step.source.headerOffset);
      if (!chunks) throw new RestoreplanError('INTERNAL', `${step.memberPath} was not prepared`);
      return chunks;
    },
    release(step) {
      store.delete(step.source.headerOffset);
    },
    close: async () => {
      store.clear();
      await source?.close();
    },
  };
}

/**
 * A compressed archive: one pass up to the last planned member compares every planned member
 * with its step before anything is written. When the data of all the file steps fits one batch
 * it is kept as the pass goes (the first prepare then has nothing left to read: one pass in
 * all, as before the check); otherwise the passes that collect it come after.
 */
async function checkInOnePass(
  input: string | NodeJS.ReadableStream,
  check: MemberCheck,
  store: Map<number, MemberChunk[]>,
  options: MemberReaderOptions,
): Promise<void> {
  if (check.size === 0) return;
  const files = new Map<number, PlanStep>();
  let total = 0;
  let largest = 0;
  for (const planned of check.byOffset.values()) {
    for (const { step } of planned) {
      if (step.type !== 'file' || files.has(step.source.headerOffset)) continue;
      files.set(step.source.headerOffset, step);
      total += step.source.dataLength;
      largest = Math.max(largest, step.source.dataLength);
    }
  }
  const collect =
    options.collect === true &&
    largest <= MAX_COMPRESSED_MEMBER_BYTES &&
    (files.size <= 1 || total <= STREAM_BATCH_BYTES);
  const { walkArchive } = await import('../archive/walkArchive.js');
  await walkArchive(input, {
    ...(options.signal ? { signal: options.signal } : {}),
    maxDataBytes: Math.max(collect ? largest : 0, 1),
    onEntry: (entry) => {
      if (check.see(entry)) return collect && files.has(entry.headerOffset) ? 'data' : undefined;
      if (check.firstError) throw check.firstError;
      return entry.headerOffset > check.last ? 'stop' : undefined;
    },
    onData: (entry, data) => {
      const step = files.get(entry.headerOffset);
      if (step)
        store.set(
          entry.headerOffset,
          expandStoredData(data, step.source, step.size, step.memberPath),
        );
    },
  });
  check.finish();
}
