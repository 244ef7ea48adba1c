import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { countMtaQueue } from '../../src/mailman/countMtaQueue.js';
import type { EximInfo, PostfixInfo } from '../../src/mailman/MtaInfo.js';
import { readSpoolLayout } from '../../src/mailman/readSpoolLayout.js';
import { makeScratch, missingNeeds } from '../helpers/env.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function put(file: string, bytes = 10): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, 'x'.repeat(bytes));
}

test('Exim: -H files in input/ and its split subdirectories; every file of input/ and msglog/', async () => {
  const { dir, cleanup } = makeScratch();
  try {
    const exim: EximInfo = {
      kind: 'exim',
      spool: dir,
      source: 'given',
      splitSpool: true,
      messageLogs: true,
    };
    for (const [sub, id] of [
      ['a', '1xYcMa-00024e-2l'],
      ['b', '1xYcMb-00024e-2l'],
      ['b', '1xYcMb-00024f-2l'],
    ]) {
      put(path.join(dir, 'input', sub!, `${id}-H`));
      put(path.join(dir, 'input', sub!, `${id}-D`), 5000);
      put(path.join(dir, 'msglog', sub!, id!));
    }
    put(path.join(dir, 'input', 'b', 'hdr.1234'));
    put(path.join(dir, 'db', 'retry'));
    const count = await countMtaQueue(exim);
    assert.is(count.messages, 3);
    assert.is(count.files, 10);
    assert.ok(count.bytes >= 10 * 4096 && count.bytes % 512 === 0, String(count.bytes));
    const layout = await readSpoolLayout(exim);
    assert.equal(Object.keys(layout.directories).sort(), [
      'input',
      'input/a',
      'input/b',
      'msglog',
      'msglog/a',
      'msglog/b',
    ]);
    assert.is(layout.directories['input/b']?.entries, 5);
  } finally {
    cleanup();
  }
});

test('Postfix: queue files in the five queues, logs in defer/ bounce/ trace/; missing queues are 0', async () => {
  const { dir, cleanup } = makeScratch();
  try {
    const postfix: PostfixInfo = {
      kind: 'postfix',
      spool: dir,
      source: 'given',
      hashQueueDepth: 1,
      hashQueueNames: ['deferred', 'defer'],
      masterRunning: true,
    };
    put(path.join(dir, 'maildrop', 'ABC1'));
    put(path.join(dir, 'deferred', '3', '3F21'));
    put(path.join(dir, 'deferred', 'A', 'A0C2'));
    put(path.join(dir, 'defer', '3', '3F21'));
    put(path.join(dir, 'defer', 'A', 'A0C2'));
    put(path.join(dir, 'hold', '77AA'));
    put(path.join(dir, 'corrupt', 'BAD1'));
    put(path.join(dir, 'pid', 'unix.cleanup'), 0);
    const count = await countMtaQueue(postfix);
    assert.equal([count.messages, count.files], [4, 6]);
    const layout = await readSpoolLayout(postfix);
    assert.equal(layout.lockFiles, ['unix.cleanup']);
    assert.ok(layout.directories['deferred/3'] && layout.directories['defer/A']);
    assert.is(layout.directories.incoming, undefined);
    // A spool that is not there yet holds nothing.
    assert.equal(await countMtaQueue({ ...postfix, spool: path.join(dir, 'none') }), {
      messages: 0,
      files: 0,
      bytes: 0,
    });
  } finally {
    cleanup();
  }
});

const why = missingNeeds({ root: true, tools: ['runuser'] });
(why ? test.skip : test)('an unreadable queue is an error, not an empty count', () => {
  const { dir, cleanup } = makeScratch();
  try {
    chmodSync(dir, 0o755);
    put(path.join(dir, 'deferred', '3', '3F21'));
    chmodSync(path.join(dir, 'deferred'), 0o700);
    const script = `
      const { countMtaQueue } = await import(${JSON.stringify(path.join(repo, 'src/mailman/countMtaQueue.ts'))});
      const { readSpoolLayout } = await import(${JSON.stringify(path.join(repo, 'src/mailman/readSpoolLayout.ts'))});
      const mta = { kind: 'postfix', spool: ${JSON.stringify(dir)}, source: 'given', hashQueueDepth: 1, hashQueueNames: ['deferred', 'defer'], masterRunning: false };
      const layout = await readSpoolLayout(mta);
      const code = await countMtaQueue(mta).then(() => 'counted', (e) => e.code + ' ' + e.details.path);
      process.stdout.write(JSON.stringify({ code, unreadable: layout.unreadable }));`;
    const result = spawnSync(
      'runuser',
      [
        '-u',
        'nobody',
        '--',
        process.execPath,
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        script,
      ],
      { cwd: repo, encoding: 'utf8' },
    );
    assert.is(result.status, 0, result.stderr);
    assert.equal(JSON.parse(result.stdout), {
      code: `MTA_SPOOL_UNREADABLE ${path.join(dir, 'deferred')}`,
      unreadable: ['deferred'],
    });
  } finally {
    cleanup();
  }
});
if (why) console.log(`skipped: an unreadable spool ${why}`);

test.run();
