/**
 * Measures how real filesystems allocate: for each case, creates COUNT copies of one thing in a
 * fresh directory, syncs, and reports the statfs delta per copy (inodes, blocks) and st_blocks.
 * Run as root: `node --import tsx test/probes/measureBlockModel.ts [type...]`. The block model
 * in src/plan/blockModel.ts encodes what this prints (see the comments there).
 */
import { execFileSync } from 'node:child_process';
import { lstat, mkdir, symlink, writeFile, statfs, link } from 'node:fs/promises';
import path from 'node:path';

import { withMountedFs, type TestFsType } from '../helpers/mountFs.js';

interface Case {
  name: string;
  first: string;
  count: number;
  make: (dir: string, i: number) => Promise<void>;
}

const data = (size: number): Buffer => Buffer.alloc(size, 0x61);

function fileCase(size: number, count = 100): Case {
  const buf = data(size);
  return {
    name: `file ${size}`,
    first: 'f0',
    count,
    make: (dir, i) => writeFile(path.join(dir, `f${i}`), buf),
  };
}
function symlinkCase(length: number, count = 100): Case {
  const text = 'x'.repeat(length);
  return {
    name: `symlink ${length}`,
    first: 'l0',
    count,
    make: (dir, i) => symlink(text, path.join(dir, `l${i}`)),
  };
}
function dirCase(count: number): Case {
  return {
    name: `empty dirs`,
    first: 'd0',
    count,
    make: (dir, i) => mkdir(path.join(dir, `d${i}`)),
  };
}
function entriesCase(count: number, nameLength: number): Case {
  return {
    name: `${count} empty files name ${nameLength}`,
    first: '0'.padStart(nameLength, '0'),
    count,
    make: (dir, i) => writeFile(path.join(dir, String(i).padStart(nameLength, '0')), ''),
  };
}
function hardlinkCase(count: number): Case {
  return {
    name: 'hardlinks',
    first: 'orig',
    count,
    make: async (dir, i) => {
      if (i === 0) await writeFile(path.join(dir, 'orig'), data(5000));
      else await link(path.join(dir, 'orig'), path.join(dir, `h${i}`));
    },
  };
}

const CASES: Case[] = [
  dirCase(100),
  entriesCase(10, 6),
  entriesCase(100, 6),
  entriesCase(1000, 6),
  entriesCase(5000, 6),
  entriesCase(1000, 30),
  fileCase(0),
  fileCase(1),
  fileCase(59),
  fileCase(60),
  fileCase(100),
  fileCase(1000),
  fileCase(2000),
  fileCase(3000),
  fileCase(4096),
  fileCase(4097),
  fileCase(10000),
  fileCase(65536, 50),
  fileCase(1 << 20, 20),
  fileCase(8 << 20, 4),
  fileCase(64 << 20, 1),
  symlinkCase(10),
  symlinkCase(59),
  symlinkCase(60),
  symlinkCase(100),
  symlinkCase(500),
  symlinkCase(1000),
  symlinkCase(4000),
  hardlinkCase(100),
];

async function snapshot(mount: string): Promise<{ inodes: number; blocks: number; bsize: number }> {
  execFileSync('sync', ['-f', mount]);
  const s = await statfs(mount);
  return { inodes: s.files - s.ffree, blocks: s.blocks - s.bfree, bsize: s.bsize };
}

async function measure(type: TestFsType): Promise<void> {
  const sizeMiB = 400;
  await withMountedFs(
    { type, sizeMiB, ...(type === 'tmpfs' ? { inodes: 200000 } : {}) },
    async (mnt) => {
      console.log(`\n== ${type} (${mnt})`);
      let n = 0;
      for (const c of CASES) {
        const dir = path.join(mnt, `case${n++}`);
        await mkdir(dir);
        const before = await snapshot(mnt);
        let stBlocks = 0;
        try {
          for (let i = 0; i < c.count; i++) await c.make(dir, i);
        } catch (error) {
          console.log(`${c.name}: ${(error as Error).message.slice(0, 40)}`);
          continue;
        }
        const after = await snapshot(mnt);
        const first = await lstat(path.join(dir, c.first));
        stBlocks = first.blocks * 512;
        const dirStat = await lstat(dir);
        const di = after.inodes - before.inodes;
        const db = after.blocks - before.blocks;
        console.log(
          `${c.name.padEnd(28)} x${String(c.count).padStart(5)}  inodes/copy=${(di / c.count).toFixed(2).padStart(6)}  ` +
            `blocks/copy=${(db / c.count).toFixed(2).padStart(9)} (bsize ${after.bsize}, total ${db})  st_blocks(first)=${stBlocks}B  dir=${dirStat.size}B/${dirStat.blocks * 512}B`,
        );
      }
    },
  );
}

const types = (process.argv.slice(2) as TestFsType[]).length
  ? (process.argv.slice(2) as TestFsType[])
  : (['ext4', 'ext4-1k', 'tmpfs', 'xfs', 'btrfs'] as TestFsType[]);
for (const type of types) await measure(type);
