import { createHash } from 'node:crypto';
import {
  linkSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { rewriteInPlace } from '../../src/apply/rewriteInPlace.js';
import { makeScratch } from '../helpers/env.js';

const sha = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');

test('rewrites the same inode (no new inode), shrinking or growing, and secures a copy first', async () => {
  const { dir, cleanup } = makeScratch();
  try {
    const target = path.join(dir, 'config.pck');
    writeFileSync(target, Buffer.alloc(100)); // a zeroed config, as a crash leaves it
    const inode = lstatSync(target).ino;
    const secureDir = path.join(dir, 'secure');
    mkdirSync(secureDir);
    const data = Buffer.from('good content');
    const result = await rewriteInPlace(target, data, {
      mode: 0o660,
      expect: { size: data.length, sha256: sha(data) },
      secureDir,
    });
    assert.is(readFileSync(target, 'utf8'), 'good content');
    assert.is(lstatSync(target).ino, inode);
    assert.is(result.securedCopy, path.join(secureDir, `${sha(data)}.member`));
    assert.equal(readFileSync(result.securedCopy ?? ''), data);
    const bigger = Buffer.alloc(300, 'y');
    await rewriteInPlace(target, bigger, { mode: 0o660, expect: { size: 300 } });
    assert.ok(readFileSync(target).equals(bigger));
    assert.equal(readdirSync(dir).sort(), ['config.pck', 'secure']);
  } finally {
    cleanup();
  }
});

test('refuses unverified data, a symlink (swap attack), and a file with another hard link', async () => {
  const { dir, cleanup } = makeScratch();
  try {
    const target = path.join(dir, 'config.pck');
    writeFileSync(target, 'old');
    const code = (p: Promise<unknown>): Promise<string> =>
      p.then(
        () => 'ok',
        (e: { code?: string }) => String(e.code),
      );
    assert.is(
      await code(
        rewriteInPlace(target, Buffer.from('x'), {
          mode: 0o644,
          expect: { size: 1, sha256: sha('y') },
        }),
      ),
      'VERIFY_FAILED',
    );
    const outside = path.join(dir, 'outside');
    writeFileSync(outside, 'precious');
    symlinkSync(outside, path.join(dir, 'link'));
    assert.is(
      await code(
        rewriteInPlace(path.join(dir, 'link'), Buffer.from('x'), {
          mode: 0o644,
          expect: { size: 1 },
        }),
      ),
      'UNSAFE_PATH',
    );
    assert.is(readFileSync(outside, 'utf8'), 'precious');
    linkSync(target, path.join(dir, 'config.pck.last'));
    assert.is(
      await code(rewriteInPlace(target, Buffer.from('x'), { mode: 0o644, expect: { size: 1 } })),
      'WRITE_FAILED',
    );
    assert.is(readFileSync(target, 'utf8'), 'old');
  } finally {
    cleanup();
  }
});

test.run();
