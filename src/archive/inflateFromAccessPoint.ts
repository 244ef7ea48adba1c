/**
 * `inflateFromAccessPoint`: the decompressed bytes of a gzip file from an access point
 * (createGzipIndexer records them) to the end of the gzip data, read by positional reads —
 * a member deep inside a .tar.gz without inflating everything before it.
 *
 * A point inside a deflate stream (zran's access point) is resumed with a raw inflate whose
 * dictionary is the point's window. When the block does not start on a byte boundary, zran
 * calls `inflatePrime` to load the leftover bits; node:zlib does not expose it, and shifting
 * every following byte in JavaScript would cost as much as the inflate. Instead the bits of the
 * previous block in the first byte are REPLACED by the tail of a few synthetic empty deflate
 * blocks (no output, no effect on the window) whose length in bits ends exactly there: the
 * rest of the file is then fed to zlib unchanged, at native speed, in the threadpool.
 *
 * `bits` as recorded here: the byte at `inputOffset` is the first holding bits of the block;
 * its `bits` LOW bits are the previous block's end (deflate fills a byte from its least
 * significant bit), the block starts at bit `bits`. (zran's own record is the next byte's
 * offset and the 8 − bits leftover high bits.)
 *
 * What is NOT checked, and cannot be: a gzip member's CRC-32 covers the member from its first
 * byte, so output resumed in the middle of a member is only checked by zlib's own decoding
 * (a bad `inputOffset` or `bits` nearly always fails as COMPRESSION_CORRUPT, but a wrong
 * `window`, or a damaged byte after the point, can decode to wrong bytes without any error). The caller must check what it reads:
 * tar header checksums, and the member digests or sizes its index recorded. Members that
 * start after the point's member are inflated as gzip, CRC included.
 */
import { once } from 'node:events';
import type { Transform } from 'node:stream';
import { createGunzip, createInflateRaw } from 'node:zlib';

import { RestoreplanError, throwIfAborted } from '../errors.js';
import type { AccessPoint } from './AccessPoint.js';
import type { ReadAt } from './openArchive.js';

/** Positional read size: one read in flight at most when the consumer stops. */
const READ_CHUNK_BYTES = 1024 * 1024;
/** Output chunk size of the inflate streams (as openDecompressor's gunzip). */
const INFLATE_CHUNK_BYTES = 256 * 1024;
/** The largest deflate window. */
const MAX_WINDOW_BYTES = 32 * 1024;
/** gzip member trailer: CRC-32 and ISIZE. */
const GZIP_TRAILER_BYTES = 8;

export interface InflateFromAccessPointOptions {
  signal?: AbortSignal;
}

/**
 * Yields the output from `point.outputOffset` to the end of the gzip data (through later
 * members). Errors: COMPRESSION_CORRUPT (also for a point that does not fit the file),
 * ARCHIVE_READ from `readAt`, ABORTED. Stops reading when the consumer stops iterating.
 */
export async function* inflateFromAccessPoint(
  readAt: ReadAt,
  sizeBytes: number,
  point: AccessPoint,
  options: InflateFromAccessPointOptions = {},
): AsyncIterable<Buffer> {
  const { signal } = options;
  throwIfAborted(signal);
  const window = point.window ?? Buffer.alloc(0);
  if (
    !Number.isSafeInteger(point.inputOffset) ||
    point.inputOffset < 0 ||
    point.inputOffset > sizeBytes ||
    !Number.isInteger(point.bits) ||
    point.bits < 0 ||
    point.bits > 7 ||
    window.length > MAX_WINDOW_BYTES ||
    (point.bits > 0 && point.inputOffset >= sizeBytes)
  ) {
    throw corrupt(
      `the access point (input offset ${point.inputOffset}, ${point.bits} bits) does not fit the ${sizeBytes}-byte file`,
      point.inputOffset,
    );
  }
  const head = Buffer.alloc(2);
  const headBytes = await readAt(
    head,
    Math.min(2, sizeBytes - point.inputOffset),
    point.inputOffset,
  );
  // A point at a gzip member header (the start of the file, or of a later member): plain gunzip.
  // A deflate block never starts with 0x1f (its block type would be the reserved 3).
  if (
    point.bits === 0 &&
    window.length === 0 &&
    headBytes === 2 &&
    head[0] === 0x1f &&
    head[1] === 0x8b
  ) {
    yield* inflateStage(
      createGunzip({ chunkSize: INFLATE_CHUNK_BYTES }),
      readAt,
      sizeBytes,
      point.inputOffset,
      null,
      signal,
    );
    return;
  }
  if (headBytes === 0) {
    throw corrupt(
      'the gzip stream is corrupt or truncated: no data at the access point',
      point.inputOffset,
    );
  }
  const raw = createInflateRaw({
    chunkSize: INFLATE_CHUNK_BYTES,
    ...(window.length > 0 ? { dictionary: window } : {}),
  });
  const first = primeDeflateInput(point.bits, head[0]!);
  yield* inflateStage(raw, readAt, sizeBytes, point.inputOffset, first, signal);
  // The raw inflate stopped at the end of the member's last block: its trailer follows, then
  // maybe more members (or padding), which gunzip reads as it would have.
  const memberEnd = point.inputOffset + raw.bytesWritten - (first.length - 1);
  const next = memberEnd + GZIP_TRAILER_BYTES;
  if (next > sizeBytes) {
    throw corrupt(
      'the gzip stream is corrupt or truncated: unexpected end of file (in a member trailer)',
      memberEnd,
    );
  }
  if (next === sizeBytes) return;
  const byte = Buffer.alloc(1);
  await readAt(byte, 1, next);
  // Zero bytes after a member are padding, as node:zlib's gunzip takes them (tape blocks).
  if (byte[0] === 0) return;
  yield* inflateStage(
    createGunzip({ chunkSize: INFLATE_CHUNK_BYTES }),
    readAt,
    sizeBytes,
    next,
    null,
    signal,
  );
}

/**
 * The bytes to feed a raw inflate IN PLACE OF the byte at a point's `inputOffset`: when
 * `bits` (0–7) low bits of it belong to the previous block, synthetic empty blocks whose
 * bit length is `bits` modulo 8, their last partial byte merged into that byte's high bits;
 * when `bits` is 0, the byte itself. (createGzipIndexer tries candidate points with it too.)
 */
export function primeDeflateInput(bits: number, firstByte: number): Buffer {
  if (bits === 0) return Buffer.of(firstByte);
  emptyBlockPrefixes ??= buildEmptyBlockPrefixes();
  const prefix = emptyBlockPrefixes[bits]!;
  const out = Buffer.from(prefix);
  const last = out.length - 1;
  const low = (1 << bits) - 1;
  out[last] = (out[last]! & low) | (firstByte & ~low & 0xff);
  return out;
}

/**
 * For each residue r (1–7), deflate bits packed LSB-first: non-final empty blocks whose total
 * length is ≡ r (mod 8), the last byte holding its r low bits. One empty dynamic block
 * (92 bits, or 95 with one more code-length code length sent) plus 0–3 empty fixed blocks
 * (10 bits each) reaches every residue.
 */
let emptyBlockPrefixes: Buffer[] | null = null;

function buildEmptyBlockPrefixes(): Buffer[] {
  const prefixes: Buffer[] = [Buffer.alloc(0)];
  for (let residue = 1; residue < 8; residue += 1) {
    let built: Buffer | null = null;
    for (let extra = 0; extra < 2 && !built; extra += 1) {
      for (let fixed = 0; fixed < 4 && !built; fixed += 1) {
        if ((92 + 3 * extra + 10 * fixed) % 8 !== residue) continue;
        const writer = new BitWriter();
        writeEmptyDynamicBlock(writer, extra);
        for (let i = 0; i < fixed; i += 1) {
          writer.bits(0, 1); // not final
          writer.bits(1, 2); // fixed Huffman codes
          writer.code(0, 7); // end of block (symbol 256: seven 0 bits)
        }
        built = writer.finish();
      }
    }
    prefixes.push(built!);
  }
  return prefixes;
}

/**
 * An empty block with dynamic Huffman codes: 257 literal/length code lengths (only symbol 256,
 * end of block, has one: length 1 — zlib accepts that one incomplete code) and one distance
 * code length (0: no distances), sent with a code-length code of 18:1, 0:2, 1:2 bits.
 */
function writeEmptyDynamicBlock(writer: BitWriter, extra: number): void {
  const order = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];
  const lengths: Record<number, number> = { 18: 1, 0: 2, 1: 2 };
  writer.bits(0, 1); // not final
  writer.bits(2, 2); // dynamic Huffman codes
  writer.bits(0, 5); // HLIT: 257 literal/length codes
  writer.bits(0, 5); // HDIST: 1 distance code
  const sent = 18 + extra; // code-length code lengths sent, up to symbol 1 (index 17) at least
  writer.bits(sent - 4, 4);
  for (let i = 0; i < sent; i += 1) writer.bits(lengths[order[i]!] ?? 0, 3);
  // Canonical codes: 18 → 0 (1 bit); 0 → 10, 1 → 11 (2 bits).
  writer.code(0, 1); // 18: repeat a zero length 11 + 7-bit count times
  writer.bits(138 - 11, 7); // literals 0–137
  writer.code(0, 1);
  writer.bits(118 - 11, 7); // literals 138–255
  writer.code(3, 2); // symbol 256 (end of block): length 1
  writer.code(2, 2); // distance 0: length 0
  writer.code(0, 1); // the block's only symbol: end of block
}

class BitWriter {
  private readonly bytes: number[] = [];
  private buffer = 0;
  private count = 0;

  /** `n` bits of `value`, least significant first (deflate's order for fields). */
  bits(value: number, n: number): void {
    for (let i = 0; i < n; i += 1) this.bit((value >> i) & 1);
  }

  /** A Huffman code of `n` bits, most significant bit first. */
  code(value: number, n: number): void {
    for (let i = n - 1; i >= 0; i -= 1) this.bit((value >> i) & 1);
  }

  finish(): Buffer {
    if (this.count > 0) this.bytes.push(this.buffer);
    return Buffer.from(this.bytes);
  }

  private bit(bit: number): void {
    this.buffer |= bit << this.count;
    this.count += 1;
    if (this.count === 8) {
      this.bytes.push(this.buffer);
      this.buffer = 0;
      this.count = 0;
    }
  }
}

/**
 * Feeds the file from `position` (its first byte replaced by `first` when given) into `stage`
 * and yields what comes out, until the stage ends (a raw inflate at its member's end) or the
 * file does.
 */
async function* inflateStage(
  stage: Transform,
  readAt: ReadAt,
  sizeBytes: number,
  position: number,
  first: Buffer | null,
  signal: AbortSignal | undefined,
): AsyncIterable<Buffer> {
  const stop = new AbortController();
  const pumped = pumpFile(stage, readAt, sizeBytes, position, first, signal, stop.signal);
  try {
    for await (const chunk of stage) {
      yield chunk as Buffer;
      throwIfAborted(signal);
    }
  } catch (error) {
    throw mapInflateError(error, position);
  } finally {
    stop.abort();
    stage.destroy();
    await pumped;
  }
}

async function pumpFile(
  stage: Transform,
  readAt: ReadAt,
  sizeBytes: number,
  start: number,
  first: Buffer | null,
  signal: AbortSignal | undefined,
  stop: AbortSignal,
): Promise<void> {
  try {
    let position = start;
    if (first) {
      stage.write(first);
      position += 1;
    }
    while (position < sizeBytes) {
      if (stop.aborted || stage.readableEnded) return;
      throwIfAborted(signal);
      const length = Math.min(READ_CHUNK_BYTES, sizeBytes - position);
      const buffer = Buffer.allocUnsafe(length);
      const bytesRead = await readAt(buffer, length, position);
      if (stop.aborted) return;
      if (bytesRead === 0) break; // the file shrank: inflate reports the truncation
      position += bytesRead;
      if (!stage.write(buffer.subarray(0, bytesRead))) await once(stage, 'drain', { signal: stop });
    }
    stage.end();
  } catch (error) {
    // Stopped by the consumer: nothing to report. A read error or abort ends the stage with it.
    if (!stop.aborted) stage.destroy(error as Error);
  }
}

function mapInflateError(error: unknown, position: number): unknown {
  if (error instanceof RestoreplanError) return error;
  const code = (error as NodeJS.ErrnoException).code ?? '';
  if (code.startsWith('Z_')) {
    return corrupt(
      `the gzip stream is corrupt or truncated: ${(error as Error).message}`,
      position,
      (error as Error).message,
    );
  }
  return error;
}

function corrupt(message: string, inputOffset: number, detail?: string): RestoreplanError {
  return new RestoreplanError('COMPRESSION_CORRUPT', message, {
    compression: 'gzip',
    inputOffset,
    ...(detail !== undefined ? { detail } : {}),
  });
}
