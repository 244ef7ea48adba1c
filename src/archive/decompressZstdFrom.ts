import { RestoreplanError } from '../errors.js';
import type { AccessPoint } from './AccessPoint.js';
import { decompressPieces, type DecompressFromOptions } from './decompressPieces.js';
import type { ReadAt } from './openArchive.js';

/**
 * The decompressed bytes of a .zst file from `point.outputOffset` to the end: the file from
 * `point.inputOffset` (a frame's magic number, one of findZstdAccessPoints' for this same
 * file) piped into `zstd -dcq --long=31`. zstd frames are independent, and zstd decodes the
 * frames and skippable frames that follow one after another, so nothing needs rebuilding.
 *
 * Rejects (while iterating) with COMPRESSION_CORRUPT when the point is not at a frame (the file
 * changed since the point was found) or when zstd fails; DECOMPRESSOR_MISSING without zstd;
 * ABORTED when the signal fires. Stopping the iteration early kills zstd.
 */
export async function* decompressZstdFrom(
  readAt: ReadAt,
  sizeBytes: number,
  point: AccessPoint,
  options: DecompressFromOptions = {},
): AsyncIterable<Buffer> {
  const magic = Buffer.alloc(4);
  const bytesRead =
    point.inputOffset >= 0 && point.inputOffset + 4 <= sizeBytes
      ? await readAt(magic, 4, point.inputOffset)
      : 0;
  // A stale point is named as such here; zstd itself would only say "unknown header".
  if (bytesRead !== 4 || magic.readUInt32LE(0) !== 0xfd2fb528) {
    throw new RestoreplanError(
      'COMPRESSION_CORRUPT',
      `the zstd file has no frame at input offset ${point.inputOffset}: the file changed since the access point was found`,
      { compression: 'zstd', inputOffset: point.inputOffset, outputOffset: point.outputOffset },
    );
  }
  yield* decompressPieces('zstd', readAt, [{ start: point.inputOffset, end: sizeBytes }], options);
}
