import { linkSync, mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { createListLockChecker, listOfTargetPath } from '../../src/apply/findLockedLists.js';
import { makeScratch } from '../helpers/env.js';

test('maps targetPaths to their list', () => {
  const root = '/var/lib/mailman';
  assert.is(listOfTargetPath(root, `${root}/lists/alpha/config.pck`), 'alpha');
  assert.is(listOfTargetPath(root, `${root}/archives/private/alpha/2024-May/000001.html`), 'alpha');
  assert.is(listOfTargetPath(root, `${root}/archives/private/alpha.mbox/alpha.mbox`), 'alpha');
  assert.is(listOfTargetPath(root, `${root}/archives/public/alpha`), 'alpha');
  assert.is(listOfTargetPath(root, `${root}/lists`), null);
  assert.is(listOfTargetPath(root, `${root}/qfiles/in/x.pck`), null);
  assert.is(listOfTargetPath(root, '/etc/passwd'), null);
});

test('a lock held by a live process on this host blocks its list; an expired one does not', async () => {
  const { dir, cleanup } = makeScratch();
  try {
    const locks = path.join(dir, 'locks');
    mkdirSync(locks);
    const lock = (name: string, pid: number, expiresInMs: number): void => {
      const claim = path.join(locks, `${name}.lock.${os.hostname()}.${pid}.0`);
      writeFileSync(claim, claim);
      linkSync(claim, path.join(locks, `${name}.lock`));
      const at = new Date(Date.now() + expiresInMs);
      utimesSync(path.join(locks, `${name}.lock`), at, at);
    };
    lock('held', process.pid, 3_600_000);
    lock('expired', process.pid, -3_600_000);
    const check = createListLockChecker();
    assert.match((await check(dir, 'held')) ?? '', /held by pid \d+/);
    assert.is(await check(dir, 'expired'), null);
    assert.is(await check(dir, 'free'), null);
  } finally {
    cleanup();
  }
});

test.run();
