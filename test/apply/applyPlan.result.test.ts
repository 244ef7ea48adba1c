/**
 * A preview and a run are distinct types (`dryRun` discriminates), with the JSON they always
 * had: the same keys in the same order, `dryRun` and `preview` only in a preview. The type
 * assertions here are checked by `npm run typecheck` (tsconfig includes the tests).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { applyPlan } from '../../src/apply/applyPlan.js';
import type { ApplyPreviewResult, ApplyResult, ApplyRunResult } from '../../src/types.js';
import { makeScratch, run } from '../helpers/env.js';
import { buildTestPlan } from './buildTestPlan.js';

/** What a front end does with either: narrowing on `dryRun`, no optional chaining needed. */
function describe(result: ApplyResult): string {
  if (result.dryRun) return `preview of ${result.preview.length}`;
  // A type check only, never called: a run has no preview.
  // @ts-expect-error -- result.preview is `undefined` on a run
  const _noPreview = (): number => result.preview.length;
  return `${result.status}: ${result.restored.length} restored`;
}

test('dryRun: true gives a preview, otherwise a run; the JSON keys are unchanged', async () => {
  const { dir, cleanup } = makeScratch();
  try {
    const source = path.join(dir, 'src');
    mkdirSync(source);
    writeFileSync(path.join(source, 'a.txt'), 'a\n');
    const archive = path.join(dir, 'a.tar');
    run('tar', ['--format=gnu', '-cf', archive, '-C', source, 'a.txt']);
    const root = path.join(dir, 'root');
    mkdirSync(root);
    const plan = await buildTestPlan(archive, root, { withSha256: true });
    const journalPath = path.join(dir, 'j.journal');

    const preview: ApplyPreviewResult = await applyPlan(plan, { journalPath, dryRun: true });
    assert.equal(Object.keys(preview), [
      'schemaVersion',
      'status',
      'restored',
      'skipped',
      'verified',
      'inodes',
      'journal',
      'dryRun',
      'preview',
    ]);
    // A dry run's status is what the run would end with: it would restore the one file.
    assert.is(preview.status, 'ready');
    assert.is(preview.verified, false);
    assert.is(describe(preview), 'preview of 1');

    const applied: ApplyRunResult = await applyPlan(plan, { journalPath });
    assert.equal(Object.keys(applied), [
      'schemaVersion',
      'status',
      'restored',
      'skipped',
      'verified',
      'inodes',
      'journal',
    ]);
    assert.is(describe(applied), 'complete: 1 restored');
    const again = await applyPlan(plan, { journalPath, dryRun: true });
    assert.is(again.status, 'nothing-to-do');
    assert.equal(again.preview, []);

    const either: ApplyResult = await applyPlan(plan, { journalPath, dryRun: Math.random() < 2 });
    assert.ok(either.dryRun);
  } finally {
    cleanup();
  }
});

test.run();
