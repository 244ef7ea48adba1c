import { mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { RestoreplanError } from '../../src/errors.js';
import { readMountInfo } from '../../src/filesystems/readMountInfo.js';
import {
  findMount,
  formatDevice,
  statFilesystem,
  statFilesystemSync,
} from '../../src/filesystems/statFilesystem.js';
import { hasTool, makeScratch, missingNeeds, run } from '../helpers/env.js';
import { withMountedFs } from '../helpers/mountFs.js';

test('formatDevice decodes Linux dev_t like mountpoint(1) -d', () => {
  if (!hasTool('mountpoint')) return void console.log('skipped: needs mountpoint');
  for (const p of ['/', '/proc', '/dev']) {
    const expected = run('mountpoint', ['-d', p]).trim();
    assert.is(formatDevice(statSync(p, { bigint: true }).dev), expected);
  }
  // Large numbers: glibc makedev(259, 1048575) packs the minor across both halves of dev_t.
  const major = 259n;
  const minor = 1048575n;
  const dev =
    ((major & 0xfffn) << 8n) |
    ((major & ~0xfffn) << 32n) |
    (minor & 0xffn) |
    ((minor & ~0xffn) << 12n);
  assert.is(formatDevice(dev), '259:1048575');
});

test('the filesystem of a path agrees with findmnt and stat -f', async () => {
  if (!hasTool('findmnt')) return void console.log('skipped: needs findmnt');
  const scratch = makeScratch();
  try {
    const info = await statFilesystem(path.join(scratch.dir, 'not', 'there', 'yet'));
    assert.is(info.probedPath, scratch.dir);
    const [target, fstype] = run('findmnt', ['-n', '-o', 'TARGET,FSTYPE', '--target', scratch.dir])
      .trim()
      .split(/\s+/);
    assert.is(info.mountPoint, target);
    assert.is(info.fsType, fstype);
    const [bsize, blocks, files] = run('stat', ['-f', '-c', '%S %b %c', scratch.dir])
      .trim()
      .split(' ')
      .map(Number);
    assert.is(info.blockSize, bsize);
    assert.is(info.blocks.total, blocks);
    assert.is(info.inodes.total, files);
  } finally {
    scratch.cleanup();
  }
});

test('findMount: the longest mount point with the path device wins; last mount over a point wins', () => {
  const m = (id: number, device: string, mountPoint: string) => ({
    mountId: id,
    parentId: 1,
    device,
    root: '/',
    mountPoint,
    mountOptions: 'rw',
    fsType: 'x',
    source: 's',
    superOptions: '',
  });
  const table = [
    m(1, '8:1', '/'),
    m(2, '8:2', '/srv'),
    m(3, '8:3', '/srv'),
    m(4, '0:50', '/srv/a b'),
  ];
  assert.is(findMount(table, '/srv/x', '8:3')!.mountId, 3);
  assert.is(findMount(table, '/srv/a b/c', '0:50')!.mountId, 4);
  assert.is(findMount(table, '/srvx', '8:1')!.mountId, 1);
  // A device mountinfo does not list (an unmounted btrfs subvolume): longest prefix.
  assert.is(findMount(table, '/srv/sub', '0:77')!.mountId, 3);
});

const why = missingNeeds({ root: true, tools: ['mkfs.btrfs', 'losetup'] });

test('tmpfs with nr_inodes: exact totals; btrfs: files == 0 means dynamic, never full', async () => {
  if (why) return void console.log(`skipped: ${why}`);
  await withMountedFs({ type: 'tmpfs', sizeMiB: 8, inodes: 777 }, async (mnt) => {
    const info = await statFilesystem(mnt);
    assert.is(info.mountPoint, mnt);
    assert.is(info.fsType, 'tmpfs');
    assert.is(info.inodes.total, 777);
    assert.is(info.blocks.total, (8 * 1024 * 1024) / info.blockSize);
    assert.is(info.dynamicInodes, false);
  });
  await withMountedFs({ type: 'btrfs', sizeMiB: 128 }, async (mnt) => {
    mkdirSync(path.join(mnt, 'dir'));
    const info = statFilesystemSync(path.join(mnt, 'dir'), await readMountInfo());
    assert.is(info.fsType, 'btrfs');
    assert.is(info.mountPoint, mnt);
    assert.is(info.inodes.total, 0);
    assert.is(info.dynamicInodes, true);
    // btrfs gives its root an anonymous device (0:NN), which mountinfo shows.
    assert.match(info.device, /^0:\d+$/);
  });
});

test('XFS: the superblock geometry, and inodes.usable beside f_ffree (capped: 32 less)', async () => {
  if (why || !hasTool('mkfs.xfs')) return void console.log(`skipped: ${why ?? 'needs mkfs.xfs'}`);
  await withMountedFs({ type: 'xfs', sizeMiB: 300 }, async (mnt) => {
    const info = await statFilesystem(mnt);
    assert.is(info.fsType, 'xfs');
    assert.is(info.xfs?.agCount, 4);
    assert.is(info.xfs?.inodeSize, 512);
    // A fresh 300 MiB XFS is at its imaxpct cap in statfs terms: f_files == maxicount.
    assert.is(info.xfs?.maxInodes, info.inodes.total);
    assert.is(info.inodes.usable, info.inodes.free - 32);
  });
  await withMountedFs({ type: 'tmpfs', sizeMiB: 8, inodes: 99 }, async (mnt) => {
    const info = await statFilesystem(mnt);
    assert.is(info.xfs, null);
    assert.is(info.inodes.usable, info.inodes.free);
  });
});

test('statFilesystemSync on a missing path is TARGET_INVALID', async () => {
  try {
    statFilesystemSync('/definitely/not/here', await readMountInfo());
    assert.unreachable();
  } catch (error) {
    assert.instance(error, RestoreplanError);
    assert.is((error as RestoreplanError).code, 'TARGET_INVALID');
  }
});

test.run();
