/**
 * Fifos, only when the caller allows special files: a fifo in a restored tree can hang any
 * process that opens it for reading (a backup job, a grep), so it is opt-in. Node has no
 * mknod(2); the coreutils `mkfifo` creates it under a temp name that is then renamed over.
 * Device nodes are never created: the plan does not carry device numbers, and a device node
 * restored from an untrusted archive is a way to raw disk access.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

import { defaultFsOps, type FsOps } from './fsOps.js';
import { makeTempName } from './writeFileAtomic.js';

const run = promisify(execFile);

export async function createFifo(
  targetPath: string,
  mode: number,
  options: { mtime?: number; fsOps?: FsOps } = {},
): Promise<void> {
  const fsOps = options.fsOps ?? defaultFsOps;
  const tempPath = path.join(path.dirname(targetPath), makeTempName(path.basename(targetPath)));
  await run('mkfifo', ['-m', (mode & 0o7777).toString(8), '--', tempPath]);
  try {
    if (options.mtime !== undefined) await fsOps.lutimes(tempPath, new Date(), options.mtime);
    await fsOps.rename(tempPath, targetPath);
  } catch (error) {
    await fsOps.unlink(tempPath).catch(() => {});
    throw error;
  }
}
