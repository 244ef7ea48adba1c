/**
 * The run context: what it derives from the plan up front (the step count), and the lookups it caches for the whole run (a list's lock, a directory's mount).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { createRunContext, reportProgress } from '../../src/apply/createRunContext.js';
import type { ProgressEvent } from '../../src/progress.js';
import { makePlan, makeStage, makeStep } from './makeRunFixture.js';

test('total counts every step of every stage', () => {
  const plan = makePlan('/r', [
    makeStage('configs', '/r', [makeStep('/r/a.txt'), makeStep('/r/b.txt')]),
    makeStage('bulk', '/r', [makeStep('/r/c.txt')]),
  ]);
  const ctx = createRunContext(plan, []);
  assert.is(ctx.progress.total, 3);
  assert.is(ctx.progress.done, 0);
  assert.equal(ctx.outcome, {
    restored: [],
    skipped: [],
    verifyFailed: false,
    lockStop: false,
    done: 0,
  });
});

test("a list's lock is asked once per run, under the plan's Mailman root", async () => {
  const asked: string[] = [];
  const ctx = createRunContext(makePlan('/r', [], '/var/lib/mailman'), [], {
    describeListLock: async (root, list) => {
      asked.push(`${root} ${list}`);
      return list === 'alpha' ? 'held' : null;
    },
  });
  assert.is(await ctx.lockOf('alpha'), 'held');
  assert.is(await ctx.lockOf('alpha'), 'held');
  assert.is(await ctx.lockOf('beta'), null);
  assert.is(await ctx.lockOf('beta'), null);
  assert.equal(asked, ['/var/lib/mailman alpha', '/var/lib/mailman beta']);
});

test('progress: throttled per step, forced at the end, with the member just handled', () => {
  const events: ProgressEvent[] = [];
  const ctx = createRunContext(makePlan('/r', []), [], { onProgress: (e) => events.push(e) }, 0);
  ctx.progress.done = 1;
  reportProgress(ctx, 'lists/a/config.pck');
  reportProgress(ctx, 'lists/b/config.pck');
  reportProgress(ctx, null, true);
  assert.is(events.length, 2, 'the second step falls inside the throttle interval');
  assert.is(events[0]?.item, 'lists/a/config.pck');
  assert.is(events[1]?.item, undefined);
  assert.is(events[1]?.phase, 'apply');
  assert.is(events[1]?.done, 1);
  assert.ok((events[1]?.elapsedMs ?? 0) > 0, 'elapsed since the run started');
});

test.run();
