import {
  appendFileSync,
  openSync,
  readSync,
  closeSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { fingerprintArchiveFile, StreamFingerprint } from '../../src/archive/fingerprintArchive.js';
import { makeScratch } from '../helpers/env.js';

async function fingerprintOf(file: string): Promise<string> {
  const fd = openSync(file, 'r');
  try {
    const stat = statSync(file, { bigint: true });
    return await fingerprintArchiveFile(
      async (buffer, length, position) => readSync(fd, buffer, 0, length, position),
      stat,
    );
  } finally {
    closeSync(fd);
  }
}

test('the same file gives the same fingerprint; touching, appending or rewriting changes it', async () => {
  const { dir, cleanup } = makeScratch();
  try {
    const file = path.join(dir, 'a.tar');
    writeFileSync(file, Buffer.alloc(300 * 1024, 1));
    const first = await fingerprintOf(file);
    assert.match(first, /^sha256:[0-9a-f]{64}$/);
    assert.is(await fingerprintOf(file), first);
    const stat = statSync(file);
    utimesSync(file, stat.atime, new Date(stat.mtimeMs + 1000));
    const touched = await fingerprintOf(file);
    assert.is.not(touched, first);
    appendFileSync(file, 'x');
    const appended = await fingerprintOf(file);
    assert.is.not(appended, touched);
    // Same size and mtime but new contents at the end (a restored copy of a different backup).
    const now = statSync(file);
    const bytes = Buffer.alloc(now.size, 2);
    writeFileSync(file, bytes);
    utimesSync(file, now.atime, now.mtime);
    assert.is.not(await fingerprintOf(file), appended);
  } finally {
    cleanup();
  }
});

test('a stream fingerprint depends on its first 64 KiB and its length, not on chunking', () => {
  const data = Buffer.alloc(200 * 1024);
  for (let i = 0; i < data.length; i += 1) data[i] = i & 0xff;
  const digest = (chunks: Buffer[]): string => {
    const fp = new StreamFingerprint();
    for (const chunk of chunks) fp.update(chunk);
    return fp.digest();
  };
  const whole = digest([data]);
  assert.is(digest([data.subarray(0, 1), data.subarray(1, 70000), data.subarray(70000)]), whole);
  assert.is.not(digest([data.subarray(0, data.length - 1)]), whole);
  const changedHead = Buffer.from(data);
  changedHead[10] = 99;
  assert.is.not(digest([changedHead]), whole);
});

test.run();
