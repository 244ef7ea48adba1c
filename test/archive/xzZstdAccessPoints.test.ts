import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import type { AccessPoint } from '../../src/archive/AccessPoint.js';
import { decompressXzFrom } from '../../src/archive/decompressXzFrom.js';
import { decompressZstdFrom } from '../../src/archive/decompressZstdFrom.js';
import { findXzAccessPoints } from '../../src/archive/findXzAccessPoints.js';
import { findZstdAccessPoints } from '../../src/archive/findZstdAccessPoints.js';
import type { ReadAt } from '../../src/archive/openArchive.js';
import { makeScratch, missingNeeds, rejectionCode } from '../helpers/env.js';

const why = missingNeeds({ tools: ['xz', 'zstd'] });
// pzstd ships in Debian's zstd package (scripts/install-test-tools.sh installs that).
const whyPzstd = missingNeeds({ tools: ['pzstd'] });

/** Compressible, not trivially so: a text-like mix, the same every run. */
function makeData(bytes: number, seed: number): Buffer {
  const data = Buffer.alloc(bytes);
  let state = seed >>> 0 || 1;
  const words = ['mailman ', 'archive ', 'restore ', 'inode ', 'block ', '\n', 'list/', '0x'];
  for (let at = 0; at < bytes;) {
    state = (state * 1103515245 + 12345) >>> 0;
    const word = state & 0x10 ? words[state >>> 29]! : String(state % 99991);
    at += data.write(word, at, 'latin1');
  }
  return data;
}

const tool = (command: string, args: string[], input?: Buffer): Buffer =>
  execFileSync(command, args, { input, maxBuffer: 1 << 28 });

async function withFile<T>(
  bytes: Buffer,
  body: (readAt: ReadAt, size: number) => Promise<T>,
): Promise<T> {
  const { dir, cleanup } = makeScratch();
  const file = path.join(dir, 'archive');
  writeFileSync(file, bytes);
  const handle = await open(file, 'r');
  try {
    const readAt: ReadAt = async (buffer, length, position) =>
      (await handle.read(buffer, 0, length, position)).bytesRead;
    return await body(readAt, bytes.length);
  } finally {
    await handle.close();
    cleanup();
  }
}

async function collect(chunks: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of chunks) parts.push(chunk);
  return Buffer.concat(parts);
}

/** The block offsets xz itself lists (`xz --robot -lv`: block, stream, #, # in file, in, out): [compressed, uncompressed] each. */
function xzListedBlocks(file: Buffer): Array<[number, number]> {
  const { dir, cleanup } = makeScratch();
  try {
    const name = path.join(dir, 'f.xz');
    writeFileSync(name, file);
    const listing = tool('xz', ['--robot', '-lv', name]).toString('utf8');
    return listing
      .split('\n')
      .filter((line) => line.startsWith('block\t'))
      .map((line) => {
        const fields = line.split('\t');
        return [Number(fields[4]), Number(fields[5])] as [number, number];
      });
  } finally {
    cleanup();
  }
}

type Format = 'xz' | 'zstd';
const find = (format: Format, readAt: ReadAt, size: number): Promise<AccessPoint[]> =>
  format === 'xz' ? findXzAccessPoints(readAt, size) : findZstdAccessPoints(readAt, size);
const from = (format: Format, readAt: ReadAt, size: number, point: AccessPoint) =>
  format === 'xz' ? decompressXzFrom(readAt, size, point) : decompressZstdFrom(readAt, size, point);

/** Every point's output equals the tool's whole output sliced there; returns the points. */
async function checkEveryPoint(format: Format, file: Buffer, expected: Buffer) {
  const whole = tool(format, ['-dc'], file);
  assert.ok(whole.equals(expected), `${format} -dc gives the original back`);
  return withFile(file, async (readAt, size) => {
    const points = await find(format, readAt, size);
    for (const [i, point] of points.entries()) {
      assert.is(point.bits, 0);
      assert.is(point.window, null);
      if (i > 0) assert.ok(point.outputOffset >= points[i - 1]!.outputOffset, 'in order');
      const out = await collect(from(format, readAt, size, point));
      assert.ok(
        out.equals(whole.subarray(point.outputOffset)),
        `${format} point ${i} (in ${point.inputOffset}, out ${point.outputOffset}): ${out.length} bytes`,
      );
    }
    return points;
  });
}

if (why) {
  test.skip('xz and zstd access points');
  console.log(`skipped: ${why}`);
} else {
  const data = makeData(2 * 1024 * 1024 + 12345, 7);

  test('xz -T2 --block-size=64KiB: a point per block, where xz lists them', async () => {
    const file = tool('xz', ['-T2', '--block-size=64KiB', '-c'], data);
    const points = await checkEveryPoint('xz', file, data);
    const listed = xzListedBlocks(file);
    assert.ok(listed.length > 30, `${listed.length} blocks`);
    assert.equal(
      points.map((p) => [p.inputOffset, p.outputOffset]),
      listed,
    );
  });

  test('two concatenated xz streams with stream padding between and after', async () => {
    const second = makeData(700 * 1024, 11);
    const file = Buffer.concat([
      tool('xz', ['-T2', '--block-size=100KiB', '--check=crc32', '-c'], data),
      Buffer.alloc(8),
      tool('xz', ['-T2', '--block-size=128KiB', '--check=sha256', '-c'], second),
      Buffer.alloc(4),
    ]);
    const points = await checkEveryPoint('xz', file, Buffer.concat([data, second]));
    assert.equal(
      points.map((p) => [p.inputOffset, p.outputOffset]),
      xzListedBlocks(file),
    );
    assert.ok(
      points.some((p) => p.outputOffset === data.length),
      'the 2nd stream starts a point',
    );
  });

  test('a single-block xz (xz -c) gives no points', async () => {
    const points = await checkEveryPoint('xz', tool('xz', ['-c'], data), data);
    assert.equal(points, []);
  });

  test('a truncated or damaged xz index gives no points; a damaged block fails, not lies', async () => {
    const file = tool('xz', ['-T2', '--block-size=64KiB', '-c'], data);
    for (const cut of [file.length - 1, file.length - 12, file.length >> 1]) {
      await withFile(file.subarray(0, cut), async (readAt, size) =>
        assert.equal(await findXzAccessPoints(readAt, size), [], `cut at ${cut}`),
      );
    }
    const badIndex = Buffer.from(file);
    badIndex[badIndex.length - 20]! ^= 0x01; // inside the index, before its CRC32
    await withFile(badIndex, async (readAt, size) =>
      assert.equal(await findXzAccessPoints(readAt, size), []),
    );
    await withFile(Buffer.concat([file, Buffer.from('junk')]), async (readAt, size) =>
      assert.equal(await findXzAccessPoints(readAt, size), []),
    );
    await withFile(Buffer.alloc(4096), async (readAt, size) =>
      assert.equal(await findXzAccessPoints(readAt, size), []),
    );
    const points = await withFile(file, (readAt, size) => findXzAccessPoints(readAt, size));
    const late = points[points.length - 3]!;
    const damaged = Buffer.from(file);
    damaged[late.inputOffset + 200]! ^= 0x40;
    await withFile(damaged, async (readAt, size) => {
      assert.is(
        await rejectionCode(collect(decompressXzFrom(readAt, size, late))),
        'COMPRESSION_CORRUPT',
      );
      // A point the file does not have (it changed since) is refused, not decoded from.
      const moved = { ...late, inputOffset: late.inputOffset + 4 };
      assert.is(
        await rejectionCode(collect(decompressXzFrom(readAt, size, moved))),
        'COMPRESSION_CORRUPT',
      );
    });
  });

  /** zstd frames compressed from files: each records its Frame_Content_Size. */
  function zstdOfFile(part: Buffer, args: string[] = []): Buffer {
    const { dir, cleanup } = makeScratch();
    try {
      const name = path.join(dir, 'part');
      writeFileSync(name, part);
      tool('zstd', ['-q', ...args, name]);
      return readFileSync(`${name}.zst`);
    } finally {
      cleanup();
    }
  }
  const parts = [0, 1, 2, 3, 4].map((i) => makeData(300 * 1024 + i * 4099, 100 + i));

  test('concatenated zstd frames (from files, with a skippable frame between): a point per frame', async () => {
    const skippable = Buffer.alloc(8 + 5);
    skippable.writeUInt32LE(0x184d2a53, 0);
    skippable.writeUInt32LE(5, 4);
    const file = Buffer.concat([
      zstdOfFile(parts[0]!),
      zstdOfFile(parts[1]!, ['--no-check', '-19']),
      skippable,
      zstdOfFile(parts[2]!, ['--long=27']),
      zstdOfFile(parts[3]!, ['-1']),
      zstdOfFile(parts[4]!),
    ]);
    const points = await checkEveryPoint('zstd', file, Buffer.concat(parts));
    let at = 0;
    assert.equal(
      points.map((p) => p.outputOffset),
      parts.map((part) => ((at += part.length), at - part.length)),
    );
  });

  test('zstd frames of unknown size, with the seekable format seek table: points from the table', async () => {
    // Compressed from a pipe: no Frame_Content_Size; the seek table (checksum flag set) gives sizes.
    const frames = parts.map((part) => tool('zstd', ['-q', '-c'], part));
    const entries = frames.map((frame, i) => {
      const entry = Buffer.alloc(12);
      entry.writeUInt32LE(frame.length, 0);
      entry.writeUInt32LE(parts[i]!.length, 4);
      return entry;
    });
    const footer = Buffer.alloc(9);
    footer.writeUInt32LE(frames.length, 0);
    footer[4] = 0x80;
    footer.writeUInt32LE(0x8f92eab1, 5);
    const table = Buffer.concat([Buffer.alloc(8), ...entries, footer]);
    table.writeUInt32LE(0x184d2a5e, 0);
    table.writeUInt32LE(table.length - 8, 4);
    const seekable = Buffer.concat([...frames, table]);
    const points = await checkEveryPoint('zstd', seekable, Buffer.concat(parts));
    assert.is(points.length, parts.length);
    // Without the table the sizes are unknown: no points. With a table that lies: none either.
    await withFile(Buffer.concat(frames), async (readAt, size) =>
      assert.equal(await findZstdAccessPoints(readAt, size), []),
    );
    const lying = Buffer.from(seekable);
    lying.writeUInt32LE(frames[1]!.length + 1, Buffer.concat(frames).length + 8 + 12);
    await withFile(lying, async (readAt, size) =>
      assert.equal(await findZstdAccessPoints(readAt, size), []),
    );
  });

  (whyPzstd ? test.skip : test)(
    'pzstd writes several frames but no content sizes: no points',
    async () => {
      const big = makeData(20 * 1024 * 1024, 3);
      const file = tool('pzstd', ['-q', '-p', '2', '-c'], big);
      assert.ok(file.readUInt32LE(0) === 0x184d2a50, 'pzstd starts with its skippable frame');
      assert.equal(await checkEveryPoint('zstd', file, big), []);
    },
  );

  test('a single zstd frame (zstd -T2 makes one) gives no points', async () => {
    assert.equal(await checkEveryPoint('zstd', zstdOfFile(data, ['-T2']), data), []);
  });

  test('a truncated zstd gives no points; a damaged late frame fails, not lies', async () => {
    const file = Buffer.concat(parts.map((part) => zstdOfFile(part)));
    for (const cut of [file.length - 1, file.length - 5, file.length >> 1]) {
      await withFile(file.subarray(0, cut), async (readAt, size) =>
        assert.equal(await findZstdAccessPoints(readAt, size), [], `cut at ${cut}`),
      );
    }
    await withFile(Buffer.concat([file, Buffer.from('junk')]), async (readAt, size) =>
      assert.equal(await findZstdAccessPoints(readAt, size), []),
    );
    const points = await withFile(file, (readAt, size) => findZstdAccessPoints(readAt, size));
    assert.is(points.length, parts.length);
    const late = points[3]!;
    const damaged = Buffer.from(file);
    damaged[late.inputOffset + 5000]! ^= 0x40;
    await withFile(damaged, async (readAt, size) => {
      assert.is(
        await rejectionCode(collect(decompressZstdFrom(readAt, size, late))),
        'COMPRESSION_CORRUPT',
      );
      const moved = { ...late, inputOffset: late.inputOffset + 1 };
      assert.is(
        await rejectionCode(collect(decompressZstdFrom(readAt, size, moved))),
        'COMPRESSION_CORRUPT',
      );
    });
  });

  test('stopping early ends the decompressor; an aborted signal is ABORTED', async () => {
    const file = tool('xz', ['-T2', '--block-size=64KiB', '-c'], data);
    await withFile(file, async (readAt, size) => {
      const point = (await findXzAccessPoints(readAt, size))[1]!;
      for await (const chunk of decompressXzFrom(readAt, size, point)) {
        assert.ok(chunk.length > 0);
        break;
      }
      const controller = new AbortController();
      let seen = 0;
      const reading = (async () => {
        for await (const chunk of decompressXzFrom(readAt, size, point, {
          signal: controller.signal,
        })) {
          seen += chunk.length;
          controller.abort();
        }
      })();
      assert.is(await rejectionCode(reading), 'ABORTED');
      assert.ok(seen > 0);
    });
  });
}

test.run();
