import {
  appendFileSync,
  openSync,
  readSync,
  closeSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import {
  fingerprintArchiveFile,
  fingerprintAsStream,
  StreamFingerprint,
} from '../../src/archive/fingerprintArchive.js';
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

function digestOf(chunks: Buffer[]): string {
  const fp = new StreamFingerprint();
  for (const chunk of chunks) fp.update(chunk);
  return fp.digest();
}

test('a stream fingerprint is of every byte and the length, not of the chunking', () => {
  const data = Buffer.alloc(200 * 1024);
  for (let i = 0; i < data.length; i += 1) data[i] = i & 0xff;
  const whole = digestOf([data]);
  assert.is(digestOf([data.subarray(0, 1), data.subarray(1, 70000), data.subarray(70000)]), whole);
  assert.is.not(digestOf([data.subarray(0, data.length - 1)]), whole);
  const changedHead = Buffer.from(data);
  changedHead[10] = 99;
  assert.is.not(digestOf([changedHead]), whole);
  // Last night's backup of the same files: same first 64 KiB, same length, one byte differs
  // in the middle. v1 (first 64 KiB + length) took it for the same stream.
  const changedMiddle = Buffer.from(data);
  changedMiddle[150 * 1024] = (changedMiddle[150 * 1024] ?? 0) ^ 1;
  assert.is.not(digestOf([changedMiddle]), whole);
});

test('it is sha256 of the bytes, then the version tag and the length', () => {
  const data = Buffer.alloc(11 * 1024 * 1024 + 4321);
  for (let i = 0; i < data.length; i += 1) data[i] = (i * 31 + (i >> 12)) & 0xff;
  const expected = createHash('sha256')
    .update(data)
    .update(`\nrestoreplan-stream-v2 length=${data.length}\n`)
    .digest('hex');
  const chunks: Buffer[] = [];
  for (let at = 0, i = 0; at < data.length; i += 1) {
    const size = [65536, 1, 777777, 3 * 1024 * 1024][i % 4] ?? 1;
    chunks.push(data.subarray(at, at + size));
    at += size;
  }
  assert.is(digestOf(chunks), `sha256:${expected}`);
  const small = data.subarray(0, 1000);
  assert.is(
    digestOf([small]),
    `sha256:${createHash('sha256').update(small).update(`\nrestoreplan-stream-v2 length=${small.length}\n`).digest('hex')}`,
  );
  assert.is(digestOf([]), digestOf([Buffer.alloc(0)]));
});

test('the bytes of a file fingerprinted as a stream match the stream they were saved from', async () => {
  const { dir, cleanup } = makeScratch();
  try {
    const data = Buffer.alloc(3 * 1024 * 1024 + 123);
    for (let i = 0; i < data.length; i += 1) data[i] = (i * 7) & 0xff;
    const file = path.join(dir, 'saved.tar');
    writeFileSync(file, data);
    const streamed = digestOf([data.subarray(0, 5000), data.subarray(5000)]);
    const fd = openSync(file, 'r');
    try {
      const saved = await fingerprintAsStream(async (buffer, length, position) =>
        readSync(fd, buffer, 0, length, position),
      );
      assert.equal(saved, { fingerprint: streamed, length: data.length });
    } finally {
      closeSync(fd);
    }
  } finally {
    cleanup();
  }
});

test.run();
