/**
 * Each block model against the filesystem it models: create things on a fresh loop mount (or
 * tmpfs), read the statfs delta, compare with the model. Files and symlinks must be exact on
 * ext4 and tmpfs; XFS within its inode-chunk granularity; directories within a few blocks
 * (htree leaves fill in hash order).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, statfsSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import {
  addDirectoryEntry,
  createExt4Model,
  createXfsModel,
  emptyDirectorySize,
  selectBlockModel,
  type BlockModel,
} from '../../src/plan/blockModel.js';
import { missingNeeds } from '../helpers/env.js';
import { withMountedFs, type TestFsType } from '../helpers/mountFs.js';

function used(mnt: string): number {
  execFileSync('sync', ['-f', mnt]);
  const s = statfsSync(mnt);
  return s.blocks - s.bfree;
}

/** Blocks used by `make` in a fresh directory `dir` (the directory itself created before). */
function measure(mnt: string, name: string, make: (dir: string) => void): number {
  const dir = path.join(mnt, name);
  mkdirSync(dir);
  const before = used(mnt);
  make(dir);
  return used(mnt) - before;
}

const COPIES = 16;
const SIZES = [0, 1, 4095, 4096, 4097, 60_000, 1 << 20];
const LINKS = [10, 59, 60, 127, 128, 336, 337, 1000];

const SPECS: { type: TestFsType; sizeMiB: number; tolerance: number }[] = [
  { type: 'ext4', sizeMiB: 64, tolerance: 0 },
  { type: 'ext4-1k', sizeMiB: 64, tolerance: 0 },
  { type: 'tmpfs', sizeMiB: 64, tolerance: 0 },
  // 16 new inodes take part of a 64-inode chunk (8 blocks) that may already be allocated.
  { type: 'xfs', sizeMiB: 300, tolerance: 8 },
];

for (const spec of SPECS) {
  test(`${spec.type}: files, symlinks and directories as modelled`, async () => {
    const why = missingNeeds({ root: true, tools: ['mkfs.ext4', 'mkfs.xfs'] });
    if (why) return void console.log(`skipped: ${why}`);
    await withMountedFs({ type: spec.type, sizeMiB: spec.sizeMiB }, async (mnt) => {
      const s = statfsSync(mnt);
      const model: BlockModel = selectBlockModel(
        spec.type === 'ext4-1k' ? 'ext4' : spec.type,
        s.bsize,
      );
      // The test directory's own growth for COPIES short names.
      const entries = emptyDirectorySize();
      for (let i = 0; i < COPIES; i += 1) addDirectoryEntry(entries, `x${i}`.length);
      const dirGrowth =
        model.directoryBlocks(entries) - model.directoryBlocks(emptyDirectorySize());
      const inodeBlocks = model.inodeBlocks(COPIES, 0);
      for (const size of SIZES) {
        const data = Buffer.alloc(size, 0x61);
        const actual = measure(mnt, `f${size}`, (dir) => {
          for (let i = 0; i < COPIES; i += 1) writeFileSync(path.join(dir, `x${i}`), data);
        });
        const predicted = COPIES * model.fileBlocks(size) + dirGrowth + inodeBlocks;
        assert.ok(
          Math.abs(predicted - actual) <= spec.tolerance,
          `${spec.type} file ${size}: predicted ${predicted}, used ${actual}`,
        );
      }
      for (const length of LINKS) {
        if (length >= s.bsize) continue;
        const actual = measure(mnt, `l${length}`, (dir) => {
          for (let i = 0; i < COPIES; i += 1)
            symlinkSync('y'.repeat(length), path.join(dir, `x${i}`));
        });
        const predicted = COPIES * model.symlinkBlocks(length) + dirGrowth + inodeBlocks;
        assert.ok(
          Math.abs(predicted - actual) <= spec.tolerance,
          `${spec.type} symlink ${length}: predicted ${predicted}, used ${actual}`,
        );
      }
      // One large directory: 2000 names of 12 bytes.
      const big = emptyDirectorySize();
      const actual = measure(mnt, 'big', (dir) => {
        for (let i = 0; i < 2000; i += 1) {
          const name = `${String(i).padStart(7, '0')}.html`;
          addDirectoryEntry(big, name.length);
          writeFileSync(path.join(dir, name), '');
        }
      });
      const predicted =
        model.directoryBlocks(big) -
        model.directoryBlocks(emptyDirectorySize()) +
        model.inodeBlocks(2000, 0);
      const slack = Math.max(spec.tolerance, 2 + 0.15 * predicted);
      assert.ok(
        Math.abs(predicted - actual) <= slack,
        `${spec.type} 2000-entry dir: predicted ${predicted}, used ${actual}`,
      );
    });
  });
}

test('ext4 extent index: more than 4 maximal extents need an index block', () => {
  const model = createExt4Model(4096);
  assert.is(model.fileBlocks(4 * 32768 * 4096), 4 * 32768);
  assert.is(model.fileBlocks(5 * 32768 * 4096), 5 * 32768 + 1);
});

test('XFS inode chunks: amortized, or one chunk in each other AG the new directories rotate to', () => {
  // Measured on fresh 300 MiB XFS (test/probes/measureXfsInodes.ts): 1, 2, 3 new directories
  // 8, 16, 24 blocks; 4, 5, 8, 16 directories 24 (with or without 10 files each); 64
  // directories of 10 files 89.
  const model = createXfsModel(4096, 512, 4);
  assert.is(model.inodeBlocks(1, 1), 8);
  assert.is(model.inodeBlocks(22, 2), 16);
  assert.is(model.inodeBlocks(16, 16), 24);
  assert.is(model.inodeBlocks(176, 16), 24);
  assert.is(model.inodeBlocks(704, 64), 88);
  // Files in existing directories: amortized.
  assert.is(model.inodeBlocks(16, 0), 2);
  // One AG: nowhere else to go.
  assert.is(createXfsModel(4096, 512, 1).inodeBlocks(16, 16), 2);
  // The superblock's geometry reaches the model (1 KiB blocks: a chunk is 32 blocks).
  const small = selectBlockModel('xfs', 1024, { inodeSize: 512, agCount: 8 });
  assert.is(small.inodeBlocks(10, 10), 7 * 32);
});

test.run();
