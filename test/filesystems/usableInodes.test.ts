/**
 * The inode supply from one statfs reading: f_ffree but on XFS, whose f_ffree counts inodes it
 * would carve from free space it cannot use. The numbers are readings of the 300 MiB default
 * XFS made by test/probes/measureXfsInodes.ts (see src/filesystems/usableInodes.ts).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { parseXfsSuperblock, readXfsGeometry } from '../../src/filesystems/readXfsGeometry.js';
import { usableInodes, xfsCreateReserve } from '../../src/filesystems/usableInodes.js';

const XFS_300 = {
  inodeSize: 512,
  agBlocks: 19200,
  sparseInodes: true,
  maxInodes: 153600,
  finobt: true,
  dirBlockSize: 4096,
};
const xfs = (files: number, ffree: number, bfree: number) => ({
  fsType: 'xfs',
  blockSize: 4096,
  files,
  ffree,
  bfree,
});

test('ext4, tmpfs, btrfs: f_ffree as it is, whatever the blocks', () => {
  for (const fsType of ['ext4', 'tmpfs', 'btrfs', 'zfs']) {
    assert.is(usableInodes({ fsType, blockSize: 4096, files: 1000, ffree: 399, bfree: 0 }), 399);
  }
});

test('XFS: the create reservation is XFS_CREATE_SPACE_RES, 47 blocks on the 300 MiB default', () => {
  assert.is(xfsCreateReserve(4096, XFS_300), 47);
  // Unknown geometry: the largest AG, the largest reservation.
  assert.is(xfsCreateReserve(4096, null), 51);
  // Without the free inode btree, one inode btree split less to reserve.
  assert.is(xfsCreateReserve(4096, { ...XFS_300, finobt: false }), 45);
});

test('XFS filled until a create failed: f_ffree 399 with 42 blocks free is no inode at all', () => {
  assert.is(usableInodes(xfs(592, 399, 42), XFS_300), 0);
  // The same below the reservation with more free inodes in allocated chunks.
  assert.is(usableInodes(xfs(512, 506, 40), XFS_300), 0);
});

test('XFS not capped: the free inodes of allocated chunks, plus whole chunks above the reservation', () => {
  // 60 blocks free: 601 − 480 = 121 in chunks; 13 blocks above 47 hold one chunk (measured 186).
  assert.is(usableInodes(xfs(608, 601, 60), XFS_300), 185);
  // 4096 blocks free, 122 in chunks: (4096 − 47) / 8 = 506 chunks.
  assert.is(usableInodes(xfs(32896, 32890, 4096), XFS_300), 122 + 506 * 64);
  // Exactly at the reservation: only what allocated chunks hold.
  assert.is(usableInodes(xfs(1000, 376 + 5, 47), XFS_300), 5);
});

test('XFS capped (f_files == maxicount): f_ffree, less the half chunk that may not be allocatable', () => {
  assert.is(usableInodes(xfs(153600, 153597, 56087), XFS_300), 153565);
  // At the cap with fewer than 32 left, the cap room is 0: all of it are chunk inodes.
  assert.is(usableInodes(xfs(153600, 20, 50000), XFS_300), 20);
  assert.is(usableInodes(xfs(153600, 0, 50000), XFS_300), 0);
  // Without sparse chunks every allocation is a whole chunk: f_ffree exactly.
  assert.is(usableInodes(xfs(153600, 153597, 56087), { ...XFS_300, sparseInodes: false }), 153597);
});

test('XFS with an unreadable superblock: 512-byte inodes, the largest reservation, maybe capped', () => {
  assert.is(usableInodes(xfs(592, 399, 42), null), 0);
  assert.is(usableInodes(xfs(608, 601, 60), null), 121 + 64);
  assert.is(usableInodes(xfs(153600, 153597, 56087), null), 153565);
});

test('parseXfsSuperblock: the fields mkfs fixes, and the inode cap as the kernel computes it', () => {
  // The first 256 bytes of a 300 MiB mkfs.xfs 6.1 default superblock (xxd of /dev/loop0).
  const hex = [
    '58465342000010000000000000012c00',
    '00000000000000000000000000000000',
    '671161a8864b49aea499133a344ef892',
    '00000000000100060000000000000080',
    '00000000000000810000000000000082',
    '0000000100004b000000000400000000',
    '00004000b4a502000200000800000000',
    '00000000000000000c0909030f000019',
    '0000000000000040000000000000003d',
    '000000000000ebe00000000000000000',
    '00000000000000000000000000000000',
    '00000000000000080000000000000000',
    '00000000000000010000018a0000018a',
    '000000000000000d0000000b00000000',
    'bb9c63a8000000040000000000000000',
    '00000000000000000000000000000000',
  ].join('');
  const geometry = parseXfsSuperblock(Buffer.from(hex, 'hex'));
  assert.equal(geometry, {
    blockSize: 4096,
    dataBlocks: 76800,
    agBlocks: 19200,
    agCount: 4,
    inodeSize: 512,
    imaxPct: 25,
    sparseInodes: true,
    finobt: true,
    dirBlockSize: 4096,
    maxInodes: 153600,
  });
  assert.is(parseXfsSuperblock(Buffer.alloc(512)), null, 'not XFS');
  assert.is(parseXfsSuperblock(Buffer.from(hex, 'hex').subarray(0, 100)), null, 'too short');
});

test('readXfsGeometry degrades to null: no device, not a device path, not XFS', () => {
  assert.is(readXfsGeometry('/dev/no-such-device'), null);
  assert.is(readXfsGeometry('tmpfs'), null);
  assert.is(readXfsGeometry('/dev/null'), null);
});

test.run();
