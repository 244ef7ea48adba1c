import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { RestoreplanError } from '../../src/errors.js';
import { resolveTargetDir } from '../../src/filesystems/resolveTargetDir.js';
import { makeScratch } from '../helpers/env.js';

test('a target reached through a symlink resolves to the real directory (apply refuses symlinks under its root)', async () => {
  const { dir, cleanup } = makeScratch();
  try {
    mkdirSync(path.join(dir, 'var/lib/mailman'), { recursive: true });
    symlinkSync(path.join(dir, 'var/lib/mailman'), path.join(dir, 'link'));
    assert.is(await resolveTargetDir(path.join(dir, 'link')), path.join(dir, 'var/lib/mailman'));
  } finally {
    cleanup();
  }
});

test('a missing target is TARGET_MISSING, a file TARGET_INVALID', async () => {
  const { dir, cleanup } = makeScratch();
  try {
    writeFileSync(path.join(dir, 'file'), '');
    for (const [name, code] of [
      ['nope', 'TARGET_MISSING'],
      ['file', 'TARGET_INVALID'],
    ] as const) {
      try {
        await resolveTargetDir(path.join(dir, name));
        assert.unreachable(`${name} resolved`);
      } catch (error) {
        assert.instance(error, RestoreplanError);
        assert.is((error as RestoreplanError).code, code);
      }
    }
  } finally {
    cleanup();
  }
});

test.run();
