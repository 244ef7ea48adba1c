/**
 * The acceptance test of the accounting: on real loop-mounted filesystems, predict with the
 * budget check, really extract with GNU tar, read statfs again. Inodes must match exactly on
 * ext4 (4 KiB and 1 KiB blocks), tmpfs and XFS (judged on its f_ffree like the others); blocks within 2%; btrfs (no inode limit) is reported dynamic.
 * Members are listed by Python's tarfile (an oracle independent of our walk) and fed to the
 * check; the end-to-end path through walkArchive is in checkBudget.test.ts.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, statfsSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import type { ArchiveEntry } from '../../src/archive/ArchiveEntry.js';
import { createBudgetCheck, type CheckOptions } from '../../src/plan/checkBudget.js';
import type { CheckResult } from '../../src/types.js';
import { assertMatchesSchema } from '../helpers/assertSchema.js';
import { makeScratch, missingNeeds, run } from '../helpers/env.js';
import { makeEntry } from '../helpers/makeEntry.js';
import { listTarWithPython, makeMailmanShapedTree } from '../helpers/mailmanShapedTree.js';
import { withMountedFs, type TestFsType } from '../helpers/mountFs.js';

const normalize = (name: string): string =>
  name
    .split('/')
    .filter((part) => part !== '' && part !== '.')
    .join('/');

function entriesOf(archive: string): ArchiveEntry[] {
  return listTarWithPython(archive).map((m, index) =>
    makeEntry(normalize(m.name), m.type, {
      size: m.size,
      storedSize: m.stored,
      linkPath: m.type === 'hardlink' ? normalize(m.linkname) : m.linkname,
      index,
    }),
  );
}

async function check(entries: ArchiveEntry[], options: CheckOptions): Promise<CheckResult> {
  const session = await createBudgetCheck(options);
  for (const entry of entries) session.onEntry(entry);
  const result = session.finish();
  // ext4, tmpfs, XFS and btrfs (dynamic inodes, 0 total): the same document, by the schema.
  assertMatchesSchema(result, 'check', `check on ${options.target}`);
  return result;
}

function usage(mountPoint: string): { inodes: number; blocks: number } {
  execFileSync('sync', ['-f', mountPoint]);
  const s = statfsSync(mountPoint);
  return { inodes: s.files - s.ffree, blocks: s.blocks - s.bfree };
}

function extract(archive: string, target: string, members: string[] = []): void {
  run('tar', ['-xf', archive, '-C', target, ...members]);
}

const scratch = makeScratch('restoreplan-realfs-');
const tree = path.join(scratch.dir, 'tree');
const archive = path.join(scratch.dir, 'var.tar');
let entries: ArchiveEntry[] = [];
const why = missingNeeds({
  root: true,
  tools: ['tar', 'python3', 'mkfs.ext4', 'mkfs.xfs', 'mkfs.btrfs'],
});

test.before(() => {
  if (why) return;
  mkdirSync(tree);
  makeMailmanShapedTree(tree, { lists: 4, postsPerList: 120 });
  // --sparse: GNU tar stores only the data extents of the sparse file (GNU sparse format).
  run('tar', ['--sparse', '-cf', archive, '-C', tree, '.']);
  entries = entriesOf(archive);
});
test.after(() => scratch.cleanup());

const NO_RESERVE = { reserveInodes: 0, reserveBlocks: 0 } as const;

function assertBlocksClose(predicted: number, actual: number, label: string): void {
  const error = Math.abs(predicted - actual) / Math.max(actual, 1);
  assert.ok(
    error <= 0.02,
    `${label}: predicted ${predicted} blocks, used ${actual} (${(error * 100).toFixed(2)}%)`,
  );
}

const FIXED: { type: TestFsType; sizeMiB: number; inodes?: number }[] = [
  { type: 'ext4', sizeMiB: 64, inodes: 4096 },
  { type: 'ext4-1k', sizeMiB: 64, inodes: 4096 },
  { type: 'tmpfs', sizeMiB: 64, inodes: 4096 },
  { type: 'xfs', sizeMiB: 300 },
];

for (const spec of FIXED) {
  test(`${spec.type}: empty target — inodes exact, blocks within 2%`, async () => {
    if (why) return void console.log(`skipped: ${why}`);
    await withMountedFs(spec, async (mnt) => {
      const target = path.join(mnt, 'mailman');
      mkdirSync(target);
      const result = await check(entries, { target, ...NO_RESERVE });
      assert.is(result.filesystems.length, 1);
      const fs = result.filesystems[0]!;
      assert.is(fs.mountPoint, mnt);
      // Only a filesystem reporting no limit (btrfs) is dynamic: XFS is judged on its f_ffree.
      assert.is(fs.inodes.dynamic, false);
      const before = usage(mnt);
      extract(archive, target);
      const after = usage(mnt);
      console.log(
        `  ${spec.type}: inodes predicted ${fs.inodes.needed} actual ${after.inodes - before.inodes}; blocks predicted ${fs.blocks.needed} actual ${after.blocks - before.blocks}`,
      );
      assert.is(fs.inodes.needed, after.inodes - before.inodes);
      assertBlocksClose(fs.blocks.needed, after.blocks - before.blocks, spec.type);
    });
  });
}

for (const spec of FIXED) {
  test(`${spec.type}: target already holding part of the tree`, async () => {
    if (why) return void console.log(`skipped: ${why}`);
    await withMountedFs(spec, async (mnt) => {
      const target = path.join(mnt, 'mailman');
      mkdirSync(target);
      // Half there: the lists and one list's archives, as after an interrupted restore.
      extract(archive, target, ['./lists', './archives/private/list-0']);
      const result = await check(entries, { target, ...NO_RESERVE });
      const fs = result.filesystems[0]!;
      const before = usage(mnt);
      extract(archive, target);
      const after = usage(mnt);
      console.log(
        `  ${spec.type} partial: inodes predicted ${fs.inodes.needed} actual ${after.inodes - before.inodes}; blocks predicted ${fs.blocks.needed} actual ${after.blocks - before.blocks}`,
      );
      assert.is(fs.inodes.needed, after.inodes - before.inodes);
      // Few blocks change here, so 2% of them is tight: allow 2% of the full restore's size.
      const full = await check(entries, {
        target: path.join(mnt, 'nowhere-yet'),
        ...NO_RESERVE,
      }).catch(() => null);
      void full;
      assert.ok(
        Math.abs(fs.blocks.needed - (after.blocks - before.blocks)) <=
          Math.max(8, 0.02 * fs.blocks.needed + 8),
      );
    });
  });
}

test('btrfs: reported as dynamic, inode verdict follows blocks', async () => {
  if (why) return void console.log(`skipped: ${why}`);
  await withMountedFs({ type: 'btrfs', sizeMiB: 128 }, async (mnt) => {
    const result = await check(entries, { target: mnt, ...NO_RESERVE });
    const fs = result.filesystems[0]!;
    assert.is(fs.fsType, 'btrfs');
    assert.is(fs.inodes.dynamic, true);
    assert.is(fs.inodes.total, 0);
    assert.ok(result.problems.some((p) => p.kind === 'inodes-dynamic'));
    assert.not.ok(result.problems.some((p) => p.kind === 'inodes-short'));
    const before = usage(mnt);
    extract(archive, mnt);
    const after = usage(mnt);
    console.log(
      `  btrfs: blocks predicted ${fs.blocks.needed} actual ${after.blocks - before.blocks} (approximate)`,
    );
  });
});

test('nearly full ext4: critical with the exact shortfall, and the real extraction runs out', async () => {
  if (why) return void console.log(`skipped: ${why}`);
  // Fewer inodes than the tree needs: mkfs -N rounds up to whole inode tables per group.
  await withMountedFs({ type: 'ext4', sizeMiB: 32, inodes: 512 }, async (mnt) => {
    const target = path.join(mnt, 'mailman');
    mkdirSync(target);
    const result = await check(entries, { target, reserveInodes: 10, reserveBlocks: 0 });
    const fs = result.filesystems[0]!;
    assert.is(result.verdict, 'critical');
    assert.is(fs.verdict, 'critical');
    const short = result.problems.find((p) => p.kind === 'inodes-short');
    assert.ok(short, 'an inodes-short problem');
    const expected = fs.inodes.needed - (fs.inodes.free - 10);
    assert.ok(expected > 0);
    assert.match(short!.message, `short by ${expected.toLocaleString('en-US')}`);
    // The real extraction: it fails, with every inode used, having created exactly `free` of
    // the `needed` inodes — so `needed - free` is really what was missing (plus the reserve).
    const before = usage(mnt);
    const tar = spawnSync('tar', ['-xf', archive, '-C', target]);
    assert.is.not(tar.status, 0);
    assert.match(tar.stderr.toString(), /No space left on device/);
    const after = usage(mnt);
    assert.is(after.inodes - before.inodes, fs.inodes.free);
    assert.is(statfsSync(mnt).ffree, 0);
  });
});

test('a selection spanning two filesystems: archives/ on its own tmpfs', async () => {
  if (why) return void console.log(`skipped: ${why}`);
  await withMountedFs({ type: 'ext4', sizeMiB: 64, inodes: 4096 }, async (mnt) => {
    const target = path.join(mnt, 'mailman');
    mkdirSync(path.join(target, 'archives'), { recursive: true });
    await withMountedFs(
      { type: 'tmpfs', sizeMiB: 64, inodes: 2000, at: path.join(target, 'archives') },
      async (archivesMount) => {
        const result = await check(entries, { target, ...NO_RESERVE });
        assert.is(result.filesystems.length, 2);
        const ext4 = result.filesystems.find((f) => f.fsType === 'ext4')!;
        const tmpfs = result.filesystems.find((f) => f.fsType === 'tmpfs')!;
        assert.is(tmpfs.mountPoint, archivesMount);
        const before = [usage(mnt), usage(archivesMount)];
        extract(archive, target);
        const after = [usage(mnt), usage(archivesMount)];
        assert.is(ext4.inodes.needed, after[0]!.inodes - before[0]!.inodes);
        assert.is(tmpfs.inodes.needed, after[1]!.inodes - before[1]!.inodes);
        assertBlocksClose(ext4.blocks.needed, after[0]!.blocks - before[0]!.blocks, 'ext4 part');
        assertBlocksClose(tmpfs.blocks.needed, after[1]!.blocks - before[1]!.blocks, 'tmpfs part');
      },
    );
  });
});

test.run();
