import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { isRestoreplanError } from '../../src/errors.js';
import { diagnoseMailman, sortListsByUrgency } from '../../src/mailman/diagnoseMailman.js';
import { buildIncidentSandbox } from '../../samples/buildIncidentSandbox.js';
import { assertMatchesSchema } from '../helpers/assertSchema.js';
import { makeScratch, missingNeeds } from '../helpers/env.js';

/** Every path under `root` with its bytes (or link text), mtime, ctime and link count. */
function snapshot(root: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const full = path.join(dir, name);
      const st = lstatSync(full, { bigint: true });
      let content = '';
      if (st.isFile()) content = createHash('sha256').update(readFileSync(full)).digest('hex');
      else if (st.isSymbolicLink()) content = readlinkSync(full);
      out.set(full, `${st.mode}:${st.size}:${st.mtimeNs}:${st.ctimeNs}:${st.nlink}:${content}`);
      if (st.isDirectory()) walk(full);
    }
  };
  walk(root);
  return out;
}

const why = missingNeeds({ tools: ['tar'] });
(why ? test.skip : test)(
  'diagnoses the incident sandbox and changes no byte, mtime or ctime',
  async () => {
    const { dir, cleanup } = makeScratch();
    try {
      const sandbox = await buildIncidentSandbox(dir, { seed: 3, stuffedQueueFiles: 150 });
      const before = snapshot(sandbox.live);
      const progress: number[] = [];
      const result = await diagnoseMailman(dir, { onProgress: (e) => progress.push(e.done ?? -1) });
      assert.equal(snapshot(sandbox.live), before, 'doctor is read-only');
      assertMatchesSchema(result, 'doctor', 'diagnoseMailman() of the incident sandbox');
      assert.is(result.root, sandbox.live, 'found the one var dir below the sandbox');
      const byStatus = (status: string): string[] =>
        result.lists.filter((l) => l.status === status).map((l) => l.name);
      assert.equal(byStatus('corrupt'), sandbox.expected.corrupt);
      assert.equal(byStatus('degraded'), sandbox.expected.degraded);
      assert.equal(result.summary, {
        ok:
          sandbox.lists.length - sandbox.expected.corrupt.length - sandbox.expected.degraded.length,
        degraded: sandbox.expected.degraded.length,
        corrupt: sandbox.expected.corrupt.length,
        lost: 0,
        missing: 0,
      });
      assert.equal(
        result.lists.filter((l) => l.interruptedSave.length > 0).map((l) => l.name),
        sandbox.expected.interrupted,
      );
      assert.ok((result.queues.in?.files ?? 0) >= 150);
      assert.ok(result.queueInflowPerHour >= 75, 'half the stuffed queue arrived in the last hour');
      assert.is(result.growthAllowance, result.queueInflowPerHour * 12);
      assert.is(result.mailmanRunning, false);
      assert.ok(result.filesystem.inodes.total > 0 || result.filesystem.dynamicInodes);
      const kinds = result.problems.map((p) => p.kind);
      for (const kind of ['list-corrupt', 'list-degraded', 'interrupted-save', 'queue-growing'])
        assert.ok(kinds.includes(kind as never), kind);
      assert.equal(
        sortListsByUrgency(result.lists)
          .slice(0, 2)
          .map((l) => l.status),
        ['corrupt', 'degraded'],
      );
      assert.ok(progress.includes(sandbox.lists.length));
      // The contract's document serializes as JSON without loss.
      assert.equal(JSON.parse(JSON.stringify(result)).summary, result.summary);
    } finally {
      cleanup();
    }
  },
);
if (why) console.log(`skipped: doctor sandbox ${why}`);

test('a directory without a var dir is MAILMAN_NOT_FOUND', async () => {
  const { dir, cleanup } = makeScratch();
  try {
    let code = '';
    await diagnoseMailman(dir).catch((error: unknown) => {
      code = isRestoreplanError(error) ? error.code : String(error);
    });
    assert.is(code, 'MAILMAN_NOT_FOUND');
  } finally {
    cleanup();
  }
});

test.run();
