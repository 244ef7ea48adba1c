/**
 * checkPlannedMembers: the steps of a plan against the members the archive holds at their
 * offsets. What the planner makes passes in every tar dialect apply reads (GNU and pax long
 * names, old GNU and pax 1.0 sparse maps, hard links under a member root), read by offset and
 * in one walk; what differs is named by step and field.
 */
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { applyPlan } from '../../src/apply/applyPlan.js';
import {
  checkMembersByOffset,
  compareMember,
  MemberCheck,
} from '../../src/apply/checkPlannedMembers.js';
import type { ArchiveEntry } from '../../src/archive/ArchiveEntry.js';
import { planRestore } from '../../src/plan/planRestore.js';
import type { PlanDocument, PlanStep } from '../../src/types.js';
import { makeScratch, missingNeeds, run } from '../helpers/env.js';

const why = missingNeeds({ tools: ['tar', 'truncate', 'dd'] });
const scratch = makeScratch('restoreplan-members-');
const dir = scratch.dir;
const source = path.join(dir, 'src', 'var', 'lib', 'mailman');

test.before(() => {
  if (why) return;
  const long = 'x'.repeat(120);
  mkdirSync(path.join(source, 'lists', long), { recursive: true });
  writeFileSync(path.join(source, 'lists', long, 'notes.txt'), 'long name\n');
  writeFileSync(path.join(source, 'a.txt'), 'alpha\n');
  run('ln', [path.join(source, 'a.txt'), path.join(source, 'b.txt')]);
  symlinkSync('a.txt', path.join(source, 'link'));
  const sparse = path.join(source, 'sparse.img');
  run('truncate', ['-s', '1M', sparse]);
  run('dd', [
    'if=/dev/urandom',
    `of=${sparse}`,
    'bs=4096',
    'count=1',
    'seek=50',
    'conv=notrunc',
    'status=none',
  ]);
});
test.after(() => scratch.cleanup());

const DIALECTS: Array<[string, string[]]> = [
  ['gnu (L long names, old GNU sparse)', ['--format=gnu', '--sparse']],
  ['pax (long names, sparse 1.0)', ['--format=pax', '--sparse', '--sparse-version=1.0']],
  ['pax (sparse 0.1)', ['--format=pax', '--sparse', '--sparse-version=0.1']],
];

async function planOf(
  archive: string | NodeJS.ReadableStream,
  name: string,
): Promise<PlanDocument> {
  const target = path.join(dir, `target-${name}`);
  mkdirSync(target, { recursive: true });
  // The member root is var/lib/mailman: a hard link's target maps from under it too.
  return planRestore(archive, { target, profile: 'none', memberRoot: 'var/lib/mailman' });
}

for (const [index, [name, flags]] of DIALECTS.entries()) {
  test(`${name}: every step of a plan matches its member, by offset and in one walk`, async () => {
    if (why) return console.log(`skipped: ${why}`);
    const key = `${name.split(' ')[0]}${index}`;
    const archive = path.join(dir, `${key}.tar`);
    run('tar', [...flags, '-cf', archive, '-C', path.join(dir, 'src'), 'var']);
    const plan = await planOf(archive, key);
    const steps = plan.stages.flatMap((s) => s.steps);
    assert.ok(
      steps.some((s) => s.source.sparse !== null),
      'a sparse step',
    );
    assert.ok(
      steps.some((s) => s.type === 'hardlink'),
      'a hard link step',
    );
    assert.ok(
      steps.some((s) => s.memberPath.length > 100),
      'a long name',
    );
    const handle = await import('node:fs/promises').then((fs) => fs.open(archive, 'r'));
    try {
      await checkMembersByOffset(
        async (buffer, length, position) =>
          (await handle.read(buffer, 0, length, position)).bytesRead,
        new MemberCheck(plan),
      );
    } finally {
      await handle.close();
    }
    const journalPath = path.join(dir, `${key}.journal`);
    const applied = await applyPlan(plan, { journalPath });
    assert.is(applied.status, 'complete', JSON.stringify(applied.skipped));
    // Compressed: the same steps, compared in the walk.
    const gz = `${archive}.gz`;
    writeFileSync(gz, gzipSync(readFileSync(archive)));
    const gzPlan = await planOf(gz, `${key}-gz`);
    const preview = await applyPlan(gzPlan, { dryRun: true, journalPath });
    assert.is(preview.preview.length, gzPlan.stages.flatMap((s) => s.steps).length);
    const gzApplied = await applyPlan(gzPlan, { journalPath: `${journalPath}.gz` });
    assert.is(gzApplied.status, 'complete', JSON.stringify(gzApplied.skipped));
  });
}

const entry = (over: Partial<ArchiveEntry>): ArchiveEntry => ({
  memberPath: 'var/lib/mailman/lists/a/config.pck',
  rawPath: 'var/lib/mailman/lists/a/config.pck',
  type: 'file',
  size: 10,
  storedSize: 10,
  linkPath: '',
  mode: 0o644,
  uid: 0,
  gid: 0,
  mtime: 0,
  headerOffset: 1024,
  dataOffset: 1536,
  dataLength: 10,
  sparse: null,
  format: 'gnu',
  unsafe: null,
  index: 0,
  ...over,
});

function planned(
  over: Partial<PlanStep> & Record<string, unknown>,
): Parameters<typeof compareMember>[0] {
  return {
    where: 'stages[0].steps[3]',
    root: '/t',
    step: {
      memberPath: 'var/lib/mailman/lists/a/config.pck',
      targetPath: '/t/lists/a/config.pck',
      type: 'file',
      write: 'create',
      size: 10,
      source: { headerOffset: 1024, dataOffset: 1536, dataLength: 10, sparse: null },
      mode: 0o644,
      owner: null,
      mtime: 0,
      freshMtime: false,
      cost: { mountPoint: '/', inodes: 1, blocks: 1, peakInodes: 0, peakBlocks: 0 },
      ...over,
    } as PlanStep,
  };
}

test('compareMember: each field named; a list directory the archive lacks may name its config', () => {
  const whereOf = (p: ReturnType<typeof planned>, e: ArchiveEntry): string | null =>
    (compareMember(p, e)?.details.where as string | undefined) ?? null;
  assert.is(whereOf(planned({}), entry({})), null);
  // config.pck restored from config.pck.last: the member is the .last, the target config.pck.
  const fromLast = entry({ memberPath: 'var/lib/mailman/lists/a/config.pck.last' });
  assert.is(whereOf(planned({ memberPath: fromLast.memberPath }), fromLast), null);
  assert.is(whereOf(planned({ size: 11 }), entry({})), 'stages[0].steps[3].size');
  assert.is(whereOf(planned({ type: 'symlink', size: 0 }), entry({})), 'stages[0].steps[3].type');
  assert.is(
    whereOf(planned({}), entry({ sparse: [[0, 10]], size: 10 })),
    'stages[0].steps[3].source.sparse',
  );
  assert.is(
    whereOf(planned({}), entry({ dataOffset: 2048 })),
    'stages[0].steps[3].source.dataOffset',
  );
  assert.is(
    whereOf(planned({}), entry({ headerOffset: 1536 })),
    'stages[0].steps[3].source.headerOffset',
  );
  assert.is(whereOf(planned({}), entry({ unsafe: 'dotdot' })), 'stages[0].steps[3].memberPath');
  // The planner's list directory when the archive has no member for it: its config's header.
  const dirStep = planned({
    type: 'dir',
    size: 0,
    targetPath: '/t/lists/a',
    memberPath: 'var/lib/mailman/lists/a/config.pck',
  });
  assert.is(whereOf(dirStep, entry({})), null);
  const elsewhere = planned({
    type: 'dir',
    size: 0,
    targetPath: '/t/lists/a',
    memberPath: 'var/lib/mailman/lists/b',
  });
  assert.is(whereOf(elsewhere, entry({})), 'stages[0].steps[3].memberPath');
  // Sparse maps compare by their data extents: GNU's closing [size, 0] is no difference.
  assert.is(
    whereOf(
      planned({
        size: 100,
        source: {
          headerOffset: 1024,
          dataOffset: 1536,
          dataLength: 10,
          sparse: [
            [50, 10],
            [100, 0],
          ],
        },
      }),
      entry({ size: 100, sparse: [[50, 10]] }),
    ),
    null,
  );
  // A hard link's target, mapped from under the member root.
  const hard = planned({
    type: 'hardlink',
    size: 0,
    memberPath: 'var/lib/mailman/b.txt',
    targetPath: '/t/b.txt',
    linkTarget: '/t/a.txt',
    source: { headerOffset: 1024, dataOffset: 1536, dataLength: 0, sparse: null },
  });
  const link = entry({
    type: 'hardlink',
    memberPath: 'var/lib/mailman/b.txt',
    linkPath: 'var/lib/mailman/a.txt',
    size: 0,
    dataLength: 0,
  });
  assert.is(whereOf(hard, link), null);
  assert.is(
    whereOf(hard, { ...link, linkPath: 'var/lib/mailman/lists/a/config.pck' }),
    'stages[0].steps[3].linkTarget',
  );
});

test('MemberCheck: a planned offset no member starts at is named when the walk is done', () => {
  const check = new MemberCheck({
    stages: [{ name: 's', root: '/t', budget: [], steps: [planned({}).step] }],
  });
  assert.is(check.see(entry({ headerOffset: 0 })), false);
  assert.throws(
    () => check.finish(),
    /stages\[0\]\.steps\[0\]\.source\.headerOffset: no member of the archive starts at offset 1024/,
  );
  assert.is(check.see(entry({})), true);
  check.finish();
});

test.run();
