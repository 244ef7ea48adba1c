/**
 * Refuses a stale plan. The plan records byte offsets into the archive; if the archive was
 * replaced since (last night's backup rotated over it), those offsets point into other members
 * and apply would restore the wrong bytes under the right names. Size and mtime are compared
 * here; content is further guarded by each step's sha256 when the plan carries it.
 */
import { stat } from 'node:fs/promises';

import { RestoreplanError } from '../errors.js';
import type { PlanDocument } from '../types.js';

export async function checkArchiveUnchanged(archive: PlanDocument['archive']): Promise<void> {
  let stats;
  try {
    stats = await stat(archive.path);
  } catch (error) {
    throw new RestoreplanError(
      'ARCHIVE_NOT_FOUND',
      `cannot open ${archive.path}: ${(error as Error).message}`,
      {
        path: archive.path,
      },
    );
  }
  if (archive.sizeBytes !== null && stats.size !== archive.sizeBytes) {
    throw new RestoreplanError(
      'PLAN_STALE',
      `${archive.path} is ${stats.size} bytes, the plan was made for ${archive.sizeBytes}: make a new plan`,
      { path: archive.path, sizeBytes: stats.size, planned: archive.sizeBytes },
    );
  }
  if (archive.mtime !== null) {
    const planned = Date.parse(archive.mtime);
    if (Number.isFinite(planned) && Math.abs(planned - stats.mtimeMs) >= 1) {
      throw new RestoreplanError(
        'PLAN_STALE',
        `${archive.path} was modified (${stats.mtime.toISOString()}) since the plan was made (${archive.mtime}): make a new plan`,
        { path: archive.path, mtime: stats.mtime.toISOString(), planned: archive.mtime },
      );
    }
  }
}
