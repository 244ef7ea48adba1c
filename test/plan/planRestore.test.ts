import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { planRestore } from '../../src/plan/planRestore.js';
import { assertMatchesSchema } from '../helpers/assertSchema.js';
import { makeScratch, run } from '../helpers/env.js';

/** A GNU tar with `data/a` and `data/b`, b a hard link to a. */
function makeLinkedArchive(dir: string): string {
  const source = path.join(dir, 'src');
  mkdirSync(path.join(source, 'data'), { recursive: true });
  writeFileSync(path.join(source, 'data/a'), 'shared\n');
  run('ln', [path.join(source, 'data/a'), path.join(source, 'data/b')]);
  const archive = path.join(dir, 'backup.tar');
  // Named in this order, so a is stored as the file and b as the link to it.
  run('tar', ['--format=gnu', '-C', source, '-cf', archive, 'data/a', 'data/b']);
  return archive;
}

test('a hard link whose target is not selected links to the file already on disk (no inode)', async () => {
  const { dir, cleanup } = makeScratch();
  try {
    const archive = makeLinkedArchive(dir);
    const target = path.join(dir, 'target');
    mkdirSync(path.join(target, 'data'), { recursive: true });
    writeFileSync(path.join(target, 'data/a'), 'shared\n');
    const plan = await planRestore(archive, { target, profile: 'none', include: ['data/b'] });
    assertMatchesSchema(plan, 'plan', 'planRestore() with a hard link to a file on disk');
    const steps = plan.stages.flatMap((s) => s.steps);
    assert.equal(
      steps.map((s) => [s.memberPath, s.type, 'linkTarget' in s ? s.linkTarget : undefined]),
      [['data/b', 'hardlink', path.join(target, 'data/a')]],
    );
    assert.is(plan.stages[0]?.budget[0]?.inodesNeeded, 0);
  } finally {
    cleanup();
  }
});

test('neither restored nor on disk: the hard link is reported, not planned', async () => {
  const { dir, cleanup } = makeScratch();
  try {
    const archive = makeLinkedArchive(dir);
    const target = path.join(dir, 'target');
    mkdirSync(target);
    const plan = await planRestore(archive, { target, profile: 'none', include: ['data/b'] });
    assertMatchesSchema(plan, 'plan', 'planRestore() with an unresolved hard link');
    assert.not.ok(plan.stages.flatMap((s) => s.steps).some((s) => s.type === 'hardlink'));
    assert.ok(plan.problems.some((p) => p.kind === 'hardlink-unresolved'));
  } finally {
    cleanup();
  }
});

test.run();
