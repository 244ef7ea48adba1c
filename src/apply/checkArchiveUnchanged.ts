/**
 * Refuses a stale plan. The plan records byte offsets into the archive; if the archive was
 * replaced since (last night's backup rotated over it), those offsets point into other members
 * and apply would restore the wrong bytes under the right names. The fingerprint is recomputed
 * exactly as the walk computed it (size, mtime in ns, inode, first and last 64 KiB); size and
 * mtime are compared first for a clearer message. Content is further guarded by each step's
 * sha256 when the plan carries it.
 */
import { constants } from 'node:fs';

import { fingerprintArchiveFile } from '../archive/fingerprintArchive.js';
import { openArchiveFile } from '../archive/openArchive.js';
import { RestoreplanError } from '../errors.js';
import type { PlanDocument } from '../types.js';

export async function checkArchiveUnchanged(archive: PlanDocument['archive']): Promise<void> {
  // Read from stdin, the archive has no path to read the members back from (and `-` would
  // name a file of the current directory).
  if (archive.path === '-') {
    throw new RestoreplanError(
      'ARCHIVE_NOT_FOUND',
      'the plan was made from stdin (-): apply reads each member back from the archive file',
      {
        path: archive.path,
        hint: 'plan again with the archive file as ARCHIVE (decompress it to a file first if its decompressor is missing)',
      },
    );
  }
  // O_NONBLOCK: a plan made from a FIFO must not hang here waiting for a writer.
  const handle = await openArchiveFile(archive.path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const stats = await handle.stat({ bigint: true });
    const size = Number(stats.size);
    if (archive.sizeBytes !== null && size !== archive.sizeBytes) {
      throw new RestoreplanError(
        'PLAN_STALE',
        `${archive.path} is ${size} bytes, the plan was made for ${archive.sizeBytes}: make a new plan`,
        { path: archive.path, sizeBytes: size, planned: archive.sizeBytes },
      );
    }
    if (archive.mtime !== null) {
      const planned = Date.parse(archive.mtime);
      if (Number.isFinite(planned) && Math.abs(planned - Number(stats.mtimeNs) / 1e6) >= 1) {
        throw new RestoreplanError(
          'PLAN_STALE',
          `${archive.path} was modified (${stats.mtime.toISOString()}) since the plan was made (${archive.mtime}): make a new plan`,
          { path: archive.path, mtime: stats.mtime.toISOString(), planned: archive.mtime },
        );
      }
    }
    if (!stats.isFile()) return;
    const readAt = async (buffer: Buffer, length: number, position: number): Promise<number> =>
      (await handle.read(buffer, 0, length, position)).bytesRead;
    const fingerprint = await fingerprintArchiveFile(readAt, stats);
    if (fingerprint !== archive.fingerprint) {
      throw new RestoreplanError(
        'PLAN_STALE',
        `${archive.path} is not the archive the plan was made from (fingerprint differs): make a new plan`,
        { path: archive.path, fingerprint, planned: archive.fingerprint },
      );
    }
  } finally {
    await handle.close();
  }
}
