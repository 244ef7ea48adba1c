import { lstatSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { createHardLink } from '../../src/apply/createHardLink.js';
import { makeScratch } from '../helpers/env.js';

const reasonOf = (p: Promise<unknown>): Promise<string> =>
  p.then(
    () => 'ok',
    (e: { details?: { reason?: string } }) => String(e.details?.reason),
  );

test('hard-link escape: a link to an outside file, via .., or through a planted symlink is refused', async () => {
  const { dir, cleanup } = makeScratch();
  try {
    const outside = path.join(dir, 'outside');
    mkdirSync(outside);
    writeFileSync(path.join(outside, 'passwd'), 'root:x:0:0');
    const root = path.join(dir, 'root');
    mkdirSync(root);
    symlinkSync(outside, path.join(root, 'planted'));
    assert.is(
      await reasonOf(createHardLink(root, path.join(root, 'a'), path.join(outside, 'passwd'))),
      'link-outside-root',
    );
    assert.is(
      await reasonOf(createHardLink(root, path.join(root, 'b'), `${root}/../outside/passwd`)),
      'link-outside-root',
    );
    assert.is(
      await reasonOf(createHardLink(root, path.join(root, 'c'), path.join(root, 'planted/passwd'))),
      'link-target-invalid',
    );
    assert.is(
      await reasonOf(createHardLink(root, path.join(root, 'd'), path.join(root, 'planted'))),
      'link-target-invalid',
    );
    assert.is(lstatSync(path.join(outside, 'passwd')).nlink, 1);
  } finally {
    cleanup();
  }
});

test('links to a file inside the root; a second run sees it already linked', async () => {
  const { dir, cleanup } = makeScratch();
  try {
    writeFileSync(path.join(dir, 'config.pck'), 'x');
    writeFileSync(path.join(dir, 'config.pck.last'), 'stale');
    const target = path.join(dir, 'config.pck.last');
    assert.is(await createHardLink(dir, target, path.join(dir, 'config.pck')), 'linked');
    assert.is(readFileSync(target, 'utf8'), 'x');
    assert.is(lstatSync(target).ino, lstatSync(path.join(dir, 'config.pck')).ino);
    assert.is(await createHardLink(dir, target, path.join(dir, 'config.pck')), 'already-linked');
  } finally {
    cleanup();
  }
});

test.run();
