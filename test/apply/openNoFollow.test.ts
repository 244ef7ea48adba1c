import { constants, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { openNoFollow } from '../../src/apply/openNoFollow.js';
import { makeScratch } from '../helpers/env.js';

test('swap attack: opening a path that became a symlink fails with UNSAFE_PATH; the target is untouched', async () => {
  const { dir, cleanup } = makeScratch();
  try {
    const outside = path.join(dir, 'shadow');
    writeFileSync(outside, 'secret');
    symlinkSync(outside, path.join(dir, 'config.pck'));
    await openNoFollow(path.join(dir, 'config.pck'), constants.O_WRONLY | constants.O_TRUNC).then(
      () => assert.unreachable('opened through a symlink'),
      (e: { code?: string; details?: { reason?: string } }) => {
        assert.is(e.code, 'UNSAFE_PATH');
        assert.is(e.details?.reason, 'symlink-in-path');
      },
    );
    assert.is(readFileSync(outside, 'utf8'), 'secret');
    const handle = await openNoFollow(outside, constants.O_RDONLY);
    await handle.close();
  } finally {
    cleanup();
  }
});

test.run();
