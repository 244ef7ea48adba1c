import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { guardBudget, judgeDemand } from '../../src/apply/guardBudget.js';
import type { Demand } from '../../src/plan/judgeBudget.js';

/** The demand of a run: net, and what one step holds on top while it runs (its temp file). */
interface MountDemand {
  inodes: number;
  blocks: number;
  peakInodes: number;
  peakBlocks: number;
}

const mount = {
  mountPoint: '/m',
  dynamicInodes: false,
  fsType: 'ext4',
  xfs: null,
  inodesReserve: 10,
  blocksReserve: 100,
};
/** A statfs reading of 4 KiB blocks; f_bfree as f_bavail unless given. */
const reading = (r: { ffree: number; bavail: number; files: number; bfree?: number }) => ({
  bsize: 4096,
  bfree: r.bavail,
  ...r,
});
const demand = (d: Partial<MountDemand>): Demand => ({
  inodes: d.inodes ?? 0,
  blocks: d.blocks ?? 0,
  peakInodes: (d.inodes ?? 0) + (d.peakInodes ?? 0),
  peakBlocks: (d.blocks ?? 0) + (d.peakBlocks ?? 0),
});

// [case, ffree, bavail, demand, expected stop resource or null]
const CASES: Array<[string, number, number, Partial<MountDemand>, 'inodes' | 'blocks' | null]> = [
  ['fits exactly at the reserve', 15, 1000, { inodes: 5 }, null],
  ['one inode too many', 15, 1000, { inodes: 6 }, 'inodes'],
  [
    'the temp inode of a replace may dip into the reserve',
    15,
    1000,
    { inodes: 5, peakInodes: 1 },
    null,
  ],
  [
    'below the reserve, a replace adds nothing: allowed (the incident)',
    3,
    1000,
    { peakInodes: 1 },
    null,
  ],
  ['the temp inode must be really free', 0, 1000, { peakInodes: 1 }, 'inodes'],
  ['zero free inodes, a rewrite needs none: never blocked', 0, 1000, { blocks: 1 }, null],
  ['already below the reserve, nothing needed', 3, 50, {}, null],
  ['blocks cross the reserve', 1000, 150, { blocks: 51 }, 'blocks'],
  ['peak blocks may dip into the reserve', 1000, 150, { blocks: 40, peakBlocks: 11 }, null],
  ['peak blocks must be really available', 1000, 50, { peakBlocks: 51 }, 'blocks'],
];

for (const [name, ffree, bavail, wanted, expected] of CASES) {
  test(`judgeDemand: ${name}`, () => {
    const stop = judgeDemand(mount, reading({ ffree, bavail, files: 1000 }), demand(wanted));
    assert.is(stop?.resource ?? null, expected);
  });
}

test('no inode limit reported (btrfs: files 0): not guarded by inode counts, only blocks', () => {
  assert.is(
    judgeDemand(
      { ...mount, dynamicInodes: true },
      reading({ ffree: 0, bavail: 1000, files: 0 }),
      demand({ inodes: 50 }),
    ),
    null,
  );
  assert.is(
    judgeDemand(mount, reading({ ffree: 0, bavail: 1000, files: 0 }), demand({ inodes: 50 })),
    null,
  );
});

test('guardBudget reads statfs per mount with demand', async () => {
  const seen: string[] = [];
  const statfs = async (p: string) => {
    seen.push(p);
    return reading({ ffree: 11, bavail: 1000, files: 100 });
  };
  const stop = await guardBudget(
    [mount, { ...mount, mountPoint: '/idle' }],
    new Map([['/m', demand({ inodes: 2 })]]),
    {
      statfs: statfs as never,
    },
  );
  assert.equal(seen, ['/m']);
  assert.is(stop?.needed, 2);
  assert.match(stop?.message ?? '', /2 more inodes needed, 11 free, reserve 10/);
});

// The 300 MiB default XFS of the reproduction: 4 AGs of 19200 blocks, 512-byte inodes.
const XFS_300 = {
  inodeSize: 512,
  agBlocks: 19200,
  sparseInodes: true,
  maxInodes: 153600,
  finobt: true,
  dirBlockSize: 4096,
};
const xfsMount = { ...mount, fsType: 'xfs', xfs: XFS_300, inodesReserve: 0, blocksReserve: 0 };

test('XFS: judged on the inodes it can create, as the planner is, not on f_ffree', () => {
  // Filled until a create failed: f_ffree 399 = 63 free in a chunk + 42 blocks × 8, but a
  // create reserves 47 blocks first. The temporary inode of a replace cannot be had.
  const full = reading({ ffree: 399, bavail: 42, files: 592 });
  const stop = judgeDemand(xfsMount, full, demand({ peakInodes: 1 }));
  assert.is(stop?.resource, 'inodes');
  assert.is(stop?.free, 0);
  // A rewrite in place needs no inode: still carried out.
  assert.is(judgeDemand(xfsMount, full, demand({ blocks: 1 })), null);
  // The same numbers on ext4 are 399 free inodes.
  assert.is(judgeDemand({ ...xfsMount, fsType: 'ext4' }, full, demand({ peakInodes: 1 })), null);
  // With 60 blocks free: the chunk's 121 free inodes and one chunk more (13 blocks above 47).
  const roomy = reading({ ffree: 601, bavail: 60, files: 608 });
  assert.is(judgeDemand(xfsMount, roomy, demand({ inodes: 185 })), null);
  assert.is(judgeDemand(xfsMount, roomy, demand({ inodes: 186 }))?.free, 185);
});

test('XFS: a run that still creates leaves the create reservation (47 blocks) free; a rewrite may use it all', () => {
  const space = reading({ ffree: 100000, bavail: 100, files: 200000 });
  // Three new files of 30 blocks: the third create would find 40 blocks free, below 47.
  const stop = judgeDemand(xfsMount, space, demand({ inodes: 3, blocks: 90 }));
  assert.is(stop?.resource, 'blocks');
  assert.is(stop?.free, 53);
  assert.is(judgeDemand(xfsMount, space, demand({ inodes: 3, blocks: 53 })), null);
  // No create: every block is writable.
  assert.is(judgeDemand(xfsMount, space, demand({ blocks: 100 })), null);
  // Not XFS: no such reservation.
  assert.is(
    judgeDemand({ ...xfsMount, fsType: 'ext4' }, space, demand({ inodes: 3, blocks: 90 })),
    null,
  );
});

test.run();
