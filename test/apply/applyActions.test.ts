/**
 * ApplyOptions.onAction: the actions a run reports as it goes are the result it returns —
 * started first, ended last with the status; a `restored` per entry of `restored`, a `skipped`
 * per entry of `skipped`, in the order they happened; `resumed` when earlier runs of the plan
 * left work in its journal; nothing at all in a dry run; and a callback that throws does not
 * change what the run does.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { applyPlan } from '../../src/apply/applyPlan.js';
import type { ApplyActionEvent } from '../../src/index.js';
import { makeScratch, missingNeeds, run } from '../helpers/env.js';
import { buildTestPlan } from './buildTestPlan.js';

const why = missingNeeds({ tools: ['tar', 'python3', 'flock'] });

async function setup(dir: string) {
  const source = path.join(dir, 'src');
  mkdirSync(path.join(source, 'd'), { recursive: true });
  writeFileSync(path.join(source, 'd/a.txt'), 'a\n');
  writeFileSync(path.join(source, 'd/b.txt'), 'bb\n');
  const archive = path.join(dir, 'a.tar');
  run('tar', ['--format=gnu', '-cf', archive, '-C', source, 'd']);
  const root = path.join(dir, 'root');
  mkdirSync(root);
  const plan = await buildTestPlan(archive, root, { withSha256: true });
  return { plan, root, journalPath: path.join(dir, 'j.journal') };
}

test('the actions are the result, as it happened; a second run resumes; a dry run says nothing', async () => {
  if (why) return console.log(`skipped: ${why}`);
  const { dir, cleanup } = makeScratch();
  try {
    const { plan, root, journalPath } = await setup(dir);
    const dry: ApplyActionEvent[] = [];
    await applyPlan(plan, { journalPath, dryRun: true, onAction: (e) => dry.push(e) });
    assert.equal(dry, []);

    const events: ApplyActionEvent[] = [];
    const result = await applyPlan(plan, { journalPath, onAction: (e) => events.push(e) });
    assert.is(result.status, 'complete');
    assert.equal(events[0], {
      action: 'started',
      planCreatedAt: plan.createdAt,
      archiveFingerprint: plan.archive.fingerprint,
      journal: journalPath,
      steps: plan.stages.reduce((n, s) => n + s.steps.length, 0),
    });
    assert.not.ok(
      events.some((e) => e.action === 'resumed'),
      'a first run resumes nothing',
    );
    assert.equal(
      events.filter((e) => e.action === 'restored').map((e) => [e.targetPath, e.bytes, e.sha256]),
      result.restored.map((r) => [r.targetPath, r.bytes, r.sha256]),
    );
    const a = events.find((e) => e.action === 'restored' && e.targetPath.endsWith('a.txt'));
    assert.equal(a && a.action === 'restored' ? [a.memberPath, a.type, a.stage] : null, [
      'd/a.txt',
      'file',
      plan.stages[0]!.name,
    ]);
    assert.equal(events.at(-1), {
      action: 'ended',
      planCreatedAt: plan.createdAt,
      archiveFingerprint: plan.archive.fingerprint,
      status: 'complete',
      restored: result.restored.length,
      skipped: result.skipped.length,
    });

    // Run again: what is done is skipped, and the run says it resumes this plan's journal.
    const again: ApplyActionEvent[] = [];
    const second = await applyPlan(plan, { journalPath, onAction: (e) => again.push(e) });
    assert.is(second.status, 'nothing-to-do');
    assert.equal(
      again.map((e) => e.action),
      ['started', 'resumed', ...second.skipped.map(() => 'skipped'), 'ended'],
    );
    const resumed = again[1];
    assert.ok(resumed?.action === 'resumed' && resumed.done >= 2);
    assert.equal(
      again.filter((e) => e.action === 'skipped').map((e) => e.action === 'skipped' && e.kind),
      second.skipped.map((s) => s.kind),
    );
    assert.is(readFileSync(path.join(root, 'd/b.txt'), 'utf8'), 'bb\n');
  } finally {
    cleanup();
  }
});

test('a callback that throws changes nothing the run does', async () => {
  if (why) return console.log(`skipped: ${why}`);
  const { dir, cleanup } = makeScratch();
  try {
    const { plan, root, journalPath } = await setup(dir);
    const result = await applyPlan(plan, {
      journalPath,
      onAction: () => {
        throw new Error('the trail broke');
      },
    });
    assert.is(result.status, 'complete');
    assert.is(result.restored.length, 2);
    assert.is(readFileSync(path.join(root, 'd/a.txt'), 'utf8'), 'a\n');
  } finally {
    cleanup();
  }
});

test.run();
