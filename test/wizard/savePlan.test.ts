/**
 * The wizard saves its plan in /tmp by default, a directory every local user can write. Attack:
 * a symlink planted at the temp name the wizard would use (it was `<file>.tmp`, the file named
 * from the plan's time and the pid) made the wizard, run as root, write through it.
 */
import { lstatSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import type { PlanDocument } from '../../src/types.js';
import { savePlan } from '../../src/wizard/runWizard.js';
import { makeScratch } from '../helpers/env.js';

test('a symlink planted at the name the wizard saves to is never written through', async () => {
  const { dir, cleanup } = makeScratch('restoreplan-save-plan-');
  try {
    const plan = { schemaVersion: 1, createdAt: '2026-12-01T03:00:00.000Z' } as PlanDocument;
    const expected = path.join(
      dir,
      `restoreplan-wizard-2026-12-01T03-00-00-000Z-${process.pid}.json`,
    );
    const victim = path.join(dir, 'victim');
    writeFileSync(victim, 'precious\n');
    symlinkSync(victim, `${expected}.tmp`);
    const file = await savePlan(plan, dir);
    assert.is(file, expected);
    assert.is(readFileSync(victim, 'utf8'), 'precious\n', 'the victim is untouched');
    assert.ok(lstatSync(`${expected}.tmp`).isSymbolicLink(), 'the planted link is left alone');
    assert.is(JSON.parse(readFileSync(expected, 'utf8')).createdAt, plan.createdAt);
    assert.is(lstatSync(expected).mode & 0o777, 0o600);
    assert.equal(
      readdirSync(dir).filter((name) => name.endsWith('.tmp') && name.includes('restoreplan-')),
      [`${path.basename(expected)}.tmp`],
      'no temp file of ours left',
    );
  } finally {
    cleanup();
  }
});

test.run();
