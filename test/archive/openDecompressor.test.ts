import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { openDecompressor } from '../../src/archive/openDecompressor.js';
import { walkArchive } from '../../src/archive/walkArchive.js';
import { RestoreplanError } from '../../src/errors.js';
import { makeScratch, missingNeeds } from '../helpers/env.js';

const why = missingNeeds({ tools: ['gzip', 'bzip2', 'xz', 'zstd'] });
const TOOLS: Array<['gzip' | 'bzip2' | 'xz' | 'zstd', string[]]> = [
  ['gzip', ['gzip', '-c']],
  ['bzip2', ['bzip2', '-c']],
  ['xz', ['xz', '-c']],
  ['zstd', ['zstd', '-q', '-c']],
];
const original = Buffer.alloc(3 * 1024 * 1024);
for (let i = 0; i < original.length; i += 1) original[i] = (i * 31 + (i >> 12)) & 0xff;

async function decompress(name: (typeof TOOLS)[number][0], input: Buffer): Promise<Buffer> {
  const d = openDecompressor(name);
  d.input!.end(input);
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of d.output) chunks.push(chunk as Buffer);
  } catch (error) {
    throw d.mapError(error);
  }
  await d.finished;
  return Buffer.concat(chunks);
}

if (why) {
  test.skip('round trips and corrupt streams');
  console.log(`skipped: ${why}`);
} else {
  test('each decompressor gives back what the real compressor was given', async () => {
    for (const [name, [command, ...args]] of TOOLS) {
      const compressed = execFileSync(command!, args, { input: original, maxBuffer: 1 << 26 });
      assert.ok((await decompress(name, compressed)).equals(original), name);
    }
  });

  test('a truncated or damaged stream is COMPRESSION_CORRUPT, naming the compression', async () => {
    for (const [name, [command, ...args]] of TOOLS) {
      const compressed = execFileSync(command!, args, { input: original, maxBuffer: 1 << 26 });
      for (const broken of [
        compressed.subarray(0, compressed.length >> 1),
        corruptMiddle(compressed),
      ]) {
        try {
          await decompress(name, broken);
          assert.unreachable(name);
        } catch (error) {
          assert.instance(error, RestoreplanError, `${name}: ${String(error)}`);
          assert.is((error as RestoreplanError).code, 'COMPRESSION_CORRUPT', name);
          assert.is((error as RestoreplanError).details.compression, name);
        }
      }
    }
  });

  test('a missing system decompressor is DECOMPRESSOR_MISSING naming the Debian package', async () => {
    const { dir, cleanup } = makeScratch();
    const savedPath = process.env.PATH;
    try {
      const archive = path.join(dir, 'x.tar.zst');
      writeFileSync(archive, execFileSync('zstd', ['-q', '-c'], { input: Buffer.alloc(10240) }));
      mkdirSync(path.join(dir, 'empty-bin'));
      process.env.PATH = path.join(dir, 'empty-bin');
      for (const [name, pkg] of [
        ['zstd', 'zstd'],
        ['xz', 'xz-utils'],
        ['bzip2', 'bzip2'],
      ] as const) {
        const d = openDecompressor(name);
        d.input!.end(Buffer.alloc(10));
        let error: unknown = null;
        try {
          for await (const _ of d.output) void _;
        } catch (thrown) {
          error = d.mapError(thrown);
        }
        const finished = await d.finished.then(
          () => null,
          (e: unknown) => e,
        );
        assert.is(finished, error, 'the reader and the exit status agree');
        assert.instance(error, RestoreplanError);
        assert.is((error as RestoreplanError).code, 'DECOMPRESSOR_MISSING');
        assert.is((error as RestoreplanError).details.package, pkg);
        assert.match((error as Error).message, `apt-get install ${pkg}`);
      }
      const walked = await walkArchive(archive, { onEntry: () => undefined }).then(
        () => null,
        (e: unknown) => e,
      );
      assert.is((walked as RestoreplanError | null)?.code, 'DECOMPRESSOR_MISSING');
    } finally {
      process.env.PATH = savedPath;
      cleanup();
    }
  });
}

function corruptMiddle(compressed: Buffer): Buffer {
  const copy = Buffer.from(compressed);
  for (let i = copy.length >> 1; i < (copy.length >> 1) + 64; i += 1) copy[i] = copy[i]! ^ 0x5a;
  return copy;
}

test.run();
