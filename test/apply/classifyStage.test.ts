/**
 * Deciding without writing, table-driven over small trees: for each case, the tree on disk, the
 * stage's steps, and the expected tasks (in write order) and skips side by side. Every case also
 * checks that classifying changed nothing on disk.
 */
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import type { ApplyOptions } from '../../src/apply/applyPlan.js';
import { classifyStage, unsafeMemberPath } from '../../src/apply/classifyStage.js';
import type { JournalRecord } from '../../src/apply/openJournal.js';
import { sha256Of } from '../../src/apply/verifyOnDisk.js';
import type { SkipKind } from '../../src/types.js';
import { makeScratch } from '../helpers/env.js';
import { makeContext, makePlan, makeStage, makeStep, snapshotTree } from './makeRunFixture.js';

interface Case {
  name: string;
  /** Makes the tree under root before classifying. */
  tree?: (root: string) => void;
  /** The stage's steps, by path relative to the root. */
  steps: Array<[string, Parameters<typeof makeStep>[1] & object]>;
  options?: ApplyOptions;
  /** Journal records of an earlier run: relative path -> content it restored. */
  journaled?: Record<string, string>;
  /** Makes the plan Mailman-aware with the root as var dir. */
  mailman?: boolean;
  /** Tasks in write order (relative targetPaths). */
  tasks: string[];
  /** Skipped steps: relative targetPath, kind, the reason's pattern (unchanged wording). */
  skipped?: Array<[string, SkipKind, RegExp]>;
}

const CASES: Case[] = [
  {
    name: 'write order: dirs shallow first, files in archive order, then hard links, symlinks, fifos',
    steps: [
      ['b.txt', { source: { headerOffset: 0, dataOffset: 2048, dataLength: 0, sparse: null } }],
      ['s', { type: 'symlink', linkTarget: 'a.txt' }],
      ['d/e', { type: 'dir' }],
      ['f', { type: 'fifo' }],
      ['d', { type: 'dir' }],
      ['a.txt', { source: { headerOffset: 0, dataOffset: 1024, dataLength: 0, sparse: null } }],
      ['h', { type: 'hardlink', linkTarget: 'ROOT/a.txt' }],
    ],
    options: { allowSpecial: true },
    tasks: ['d', 'd/e', 'a.txt', 'b.txt', 'h', 's', 'f'],
  },
  {
    name: 'an absolute or dotted member path is unsafe by its memberPath alone',
    steps: [
      ['abs.txt', { memberPath: '/etc/abs.txt' }],
      ['dot.txt', { memberPath: 'a/../../dot.txt' }],
      ['nul.txt', { memberPath: 'nul\0.txt' }],
      ['ok.txt', {}],
    ],
    tasks: ['ok.txt'],
    skipped: [
      ['abs.txt', 'unsafe', /^unsafe: absolute member path \(\/etc\/abs\.txt\)$/],
      ['dot.txt', 'unsafe', /^unsafe: member path contains '\.\.'/],
      ['nul.txt', 'unsafe', /^unsafe: member path contains a NUL byte/],
    ],
  },
  {
    name: 'a symlink on the way is never written through; a file where a directory should be',
    tree: (root) => {
      symlinkSync('/tmp', path.join(root, 'link'));
      writeFileSync(path.join(root, 'file'), '');
    },
    steps: [
      ['link/x.txt', {}],
      ['file/y.txt', {}],
    ],
    tasks: [],
    skipped: [
      ['link/x.txt', 'unsafe', /^unsafe: symlink-in-path: /],
      ['file/y.txt', 'unsafe', /^unsafe: not-a-directory-in-path: /],
    ],
  },
  {
    name: "a list whose lock a live process holds is not touched; another list's files are",
    mailman: true,
    steps: [
      ['lists/alpha/config.pck', {}],
      ['archives/private/alpha/index.html', {}],
      ['lists/beta/config.pck', {}],
    ],
    options: {
      describeListLock: async (_root, list) =>
        list === 'alpha' ? 'locks/alpha.lock is held by pid 1' : null,
    },
    tasks: ['lists/beta/config.pck'],
    skipped: [
      ['lists/alpha/config.pck', 'locked', /^locked: locks\/alpha\.lock is held by pid 1$/],
      ['archives/private/alpha/index.html', 'locked', /^locked: /],
    ],
  },
  {
    name: 'device nodes never, fifos only when allowed',
    steps: [
      ['c', { type: 'chardev' }],
      ['b', { type: 'blockdev' }],
      ['f', { type: 'fifo' }],
    ],
    tasks: [],
    skipped: [
      ['c', 'special', /^special: device nodes are never created by apply$/],
      ['b', 'special', /^special: device nodes are never created by apply$/],
      ['f', 'special', /^special: fifos are restored only when allowed \(allowSpecial\)$/],
    ],
  },
  {
    name: 'symlink text that leaves the root, or leads on through a symlink the plan makes; a hard link to outside',
    steps: [
      ['up', { type: 'symlink', linkTarget: '../../etc' }],
      ['hop', { type: 'symlink', linkTarget: 'via/x' }],
      ['via', { type: 'symlink', linkTarget: 'sub' }],
      ['out', { type: 'hardlink', linkTarget: '/etc/passwd' }],
    ],
    tasks: ['via'],
    skipped: [
      ['up', 'unsafe', /^unsafe: link-outside-root: /],
      ['hop', 'unsafe', /^unsafe: /],
      ['out', 'unsafe', /^unsafe: link-outside-root: hard link to \/etc\/passwd leaves /],
    ],
  },
  {
    name: 'type conflicts: a directory member over a file, a file member over a directory',
    tree: (root) => {
      writeFileSync(path.join(root, 'was-file'), '');
      mkdirSync(path.join(root, 'was-dir'));
    },
    steps: [
      ['was-file', { type: 'dir' }],
      ['was-dir', {}],
    ],
    tasks: [],
    skipped: [
      ['was-file', 'type-conflict', /^type-conflict: .*was-file exists and is not a directory$/],
      ['was-dir', 'type-conflict', /^type-conflict: a directory exists at .*was-dir$/],
    ],
  },
  {
    name: 'an in-place rewrite needs an existing regular file',
    tree: (root) => writeFileSync(path.join(root, 'there.txt'), 'zeroed'),
    steps: [
      ['there.txt', { write: 'rewrite' }],
      ['missing.txt', { write: 'rewrite' }],
      ['link', { type: 'symlink', linkTarget: 'there.txt', write: 'rewrite' }],
    ],
    tasks: ['there.txt'],
    skipped: [
      [
        'missing.txt',
        'rewrite-refused',
        /^rewrite: .*missing\.txt is not an existing regular file$/,
      ],
      ['link', 'rewrite-refused', /^rewrite: only regular files are rewritten in place$/],
    ],
  },
  {
    name: 'journaled by an earlier run: intact is skipped, changed since is left, gone is redone; a hard link is judged when it runs',
    tree: (root) => {
      writeFileSync(path.join(root, 'intact.txt'), 'restored');
      writeFileSync(path.join(root, 'edited.txt'), 'edited by someone');
      writeFileSync(path.join(root, 'h'), 'restored');
    },
    journaled: {
      'intact.txt': 'restored',
      'edited.txt': 'restored',
      'gone.txt': 'restored',
      h: 'restored',
    },
    steps: [
      ['intact.txt', {}],
      ['edited.txt', {}],
      ['gone.txt', {}],
      ['h', { type: 'hardlink', linkTarget: 'ROOT/intact.txt' }],
    ],
    tasks: ['gone.txt', 'h'],
    skipped: [
      ['intact.txt', 'already-restored', /^already-restored$/],
      ['edited.txt', 'changed-since-restored', /^changed-since-restored: left as it is$/],
    ],
  },
];

for (const c of CASES) {
  test(`classifyStage: ${c.name}`, async () => {
    const { dir, cleanup } = makeScratch();
    try {
      const root = path.join(dir, 'root');
      mkdirSync(root);
      c.tree?.(root);
      const abs = (rel: string): string => path.join(root, rel);
      const steps = c.steps.map(([rel, over]) =>
        makeStep(`${root}/${rel}`, {
          ...over,
          ...(over.linkTarget?.startsWith('ROOT/')
            ? { linkTarget: abs(over.linkTarget.slice(5)) }
            : {}),
        }),
      );
      const stage = makeStage('all', root, steps);
      const ctx = await makeContext(
        makePlan(root, [stage], c.mailman ? root : undefined),
        c.options,
      );
      const records = new Map<string, JournalRecord>();
      for (const [rel, content] of Object.entries(c.journaled ?? {})) {
        records.set(abs(rel), {
          stage: 'all',
          memberPath: rel,
          targetPath: abs(rel),
          sha256: sha256Of(content),
          bytes: Buffer.byteLength(content),
          at: '2024-05-01T00:00:00.000Z',
        });
      }
      ctx.records = records;
      const before = snapshotTree(dir);
      const work = await classifyStage(ctx, stage, root);
      assert.equal(snapshotTree(dir), before, 'classifying wrote nothing');
      assert.equal(
        work.tasks.map((t) => path.relative(root, t.targetPath)),
        c.tasks,
        'tasks in write order',
      );
      assert.equal(
        work.skipped.map((s) => [path.relative(root, s.targetPath), s.kind]),
        (c.skipped ?? []).map(([rel, kind]) => [rel, kind]),
        'skipped steps and their kinds',
      );
      for (const [i, [rel, , pattern]] of (c.skipped ?? []).entries()) {
        assert.match(work.skipped[i]?.reason ?? '', pattern, rel);
      }
      assert.is(ctx.outcome.lockStop, c.name.startsWith('a list whose lock'), 'lockStop');
    } finally {
      cleanup();
    }
  });
}

test("classifyStage puts each task on the filesystem apply finds it on (its cost stays the plan's)", async () => {
  const { dir, cleanup } = makeScratch();
  try {
    const stage = makeStage('all', dir, [
      makeStep(`${dir}/new/a.txt`, { size: 1 }),
      makeStep(`${dir}/new/b.txt`, { size: 1 }),
    ]);
    const ctx = await makeContext(makePlan(dir, [stage]));
    const work = await classifyStage(ctx, stage, dir);
    assert.equal(
      work.tasks.map((t) => t.step),
      stage.steps,
    );
    assert.is(work.tasks[0]?.mount.mountPoint, (await ctx.mountOf(dir)).mountPoint);
  } finally {
    cleanup();
  }
});

test('unsafeMemberPath names what is wrong with a member path, or null', () => {
  assert.is(unsafeMemberPath('lists/a/config.pck'), null);
  assert.is(unsafeMemberPath('a/..b/c'), null, "'..b' is a name, not a parent");
  assert.is(unsafeMemberPath('/x'), 'absolute member path');
  assert.is(unsafeMemberPath('a/../b'), "member path contains '..'");
});

test.run();
