import { realpath, stat } from 'node:fs/promises';
import path from 'node:path';

import { RestoreplanError } from '../errors.js';

/**
 * The real path of an existing directory, or TARGET_MISSING / TARGET_INVALID. Real, because
 * apply refuses every symlink between its root and a step's path: a plan made through a
 * symlinked target (`/srv/mailman -> /var/lib/mailman`) would otherwise have every step refused.
 */
export async function resolveTargetDir(target: string): Promise<string> {
  const resolved = path.resolve(target);
  const stats = await stat(resolved).catch((error: NodeJS.ErrnoException) => {
    throw new RestoreplanError(
      error.code === 'ENOENT' ? 'TARGET_MISSING' : 'TARGET_INVALID',
      error.code === 'ENOENT'
        ? `${resolved} does not exist`
        : `cannot read ${resolved}: ${error.code}`,
      { targetPath: resolved },
    );
  });
  if (!stats.isDirectory()) {
    throw new RestoreplanError('TARGET_INVALID', `${resolved} is not a directory`, {
      targetPath: resolved,
    });
  }
  return realpath(resolved);
}
