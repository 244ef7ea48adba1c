import { lstatSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { createFifo } from '../../src/apply/createFifo.js';
import { makeScratch, missingNeeds } from '../helpers/env.js';

const why = missingNeeds({ tools: ['mkfifo'] });
if (why) {
  test.skip('creates a fifo with its mode');
  console.log(`skipped: ${why}`);
} else {
  test('creates a fifo with its mode and mtime, replacing a file atomically', async () => {
    const { dir, cleanup } = makeScratch();
    try {
      const target = path.join(dir, 'pipe');
      await createFifo(target, 0o640, { mtime: 1_000_000_000 });
      const stats = lstatSync(target);
      assert.ok(stats.isFIFO());
      assert.is(stats.mode & 0o777, 0o640);
      assert.is(stats.mtimeMs, 1_000_000_000_000);
    } finally {
      cleanup();
    }
  });
}

test.run();
