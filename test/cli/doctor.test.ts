import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { breakMailmanTree } from '../../samples/breakMailmanTree.js';
import { generateMailmanTree } from '../../samples/generateMailmanTree.js';
import { runCliCaptured } from '../helpers/captureIo.js';
import { makeScratch } from '../helpers/env.js';
import { assertMatchesSchema } from '../helpers/assertSchema.js';

const doctor = (args: string[]) => runCliCaptured(['doctor', ...args]);

test('exit 0 all ok, 1 degraded, 2 corrupt, 3 not found; --json is one document', async () => {
  const { dir, cleanup } = makeScratch();
  try {
    await generateMailmanTree(dir, {
      lists: ['alpha', 'beta'],
      members: 5,
      postsPerList: 2,
      queueFiles: 5,
    });
    const ok = await doctor([dir, '--json']);
    assert.is(ok.code, 0, ok.stderr);
    const doc = JSON.parse(ok.stdout);
    assertMatchesSchema(doc, 'doctor', 'doctor --json (all ok)');
    assert.is(doc.schemaVersion, 1);
    assert.equal(doc.summary, { ok: 2, degraded: 0, corrupt: 0, lost: 0, missing: 0 });
    assert.equal(Object.keys(doc.lists[0]).slice(0, 4), ['name', 'status', 'loadsFrom', 'files']);

    await breakMailmanTree(dir, [{ list: 'beta', shape: 'zeroed' }]);
    const degraded = await doctor([dir, '--all']);
    assert.is(degraded.code, 1);
    assert.match(degraded.stdout, /beta[^\n]*degraded[^\n]*config\.pck\.last/);
    assert.ok(
      degraded.stdout.indexOf('beta') < degraded.stdout.indexOf('alpha'),
      'lists needing attention first',
    );
    assert.match(degraded.stdout, /inodes .* free of/);
    // Without --all the healthy list is summed up in one line.
    const summed = await doctor([dir]);
    assert.is(summed.code, 1);
    assert.match(summed.stdout, /│ beta +│ degraded/);
    assert.not.match(summed.stdout, /alpha/);
    assert.match(summed.stdout, /^1 more list ok \(--all lists them\)$/m);

    await breakMailmanTree(dir, [
      { list: 'alpha', shape: 'empty' },
      { list: 'alpha', shape: 'truncated', file: 'config.pck.last' },
    ]);
    const corrupt = await doctor([dir, '--json']);
    assert.is(corrupt.code, 2);
    const corruptDoc = JSON.parse(corrupt.stdout);
    assertMatchesSchema(corruptDoc, 'doctor', 'doctor --json (degraded and corrupt)');
    assert.equal(corruptDoc.summary, { ok: 0, degraded: 1, corrupt: 1, lost: 0, missing: 0 });

    const windowed = await doctor([dir, '--growth-window', '2', '--json']);
    assert.is(JSON.parse(windowed.stdout).growthWindowHours, 2);
    const badWindow = await doctor([dir, '--growth-window', 'later']);
    assert.is(badWindow.code, 3);
    assert.match(badWindow.stderr, /^restoreplan: USAGE: --growth-window "later": /);

    const missing = await doctor([path.join(dir, 'qfiles'), '--json']);
    assert.is(missing.code, 3);
    assert.match(missing.stderr, /^restoreplan: MAILMAN_NOT_FOUND: /);
    const error = JSON.parse(missing.stdout);
    assertMatchesSchema(error, 'error', 'doctor --json error document');
    assert.is(error.error.code, 'MAILMAN_NOT_FOUND');
  } finally {
    cleanup();
  }
});

test.run();
