/**
 * The apply locks: an exclusive flock held on a descriptor (of a stage root directory, of the
 * journal) excludes every other descriptor — in this process or another — until it is closed,
 * and a holder killed with SIGKILL leaves nothing behind that blocks the next run.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, openSync, closeSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { flockExclusive, lockTargets, releaseAll } from '../../src/apply/lockExclusive.js';
import { openJournal } from '../../src/apply/openJournal.js';
import { makeScratch, missingNeeds, rejectionCode } from '../helpers/env.js';
import { repo } from '../helpers/runCli.js';

const needs = missingNeeds({ tools: ['flock'] });

const codeOf = rejectionCode;

if (needs) {
  test.skip('apply locks');
  console.log(`skipped: ${needs}`);
} else {
  test('two descriptors of one file: the second cannot lock until the first is closed', async () => {
    const { dir, cleanup } = makeScratch();
    try {
      const file = path.join(dir, 'f');
      const first = openSync(file, 'w');
      const second = openSync(file, 'r');
      try {
        assert.ok(await flockExclusive(first));
        assert.not.ok(await flockExclusive(second), 'held by the first descriptor');
        closeSync(first);
        assert.ok(await flockExclusive(second), 'released when its descriptor closed');
      } finally {
        closeSync(second);
      }
    } finally {
      cleanup();
    }
  });

  test('a stage root locked by one run: another gets APPLY_RUNNING, and the lock writes nothing', async () => {
    const { dir, cleanup } = makeScratch();
    try {
      const root = path.join(dir, 'root');
      const other = path.join(dir, 'other');
      mkdirSync(root);
      mkdirSync(other);
      const held = await lockTargets([root, root]);
      assert.equal(
        held.map((lock) => lock.path),
        [root],
      );
      const error = await lockTargets([other, root]).catch((e: unknown) => e);
      assert.is((error as { code?: string }).code, 'APPLY_RUNNING');
      assert.match((error as Error).message, root);
      // What it had taken before the refusal (other) was released.
      const otherLock = await lockTargets([other]);
      await releaseAll(otherLock);
      await releaseAll(held);
      const again = await lockTargets([root]);
      await releaseAll(again);
      assert.equal(readdirSync(dir).sort(), ['other', 'root'], 'no lock file anywhere');
      assert.equal(readdirSync(root), []);
    } finally {
      cleanup();
    }
  });

  test('a journal opened by one run: a second open of it is APPLY_RUNNING', async () => {
    const { dir, cleanup } = makeScratch();
    try {
      const journalPath = path.join(dir, 'plan.json.journal');
      const journal = await openJournal(journalPath);
      try {
        assert.is(await codeOf(openJournal(journalPath)), 'APPLY_RUNNING');
      } finally {
        await journal.close();
      }
      const next = await openJournal(journalPath);
      await next.close();
    } finally {
      cleanup();
    }
  });

  test('a holder killed with SIGKILL leaves no lock behind', async () => {
    const { dir, cleanup } = makeScratch();
    try {
      const root = path.join(dir, 'root');
      mkdirSync(root);
      const script = `
        import { lockTargets } from ${JSON.stringify(path.join(repo, 'src/apply/lockExclusive.ts'))};
        await lockTargets([${JSON.stringify(root)}]);
        process.stdout.write('locked\\n');
        setInterval(() => {}, 1000);
      `;
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', '--input-type=module', '-e', script],
        {
          cwd: repo,
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      );
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (chunk: Buffer) => {
          if (chunk.toString().includes('locked')) resolve();
        });
        child.on('exit', (code) => reject(new Error(`holder exited ${String(code)}`)));
      });
      assert.is(await codeOf(lockTargets([root])), 'APPLY_RUNNING');
      const exited = new Promise((resolve) => child.on('exit', resolve));
      child.kill('SIGKILL');
      await exited;
      const held = await lockTargets([root]);
      await releaseAll(held);
    } finally {
      cleanup();
    }
  });
}

test.run();
