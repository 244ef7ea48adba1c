/**
 * fsync of a directory: a rename or a new name is durable only once its directory is synced.
 * Without it a crash right after apply reported success could bring back the broken file.
 */
import { constants } from 'node:fs';

import { defaultFsOps, type FsOps } from './fsOps.js';

export async function syncDirectory(dir: string, fsOps: FsOps = defaultFsOps): Promise<void> {
  const handle = await fsOps.open(
    dir,
    constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW,
  );
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
