import { crc32 } from 'node:zlib';

import { RestoreplanError } from '../errors.js';
import type { AccessPoint } from './AccessPoint.js';
import { encodeXzVarint, readXzStreams, type XzStream } from './findXzAccessPoints.js';
import type { ReadAt } from './openArchive.js';
import { decompressPieces, type DecompressFromOptions } from './decompressPieces.js';

/**
 * The decompressed bytes of an .xz file from `point.outputOffset` to the end, decoding only
 * the blocks from `point` on (`point` is one of findXzAccessPoints' for this same file).
 *
 * xz(1) has no option to start in the middle of a file: it wants a stream header first, and
 * it checks every stream's index against the blocks it decoded. So it is handed a stream it
 * can read: the original stream header (12 bytes: the same check type), the blocks from the
 * point to the end of that stream copied verbatim, an index rebuilt to list exactly those
 * blocks (their unpadded and uncompressed sizes from the original index, its CRC32 computed
 * anew) and a stream footer for that index (its Backward Size, the same flags, its CRC32).
 * Then the rest of the file follows as it is — stream padding and later streams, which xz
 * decodes one after another as it does for any file. xz still verifies each block's check and
 * the sizes, so a damaged block is COMPRESSION_CORRUPT, never wrong bytes.
 *
 * Rejects (while iterating) with COMPRESSION_CORRUPT when the file's indexes cannot be read or
 * no block starts at the point (the file changed since the point was found), or when xz fails;
 * DECOMPRESSOR_MISSING without xz; ABORTED when the signal fires. Stopping the iteration early
 * kills xz.
 */
export async function* decompressXzFrom(
  readAt: ReadAt,
  sizeBytes: number,
  point: AccessPoint,
  options: DecompressFromOptions = {},
): AsyncIterable<Buffer> {
  const streams = await readXzStreams(readAt, sizeBytes);
  const where = streams && findBlock(streams, point);
  if (!streams || !where) {
    throw new RestoreplanError(
      'COMPRESSION_CORRUPT',
      `the xz file has no block at input offset ${point.inputOffset} (output offset ${point.outputOffset}): its index is unreadable or the file changed since the access point was found`,
      { compression: 'xz', inputOffset: point.inputOffset, outputOffset: point.outputOffset },
    );
  }
  const { stream, blockIndex } = where;
  const header = await readRange(readAt, stream.offset, 12);
  const { index, footer } = rebuildIndex(stream, blockIndex);
  yield* decompressPieces(
    'xz',
    readAt,
    [
      header,
      { start: point.inputOffset, end: stream.indexOffset },
      index,
      footer,
      { start: stream.end, end: sizeBytes },
    ],
    options,
  );
}

function findBlock(
  streams: XzStream[],
  point: AccessPoint,
): { stream: XzStream; blockIndex: number } | null {
  for (const stream of streams) {
    const blockIndex = stream.blocks.findIndex(
      (block) =>
        block.inputOffset === point.inputOffset && block.outputOffset === point.outputOffset,
    );
    if (blockIndex >= 0) return { stream, blockIndex };
  }
  return null;
}

/** The index and stream footer of `stream` cut down to its blocks from `from` on. */
function rebuildIndex(stream: XzStream, from: number): { index: Buffer; footer: Buffer } {
  const blocks = stream.blocks.slice(from);
  const parts: Buffer[] = [Buffer.from([0x00]), encodeXzVarint(blocks.length)];
  for (const block of blocks) {
    parts.push(encodeXzVarint(block.unpaddedSize), encodeXzVarint(block.uncompressedSize));
  }
  let length = parts.reduce((sum, part) => sum + part.length, 0);
  const padding = (4 - (length % 4)) % 4;
  parts.push(Buffer.alloc(padding));
  length += padding;
  const body = Buffer.concat(parts, length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32LE(crc32(body));
  const index = Buffer.concat([body, crc]);
  const footer = Buffer.alloc(12);
  footer.writeUInt32LE(index.length / 4 - 1, 4);
  stream.flags.copy(footer, 8);
  footer.write('YZ', 10, 'latin1');
  footer.writeUInt32LE(crc32(footer.subarray(4, 10)), 0);
  return { index, footer };
}

async function readRange(readAt: ReadAt, start: number, length: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const bytesRead = await readAt(buffer.subarray(done), length - done, start + done);
    if (bytesRead <= 0) break;
    done += bytesRead;
  }
  return buffer.subarray(0, done);
}
