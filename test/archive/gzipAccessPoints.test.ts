import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import type { AccessPoint } from '../../src/archive/AccessPoint.js';
import { createGzipIndexer } from '../../src/archive/createGzipIndexer.js';
import { inflateFromAccessPoint } from '../../src/archive/inflateFromAccessPoint.js';
import type { ReadAt } from '../../src/archive/openArchive.js';
import { openDecompressor } from '../../src/archive/openDecompressor.js';
import { hasTool, makeScratch, missingNeeds, rejectionCode } from '../helpers/env.js';

const why = missingNeeds({ tools: ['gzip'] });
const KiB = 1024;
const MiB = 1024 * KiB;

/** Deterministic pseudo-random bytes. */
function randomBytes(size: number, seed: number): Buffer {
  const out = Buffer.alloc(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i += 1) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/**
 * Text-like data: words of a 4096-word vocabulary (compresses about 2:1 in deflate blocks of
 * some 50–100 KiB of output, back-references everywhere), with a 200 KiB run of zeros.
 */
function textBytes(size: number, seed: number): Buffer {
  const noise = randomBytes(size + 4096 * 8, seed);
  const letters = 'etaoinshrdlucmfwypvbgkqjxz';
  const vocabulary: string[] = [];
  for (let i = 0; i < 4096; i += 1) {
    const length = 2 + (noise[i * 8]! % 8);
    let word = '';
    for (let j = 1; j <= length; j += 1) word += letters[(noise[i * 8 + j]! % 13) + (j & 1) * 13];
    vocabulary.push(word);
  }
  const parts: string[] = [];
  let length = 0;
  for (let i = 4096 * 8; length < size; i += 2) {
    const word = vocabulary[((noise[i]! << 8) | noise[i + 1]!) & 4095]!;
    parts.push(word, i % 26 === 0 ? '.\n' : ' ');
    length += word.length + 1;
  }
  const text = Buffer.from(parts.join('')).subarray(0, size);
  text.fill(0, size >> 1, (size >> 1) + 200 * KiB);
  return text;
}

function compress(command: string, args: string[], data: Buffer): Buffer {
  return execFileSync(command, [...args, '-c'], { input: data, maxBuffer: 1 << 28 });
}

function gunzipTool(gz: Buffer): Buffer {
  return execFileSync('gzip', ['-dc'], { input: gz, maxBuffer: 1 << 28 });
}

/** Drives the indexer as walkStream does: raw chunks written with backpressure, output read. */
async function runIndexer(
  gz: Buffer,
  spanBytes?: number,
  chunkBytes = MiB,
): Promise<{ output: Buffer; points: AccessPoint[] }> {
  const indexer = createGzipIndexer(spanBytes === undefined ? {} : { spanBytes });
  const d = indexer.decompressor;
  const pumped = (async () => {
    for (let i = 0; i < gz.length; i += chunkBytes) {
      if (!d.input!.write(gz.subarray(i, i + chunkBytes))) await once(d.input!, 'drain');
    }
    d.input!.end();
  })();
  pumped.catch(() => undefined);
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of d.output) chunks.push(chunk as Buffer);
  } catch (error) {
    throw d.mapError(error);
  }
  // As walkStream: once the output ended (zero padding), the pump's wait is cut short.
  await pumped.catch(() => undefined);
  await d.finished;
  return { output: Buffer.concat(chunks), points: indexer.accessPoints() };
}

/** openDecompressor('gzip') on the same input, for the padding/garbage comparisons. */
async function runGunzip(gz: Buffer): Promise<Buffer> {
  const d = openDecompressor('gzip');
  d.input!.end(gz);
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of d.output) chunks.push(chunk as Buffer);
  } catch (error) {
    throw d.mapError(error);
  }
  return Buffer.concat(chunks);
}

function bufferReadAt(file: Buffer): ReadAt {
  return (buffer, length, position) =>
    Promise.resolve(file.copy(buffer, 0, position, Math.min(file.length, position + length)));
}

async function inflateAll(file: Buffer, point: AccessPoint): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of inflateFromAccessPoint(bufferReadAt(file), file.length, point)) {
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** Indexes `gz`, checks the output and EVERY point against `gzip -dc`; returns the points. */
async function checkFile(
  name: string,
  gz: Buffer,
  spanBytes: number,
  chunkBytes = MiB,
): Promise<AccessPoint[]> {
  const expected = gunzipTool(gz);
  const { output, points } = await runIndexer(gz, spanBytes, chunkBytes);
  assert.ok(output.equals(expected), `${name}: the indexer's output is gzip -dc's`);
  assert.ok(points.length >= 2, `${name}: ${points.length} points`);
  let previous = 0;
  for (const point of points) {
    assert.ok(point.outputOffset >= previous + spanBytes, `${name}: one point a span at most`);
    previous = point.outputOffset;
    assert.ok(point.bits >= 0 && point.bits <= 7, `${name}: bits ${point.bits}`);
    const window = point.window!;
    assert.ok(window.length === Math.min(32 * KiB, point.outputOffset), `${name}: window size`);
    assert.ok(
      window.equals(expected.subarray(point.outputOffset - window.length, point.outputOffset)),
      `${name}: the window is the output before the point`,
    );
    const rest = await inflateAll(gz, point);
    assert.ok(
      rest.equals(expected.subarray(point.outputOffset)),
      `${name}: from ${JSON.stringify({ ...point, window: window.length })}`,
    );
  }
  return points;
}

if (why) {
  test.skip('gzip access points');
  console.log(`skipped: ${why}`);
} else {
  const text = textBytes(4 * MiB, 7);
  const random = randomBytes(3 * MiB, 11);

  test('gzip -1, -6, -9: the output is gzip -dc, and every point resumes to the end', async () => {
    const bitsSeen = new Set<number>();
    for (const level of ['-1', '-6', '-9']) {
      const gz = compress('gzip', [level], text);
      for (const point of await checkFile(`gzip ${level}`, gz, 256 * KiB)) bitsSeen.add(point.bits);
    }
    // Points off a byte boundary are the rule in Huffman-coded data: the priming is exercised.
    assert.ok(
      [...bitsSeen].some((bits) => bits > 0),
      `bits seen: ${[...bitsSeen]}`,
    );
  });

  test('a tiny span (64 KiB) makes many points, odd input chunks too', async () => {
    const gz = compress('gzip', ['-6'], text);
    const points = await checkFile('span 64 KiB', gz, 64 * KiB, 4099);
    assert.ok(points.length >= 20, `${points.length} points`);
  });

  test('stored blocks (incompressible data) and a multi-member file (cat a.gz b.gz)', async () => {
    await checkFile('stored', compress('gzip', ['-6'], random), 256 * KiB);
    const a = compress('gzip', ['-6'], text.subarray(0, 3 * MiB));
    const b = compress(
      'gzip',
      ['-9'],
      Buffer.concat([random.subarray(0, MiB), text.subarray(MiB)]),
    );
    const multi = Buffer.concat([a, b, compress('gzip', ['-1'], text.subarray(0, 700 * KiB))]);
    const points = await checkFile('multi-member', multi, 256 * KiB);
    assert.ok(
      points.some((point) => point.inputOffset > a.length),
      'points in the later members',
    );
    // A point at a member header (the file's start): plain gunzip from there.
    const whole = await inflateAll(multi, {
      outputOffset: 0,
      inputOffset: 0,
      bits: 0,
      window: null,
    });
    assert.ok(whole.equals(gunzipTool(multi)));
  });

  test('pigz output (sync-flushed and independent blocks, several threads)', async () => {
    if (!hasTool('pigz')) {
      console.log('skipped: needs pigz');
      return;
    }
    await checkFile('pigz -6', compress('pigz', ['-6', '-p', '2', '-b', '128'], text), 128 * KiB);
    await checkFile('pigz -i', compress('pigz', ['-9', '-i', '-b', '128'], text), 128 * KiB);
  });

  test('zero padding and trailing garbage: as openDecompressor gunzip', async () => {
    const gz = compress('gzip', ['-6'], text);
    const padded = Buffer.concat([gz, Buffer.alloc(10 * KiB)]);
    const plain = await runGunzip(padded);
    assert.ok(plain.equals(text));
    const { output, points } = await runIndexer(padded, 256 * KiB);
    assert.ok(output.equals(plain));
    for (const point of points) {
      assert.ok((await inflateAll(padded, point)).equals(text.subarray(point.outputOffset)));
    }
    const garbage = Buffer.concat([gz, Buffer.from('this is not gzip data')]);
    const [want, got] = [
      await rejectionCode(runGunzip(garbage)),
      await rejectionCode(runIndexer(garbage, 256 * KiB)),
    ];
    assert.is(got, want);
  });

  test('a corrupt or truncated stream is COMPRESSION_CORRUPT (indexing and resuming)', async () => {
    const gz = compress('gzip', ['-6'], text);
    const { points } = await runIndexer(gz, 256 * KiB);
    const damaged = Buffer.from(gz);
    damaged[gz.length >> 1] = damaged[gz.length >> 1]! ^ 0x55;
    const truncated = gz.subarray(0, gz.length - 1000);
    for (const broken of [damaged, truncated]) {
      assert.is(await rejectionCode(runIndexer(broken, 256 * KiB)), 'COMPRESSION_CORRUPT');
    }
    // Resuming: the truncation is always seen. A damaged byte AFTER the point is seen or
    // changes the output (no CRC covers a resumed member: see inflateFromAccessPoint).
    for (const point of points) {
      assert.is(await rejectionCode(inflateAll(truncated, point)), 'COMPRESSION_CORRUPT');
      if (point.inputOffset >= gz.length >> 1) continue;
      try {
        const rest = await inflateAll(damaged, point);
        assert.not.ok(rest.equals(text.subarray(point.outputOffset)), 'damage unnoticed');
      } catch (error) {
        assert.is((error as { code?: string }).code, 'COMPRESSION_CORRUPT');
      }
    }
    // A point that does not fit the file, and the trailer cut off.
    const point = points[0]!;
    const misfit = { ...point, inputOffset: gz.length + 1 };
    assert.is(await rejectionCode(inflateAll(gz, misfit)), 'COMPRESSION_CORRUPT');
    assert.is(
      await rejectionCode(inflateAll(gz.subarray(0, gz.length - 4), point)),
      'COMPRESSION_CORRUPT',
    );
  });

  test('a point with a wrong window or bit offset fails or gives other bytes', async () => {
    const gz = compress('gzip', ['-6'], text);
    const { points } = await runIndexer(gz, 256 * KiB);
    const wrongs: AccessPoint[] = [];
    for (const point of points) {
      wrongs.push({ ...point, window: Buffer.alloc(point.window!.length, 0x20) });
      wrongs.push({ ...point, window: point.window!.subarray(0, point.window!.length - 1) });
      wrongs.push({ ...point, bits: (point.bits + 3) % 8 });
    }
    for (const wrong of wrongs) {
      try {
        const rest = await inflateAll(gz, wrong);
        assert.not.ok(rest.equals(text.subarray(wrong.outputOffset)), 'a wrong point passed');
      } catch (error) {
        assert.is((error as { code?: string }).code, 'COMPRESSION_CORRUPT', String(error));
      }
    }
  });

  test('reads by position from a file, and stops reading when the consumer stops', async () => {
    const { dir, cleanup } = makeScratch();
    const handle = await open(
      (() => {
        const file = path.join(dir, 'random.gz');
        writeFileSync(file, compress('gzip', ['-6'], random));
        return file;
      })(),
      'r',
    );
    try {
      const size = (await handle.stat()).size;
      let reads = 0;
      let readBytes = 0;
      const readAt: ReadAt = async (buffer, length, position) => {
        reads += 1;
        const { bytesRead } = await handle.read(buffer, 0, length, position);
        readBytes += bytesRead;
        return bytesRead;
      };
      const start = { outputOffset: 0, inputOffset: 0, bits: 0, window: null };
      let got = 0;
      for await (const chunk of inflateFromAccessPoint(readAt, size, start)) {
        got += chunk.length;
        if (got >= 300 * KiB) break;
      }
      const readsAtStop = reads;
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.is(reads, readsAtStop, 'no read after the consumer stopped');
      assert.ok(readBytes < size, `${readBytes} of ${size} bytes read`);
      const controller = new AbortController();
      controller.abort();
      const aborted = (async () => {
        for await (const chunk of inflateFromAccessPoint(readAt, size, start, {
          signal: controller.signal,
        })) {
          void chunk;
        }
      })();
      assert.is(await rejectionCode(aborted), 'ABORTED');
    } finally {
      await handle.close();
      cleanup();
    }
  });
}

test.run();
