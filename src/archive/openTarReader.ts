/**
 * `openTarReader`: positional reads of the TAR stream of an archive file, compressed or not —
 * what lets a member be read by the offsets an index (or a plan) recorded.
 *
 * Uncompressed: a read of the file. Compressed: decompression from the nearest access point at
 * or before the offset (the start of the file when there is none), kept open as a cursor so that
 * reads in increasing order (a replay, a plan's steps sorted by offset) continue it instead of
 * starting over; a read behind the cursor, or one an access point reaches sooner, starts again
 * there.
 */
import { RestoreplanError, throwIfAborted } from '../errors.js';
import type { Compression } from '../types.js';
import type { AccessPoint } from './AccessPoint.js';
import type { ReadAt } from './openArchive.js';
import { decompressPieces } from './decompressPieces.js';

export interface TarReader {
  /** Reads up to `length` bytes of the tar stream at `position` into buffer[0..); fewer only at its end. */
  readAt(buffer: Buffer, length: number, position: number): Promise<number>;
  /** Stops any decompression in progress. */
  close(): Promise<void>;
}

export interface TarSource {
  readAt: ReadAt;
  sizeBytes: number;
  compression: Compression;
}

/** Decompressed bytes from `point` to the end: one per compression that can resume mid-file. */
export type Resume = (
  source: TarSource,
  point: AccessPoint,
  signal?: AbortSignal,
) => AsyncIterable<Buffer>;

/** Skipping forward in an open cursor beats restarting at a point this much closer (bytes). */
const RESTART_SAVING_BYTES = 1024 * 1024;

export function openTarReader(
  source: TarSource,
  accessPoints: readonly AccessPoint[],
  resume: Resume | null,
  signal?: AbortSignal,
): TarReader {
  if (source.compression === 'none') {
    return { readAt: source.readAt, close: async () => {} };
  }
  const points = resume ? accessPoints : [];
  let cursor: Cursor | null = null;
  const start = (point: AccessPoint | null): Cursor => {
    const chunks = point && resume ? resume(source, point, signal) : decompressAll(source, signal);
    return {
      position: point?.outputOffset ?? 0,
      iterator: chunks[Symbol.asyncIterator](),
      pending: Buffer.alloc(0),
    };
  };
  return {
    async readAt(buffer, length, position) {
      throwIfAborted(signal);
      const point = nearestPoint(points, position);
      const from = point?.outputOffset ?? 0;
      if (
        !cursor ||
        cursor.position > position ||
        (from > cursor.position && from - cursor.position > RESTART_SAVING_BYTES)
      ) {
        await cursor?.iterator.return?.();
        cursor = start(point);
      }
      let filled = 0;
      while (filled < length) {
        if (cursor.pending.length === 0) {
          const next = await cursor.iterator.next();
          if (next.done) break;
          cursor.pending = next.value;
        }
        const pending = cursor.pending;
        const skip = position + filled - cursor.position;
        if (skip >= pending.length) {
          cursor.position += pending.length;
          cursor.pending = Buffer.alloc(0);
          continue;
        }
        const take = Math.min(pending.length - skip, length - filled);
        pending.copy(buffer, filled, skip, skip + take);
        filled += take;
        cursor.position += skip + take;
        cursor.pending = pending.subarray(skip + take);
      }
      return filled;
    },
    async close() {
      await cursor?.iterator.return?.();
      cursor = null;
    },
  };
}

interface Cursor {
  /** Tar-stream offset of the first byte of `pending`. */
  position: number;
  iterator: AsyncIterator<Buffer>;
  pending: Buffer;
}

/** The last point at or before `position`, or null (start of the file). */
export function nearestPoint(points: readonly AccessPoint[], position: number): AccessPoint | null {
  let low = 0;
  let high = points.length - 1;
  let found: AccessPoint | null = null;
  while (low <= high) {
    const middle = (low + high) >> 1;
    const point = points[middle]!;
    if (point.outputOffset <= position) {
      found = point;
      low = middle + 1;
    } else high = middle - 1;
  }
  return found;
}

/** The whole file through the decompressor of its compression. */
function decompressAll(source: TarSource, signal?: AbortSignal): AsyncIterable<Buffer> {
  if (source.compression === 'none') throw new RestoreplanError('INTERNAL', 'not compressed');
  return decompressPieces(
    source.compression,
    source.readAt,
    [{ start: 0, end: source.sizeBytes }],
    {
      ...(signal ? { signal } : {}),
    },
  );
}
