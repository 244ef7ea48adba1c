/**
 * Where archive indexes live, and the only code that reads or writes their files.
 *
 * - The directory: `--index-dir`, else `$XDG_CACHE_HOME/restoreplan`, else
 *   `~/.cache/restoreplan` (defaultIndexDir).
 * - One file per archive identity, named by a hash of its key (indexKeyOf): the fingerprint
 *   plan records (size, mtime, inode, first and last 64 KiB) plus the device and the ctime. The
 *   ctime is what an in-place edit that restores the mtime cannot restore; a rename or chmod
 *   changes it too, which only costs one rebuild.
 * - Never trusted: readArchiveIndex checks every byte; a file owned by someone else, or in a
 *   directory others may write, is not read (an index decides what a plan says).
 * - Never fatal: saving reports why it did not save (a full disk, a read-only cache, a
 *   filesystem the restore writes to) and the command goes on without an index.
 * - Bounded: after each save the oldest files (by last use) are removed beyond `maxBytes`.
 */
import { createHash, randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { mkdir, open, readdir, rename, stat, statfs, unlink, utimes } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import type { ArchiveIndex } from './ArchiveIndex.js';
import { readArchiveIndex } from './readArchiveIndex.js';

/** Default bound on the directory's index files. */
export const DEFAULT_INDEX_MAX_BYTES = 1024 * 1024 * 1024;
const SUFFIX = '.rpidx';
const TEMP_SUFFIX = '.tmp';
/** A temp file this old was left by a killed run (a write takes well under a second). */
const LEFTOVER_TEMP_MS = 3600 * 1000;

/** The default index directory, or null when neither XDG_CACHE_HOME nor HOME says where. */
export function defaultIndexDir(env: NodeJS.ProcessEnv = process.env): string | null {
  const xdg = env.XDG_CACHE_HOME;
  if (xdg && path.isAbsolute(xdg)) return path.join(xdg, 'restoreplan');
  const home = env.HOME || os.homedir();
  return home && path.isAbsolute(home) ? path.join(home, '.cache', 'restoreplan') : null;
}

export interface ArchiveIdentity {
  fingerprint: string;
  dev: bigint;
  ino: bigint;
  ctimeNs: bigint;
}

/**
 * How long after its last change an archive with whole-second timestamps is read before its
 * index may be saved (2 s: FAT's granularity). Where a filesystem keeps whole seconds (ext3,
 * ext4 with 128-byte inodes, some NFS servers), a change in the second the archive was read
 * in leaves its ctime as it was, and the index of what was read would be trusted for what
 * is there now (git's "racy clean" files).
 */
export const COARSE_CTIME_MARGIN_MS = 2000;

/** How long to wait before an index read from `readFromMs` on may be saved (0: now). */
export function racyWaitMs(identity: ArchiveIdentity, readFromMs: number): number {
  if (identity.ctimeNs % 1_000_000_000n !== 0n) return 0;
  const safeFrom = Number(identity.ctimeNs / 1_000_000n) + COARSE_CTIME_MARGIN_MS;
  return Math.max(0, safeFrom - readFromMs);
}

export function indexKeyOf(identity: ArchiveIdentity): string {
  return `${identity.fingerprint} dev=${identity.dev} ino=${identity.ino} ctimeNs=${identity.ctimeNs}`;
}

export function indexFileOf(dir: string, key: string): string {
  return path.join(dir, `${createHash('sha256').update(key).digest('hex').slice(0, 40)}${SUFFIX}`);
}

/** Why an index was not used or not written, as data (the CLI shows it with --debug). */
export type IndexOutcome =
  | { kind: 'hit'; file: string }
  | { kind: 'saved'; file: string; bytes: number }
  | { kind: 'not-saved'; reason: string }
  | { kind: 'ignored'; file: string; reason: string };

/** The index of `key` in `dir`, or null (absent, foreign, stale, corrupt or untrusted). */
export async function loadArchiveIndex(
  dir: string,
  key: string,
  onOutcome?: (outcome: IndexOutcome) => void,
): Promise<ArchiveIndex | null> {
  const file = indexFileOf(dir, key);
  let handle;
  try {
    handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch {
    return null;
  }
  try {
    const info = await handle.stat();
    const why = await distrust(dir, info);
    if (why) {
      onOutcome?.({ kind: 'ignored', file, reason: why });
      return null;
    }
    const bytes = Buffer.allocUnsafeSlow(Number(info.size));
    let filled = 0;
    while (filled < bytes.length) {
      const { bytesRead } = await handle.read(bytes, filled, bytes.length - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    const index = readArchiveIndex(bytes.subarray(0, filled), key);
    if (!index) {
      onOutcome?.({ kind: 'ignored', file, reason: 'not a valid index for this archive' });
      return null;
    }
    // Last use, for eviction; a read-only cache just keeps the old time.
    const now = new Date();
    await utimes(file, now, now).catch(() => undefined);
    onOutcome?.({ kind: 'hit', file });
    return index;
  } catch {
    return null;
  } finally {
    await handle.close();
  }
}

/** Why a file (and its directory) cannot be trusted, or null. */
async function distrust(
  dir: string,
  info: { uid: number; mode: number; isFile(): boolean },
): Promise<string | null> {
  if (!info.isFile()) return 'not a regular file';
  const uid = typeof process.geteuid === 'function' ? process.geteuid() : null;
  if (uid !== null && info.uid !== uid) return `owned by uid ${info.uid}`;
  if (info.mode & 0o022) return 'writable by others';
  const dirInfo = await stat(dir);
  if (uid !== null && dirInfo.uid !== uid && dirInfo.uid !== 0)
    return 'directory owned by another user';
  if (dirInfo.mode & 0o022 && !(dirInfo.mode & 0o1000)) return 'directory writable by others';
  return null;
}

export interface SaveOptions {
  /** Filesystems (st_dev) the index must not be written to: the restore's targets. */
  avoidDevices?: ReadonlySet<bigint>;
  maxBytes?: number;
}

/** Writes the index atomically (temp file, rename); never throws. */
export async function saveArchiveIndex(
  dir: string,
  key: string,
  parts: readonly Buffer[],
  options: SaveOptions = {},
): Promise<IndexOutcome> {
  const file = indexFileOf(dir, key);
  const maxBytes = options.maxBytes ?? DEFAULT_INDEX_MAX_BYTES;
  const size = parts.reduce((sum, part) => sum + part.length, 0);
  if (size > maxBytes)
    return { kind: 'not-saved', reason: `larger than the ${maxBytes}-byte bound` };
  // Unique: a run killed mid-write leaves its temp file, and the next run in a container
  // often has the same pid (O_EXCL would then fail, and the cleanup remove another's file).
  const temp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}${TEMP_SUFFIX}`;
  let created = false;
  try {
    // Judged on the directory, or on its nearest existing ancestor before it is created:
    // creating it costs inodes too, which a filesystem the restore writes to, or one short
    // of room, must not spend.
    const ancestor = await nearestExisting(dir);
    const refused = await refuseRoom(ancestor, dir, size, options);
    if (refused) return refused;
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const again = await refuseRoom(dir, dir, size, options);
    if (again) return again;
    const handle = await open(
      temp,
      constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL,
      0o600,
    );
    created = true;
    try {
      let written = 0;
      while (written < size) {
        // writev may write less than asked: continue from where it stopped.
        let skip = written;
        const rest: Buffer[] = [];
        for (const part of parts) {
          if (skip >= part.length) {
            skip -= part.length;
            continue;
          }
          rest.push(skip > 0 ? part.subarray(skip) : part);
          skip = 0;
        }
        const { bytesWritten } = await handle.writev(rest.slice(0, 1024));
        if (bytesWritten === 0) throw Object.assign(new Error('short write'), { code: 'EIO' });
        written += bytesWritten;
      }
    } finally {
      await handle.close();
    }
    await rename(temp, file);
  } catch (error) {
    if (created) await unlink(temp).catch(() => undefined);
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    // mkdir -p over a file (or a fifo, a device) says EEXIST or ENOTDIR: say what it means.
    const reason =
      code === 'EEXIST' || code === 'ENOTDIR' ? `${dir} is not a directory (${code})` : code;
    return { kind: 'not-saved', reason };
  }
  await evictOldest(dir, maxBytes, file).catch(() => undefined);
  return { kind: 'saved', file, bytes: size };
}

/** Why no index may go to `dir`, judged on `at` (dir itself, or the ancestor it is created in). */
async function refuseRoom(
  at: string,
  dir: string,
  size: number,
  options: SaveOptions,
): Promise<IndexOutcome | null> {
  const info = await stat(at, { bigint: true });
  if (options.avoidDevices?.has(info.dev)) {
    return {
      kind: 'not-saved',
      reason: `${dir} is on a filesystem the restore writes to (choose one with --index-dir)`,
    };
  }
  const short = await judgeRoom(at, dir, size);
  return short ? { kind: 'not-saved', reason: short } : null;
}

/**
 * A cache must not take what the system needs: no index is written where it would leave less
 * than 10 % of the filesystem's blocks or inodes free (the incident this tool exists for began
 * with a root filesystem out of inodes, where the default cache directory usually is).
 */
const MIN_FREE_SHARE = 0.1;

async function judgeRoom(at: string, dir: string, bytes: number): Promise<string | null> {
  const fs = await statfs(at);
  if (fs.files > 0 && fs.ffree - 1 < fs.files * MIN_FREE_SHARE)
    return `${dir} is on a filesystem short of inodes (${fs.ffree} of ${fs.files} free)`;
  if (fs.blocks > 0 && fs.bavail * fs.bsize - bytes < fs.blocks * fs.bsize * MIN_FREE_SHARE)
    return `${dir} is on a filesystem short of space (${fs.bavail * fs.bsize} bytes free)`;
  return null;
}

/** `dir`, or its nearest ancestor that exists. */
async function nearestExisting(dir: string): Promise<string> {
  let at = path.resolve(dir);
  for (;;) {
    try {
      await stat(at);
      return at;
    } catch (error) {
      const parent = path.dirname(at);
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || parent === at) throw error;
      at = parent;
    }
  }
}

/** Removes the least recently used index files beyond `maxBytes` (never `keep`). */
async function evictOldest(dir: string, maxBytes: number, keep: string): Promise<void> {
  const all = await readdir(dir);
  // Temp files of killed runs: never trusted, but they would take room beyond the bound.
  for (const name of all) {
    if (!name.includes(`${SUFFIX}.`) || !name.endsWith(TEMP_SUFFIX)) continue;
    const file = path.join(dir, name);
    const info = await stat(file).catch(() => null);
    if (info?.isFile() && Date.now() - info.mtimeMs > LEFTOVER_TEMP_MS)
      await unlink(file).catch(() => undefined);
  }
  const names = all.filter((name) => name.endsWith(SUFFIX));
  const files: Array<{ file: string; size: number; used: number }> = [];
  for (const name of names) {
    const file = path.join(dir, name);
    const info = await stat(file).catch(() => null);
    if (info?.isFile()) files.push({ file, size: info.size, used: info.mtimeMs });
  }
  let total = files.reduce((sum, f) => sum + f.size, 0);
  files.sort((a, b) => a.used - b.used);
  for (const candidate of files) {
    if (total <= maxBytes) break;
    if (candidate.file === keep) continue;
    await unlink(candidate.file).catch(() => undefined);
    total -= candidate.size;
  }
}
