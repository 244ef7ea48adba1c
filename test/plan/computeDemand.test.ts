import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { createExt4Model, createTmpfsModel, type BlockModel } from '../../src/plan/blockModel.js';
import {
  computeMemberCost,
  createDemandLedger,
  type DemandMember,
  type FilesystemDemand,
} from '../../src/plan/computeDemand.js';
import type { ExistingEntry, ExistingProbe } from '../../src/filesystems/probeExisting.js';

/** A disk described as data: path -> what is there (dirs carry the device they are on). */
type Disk = Record<
  string,
  { kind: 'dir'; device?: string } | { kind: 'file' | 'symlink'; blocks512: number }
>;

function fakeProbe(disk: Disk): ExistingProbe & { listings: number } {
  const probe = {
    listings: 0,
    probeDirectory(dirPath: string) {
      const node = disk[dirPath];
      if (!node) return { exists: false as const, blocked: false };
      if (node.kind !== 'dir') return { exists: false as const, blocked: true };
      probe.listings += 1;
      const names = Object.keys(disk)
        .filter((p) => path.dirname(p) === dirPath && p !== dirPath)
        .map((p) => path.basename(p));
      return {
        exists: true as const,
        device: node.device ?? '8:1',
        blocks512: 8,
        uid: 0,
        gid: 0,
        names,
      };
    },
    probeEntry(dirPath: string, name: string): ExistingEntry {
      const node = disk[path.join(dirPath, name)];
      if (!node) return { kind: 'absent', blocks512: 0, mode: 0, uid: 0, gid: 0, links: 0, id: '' };
      return node.kind === 'dir'
        ? { kind: 'dir', blocks512: 0, mode: 0, uid: 0, gid: 0, links: 0, id: '' }
        : {
            kind: node.kind,
            blocks512: node.blocks512,
            mode: 0o100644,
            uid: 0,
            gid: 0,
            links: 1,
            id: '',
          };
    },
  };
  return probe;
}

type M = [targetPath: string, type: DemandMember['type'], extra?: Partial<DemandMember>];

function run(
  disk: Disk,
  members: M[],
  model: BlockModel = createExt4Model(4096),
): Map<number, FilesystemDemand> {
  const devices = new Map<string, number>();
  const ledger = createDemandLedger({
    probe: fakeProbe(disk),
    resolveFilesystem: (device) => {
      if (!devices.has(device)) devices.set(device, devices.size);
      return devices.get(device)!;
    },
    modelOf: () => model,
  });
  ledger.touch('/t');
  const seen = new Map<string, DemandMember>();
  for (const [targetPath, type, extra] of members) {
    const member: DemandMember = {
      type,
      dataBytes: 0,
      linkLength: 0,
      linkResolved: true,
      ...extra,
    };
    ledger.add(targetPath, member, seen.get(targetPath) ?? null);
    seen.set(targetPath, member);
  }
  return ledger.finish();
}

const ROOT: Disk = { '/': { kind: 'dir' }, '/t': { kind: 'dir' } };
const ext4 = createExt4Model(4096);

// Expected values below follow DESIGN.md's counting rules and ext4's measured behaviour
// (1 block per new directory, ceil(size / 4096) per file, fast symlinks < 60 bytes).
const CASES: {
  name: string;
  disk?: Disk;
  members: M[];
  inodes: number;
  blocks: number;
  peakInodes?: number;
}[] = [
  { name: 'nothing', members: [], inodes: 0, blocks: 0 },
  {
    name: 'dir, file and short symlink into an empty target',
    members: [
      ['/t/a', 'dir'],
      ['/t/a/f', 'file', { dataBytes: 5000 }],
      ['/t/a/s', 'symlink', { linkLength: 10 }],
    ],
    inodes: 3,
    blocks: 1 + 2 + 0,
  },
  {
    name: 'a symlink of 60 bytes takes a block',
    members: [['/t/s', 'symlink', { linkLength: 60 }]],
    inodes: 1,
    blocks: 1,
  },
  {
    name: 'missing parents cost one inode and one block each, counted once',
    members: [
      ['/t/a/b/c/f1', 'file', { dataBytes: 1 }],
      ['/t/a/b/c/f2', 'file', { dataBytes: 1 }],
      ['/t/a/b', 'dir'],
    ],
    inodes: 3 + 2,
    blocks: 3 + 2,
  },
  {
    name: 'an existing directory adds nothing',
    disk: { ...ROOT, '/t/a': { kind: 'dir' } },
    members: [['/t/a', 'dir']],
    inodes: 0,
    blocks: 0,
  },
  {
    name: 'replacing a file: net 0 inodes, the block difference, +1 inode at peak',
    disk: { ...ROOT, '/t/f': { kind: 'file', blocks512: 8 * 3 } },
    members: [['/t/f', 'file', { dataBytes: 4096 * 5 }]],
    inodes: 0,
    blocks: 5 - 3,
    peakInodes: 1,
  },
  {
    name: 'hard link to a restored file: no inode, no block',
    members: [
      ['/t/f', 'file', { dataBytes: 100 }],
      ['/t/h', 'hardlink', { linkResolved: true }],
    ],
    inodes: 1,
    blocks: 1,
  },
  {
    name: 'hard link whose target is neither restored nor on disk: not restored, nothing counted',
    members: [['/t/missing/h', 'hardlink', { linkResolved: false }]],
    inodes: 0,
    blocks: 0,
  },
  {
    name: 'a resolved link supersedes an unresolved one: counted once, its missing parent too',
    members: [
      ['/t/d/h', 'hardlink', { linkResolved: false }],
      ['/t/d/h', 'hardlink', { linkResolved: true }],
    ],
    inodes: 1,
    blocks: 1,
  },
  {
    name: 'a fifo, when allowed: one inode',
    members: [['/t/p', 'fifo']],
    inodes: 1,
    blocks: 0,
  },
  {
    name: 'duplicated memberPath: the last occurrence wins, counted once',
    members: [
      ['/t/f', 'file', { dataBytes: 40000 }],
      ['/t/f', 'file', { dataBytes: 100 }],
    ],
    inodes: 1,
    blocks: 1,
  },
  {
    name: 'sparse file: its stored data, not its apparent size',
    members: [['/t/sparse', 'file', { dataBytes: 8192 }]],
    inodes: 1,
    blocks: 2,
  },
];

for (const c of CASES) {
  test(c.name, () => {
    const demand = run(c.disk ?? ROOT, c.members).get(0);
    assert.ok(demand, 'the target filesystem is reported');
    assert.is(demand!.inodes, c.inodes, 'inodes');
    assert.is(demand!.blocks, c.blocks, 'blocks');
    if (c.peakInodes !== undefined) assert.is(demand!.peakInodes, c.inodes + c.peakInodes, 'peak');
  });
}

test('tmpfs charges every hard link an inode (shmem_link reserves one)', () => {
  const demand = run(
    ROOT,
    [
      ['/t/f', 'file', { dataBytes: 100 }],
      ['/t/h1', 'hardlink'],
      ['/t/h2', 'hardlink'],
    ],
    createTmpfsModel(4096),
  ).get(0)!;
  assert.is(demand.inodes, 3);
  assert.is(demand.blocks, 1);
});

test('a directory overflowing its first block becomes an htree (root + 2 leaves at least)', () => {
  // 300 names of 20 bytes: rec_len 28 each = 8400 bytes > one 4 KiB block.
  const members: M[] = [['/t/d', 'dir']];
  for (let i = 0; i < 300; i += 1) members.push([`/t/d/${String(i).padStart(20, '0')}`, 'file']);
  const demand = run(ROOT, members).get(0)!;
  assert.is(demand.inodes, 301);
  assert.ok(demand.blocks >= 1 + 3 && demand.blocks <= 1 + 5, `dir blocks ${demand.blocks}`);
});

test('members on a second filesystem (a mount inside the target) are counted there', () => {
  const disk: Disk = { ...ROOT, '/t/archives': { kind: 'dir', device: '0:99' } };
  const result = run(disk, [
    ['/t/lists', 'dir'],
    ['/t/archives/a', 'dir'],
    ['/t/archives/a/1.html', 'file', { dataBytes: 10 }],
  ]);
  assert.is(result.get(0)!.inodes, 1);
  assert.is(result.get(1)!.inodes, 2);
  assert.is(result.get(1)!.blocks, 2);
});

test('a file where a directory must go is a type conflict', () => {
  const conflicts: string[] = [];
  const disk: Disk = { ...ROOT, '/t/a': { kind: 'file', blocks512: 8 } };
  const ledger = createDemandLedger({
    probe: fakeProbe(disk),
    resolveFilesystem: () => 0,
    modelOf: () => ext4,
    onConflict: (p) => conflicts.push(p),
  });
  const outcome = ledger.add(
    '/t/a/f',
    { type: 'file', dataBytes: 1, linkLength: 0, linkResolved: true },
    null,
  );
  assert.equal(conflicts, ['/t/a']);
  // One rule with plan and apply: nothing is restored beneath a path of another type.
  assert.is(outcome.write, 'skip');
  assert.is(ledger.finish().get(0)!.inodes, 0);
});

test('computeMemberCost: a symlink where a file is: a conflict, skipped, costs nothing', () => {
  const cost = computeMemberCost(
    ext4,
    { type: 'symlink', dataBytes: 0, linkLength: 5, linkResolved: true },
    { kind: 'file', blocks512: 8, mode: 0o100644, uid: 0, gid: 0, links: 1, id: '' },
  );
  assert.is(cost.inodes, 0);
  assert.is(cost.conflict, true);
  assert.is(cost.blocks, 0);
  assert.is(cost.write, 'skip');
});

test('each directory is listed once however many members it gets', () => {
  const probe = fakeProbe({ ...ROOT, '/t/a': { kind: 'dir' } });
  const ledger = createDemandLedger({ probe, resolveFilesystem: () => 0, modelOf: () => ext4 });
  for (let i = 0; i < 100; i += 1) {
    ledger.add(
      `/t/a/f${i}`,
      { type: 'file', dataBytes: 1, linkLength: 0, linkResolved: true },
      null,
    );
  }
  assert.is(probe.listings, 1);
});

test.run();
