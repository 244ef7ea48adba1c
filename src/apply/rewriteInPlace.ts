/**
 * In-place rewrite: the one write that is not atomic, for a filesystem with no inode to spare
 * (the incident: the queue ate every inode, so not even a temp file can be created, yet the
 * broken config.pck must be repaired). Only for steps the plan marked `rewrite`, only with data
 * already read from the archive and verified, and only on a plain file with one link (a second
 * name — a hard link — would silently change too).
 *
 * Between the first write and the ftruncate the file is torn. Trade-off for securing the good
 * content during that window: a copy on ANOTHER filesystem (the journal's directory, when it
 * is one) survives a crash and is found by name (its sha256) on the re-run; keeping it only in
 * memory costs nothing on a full filesystem but is lost on a crash — then the archive member
 * itself is the durable copy, and the re-run rewrites again because the step was not journaled.
 * We never put the copy on the target filesystem: that is exactly where no inode is free.
 */
import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';

import { RestoreplanError } from '../errors.js';
import { defaultFsOps, type FsOps } from './fsOps.js';
import { openNoFollow } from './openNoFollow.js';
import {
  applyMetadata,
  writeFileAtomic,
  type Owner,
  type WriteFileResult,
} from './writeFileAtomic.js';

export interface RewriteOptions {
  mode: number;
  owner?: Owner | null;
  mtime?: number;
  /** The verified member: size and sha256 the data must have before anything is touched. */
  expect: { size: number; sha256?: string };
  /** A directory on another filesystem where the content is secured first; null: memory only. */
  secureDir?: string | null;
  fsOps?: FsOps;
}

export interface RewriteResult extends WriteFileResult {
  /** Where the verified content was secured, or null when it was kept in memory only. */
  securedCopy: string | null;
}

export async function rewriteInPlace(
  targetPath: string,
  data: Buffer,
  options: RewriteOptions,
): Promise<RewriteResult> {
  const fsOps = options.fsOps ?? defaultFsOps;
  const sha256 = createHash('sha256').update(data).digest('hex');
  const { size, sha256: wanted } = options.expect;
  if (data.length !== size || (wanted !== undefined && wanted !== sha256)) {
    throw new RestoreplanError(
      'VERIFY_FAILED',
      `${targetPath}: refusing to rewrite in place with unverified data`,
      { targetPath, bytes: data.length, sha256 },
    );
  }
  let securedCopy: string | null = null;
  if (options.secureDir) {
    securedCopy = path.join(options.secureDir, `${sha256}.member`);
    await writeFileAtomic(securedCopy, data, { mode: 0o600, expect: { size, sha256 }, fsOps });
  }
  let handle: FileHandle | null = null;
  try {
    // No O_TRUNC: truncating first would widen the torn window to the whole write.
    handle = await openNoFollow(targetPath, constants.O_WRONLY, 0o600, fsOps);
    const stats = await handle.stat();
    if (!stats.isFile()) {
      throw new RestoreplanError('WRITE_FAILED', `${targetPath} is not a regular file`, {
        targetPath,
      });
    }
    if (stats.nlink > 1) {
      throw new RestoreplanError(
        'WRITE_FAILED',
        `${targetPath} has ${stats.nlink} names (hard links): rewriting it would change them all`,
        { targetPath },
      );
    }
    let offset = 0;
    while (offset < data.length) {
      const { bytesWritten } = await handle.write(data, offset, data.length - offset, offset);
      if (bytesWritten === 0) throw new RestoreplanError('WRITE_FAILED', 'write returned 0 bytes');
      offset += bytesWritten;
    }
    await handle.truncate(data.length);
    await applyMetadata(handle, options);
    await handle.sync();
  } finally {
    if (handle) await handle.close().catch(() => {});
  }
  return { bytes: data.length, sha256, securedCopy };
}
