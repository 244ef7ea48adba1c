/**
 * `createGzipIndexer`: openDecompressor('gzip') that, as it inflates, records zran-style
 * access points (AccessPoint: a deflate block boundary, its bit offset, the 32 KiB window
 * before it) about every `spanBytes` of output, so that inflateFromAccessPoint can later read
 * a member deep inside the .tar.gz without inflating everything before it.
 *
 * Why Node needs this shape: zran drives inflate() with Z_BLOCK and reads the bit offset of a
 * block boundary from `strm->data_type`; node:zlib's streams take Z_BLOCK as a flush mode but
 * end the output the first time inflate stops early on it, and expose neither `data_type`
 * nor `inflatePrime`. An inflate written in JavaScript is several times slower. So:
 *
 * - The decompressor IS openDecompressor's gunzip stream (same bytes, multi-member and padding
 *   handling, errors), inflating in the threadpool with Z_NO_FLUSH as always.
 * - Once a span of output has passed, ONE input chunk is inflated on the main thread through
 *   the stream's own zlib handle (`_handle.writeSync`) with Z_BLOCK, up to the next block
 *   boundary (inflate stops there with input left over); the rest of the chunk goes back to
 *   the stream's own asynchronous path. About one deflate block per span leaves the threadpool.
 * - The boundary's byte offset is known (input consumed), its 0–7 leftover bits are not: each
 *   of the 8 candidates is tried — a raw inflate from it, with the window as dictionary, on
 *   the next compressed bytes — against the output that really follows (up to 16 KiB). The
 *   one candidate that reproduces it becomes the point; none or several (near the end of the
 *   data, say) and the next boundary is tried instead. So every recorded point was checked.
 *
 * If a later Node lacks those stream internals the decompressor still works, recording no
 * points. A new gzip member is a natural point too: when a span ends in a member's last
 * block, the next boundary found is the new member's first block (bits 0).
 */
import type { Transform } from 'node:stream';
import { constants, createInflateRaw, type InflateRaw } from 'node:zlib';

import type { AccessPoint } from './AccessPoint.js';
import { primeDeflateInput } from './inflateFromAccessPoint.js';
import { openDecompressor, type Decompressor } from './openDecompressor.js';

export const DEFAULT_GZIP_SPAN_BYTES = 4 * 1024 * 1024;
/** The deflate window: back-references reach at most this far. */
const WINDOW_BYTES = 32 * 1024;
/** Output a candidate point must reproduce to be kept. */
const VERIFY_OUTPUT_BYTES = 4 * 1024;
/** Compressed bytes kept after a candidate to try it on (4 KiB stored is 4 KiB + 5 bytes). */
const VERIFY_INPUT_BYTES = 8 * 1024;
/** The first check of each candidate bit offset (most wrong ones fail within it). */
const PROBE_BYTES = 512;
/** Output buffer of the main-thread Z_BLOCK inflate (as openDecompressor's gunzip chunks). */
const BLOCK_OUTPUT_BYTES = 256 * 1024;
/** Input chunks are inflated in slices of spanBytes / 16 (within these): a passed span is noticed soon. */
const MIN_SLICE_BYTES = 16 * 1024;
const MAX_SLICE_BYTES = 256 * 1024;

export interface GzipIndexerOptions {
  /** Output bytes between access points (default 4 MiB); the first point is after one span. */
  spanBytes?: number;
}

export interface GzipIndexer {
  /** Behaves as openDecompressor('gzip'); drive it the same way (walkStream). */
  decompressor: Decompressor;
  /** The access points recorded so far, by output offset (all of them once output ended). */
  accessPoints(): AccessPoint[];
}

/** The node:zlib stream internals used (as in Node 20's lib/zlib.js and src/node_zlib.cc). */
interface ZlibInternals {
  _handle: {
    onerror: (message: string, errno: number) => void;
    writeSync(
      flush: number,
      input: Buffer,
      inputOffset: number,
      inputLength: number,
      output: Buffer,
      outputOffset: number,
      outputLength: number,
    ): void;
  } | null;
  _writeState: Uint32Array;
  _finishFlushFlag: number;
  _defaultFlushFlag: number;
  _processChunk(chunk: Buffer, flushFlag: number, callback: (error?: Error | null) => void): void;
  _transform(
    chunk: Buffer,
    encoding: BufferEncoding,
    callback: (error?: Error | null) => void,
  ): void;
  bytesWritten: number;
}

interface Candidate {
  /** Compressed bytes consumed when inflate stopped at the boundary. */
  consumed: number;
  /** The last consumed byte (it holds the leftover bits, if any). */
  lastByte: number;
  outputOffset: number;
  window: Buffer;
  input: Buffer[];
  inputBytes: number;
  output: Buffer[];
  outputBytes: number;
}

export function createGzipIndexer(options: GzipIndexerOptions = {}): GzipIndexer {
  const spanBytes = options.spanBytes ?? DEFAULT_GZIP_SPAN_BYTES;
  if (!Number.isSafeInteger(spanBytes) || spanBytes < 1) {
    throw new RangeError(`spanBytes must be a positive integer, not ${spanBytes}`);
  }
  const sliceBytes = Math.min(
    MAX_SLICE_BYTES,
    Math.max(MIN_SLICE_BYTES, Math.floor(spanBytes / 16)),
  );
  const decompressor = openDecompressor('gzip');
  const points: AccessPoint[] = [];
  const gunzip = decompressor.output as Transform & ZlibInternals;
  if (
    typeof gunzip._handle?.writeSync !== 'function' ||
    !(gunzip._writeState instanceof Uint32Array) ||
    typeof gunzip._processChunk !== 'function' ||
    typeof gunzip._transform !== 'function'
  ) {
    return { decompressor, accessPoints: () => [] };
  }

  let outputBytes = 0;
  let inputBytes = 0;
  let lastInputByte = 0;
  let nextPointAt = spanBytes;
  let candidate: Candidate | null = null;
  // The most recent output chunks, at least WINDOW_BYTES of them (references, not copies).
  const recent: Buffer[] = [];
  let recentBytes = 0;

  const push = gunzip.push.bind(gunzip);
  gunzip.push = (chunk: Buffer | null, encoding?: BufferEncoding): boolean => {
    if (chunk === null) {
      if (candidate) settle(candidate);
    } else if (chunk.length > 0) {
      outputBytes += chunk.length;
      recent.push(chunk);
      recentBytes += chunk.length;
      while (recentBytes - recent[0]!.length >= WINDOW_BYTES) recentBytes -= recent.shift()!.length;
      if (candidate) {
        collect(candidate.output, candidate, 'outputBytes', chunk, VERIFY_OUTPUT_BYTES);
        if (
          candidate.outputBytes >= VERIFY_OUTPUT_BYTES &&
          candidate.inputBytes >= VERIFY_INPUT_BYTES
        ) {
          settle(candidate);
        }
      }
    }
    return push(chunk, encoding);
  };

  const transform = gunzip._transform;
  gunzip._transform = function (chunk, encoding, callback): void {
    // Empty chunks carry flush requests and the final Z_FINISH: zlib's own path.
    if (chunk.length === 0 || !this._handle) {
      transform.call(this, chunk, encoding, callback);
      return;
    }
    // As ZlibBase._transform: the last chunk of an ended stream is inflated with Z_FINISH.
    const last = this.writableEnded && this.writableLength === chunk.length;
    // Slices only where a span may end: elsewhere the chunk goes through whole, as in gunzip.
    const ratio = inputBytes > 0 ? outputBytes / inputBytes : 8;
    if (chunk.length <= sliceBytes || outputBytes + 2 * ratio * chunk.length < nextPointAt) {
      inflateSlice(this, chunk, last, callback);
      return;
    }
    // A big chunk in slices, so that a span is noticed soon after it passed.
    let offset = 0;
    const next = (error?: Error | null): void => {
      if (error || this.destroyed || offset >= chunk.length) {
        callback(error);
        return;
      }
      const slice = chunk.subarray(offset, offset + sliceBytes);
      offset += slice.length;
      inflateSlice(this, slice, last && offset >= chunk.length, next);
    };
    next();
  };

  function inflateSlice(
    stream: Transform & ZlibInternals,
    chunk: Buffer,
    last: boolean,
    callback: (error?: Error | null) => void,
  ): void {
    const flush = last ? stream._finishFlushFlag : stream._defaultFlushFlag;
    if (candidate && candidate.inputBytes < VERIFY_INPUT_BYTES) {
      collect(candidate.input, candidate, 'inputBytes', chunk, VERIFY_INPUT_BYTES);
    }
    if (candidate !== null || outputBytes < nextPointAt) {
      inputBytes += chunk.length;
      lastInputByte = chunk[chunk.length - 1]!;
      stream._processChunk(chunk, flush, callback);
      return;
    }
    const state = stream._writeState;
    let offset = 0;
    for (;;) {
      const out = Buffer.allocUnsafe(BLOCK_OUTPUT_BYTES);
      stream._handle!.writeSync(
        constants.Z_BLOCK,
        chunk,
        offset,
        chunk.length - offset,
        out,
        0,
        BLOCK_OUTPUT_BYTES,
      );
      // A zlib error destroyed the stream (its onerror handler): the reader gets it, as ever.
      if (stream.destroyed) {
        callback();
        return;
      }
      const availOut = state[0]!;
      const availIn = state[1]!;
      const consumed = chunk.length - offset - availIn;
      stream.bytesWritten += consumed;
      offset += consumed;
      if (availOut < BLOCK_OUTPUT_BYTES)
        stream.push(out.subarray(0, BLOCK_OUTPUT_BYTES - availOut));
      if (availOut === 0) continue;
      // Input left and output room: inflate stopped at a block boundary (or the data's end,
      // which no candidate survives). No input left: mid-block still, try the next slice.
      if (availIn > 0) {
        candidate = {
          consumed: inputBytes + offset,
          lastByte: offset > 0 ? chunk[offset - 1]! : lastInputByte,
          outputOffset: outputBytes,
          window: copyWindow(),
          input: [],
          inputBytes: 0,
          output: [],
          outputBytes: 0,
        };
        collect(
          candidate.input,
          candidate,
          'inputBytes',
          chunk.subarray(offset),
          VERIFY_INPUT_BYTES,
        );
      }
      break;
    }
    inputBytes += chunk.length;
    lastInputByte = chunk[chunk.length - 1]!;
    const rest = chunk.subarray(offset);
    if (rest.length > 0 || last) stream._processChunk(rest, flush, callback);
    else callback();
  }

  function copyWindow(): Buffer {
    const size = Math.min(WINDOW_BYTES, recentBytes);
    const window = Buffer.allocUnsafe(size);
    let end = size;
    for (let i = recent.length - 1; i >= 0 && end > 0; i -= 1) {
      const piece = recent[i]!;
      const take = Math.min(end, piece.length);
      piece.copy(window, end - take, piece.length - take);
      end -= take;
    }
    return window;
  }

  /** Decides a candidate: keeps it as a point when exactly one bit offset reproduces its output. */
  function settle(found: Candidate): void {
    candidate = null;
    const point = locate(found);
    if (point) {
      points.push(point);
      nextPointAt = point.outputOffset + spanBytes;
    }
    // Otherwise nextPointAt stays behind: the next slice looks for the next boundary.
  }

  return { decompressor, accessPoints: () => points.slice() };
}

/** Appends up to `limit` bytes of `chunk` (copied) to a candidate's list. */
function collect(
  list: Buffer[],
  found: Candidate,
  field: 'inputBytes' | 'outputBytes',
  chunk: Buffer,
  limit: number,
): void {
  const take = Math.min(limit - found[field], chunk.length);
  if (take <= 0) return;
  list.push(Buffer.from(chunk.subarray(0, take)));
  found[field] += take;
}

/**
 * The point a candidate is, when exactly one of its 8 bit offsets makes a raw inflate (window
 * as dictionary) give the output that really followed. One zlib handle tries them all (reset
 * between tries; its errors are just a "no"), first against a short probe — garbage decoded
 * from a wrong offset rarely survives 512 bytes — then against all the output kept. The
 * output buffer is the probe's size: a run of zeros cannot blow up.
 */
function locate(found: Candidate): AccessPoint | null {
  const expected = Buffer.concat(found.output);
  if (expected.length === 0) return null;
  const input = Buffer.concat(found.input);
  const inflate = createInflateRaw(
    found.window.length > 0 ? { dictionary: found.window } : {},
  ) as unknown as InflateRaw & ZlibInternals;
  const handle = inflate._handle;
  if (!handle) return null;
  let failed = false;
  handle.onerror = () => {
    failed = true;
  };
  const out = Buffer.allocUnsafe(expected.length);
  // The last consumed byte primed (the block starts in it), then the input after it: two
  // writes, no copy of the input.
  const reproduces = (primed: Buffer | null, length: number): boolean => {
    failed = false;
    inflate.reset();
    let written = 0;
    if (primed) {
      handle.writeSync(constants.Z_SYNC_FLUSH, primed, 0, primed.length, out, 0, length);
      if (failed) return false;
      written = length - inflate._writeState[0]!;
    }
    handle.writeSync(
      constants.Z_SYNC_FLUSH,
      input,
      0,
      input.length,
      out,
      written,
      length - written,
    );
    return (
      !failed && inflate._writeState[0] === 0 && out.compare(expected, 0, length, 0, length) === 0
    );
  };
  try {
    const probe = Math.min(PROBE_BYTES, expected.length);
    const fits: number[] = [];
    for (let leftover = 0; leftover < 8; leftover += 1) {
      const primed = leftover === 0 ? null : primeDeflateInput(8 - leftover, found.lastByte);
      if (reproduces(primed, probe) && reproduces(primed, expected.length)) fits.push(leftover);
    }
    if (fits.length === 0) return null;
    // Several offsets fit only where a stored block starts: the header's 3 bits are followed
    // by padding to a byte boundary, so a start a few bits off can read the same header. Those
    // decode alike for ever (same final flag, same length field): keep the first. Any other
    // tie is trusted by neither.
    if (fits.length > 1) {
      const bit = (index: number): number =>
        ((index < 8 ? found.lastByte : input[(index >> 3) - 1]!) >> (index & 7)) & 1;
      const header = (leftover: number): string => {
        const start = 8 - leftover;
        const storedBlock = bit(start + 1) === 0 && bit(start + 2) === 0;
        return storedBlock ? `${bit(start)}:${Math.ceil((start + 3) / 8)}` : `${leftover}`;
      };
      if (fits.some((leftover) => header(leftover) !== header(fits[0]!))) return null;
    }
    const leftover = fits[0]!;
    return {
      outputOffset: found.outputOffset,
      inputOffset: leftover === 0 ? found.consumed : found.consumed - 1,
      bits: leftover === 0 ? 0 : 8 - leftover,
      window: found.window,
    };
  } finally {
    inflate.close();
  }
}
