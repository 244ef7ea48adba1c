import type { Writable } from 'node:stream';

import { RestoreplanError } from '../errors.js';
import type { Compression } from '../types.js';
import type { ReadAt } from './openArchive.js';
import { openDecompressor } from './openDecompressor.js';

export interface DecompressFromOptions {
  /** Aborting kills the decompressor; the iteration then rejects with ABORTED. */
  signal?: AbortSignal;
}

/** A piece of a decompressor's input: bytes as they are, or a range [start, end) of the file. */
export type InputPiece = Buffer | { start: number; end: number };

/** Raw bytes are read from the file in pieces of this size. */
const READ_CHUNK_BYTES = 1024 * 1024;

/**
 * Pipes `pieces` (in order) into the decompressor for `compression` and yields what it writes,
 * feeding and draining at once (a child whose stdout is not drained stops reading its stdin). A
 * read error ends the decompressor and is what the iteration reports; stopping the iteration or
 * aborting kills it. Used by decompressXzFrom, decompressZstdFrom, and openTarReader for a
 * compressed archive read from its start.
 */
export async function* decompressPieces(
  compression: Exclude<Compression, 'none'>,
  readAt: ReadAt,
  pieces: InputPiece[],
  options: DecompressFromOptions = {},
): AsyncIterable<Buffer> {
  const { signal } = options;
  if (signal?.aborted) throw aborted();
  const decompressor = openDecompressor(compression);
  const input = decompressor.input!;
  let stopped = false;
  let feedError: unknown = null;
  // The feed runs beside the reading below: xz and zstd read and write at once, and a child
  // whose stdout is not drained stops reading its stdin.
  const feed = (async () => {
    for (const piece of pieces) {
      if (Buffer.isBuffer(piece)) {
        if (stopped) return;
        await write(input, piece);
        continue;
      }
      for (let at = piece.start; at < piece.end;) {
        if (stopped) return;
        // A fresh buffer per chunk: the pipe may still hold the previous one.
        const buffer = Buffer.allocUnsafeSlow(Math.min(READ_CHUNK_BYTES, piece.end - at));
        const bytesRead = await readAt(buffer, buffer.length, at);
        // The file is shorter than it was: xz or zstd sees the input end and says it is cut.
        if (bytesRead <= 0) break;
        at += bytesRead;
        await write(input, buffer.subarray(0, bytesRead));
      }
    }
    input.end();
  })().catch((error: unknown) => {
    // A read failed: end the input so the decompressor ends too; the read error is reported.
    feedError = error;
    input.destroy();
  });
  const onAbort = (): void => decompressor.kill();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    try {
      for await (const chunk of decompressor.output) yield chunk as Buffer;
    } catch (error) {
      throw decompressor.mapError(error);
    }
    await feed;
    if (feedError) throw feedError;
    await decompressor.finished;
  } catch (error) {
    if (signal?.aborted) throw aborted();
    if (feedError) throw feedError;
    throw error;
  } finally {
    stopped = true;
    signal?.removeEventListener('abort', onAbort);
    decompressor.kill();
    input.destroy();
  }
}

function aborted(): RestoreplanError {
  return new RestoreplanError('ABORTED', 'cancelled');
}

/** Writes `chunk`, waiting while the pipe is full; returns early once the pipe is gone. */
function write(stream: Writable, chunk: Buffer): Promise<void> {
  if (stream.destroyed || stream.writableEnded) return Promise.resolve();
  if (stream.write(chunk)) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      stream.off('drain', done);
      stream.off('close', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
  });
}
