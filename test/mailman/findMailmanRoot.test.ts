import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { isRestoreplanError } from '../../src/errors.js';
import {
  createMailmanDetector,
  findMailmanRoot,
  findMailmanRootInPaths,
  listNamesAt,
} from '../../src/mailman/findMailmanRoot.js';
import { makeScratch } from '../helpers/env.js';

function makeVarDir(root: string, lists: Record<string, string>): void {
  for (const [name, file] of Object.entries(lists)) {
    mkdirSync(path.join(root, 'lists', name), { recursive: true });
    writeFileSync(path.join(root, 'lists', name, file), '');
  }
  mkdirSync(path.join(root, 'qfiles'), { recursive: true });
}

async function code(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'none';
  } catch (error) {
    return isRestoreplanError(error) ? error.code : String(error);
  }
}

test('finds the var dir itself, or the one var dir below a parent', async () => {
  const { dir, cleanup } = makeScratch();
  try {
    const varDir = path.join(dir, 'var', 'lib', 'mailman');
    // Mailman's list_exists: any of the four config files makes a list; a bare dir does not.
    makeVarDir(varDir, { a: 'config.pck', b: 'config.db.last', c: 'config.pck.last' });
    mkdirSync(path.join(varDir, 'lists', 'empty-dir'));
    assert.equal(await listNamesAt(varDir), ['a', 'b', 'c']);
    assert.is(await findMailmanRoot(varDir), varDir);
    assert.is(await findMailmanRoot(dir), varDir);
    makeVarDir(path.join(dir, 'other'), { x: 'config.pck' });
    assert.is(await code(findMailmanRoot(dir)), 'MAILMAN_NOT_FOUND', 'two var dirs: ambiguous');
    assert.is(
      await code(findMailmanRoot(path.join(dir, 'var', 'lib', 'mailman', 'qfiles'))),
      'MAILMAN_NOT_FOUND',
    );
  } finally {
    cleanup();
  }
});

test('detects the var dir and its lists from memberPaths, one at a time', () => {
  const paths = [
    'var/lib/mailman/lists/a/config.pck',
    'var/lib/mailman/lists/a/config.pck.last',
    'var/lib/mailman/lists/b/config.db',
    'var/lib/mailman/archives/private/a/2024-June/000001.html',
    'var/lib/mailman/archives/private/lists/x/index.html',
    'home/user/lists/notes.txt',
    'srv/old/lists/z/config.pck',
  ];
  const detector = createMailmanDetector();
  for (const p of paths) detector.add(p);
  assert.equal(detector.result(), { root: 'var/lib/mailman', lists: ['a', 'b'] });
  assert.equal(findMailmanRootInPaths(['lists/solo/config.pck', 'qfiles/in/1.pck']), {
    root: '',
    lists: ['solo'],
  });
  assert.is(findMailmanRootInPaths(['etc/passwd', 'lists/x/readme']), null);
});

test.run();
