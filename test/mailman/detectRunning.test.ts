import { spawnSync } from 'node:child_process';
import { linkSync, mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import {
  detectLocks,
  detectMailmanRunning,
  isPidAlive,
  parseLockOwner,
} from '../../src/mailman/detectRunning.js';
import { makeScratch } from '../helpers/env.js';

/** A pid that surely belongs to no process: one that just exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(child.stdout.toString());
}

/** A lock as Mailman's LockFile leaves it: claim file naming itself, lock hard-linked to it. */
function makeLock(
  locks: string,
  list: string,
  host: string,
  pid: number,
  expiresSec: number,
  linked = true,
): void {
  const lockFile = path.join(locks, `${list}.lock`);
  const claim = `${lockFile}.${host}.${pid}.12345`;
  writeFileSync(claim, claim);
  if (linked) linkSync(claim, lockFile);
  else writeFileSync(lockFile, claim);
  utimesSync(lockFile, expiresSec, expiresSec);
}

test('Mailman runs when data/master-qrunner.pid names a live process', async () => {
  const { dir, cleanup } = makeScratch();
  try {
    assert.equal(await detectMailmanRunning(dir), {
      running: false,
      pid: null,
      pidFile: path.join(dir, 'data', 'master-qrunner.pid'),
      stalePidFile: false,
    });
    mkdirSync(path.join(dir, 'data'));
    writeFileSync(path.join(dir, 'data', 'master-qrunner.pid'), `${process.pid}\n`);
    const live = await detectMailmanRunning(dir);
    assert.is(live.running, true);
    assert.is(live.pid, process.pid);
    const dead = deadPid();
    assert.is(isPidAlive(dead), false);
    writeFileSync(path.join(dir, 'data', 'master-qrunner.pid'), `${dead}\n`);
    const stale = await detectMailmanRunning(dir);
    assert.is(stale.running, false);
    assert.is(stale.stalePidFile, true);
  } finally {
    cleanup();
  }
});

test('a pid file that is not a regular file (a fifo) is not read: no hang, no pid', async () => {
  const { dir, cleanup } = makeScratch();
  try {
    mkdirSync(path.join(dir, 'data'));
    spawnSync('mkfifo', [path.join(dir, 'data', 'master-qrunner.pid')]);
    const state = await Promise.race([
      detectMailmanRunning(dir),
      new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), 3000).unref()),
    ]);
    assert.not.equal(state, 'hung', 'reading a fifo blocks until a writer comes');
    assert.is(state !== 'hung' && state.pid, null);
  } finally {
    cleanup();
  }
});

test('a list lock is held by a live owner until it expires; a dead owner or expiry frees it', async () => {
  const { dir, cleanup } = makeScratch();
  try {
    const locks = path.join(dir, 'locks');
    mkdirSync(locks);
    const host = os.hostname();
    const now = Date.now() / 1000;
    makeLock(locks, 'live', host, process.pid, now + 600);
    makeLock(locks, 'dead', host, deadPid(), now + 600);
    makeLock(locks, 'expired', host, process.pid, now - 60);
    makeLock(locks, 'remote', 'other.example.org', 1, now + 600);
    makeLock(locks, 'remote-unlinked', 'other.example.org', 1, now + 600, false);
    const result = await detectLocks(dir);
    const held = Object.fromEntries(result.map((l) => [l.name, l.held]));
    assert.equal(held, {
      dead: false,
      expired: false,
      live: true,
      remote: true,
      'remote-unlinked': false,
    });
    const live = result.find((l) => l.name === 'live');
    assert.is(live?.linkCount, 2);
    assert.equal(live?.owner, { host, pid: process.pid });
    assert.is(live?.ownerAlive, true);
  } finally {
    cleanup();
  }
});

test('parses both claim-file names of LockFile (with and without the random suffix)', () => {
  assert.equal(parseLockOwner('/v/locks/x.lock.mail.example.org.123.456\n', '/v/locks/x.lock'), {
    host: 'mail.example.org',
    pid: 123,
  });
  assert.equal(parseLockOwner('/v/locks/x.lock.mail.77', '/v/locks/x.lock'), {
    host: 'mail',
    pid: 77,
  });
  assert.is(parseLockOwner('garbage', '/v/locks/x.lock'), null);
});

test.run();
