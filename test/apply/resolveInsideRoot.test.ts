import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { resolveInsideRoot, splitInsideRoot } from '../../src/apply/resolveInsideRoot.js';
import { makeScratch } from '../helpers/env.js';

async function reasonOf(promise: Promise<unknown>): Promise<string | null> {
  try {
    await promise;
    return null;
  } catch (error) {
    return (
      String((error as { code?: string; details?: { reason?: string } }).code) +
      ':' +
      String((error as { details?: { reason?: string } }).details?.reason)
    );
  }
}

test('dotdot escape: a .. component is refused even when it would land inside', () => {
  assert.throws(() => splitInsideRoot('/srv/root', '/srv/root/a/../../etc/passwd'), /'\.\.'/);
  assert.throws(() => splitInsideRoot('/srv/root', '/srv/root/a/../b'), /'\.\.'/);
});

test('absolute escape: a path outside the root, the root itself, a sibling with the root as prefix', () => {
  assert.throws(() => splitInsideRoot('/srv/root', '/etc/passwd'), /not inside/);
  assert.throws(() => splitInsideRoot('/srv/root', '/srv/root'), /not inside/);
  assert.throws(() => splitInsideRoot('/srv/root', '/srv/rootkit/x'), /not inside/);
  assert.throws(() => splitInsideRoot('/srv/root', 'relative/x'), /not an absolute/);
  assert.throws(() => splitInsideRoot('/srv/root', '/srv/root/a\0b'), /NUL/);
  assert.equal(splitInsideRoot('/srv/root', '/srv/root/a//b/'), ['a', 'b']);
});

test('very deep and very long names are refused before the kernel would', () => {
  assert.throws(() => splitInsideRoot('/r', '/r/' + 'd/'.repeat(2100) + 'x'), /PATH_MAX/);
  assert.throws(() => splitInsideRoot('/r', '/r/' + 'x'.repeat(256)), /NAME_MAX/);
});

test('symlink then file through it: a symlink anywhere in the path is refused (planted or pre-existing)', async () => {
  const { dir, cleanup } = makeScratch();
  try {
    const outside = path.join(dir, 'outside');
    const root = path.join(dir, 'root');
    mkdirSync(outside);
    mkdirSync(path.join(root, 'real'), { recursive: true });
    symlinkSync(outside, path.join(root, 'planted'));
    symlinkSync('real', path.join(root, 'inside-link'));
    symlinkSync('planted', path.join(root, 'chain'));
    assert.is(
      await reasonOf(resolveInsideRoot(root, path.join(root, 'planted/passwd'))),
      'UNSAFE_PATH:symlink-in-path',
    );
    assert.is(
      await reasonOf(resolveInsideRoot(root, path.join(root, 'inside-link/x'))),
      'UNSAFE_PATH:symlink-in-path',
    );
    assert.is(
      await reasonOf(resolveInsideRoot(root, path.join(root, 'chain/x/y'))),
      'UNSAFE_PATH:symlink-in-path',
    );
  } finally {
    cleanup();
  }
});

test('a file where a directory is needed is refused; missing parents are listed shallowest first', async () => {
  const { dir, cleanup } = makeScratch();
  try {
    writeFileSync(path.join(dir, 'file'), '');
    assert.is(
      await reasonOf(resolveInsideRoot(dir, path.join(dir, 'file/x'))),
      'UNSAFE_PATH:not-a-directory-in-path',
    );
    const resolved = await resolveInsideRoot(dir, path.join(dir, 'a/b/c.txt'));
    assert.equal(resolved.missingDirs, [path.join(dir, 'a'), path.join(dir, 'a/b')]);
    assert.is(resolved.existing, null);
    const existing = await resolveInsideRoot(dir, path.join(dir, 'file'));
    assert.ok(existing.existing?.isFile());
  } finally {
    cleanup();
  }
});

test.run();
