import { crc32 } from 'node:zlib';

import type { AccessPoint } from './AccessPoint.js';
import type { ReadAt } from './openArchive.js';

/**
 * Access points of a .xz file (.xz file format 1.2.x; 1.0.4 is the same on-disk format): one per
 * block, found from the file's own index(es), read backwards from the end of the file:
 *
 *   [stream header 12][block]…[block][index][stream footer 12] (stream padding) [next stream]…
 *
 * The footer gives the index's size (Backward Size), the index lists each block's unpadded and
 * uncompressed size, and a block occupies its unpadded size rounded up to a multiple of 4 — so
 * every block's offset in the file and in the output follows without touching the blocks.
 *
 * Returns one point per block of every stream — `inputOffset` the block header's offset in the
 * file, `outputOffset` where the block's output starts in the whole decompressed output — or []
 * when there is no second block (a single-block file: the point at 0 saves nothing), or when the
 * file is not a well-formed .xz file to the last byte (truncated, damaged index or footer,
 * trailing garbage, a block with no output offset representable in a JS number). Never throws
 * for the file's content; a failing `readAt` rejects as it does.
 */
export async function findXzAccessPoints(
  readAt: ReadAt,
  sizeBytes: number,
): Promise<AccessPoint[]> {
  const streams = await readXzStreams(readAt, sizeBytes);
  if (streams === null) return [];
  const points: AccessPoint[] = [];
  for (const stream of streams) {
    for (const block of stream.blocks) {
      points.push({
        outputOffset: block.outputOffset,
        inputOffset: block.inputOffset,
        bits: 0,
        window: null,
      });
    }
  }
  return points.length > 1 ? points : [];
}

/** One block of an .xz stream, as its stream's index describes it. */
export interface XzBlock {
  /** Offset of the block header in the file. */
  inputOffset: number;
  /** Offset of the block's output in the whole decompressed output. */
  outputOffset: number;
  /** Block header + compressed data + check, without the block padding (the index's field). */
  unpaddedSize: number;
  uncompressedSize: number;
}

/** One .xz stream of the file, its blocks in order. */
export interface XzStream {
  /** Offset of the stream header. */
  offset: number;
  /** The 2 stream-flags bytes (their 2nd byte is the check type); the same in header and footer. */
  flags: Buffer;
  /** Offset of the index (just after the last block). */
  indexOffset: number;
  /** Offset just after the stream footer (where stream padding or the next stream begins). */
  end: number;
  blocks: XzBlock[];
}

const HEADER_MAGIC = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]);
const FOOTER_MAGIC = Buffer.from([0x59, 0x5a]);
const STREAM_HEADER_BYTES = 12;
const STREAM_FOOTER_BYTES = 12;
/** Stream padding is read backwards in pieces of this size. */
const PADDING_READ_BYTES = 64 * 1024;
/** An index bigger than this is refused (~40 M blocks); no real file comes near it. */
const MAX_INDEX_BYTES = 256 * 1024 * 1024;

/**
 * Every stream of an .xz file, first to last, with its blocks; null when the file is not
 * well-formed .xz to its last byte as far as the footers, indexes and stream headers tell.
 * The blocks themselves are not read (xz checks them against the index when it decodes them).
 */
export async function readXzStreams(readAt: ReadAt, sizeBytes: number): Promise<XzStream[] | null> {
  try {
    return await readStreamsBackwards(readAt, sizeBytes);
  } catch (error) {
    if (error instanceof NotXz) return null;
    throw error;
  }
}

/** Thrown inside the parser for anything that does not fit the format; turned into null. */
class NotXz extends Error {}

function fail(): never {
  throw new NotXz();
}

async function readExactly(readAt: ReadAt, length: number, position: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const bytesRead = await readAt(buffer.subarray(done), length - done, position + done);
    if (bytesRead <= 0) fail();
    done += bytesRead;
  }
  return buffer;
}

async function readStreamsBackwards(readAt: ReadAt, sizeBytes: number): Promise<XzStream[]> {
  // Every stream and every run of padding is a multiple of 4 bytes, so the file is too.
  if (!Number.isSafeInteger(sizeBytes) || sizeBytes < 32 || sizeBytes % 4 !== 0) fail();
  const found: Array<Omit<XzStream, 'blocks'> & { sizes: Array<[number, number]> }> = [];
  let position = sizeBytes;
  while (position > 0) {
    position = await skipPaddingBackwards(readAt, position);
    // Stream padding comes only between and after streams, never first.
    if (position === 0) fail();
    if (position < STREAM_HEADER_BYTES + 8 + STREAM_FOOTER_BYTES) fail();
    const footer = await readExactly(readAt, STREAM_FOOTER_BYTES, position - STREAM_FOOTER_BYTES);
    if (!footer.subarray(10, 12).equals(FOOTER_MAGIC)) fail();
    if (crc32(footer.subarray(4, 10)) !== footer.readUInt32LE(0)) fail();
    const flags = Buffer.from(footer.subarray(8, 10));
    if (flags[0] !== 0 || flags[1]! > 0x0f) fail();
    const indexBytes = (footer.readUInt32LE(4) + 1) * 4;
    const indexOffset = position - STREAM_FOOTER_BYTES - indexBytes;
    if (indexBytes > MAX_INDEX_BYTES || indexOffset < STREAM_HEADER_BYTES) fail();
    const index = await readExactly(readAt, indexBytes, indexOffset);
    const sizes = parseIndex(index);
    const checkBytes = CHECK_BYTES[flags[1]!]!;
    let blocksBytes = 0;
    for (const [unpadded] of sizes) {
      // The smallest block: a 8-byte header, 1 byte of data (a compressed LZMA2 chunk is more).
      if (unpadded < 9 + checkBytes) fail();
      blocksBytes += roundUp4(unpadded);
    }
    const offset = indexOffset - blocksBytes - STREAM_HEADER_BYTES;
    if (!Number.isSafeInteger(offset) || offset < 0) fail();
    const header = await readExactly(readAt, STREAM_HEADER_BYTES, offset);
    if (!header.subarray(0, 6).equals(HEADER_MAGIC)) fail();
    if (!header.subarray(6, 8).equals(flags)) fail();
    if (crc32(header.subarray(6, 8)) !== header.readUInt32LE(8)) fail();
    found.push({ offset, flags, indexOffset, end: position, sizes });
    position = offset;
  }
  if (found.length === 0) fail();
  found.reverse();
  const streams: XzStream[] = [];
  let outputOffset = 0;
  for (const { sizes, ...stream } of found) {
    const blocks: XzBlock[] = [];
    let inputOffset = stream.offset + STREAM_HEADER_BYTES;
    for (const [unpaddedSize, uncompressedSize] of sizes) {
      blocks.push({ inputOffset, outputOffset, unpaddedSize, uncompressedSize });
      inputOffset += roundUp4(unpaddedSize);
      outputOffset += uncompressedSize;
      if (!Number.isSafeInteger(outputOffset)) fail();
    }
    streams.push({ ...stream, blocks });
  }
  return streams;
}

/** Bytes of the block check for each check type (the stream flags' 2nd byte, 0x00–0x0F). */
const CHECK_BYTES = [0, 4, 4, 4, 8, 8, 8, 16, 16, 16, 32, 32, 32, 64, 64, 64];

function roundUp4(value: number): number {
  return Math.ceil(value / 4) * 4;
}

/** Moves `position` back over stream padding (4-byte groups of zero bytes). */
async function skipPaddingBackwards(readAt: ReadAt, position: number): Promise<number> {
  while (position > 0) {
    const length = Math.min(PADDING_READ_BYTES, position);
    const chunk = await readExactly(readAt, length, position - length);
    let zeros = 0;
    while (zeros < length && chunk[length - 1 - zeros] === 0) zeros += 1;
    // Padding comes in groups of 4 zero bytes and a footer ends in 'Z' (non-zero): zeros
    // that are not a whole number of groups mean this is not a footer.
    const groups = Math.floor(zeros / 4);
    position -= groups * 4;
    if (zeros < length) {
      if (zeros % 4 !== 0) fail();
      return position;
    }
  }
  return position;
}

/** The (unpadded size, uncompressed size) of each record of an .xz index; fails if malformed. */
function parseIndex(index: Buffer): Array<[number, number]> {
  const body = index.subarray(0, index.length - 4);
  if (crc32(body) !== index.readUInt32LE(index.length - 4)) fail();
  if (body[0] !== 0x00) fail();
  const cursor = { at: 1 };
  const count = readVarint(body, cursor);
  // Each record is at least 2 bytes.
  if (count > (body.length - cursor.at) / 2) fail();
  const records: Array<[number, number]> = [];
  for (let i = 0; i < count; i += 1) {
    const unpadded = readVarint(body, cursor);
    const uncompressed = readVarint(body, cursor);
    records.push([unpadded, uncompressed]);
  }
  // Index padding: zero bytes up to the multiple of 4 (then the CRC32).
  if (body.length - cursor.at > 3) fail();
  for (let i = cursor.at; i < body.length; i += 1) if (body[i] !== 0) fail();
  return records;
}

/** An .xz multibyte integer; fails past the buffer or past Number.MAX_SAFE_INTEGER. */
function readVarint(buffer: Buffer, cursor: { at: number }): number {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 9; i += 1) {
    if (cursor.at >= buffer.length) fail();
    const byte = buffer[cursor.at]!;
    cursor.at += 1;
    // A 0x00 continuation byte would be a non-minimal encoding, which the format forbids.
    if (i > 0 && byte === 0) fail();
    value += (byte & 0x7f) * scale;
    if (!Number.isSafeInteger(value)) fail();
    if ((byte & 0x80) === 0) return value;
    scale *= 128;
  }
  return fail();
}

/** An .xz multibyte integer, encoded. */
export function encodeXzVarint(value: number): Buffer {
  const bytes: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    bytes.push((rest % 0x80) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}
