import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { readNumericField } from '../../src/archive/readNumericField.js';
import { sumTarHeader, sumTarHeaderBytes } from '../../src/archive/sumTarHeader.js';
import { makeScratch, missingNeeds, run } from '../helpers/env.js';

test('the word-at-a-time sum equals the byte sum, aligned or not, for any bytes', () => {
  let seed = 99;
  const random = (): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed >> 8;
  };
  for (let round = 0; round < 200; round += 1) {
    const buffer = Buffer.alloc(2048);
    const fill = round % 3 === 0 ? 0xff : -1; // all-0xff headers: the largest lane sums
    for (let i = 0; i < buffer.length; i += 1) buffer[i] = fill === -1 ? random() & 0xff : fill;
    for (const offset of [0, 512, 1, 3, 6, 1000]) {
      assert.is(
        sumTarHeader(buffer, offset),
        sumTarHeaderBytes(buffer, offset),
        `round ${round} at ${offset}`,
      );
    }
    // A subarray that starts unaligned in its ArrayBuffer.
    const view = buffer.subarray(5);
    assert.is(sumTarHeader(view, 0), sumTarHeaderBytes(view, 0));
  }
});

const why = missingNeeds({ tools: ['tar'] });
if (why) {
  test.skip('matches the checksums GNU tar stores');
  console.log(`skipped: ${why}`);
} else {
  test('matches the checksum GNU tar stores in every header it writes', () => {
    const { dir, cleanup } = makeScratch();
    try {
      run('sh', [
        '-c',
        `cd ${dir} && mkdir d && echo hi > d/f && ln -s f d/s && printf %0300d 0 > "d/$(printf %0150d 0)"`,
      ]);
      for (const format of ['gnu', 'posix', 'oldgnu']) {
        const archive = path.join(dir, `${format}.tar`);
        run('tar', [`--format=${format}`, '-C', dir, '-cf', archive, 'd']);
        const bytes = readFileSync(archive);
        let headers = 0;
        for (let at = 0; at + 512 <= bytes.length; at += 512) {
          if (bytes[at] === 0) continue;
          const stored = readNumericField(bytes, at + 148, 8);
          const size = readNumericField(bytes, at + 124, 12);
          assert.is(sumTarHeader(bytes, at), stored, `${format} header at ${at}`);
          headers += 1;
          at += Math.ceil(size / 512) * 512;
        }
        assert.ok(headers >= 3, format);
      }
    } finally {
      cleanup();
    }
  });
}

test.run();
