import { constants } from 'node:fs';
import { open } from 'node:fs/promises';

import { RestoreplanError } from '../errors.js';
import type { MemberSource } from '../types.js';
import { expandSparseData } from './expandSparseData.js';
import { readError } from './openArchive.js';

/**
 * The contents of one member of an uncompressed archive on disk, read directly at the offset
 * the walk recorded (`source`, from an ArchiveEntry or a plan step) — no walk at all. A sparse
 * member comes back expanded to its real `size`, holes as zeros. A file shorter than the
 * recorded extent is ARCHIVE_TRUNCATED: the archive changed, or it was cut.
 */
export async function readMemberAt(
  archivePath: string,
  source: Pick<MemberSource, 'dataOffset' | 'dataLength' | 'sparse'>,
  size: number,
): Promise<Buffer> {
  let handle;
  try {
    handle = await open(archivePath, constants.O_RDONLY);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new RestoreplanError('ARCHIVE_NOT_FOUND', `cannot open ${archivePath}: ${code}`, {
      path: archivePath,
      errno: code,
    });
  }
  try {
    const stored = Buffer.allocUnsafe(source.dataLength);
    let filled = 0;
    while (filled < source.dataLength) {
      let bytesRead: number;
      try {
        ({ bytesRead } = await handle.read(
          stored,
          filled,
          source.dataLength - filled,
          source.dataOffset + filled,
        ));
      } catch (error) {
        throw readError(archivePath, error);
      }
      if (bytesRead === 0) {
        throw new RestoreplanError(
          'ARCHIVE_TRUNCATED',
          `${archivePath} ends at offset ${source.dataOffset + filled}, inside member data`,
          { offset: source.dataOffset + filled, path: archivePath },
        );
      }
      filled += bytesRead;
    }
    return source.sparse ? expandSparseData(stored, source.sparse, size) : stored;
  } finally {
    await handle.close();
  }
}
