import { lstatSync, readlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { checkSymlinkText, createSymlink } from '../../src/apply/createSymlink.js';
import { makeScratch } from '../helpers/env.js';

test('planted-link escape: link text leaving the root (absolute or ../) is refused', () => {
  assert.throws(() => checkSymlinkText('/srv/root', '/srv/root/www', '/etc'), /outside/);
  assert.throws(() => checkSymlinkText('/srv/root', '/srv/root/a/www', '../../etc'), /outside/);
  assert.throws(() => checkSymlinkText('/srv/root', '/srv/root/a', ''), /empty/);
  // Mailman's archives/public/<list> -> ../private/<list>, and absolute links inside the root.
  checkSymlinkText('/srv/root', '/srv/root/archives/public/x', '../private/x');
  checkSymlinkText('/srv/root', '/srv/root/archives/public/x', '/srv/root/archives/private/x');
});

test('creates the text verbatim and replaces an existing file atomically', async () => {
  const { dir, cleanup } = makeScratch();
  try {
    const target = path.join(dir, 'link');
    writeFileSync(target, 'was a file');
    await createSymlink(dir, target, 'some/./dangling//text', { mtime: 1_000_000_000 });
    assert.is(readlinkSync(target), 'some/./dangling//text');
    assert.is(lstatSync(target).mtimeMs, 1_000_000_000_000);
    await createSymlink(dir, target, 'other');
    assert.is(readlinkSync(target), 'other');
  } finally {
    cleanup();
  }
});

test.run();
