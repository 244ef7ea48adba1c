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

test('symlink-chain escape: text that goes on through another link (on disk or planned) is refused', () => {
  const root = '/srv/root';
  const planned = new Set([`${root}/d/e/l1`]); // l1 -> ..
  const isLink = (p: string): boolean => planned.has(p);
  // l1 alone stays inside (d/e/.. = d); l2 = l1/../.. reads as inside but the kernel follows
  // l1 first and lands above the root.
  checkSymlinkText(root, `${root}/d/e/l1`, '..', isLink);
  for (const [link, text] of [
    [`${root}/d/e/l2`, 'l1/../..'],
    [`${root}/sneaky`, 'd/e/l1/../../..'],
    [`${root}/d/e/l3`, 'l1/x'],
  ] as const) {
    assert.throws(() => checkSymlinkText(root, link, text, isLink), /through the symlink/);
  }
  // A link to a link (as the last component) is fine; Mailman's public links are fine.
  checkSymlinkText(root, `${root}/d/e/l4`, 'l1', isLink);
  checkSymlinkText(root, `${root}/archives/public/list`, '../private/list', isLink);
  checkSymlinkText(root, `${root}/archives/public/list`, `${root}/archives/private/list`, isLink);
  assert.throws(() => checkSymlinkText(root, `${root}/a/l`, '../../etc', isLink), /outside/);
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
