import { spawnSync } from 'node:child_process';
import { chmodSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { censusQueues, estimateQueueGrowth } from '../../src/mailman/censusQueues.js';
import { generateMailmanTree } from '../../samples/generateMailmanTree.js';
import { makeScratch, missingNeeds, run } from '../helpers/env.js';
import { cliAsNobody } from '../helpers/runCli.js';

const why = missingNeeds({ tools: ['find'] });
(why ? test.skip : test)(
  'counts files, oldest, newest and the last hour per queue, as find does',
  async () => {
    const { dir, cleanup } = makeScratch();
    try {
      const now = new Date();
      await generateMailmanTree(dir, {
        lists: ['a', 'b'],
        members: 5,
        postsPerList: 1,
        queueFiles: 120,
        queueSpreadHours: 4,
        now,
      });
      const census = await censusQueues(dir, { now });
      let total = 0;
      for (const [queue, count] of Object.entries(census.queues)) {
        const qdir = `${dir}/qfiles/${queue}`;
        const files = run('find', [qdir, '-type', 'f']).split('\n').filter(Boolean);
        assert.is(count.files, files.length, queue);
        const recent = run('find', [qdir, '-type', 'f', '-mmin', '-60'])
          .split('\n')
          .filter(Boolean).length;
        assert.is(count.inflowLastHour, recent, `${queue} inflow`);
        if (files.length > 0) {
          const mtimes = run('find', [qdir, '-type', 'f', '-printf', '%T@\n'])
            .split('\n')
            .filter(Boolean)
            .map(Number);
          assert.is(
            Math.round(Date.parse(count.oldest ?? '') / 1000),
            Math.round(Math.min(...mtimes)),
          );
          assert.is(
            Math.round(Date.parse(count.newest ?? '') / 1000),
            Math.round(Math.max(...mtimes)),
          );
        } else {
          assert.is(count.oldest, undefined);
        }
        total += files.length;
      }
      assert.is(census.files, 120);
      assert.is(total, 120);
      // Spread evenly over 4 hours: about a quarter arrived in the last hour.
      assert.ok(
        census.inflowPerHour >= 25 && census.inflowPerHour <= 35,
        String(census.inflowPerHour),
      );
      assert.is(estimateQueueGrowth(census, 12), census.inflowPerHour * 12);
      assert.is(estimateQueueGrowth({ inflowPerHour: 7 }, 0.5), 4);
      assert.equal(await censusQueues(`${dir}/nonexistent`), {
        queues: {},
        files: 0,
        inflowPerHour: 0,
        inflowBytesPerHour: 0,
      });
    } finally {
      cleanup();
    }
  },
);
if (why) console.log(`skipped: queue census ${why}`);

test('a queue this user may not list is left out of the census, not the end of the doctor', async () => {
  if (process.getuid?.() !== 0 || spawnSync('runuser', ['--help']).status !== 0)
    return console.log('skipped: an unreadable queue needs root (runuser -u nobody)');
  const { dir, cleanup } = makeScratch();
  try {
    const root = path.join(dir, 'mailman');
    await generateMailmanTree(root, { lists: ['mailman'], postsPerList: 1, queueFiles: 12 });
    spawnSync('chmod', ['-R', 'a+rX', dir]);
    chmodSync(path.join(root, 'qfiles', 'in'), 0o000);
    const child = cliAsNobody(['doctor', root, '--json']);
    assert.is(child.code, 0, child.stderr);
    const report = JSON.parse(child.stdout) as { queues: Record<string, unknown> };
    assert.not.ok('in' in report.queues, 'qfiles/in is not counted');
    assert.ok(Object.keys(report.queues).length > 0, 'the other queues are');
  } finally {
    cleanup();
  }
});

test.run();
