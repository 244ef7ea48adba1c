/**
 * What a filesystem can supply: statfs(2) numbers plus the mount (mount point, type, device) of
 * the path, found in /proc/self/mountinfo. Read-only.
 */
import { lstatSync, realpathSync, statfsSync, type BigIntStats, type StatsFs } from 'node:fs';
import { lstat, realpath, statfs } from 'node:fs/promises';
import path from 'node:path';

import { RestoreplanError } from '../errors.js';
import { readMountInfo, type MountInfoEntry } from './readMountInfo.js';
import { readXfsGeometry, type XfsGeometry } from './readXfsGeometry.js';
import { usableInodes } from './usableInodes.js';

export interface FilesystemInfo {
  mountPoint: string;
  fsType: string;
  /** st_dev as "major:minor" (as mountinfo prints it). */
  device: string;
  /** What is mounted (mountinfo's source: /dev/loop3, tmpfs...). */
  source: string;
  /** statfs f_bsize: the allocation unit the block counts are in. */
  blockSize: number;
  /**
   * `free` is statfs f_ffree, df -i's number, as reports show it. `usable` is what can really
   * be created (usableInodes): the supply every verdict is judged on. They differ on XFS only,
   * whose f_ffree counts inodes that could be carved from free space it cannot really use.
   */
  inodes: { total: number; free: number; usable: number };
  /** `available` is bavail: what an unprivileged user (Mailman) may use; root's reserve is not ours. */
  blocks: { total: number; free: number; available: number };
  /** The filesystem reports no inode limit (f_files == 0, btrfs): the verdict follows the blocks. */
  dynamicInodes: boolean;
  /** The existing path that was actually probed (the nearest existing ancestor of the input). */
  probedPath: string;
  /**
   * XFS only: its superblock geometry (inode size, AG count, inode cap), or null when it is not
   * XFS or its device cannot be read (unprivileged: the mkfs.xfs defaults are assumed).
   */
  xfs: XfsGeometry | null;
}

/**
 * Whether a filesystem reports no inode limit at all. Only f_files == 0 means that (btrfs).
 * XFS allocates inodes on demand but within a cap (imaxpct) and only while free space for a
 * new inode chunk and a create's reservation remains: it is judged on what usableInodes
 * derives from its statfs (f_ffree overstates it when nearly full), and 0 there means no new
 * inode (the incident, on XFS). ZFS derives f_ffree from free space: judged on it as well.
 */
export function hasDynamicInodes(_fsType: string, totalInodes: number): boolean {
  return totalInodes === 0;
}

/** Linux dev_t encoding (glibc gnu_dev_major/minor): 12-bit major and 20-bit minor, split. */
export function formatDevice(dev: bigint): string {
  const major = ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn);
  const minor = (dev & 0xffn) | ((dev >> 12n) & ~0xffn);
  return `${major}:${minor}`;
}

function isUnder(child: string, parent: string): boolean {
  if (parent === '/') return true;
  return child === parent || child.startsWith(parent + '/');
}

/**
 * The mount a path lives on. Prefer the mount whose device equals the path's st_dev and whose
 * mount point is the longest prefix of the real path (bind mounts share a device; a later mount
 * over the same point hides earlier ones, hence the last match wins on ties). When no entry has
 * the device (a btrfs subvolume that was not mounted itself gets its own anonymous device),
 * fall back to the longest prefix alone.
 */
export function findMount(
  entries: readonly MountInfoEntry[],
  realPath: string,
  device: string,
): MountInfoEntry | undefined {
  let best: MountInfoEntry | undefined;
  let bestByPrefix: MountInfoEntry | undefined;
  for (const entry of entries) {
    if (!isUnder(realPath, entry.mountPoint)) continue;
    if (!bestByPrefix || entry.mountPoint.length >= bestByPrefix.mountPoint.length)
      bestByPrefix = entry;
    if (entry.device !== device) continue;
    if (!best || entry.mountPoint.length >= best.mountPoint.length) best = entry;
  }
  return best ?? bestByPrefix;
}

/** The nearest existing ancestor of `target` (itself when it exists), as a real path. */
export async function findExistingAncestor(target: string): Promise<string> {
  let current = path.resolve(target);
  for (;;) {
    try {
      return await realpath(current);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw error;
      const parent = path.dirname(current);
      if (parent === current) throw error;
      current = parent;
    }
  }
}

/**
 * statfs + mount of the filesystem holding `target` (or, when it does not exist yet, its nearest
 * existing ancestor — that is where it would be created).
 */
export async function statFilesystem(
  target: string,
  mounts?: readonly MountInfoEntry[],
): Promise<FilesystemInfo> {
  let probedPath: string;
  try {
    probedPath = await findExistingAncestor(target);
  } catch (error) {
    throw new RestoreplanError(
      'TARGET_INVALID',
      `cannot resolve ${target}: ${(error as Error).message}`,
      {
        targetPath: target,
      },
    );
  }
  const [stats, fsStats, table] = await Promise.all([
    lstat(probedPath, { bigint: true }),
    statfs(probedPath),
    mounts ? Promise.resolve(mounts) : readMountInfo(),
  ]);
  return describeFilesystem(probedPath, stats, fsStats, table);
}

/**
 * The same, synchronously, for an existing directory: the accounting meets new filesystems
 * inside the archive walk's synchronous callback. `mounts` must be read beforehand.
 */
export function statFilesystemSync(
  existingPath: string,
  mounts: readonly MountInfoEntry[],
): FilesystemInfo {
  let probedPath: string;
  try {
    probedPath = realpathSync(existingPath);
  } catch (error) {
    throw new RestoreplanError(
      'TARGET_INVALID',
      `cannot resolve ${existingPath}: ${(error as Error).message}`,
      { targetPath: existingPath },
    );
  }
  return describeFilesystem(
    probedPath,
    lstatSync(probedPath, { bigint: true }),
    statfsSync(probedPath),
    mounts,
  );
}

function describeFilesystem(
  probedPath: string,
  stats: BigIntStats,
  fsStats: StatsFs,
  table: readonly MountInfoEntry[],
): FilesystemInfo {
  const device = formatDevice(stats.dev);
  const mount = findMount(table, probedPath, device);
  const fsType = mount?.fsType ?? 'unknown';
  const source = mount?.source ?? '';
  // The superblock is read on every statfs, not cached: a loop device is reused by the next
  // filesystem mounted on it, and growfs changes the geometry.
  const xfs = fsType === 'xfs' ? readXfsGeometry(source) : null;
  return {
    mountPoint: mount?.mountPoint ?? '/',
    fsType,
    device,
    source,
    blockSize: fsStats.bsize,
    inodes: {
      total: fsStats.files,
      free: fsStats.ffree,
      usable: usableInodes(
        {
          fsType,
          blockSize: fsStats.bsize,
          files: fsStats.files,
          ffree: fsStats.ffree,
          bfree: fsStats.bfree,
        },
        xfs,
      ),
    },
    blocks: { total: fsStats.blocks, free: fsStats.bfree, available: fsStats.bavail },
    dynamicInodes: hasDynamicInodes(fsType, fsStats.files),
    probedPath,
    xfs,
  };
}
