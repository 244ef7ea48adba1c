/**
 * Measures what XFS really lets a restore create, against what statfs says: run as root,
 * `node --import tsx test/probes/measureXfsInodes.ts`. On the smallest XFS mkfs.xfs makes
 * (300 MiB, defaults: 4 AGs, 512-byte inodes, sparse inode chunks, imaxpct 25):
 *
 * 1. Inodes on a nearly full XFS. For each level K, a ballast file (fallocate) leaves about K
 *    blocks available; then empty files are created until ENOSPC. Printed: statfs before
 *    (f_bfree, f_ffree, and the free inodes of allocated chunks derived from them), how many
 *    files were created, and what statfs still showed when creating failed. What could be
 *    carved from free space (created − the chunks' free inodes) against f_bfree gives the
 *    blocks XFS keeps back from new inode chunks: the threshold usableInodes.ts encodes.
 * 2. New directories: N empty directories in one fresh directory, the statfs block delta per N
 *    (XFS rotates new directories over the allocation groups, each AG without a free inode
 *    takes a new chunk), then the same with a few files in each.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, statfsSync } from 'node:fs';
import path from 'node:path';

import { readXfsGeometry } from '../../src/filesystems/readXfsGeometry.js';
import { withMountedFs } from '../helpers/mountFs.js';

interface Reading {
  bfree: number;
  ffree: number;
  files: number;
  used: number;
}

function read(mnt: string): Reading {
  execFileSync('sync', ['-f', mnt]);
  const s = statfsSync(mnt);
  return { bfree: s.bfree, ffree: s.ffree, files: s.files, used: s.blocks - s.bfree };
}

function sourceOf(mnt: string): string {
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const fields = line.split(' ');
    if (fields[4] !== mnt) continue;
    const dash = fields.indexOf('-');
    return fields[dash + 2] ?? '';
  }
  return '';
}

/** Creates empty files in `dir` until ENOSPC; returns how many. */
function createUntilFull(dir: string, limit = 1 << 20): number {
  mkdirSync(dir, { recursive: true });
  let made = 0;
  for (; made < limit; made += 1) {
    try {
      closeSync(openSync(path.join(dir, `q${made}`), 'wx'));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOSPC') break;
      throw error;
    }
  }
  return made;
}

/** Ballast files (fallocate) until about `blocks` stay available; a big one, then top-ups. */
function leaveAvailable(mnt: string, dir: string, blocks: number): void {
  mkdirSync(dir, { recursive: true });
  for (let n = 0; n < 64; n += 1) {
    const s = statfsSync(mnt);
    let take = s.bavail - blocks;
    if (take <= 0) return;
    for (;;) {
      const r = spawnSync('fallocate', ['-l', String(take * s.bsize), path.join(dir, `b${n}`)]);
      if (r.status === 0) break;
      take = Math.floor(take / 2);
      if (take < 1) return;
    }
  }
}

const LEVELS = [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 128, 192, 256, 512, 1024, 4096];

async function measureFull(): Promise<void> {
  await withMountedFs({ type: 'xfs', sizeMiB: 300 }, async (mnt) => {
    const geometry = readXfsGeometry(sourceOf(mnt));
    console.log(`== nearly full XFS: ${JSON.stringify(geometry)}`);
    const ipb = geometry ? geometry.blockSize / geometry.inodeSize : 8;
    console.log(
      'level  f_bfree  f_ffree  chunk-free  created  carved  carved/8  | at ENOSPC: f_bfree f_ffree chunk-free',
    );
    for (const level of LEVELS) {
      const fill = path.join(mnt, 'fill');
      rmSync(fill, { recursive: true, force: true });
      rmSync(path.join(mnt, 'ballast'), { recursive: true, force: true });
      mkdirSync(fill); // before the space goes: a new directory may need a chunk in another AG
      read(mnt);
      leaveAvailable(mnt, path.join(mnt, 'ballast'), level);
      const before = read(mnt);
      const chunkFree = before.ffree - before.bfree * ipb;
      const created = createUntilFull(fill);
      const after = read(mnt);
      const carved = created - chunkFree;
      console.log(
        [
          String(level).padStart(5),
          String(before.bfree).padStart(8),
          String(before.ffree).padStart(8),
          String(chunkFree).padStart(11),
          String(created).padStart(8),
          String(carved).padStart(7),
          (carved / ipb).toFixed(1).padStart(9),
          ' |',
          String(after.bfree).padStart(18),
          String(after.ffree).padStart(7),
          String(after.ffree - after.bfree * ipb).padStart(10),
        ].join(' '),
      );
    }
  });
}

async function measureDirectories(filesEach: number): Promise<void> {
  console.log(`\n== new directories, ${filesEach} empty files in each (fresh XFS each time)`);
  for (const count of [1, 2, 3, 4, 5, 8, 16, 64]) {
    await withMountedFs({ type: 'xfs', sizeMiB: 300 }, async (mnt) => {
      const t = path.join(mnt, 't');
      mkdirSync(t);
      const before = read(mnt);
      for (let d = 0; d < count; d += 1) {
        const dir = path.join(t, `d${String(d).padStart(2, '0')}`);
        mkdirSync(dir);
        for (let f = 0; f < filesEach; f += 1) closeSync(openSync(path.join(dir, `f${f}`), 'wx'));
      }
      const after = read(mnt);
      const inodes = after.files - after.ffree - (before.files - before.ffree);
      console.log(
        `${String(count).padStart(3)} dirs: +${inodes} inodes, +${after.used - before.used} blocks (amortized ${(inodes / 8).toFixed(1)})`,
      );
    });
  }
}

await measureFull();
await measureDirectories(0);
await measureDirectories(10);
