import { createHash } from 'node:crypto';
import {
  linkSync,
  lstatSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { defaultFsOps, type FsOps } from '../../src/apply/fsOps.js';
import { makeTempName, writeFileAtomic } from '../../src/apply/writeFileAtomic.js';
import { makeScratch } from '../helpers/env.js';

const sha = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');

test('writes content, mode and mtime; reports bytes and sha256', async () => {
  const { dir, cleanup } = makeScratch();
  try {
    const target = path.join(dir, 'config.pck');
    const result = await writeFileAtomic(target, Buffer.from('hello'), {
      mode: 0o640,
      mtime: 1_000_000_000,
    });
    assert.equal(result, { bytes: 5, sha256: sha('hello') });
    assert.is(readFileSync(target, 'utf8'), 'hello');
    assert.is(lstatSync(target).mode & 0o7777, 0o640);
    assert.is(lstatSync(target).mtimeMs, 1_000_000_000_000);
  } finally {
    cleanup();
  }
});

test('replace never writes through: an old hard link keeps the old content, a symlink at the target is replaced, not followed', async () => {
  const { dir, cleanup } = makeScratch();
  try {
    const target = path.join(dir, 'config.pck');
    writeFileSync(target, 'old');
    linkSync(target, path.join(dir, 'config.pck.last'));
    await writeFileAtomic(target, Buffer.from('new'), { mode: 0o644 });
    assert.is(readFileSync(path.join(dir, 'config.pck.last'), 'utf8'), 'old');
    const outside = path.join(dir, 'outside');
    writeFileSync(outside, 'precious');
    symlinkSync(outside, path.join(dir, 'planted'));
    await writeFileAtomic(path.join(dir, 'planted'), Buffer.from('x'), { mode: 0o644 });
    assert.is(readFileSync(outside, 'utf8'), 'precious');
    assert.ok(lstatSync(path.join(dir, 'planted')).isFile());
  } finally {
    cleanup();
  }
});

test('ENOSPC mid-write: the old file is intact and no temp file remains', async () => {
  const { dir, cleanup } = makeScratch();
  try {
    const target = path.join(dir, 'f');
    writeFileSync(target, 'old');
    const fsOps: FsOps = {
      ...defaultFsOps,
      open: (async (...args: Parameters<typeof defaultFsOps.open>) => {
        const handle = await defaultFsOps.open(...args);
        (handle as unknown as { write: unknown }).write = async () => {
          throw Object.assign(new Error('ENOSPC: injected'), { code: 'ENOSPC' });
        };
        return handle;
      }) as FsOps['open'],
    };
    await writeFileAtomic(target, Buffer.from('new content'), { mode: 0o644, fsOps }).then(
      () => assert.unreachable('should fail'),
      (error: NodeJS.ErrnoException) => assert.is(error.code, 'ENOSPC'),
    );
    assert.is(readFileSync(target, 'utf8'), 'old');
    assert.equal(readdirSync(dir), ['f']);
  } finally {
    cleanup();
  }
});

test('a size or sha256 mismatch is VERIFY_FAILED before the rename; holes are hashed as zeros but not written', async () => {
  const { dir, cleanup } = makeScratch();
  try {
    const target = path.join(dir, 'f');
    await writeFileAtomic(target, Buffer.from('abc'), {
      mode: 0o644,
      expect: { size: 3, sha256: sha('abd') },
    }).then(
      () => assert.unreachable('should fail'),
      (error: { code?: string }) => assert.is(error.code, 'VERIFY_FAILED'),
    );
    assert.equal(readdirSync(dir), []);
    const size = 4 << 20;
    const data = Buffer.alloc(size);
    data.write('head', 0);
    data.write('tail', size - 4);
    const result = await writeFileAtomic(
      target,
      [Buffer.from('head'), size - 8, Buffer.from('tail')],
      {
        mode: 0o644,
        expect: { size, sha256: sha(data) },
      },
    );
    assert.is(result.sha256, sha(data));
    assert.ok(readFileSync(target).equals(data));
    assert.ok(lstatSync(target).blocks * 512 < 1 << 20, 'the hole stays a hole');
  } finally {
    cleanup();
  }
});

test('temp names stay within NAME_MAX and are hidden', () => {
  const name = makeTempName('x'.repeat(255));
  assert.ok(Buffer.byteLength(name) <= 255);
  assert.match(makeTempName('config.pck'), /^\.config\.pck\.restoreplan-\d+-[0-9a-f]{8}\.tmp$/);
});

test.run();
