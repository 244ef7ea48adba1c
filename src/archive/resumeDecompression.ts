/**
 * `resumeDecompression`: decompressed bytes from an access point to the end, by the
 * compression's own way of resuming (gzip: zran-style inflate with the saved window; xz: a
 * stream rebuilt from the block on; zstd: a frame start). `findAccessPoints`: the points of an
 * xz or zstd file, read from the file's own structure after a walk (gzip records its points
 * while it is decompressed: createGzipIndexer).
 */
import { RestoreplanError } from '../errors.js';
import type { AccessPoint } from './AccessPoint.js';
import { decompressXzFrom } from './decompressXzFrom.js';
import { decompressZstdFrom } from './decompressZstdFrom.js';
import { findXzAccessPoints } from './findXzAccessPoints.js';
import { findZstdAccessPoints } from './findZstdAccessPoints.js';
import { inflateFromAccessPoint } from './inflateFromAccessPoint.js';
import type { ReadAt } from './openArchive.js';
import type { Resume } from './openTarReader.js';

export const resumeDecompression: Resume = (source, point, signal) => {
  const options = signal ? { signal } : {};
  switch (source.compression) {
    case 'gzip':
      return inflateFromAccessPoint(source.readAt, source.sizeBytes, point, options);
    case 'xz':
      return decompressXzFrom(source.readAt, source.sizeBytes, point, options);
    case 'zstd':
      return decompressZstdFrom(source.readAt, source.sizeBytes, point, options);
    default:
      throw new RestoreplanError(
        'INTERNAL',
        `no way to resume ${source.compression} decompression at an access point`,
      );
  }
};

/** The access points an xz or zstd file's own structure gives ([] for any other). */
export async function findAccessPoints(
  compression: string,
  readAt: ReadAt,
  sizeBytes: number,
): Promise<AccessPoint[]> {
  try {
    if (compression === 'xz') return await findXzAccessPoints(readAt, sizeBytes);
    if (compression === 'zstd') return await findZstdAccessPoints(readAt, sizeBytes);
  } catch {
    // A read error here only means no points: the walk itself already succeeded.
  }
  return [];
}
