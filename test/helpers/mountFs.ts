/**
 * Real filesystems for tests: a sparse image file, mkfs, `mount -o loop` (or a tmpfs with
 * nr_inodes) under a scratch dir; always unmounted, detached and removed afterwards, even when
 * the test body throws. Needs root and the mkfs tools (scripts/install-test-tools.sh).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { run } from './env.js';

export type TestFsType = 'ext4' | 'ext4-1k' | 'tmpfs' | 'xfs' | 'btrfs';

export interface MountSpec {
  type: TestFsType;
  sizeMiB: number;
  /** Inode count: ext4 `mkfs -N`, tmpfs `nr_inodes`; ignored by XFS and btrfs (dynamic). */
  inodes?: number;
  /** Mount here (must exist) instead of a fresh scratch dir: to put a filesystem inside another. */
  at?: string;
  /** More mkfs options (XFS: `-i maxpct=1`, the inode cap). */
  mkfsOptions?: string[];
}

/** Tools each type needs, for `missingNeeds({ root: true, tools })`. */
export const MOUNT_TOOLS: Record<TestFsType, string[]> = {
  ext4: ['mkfs.ext4', 'losetup'],
  'ext4-1k': ['mkfs.ext4', 'losetup'],
  tmpfs: [],
  xfs: ['mkfs.xfs', 'losetup'],
  btrfs: ['mkfs.btrfs', 'losetup'],
};

/** Smallest images the mkfs tools accept (XFS refuses < 300 MiB, btrfs ~ 110 MiB). */
export const MIN_SIZE_MIB: Record<TestFsType, number> = {
  ext4: 4,
  'ext4-1k': 4,
  tmpfs: 1,
  xfs: 300,
  btrfs: 114,
};

function mkfsArgs(spec: MountSpec, image: string): [string, string[]] {
  switch (spec.type) {
    case 'ext4':
    case 'ext4-1k': {
      // -E lazy_itable_init=0: no background initialisation thread writing after mount, so
      // statfs deltas measure only what the test did. -m 5 is the default root reserve.
      const args = ['-q', '-F', '-E', 'lazy_itable_init=0,lazy_journal_init=0'];
      if (spec.type === 'ext4-1k') args.push('-b', '1024');
      else args.push('-b', '4096');
      if (spec.inodes !== undefined) args.push('-N', String(spec.inodes));
      return ['mkfs.ext4', [...args, ...(spec.mkfsOptions ?? []), image]];
    }
    case 'xfs':
      return ['mkfs.xfs', ['-q', '-f', ...(spec.mkfsOptions ?? []), image]];
    case 'btrfs':
      return ['mkfs.btrfs', ['-q', '-f', ...(spec.mkfsOptions ?? []), image]];
    case 'tmpfs':
      throw new Error('tmpfs has no image');
  }
}

/**
 * Mounts a fresh filesystem, runs `body(mountPoint)`, and always tears it down.
 */
export async function withMountedFs<T>(
  spec: MountSpec,
  body: (mountPoint: string) => Promise<T>,
): Promise<T> {
  const scratch = mkdtempSync(path.join(os.tmpdir(), `restoreplan-${spec.type}-`));
  const mountPoint = spec.at ?? path.join(scratch, 'mnt');
  const image = path.join(scratch, 'fs.img');
  let mounted = false;
  try {
    if (!spec.at) mkdirSync(mountPoint);
    if (spec.type === 'tmpfs') {
      const options = [`size=${spec.sizeMiB}m`];
      if (spec.inodes !== undefined) options.push(`nr_inodes=${spec.inodes}`);
      run('mount', ['-t', 'tmpfs', '-o', options.join(','), 'tmpfs', mountPoint]);
    } else {
      run('truncate', ['-s', `${Math.max(spec.sizeMiB, MIN_SIZE_MIB[spec.type])}M`, image]);
      const [cmd, args] = mkfsArgs(spec, image);
      run(cmd, args);
      // `-o loop` lets mount pick and later (with umount's autoclear) free the loop device.
      run('mount', ['-o', 'loop', image, mountPoint]);
    }
    mounted = true;
    return await body(mountPoint);
  } finally {
    if (mounted) {
      const result = spawnSync('umount', [mountPoint]);
      if (result.status !== 0) spawnSync('umount', ['-l', mountPoint]);
      // A loop device set up by `mount -o loop` has autoclear; detach any that is left anyway.
      if (spec.type !== 'tmpfs') {
        const left = spawnSync('losetup', ['-j', image]).stdout?.toString() ?? '';
        for (const line of left.split('\n')) {
          const device = line.split(':')[0];
          if (device) spawnSync('losetup', ['-d', device]);
        }
      }
    }
    rmSync(scratch, { recursive: true, force: true });
  }
}
