/**
 * Atomic file write. Stops the half-written file: a crash, ENOSPC, EDQUOT or a kill in the
 * middle leaves either the old file or the complete new one, never a truncated config that
 * Mailman would load as corrupt (the incident's first cause). The data goes to a temp file in
 * the same directory (same filesystem, so the rename is atomic), created O_EXCL|O_NOFOLLOW so a
 * planted file or symlink with that name cannot be reused; it is fsynced before the rename and
 * the directory after it. On any error the temp file is removed before the error propagates.
 *
 * Why not fs-extra (which the design card named): its outputFile/move neither fsync the file
 * and its directory nor refuse a symlink planted at the temp name, and it has no way to verify
 * the bytes before they become visible; those three are the point of this file.
 */
import { createHash, randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';

import { RestoreplanError } from '../errors.js';
import { defaultFsOps, type FsOps } from './fsOps.js';
import { openNoFollow } from './openNoFollow.js';
import type { MemberChunk } from './readMemberChunks.js';
import { syncDirectory } from './syncDirectory.js';

export interface Owner {
  uid: number;
  gid: number;
}

export interface WriteFileOptions {
  /** Permission bits (masked to 0o7777). */
  mode: number;
  /** Applied only when the process runs as root; null or absent keeps the writer's. */
  owner?: Owner | null;
  /** Modification time in seconds since the epoch; absent keeps the write time. */
  mtime?: number;
  /** Checked before the rename: a mismatch removes the temp file and throws VERIFY_FAILED. */
  expect?: { size: number; sha256?: string };
  /** fsync the directory after the rename (default true; a batching caller syncs it itself). */
  syncDirectory?: boolean;
  fsOps?: FsOps;
}

export interface WriteFileResult {
  bytes: number;
  sha256: string;
}

const ZEROS = Buffer.alloc(1 << 16);

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/** `.<name>.restoreplan-<pid>-<rand>.tmp`, kept under NAME_MAX even for a 255-byte name. */
export function makeTempName(name: string): string {
  const base =
    Buffer.byteLength(name) > 200
      ? createHash('sha256').update(name).digest('hex').slice(0, 32)
      : name;
  return `.${base}.restoreplan-${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
}

async function writeAll(handle: FileHandle, data: Buffer, position: number): Promise<void> {
  let offset = 0;
  while (offset < data.length) {
    const { bytesWritten } = await handle.write(
      data,
      offset,
      data.length - offset,
      position + offset,
    );
    if (bytesWritten === 0) throw new RestoreplanError('WRITE_FAILED', 'write returned 0 bytes');
    offset += bytesWritten;
  }
}

/** Applies owner, mode and times to an open file; chown first because it clears setuid bits. */
export async function applyMetadata(
  handle: FileHandle,
  options: Pick<WriteFileOptions, 'mode' | 'owner' | 'mtime'>,
): Promise<void> {
  if (isRoot && options.owner) await handle.chown(options.owner.uid, options.owner.gid);
  await handle.chmod(options.mode & 0o7777);
  if (options.mtime !== undefined) await handle.utimes(new Date(), options.mtime);
}

export async function writeFileAtomic(
  targetPath: string,
  data: Buffer | AsyncIterable<MemberChunk> | Iterable<MemberChunk>,
  options: WriteFileOptions,
): Promise<WriteFileResult> {
  const fsOps = options.fsOps ?? defaultFsOps;
  const dir = path.dirname(targetPath);
  const tempPath = path.join(dir, makeTempName(path.basename(targetPath)));
  const hash = createHash('sha256');
  let bytes = 0;
  let handle: FileHandle | null = null;
  let created = false;
  try {
    handle = await openNoFollow(
      tempPath,
      constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL,
      0o600,
      fsOps,
    );
    created = true;
    // A streamed member gets its final size first, so no write extends the end of the file: on
    // XFS a write past EOF gets speculative preallocation, and what a sparse member's later
    // extents leave inside the file (in its holes) is never trimmed — blocks the budget did not
    // count (measured on the differential test's XFS cases).
    if (!Buffer.isBuffer(data) && options.expect) await handle.truncate(options.expect.size);
    const chunks = Buffer.isBuffer(data) ? [data] : data;
    let hole = false;
    for await (const chunk of chunks) {
      if (typeof chunk === 'number') {
        // A hole: hashed as the zeros it reads back as, but never written, so it stays sparse.
        for (let left = chunk; left > 0; left -= ZEROS.length) {
          hash.update(left >= ZEROS.length ? ZEROS : ZEROS.subarray(0, left));
        }
        bytes += chunk;
        hole = true;
        continue;
      }
      hash.update(chunk);
      await writeAll(handle, chunk, bytes);
      bytes += chunk.length;
      hole = false;
    }
    if (hole) await handle.truncate(bytes);
    const sha256 = hash.digest('hex');
    if (options.expect) {
      const { size, sha256: wanted } = options.expect;
      if (bytes !== size || (wanted !== undefined && wanted !== sha256)) {
        throw new RestoreplanError(
          'VERIFY_FAILED',
          `${targetPath}: the member read has ${bytes} bytes, sha256 ${sha256.slice(0, 12)}; expected ${size} bytes${wanted ? `, sha256 ${wanted.slice(0, 12)}` : ''}`,
          { targetPath, bytes, sha256, expectedSize: size, expectedSha256: wanted ?? null },
        );
      }
    }
    await applyMetadata(handle, options);
    await handle.sync();
    await handle.close();
    handle = null;
    await fsOps.rename(tempPath, targetPath);
    created = false;
    if (options.syncDirectory !== false) await syncDirectory(dir, fsOps);
    return { bytes, sha256 };
  } catch (error) {
    if (handle) await handle.close().catch(() => {});
    if (created) await fsOps.unlink(tempPath).catch(() => {});
    throw error;
  }
}
