/**
 * decodeSparseMap on the maps GNU tar and bsdtar really write, in all four encodings, for a
 * file with 30 data regions (enough for two old GNU extension blocks); the truth is Python's
 * tarfile, which reads every one of them. Then what a lying or hostile map looks like.
 */
import { mkdirSync, openSync, closeSync, ftruncateSync, readFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';

import {
  decodeOldGnuSparseExtension,
  decodeOldGnuSparseHeader,
  decodePaxSparseMap,
  MAX_SPARSE_EXTENTS,
  pairExtents,
  readOldGnuRealSize,
  SparseMapDecoder,
} from '../../src/archive/decodeSparseMap.js';
import { readNumericField } from '../../src/archive/readNumericField.js';
import { parsePaxRecords } from '../../src/archive/parsePaxRecords.js';
import { RestoreplanError } from '../../src/errors.js';
import { makeScratch, missingNeeds, run } from '../helpers/env.js';
import { readWithTarfile } from './fixtures/buildSourceTree.js';

const why = missingNeeds({ tools: ['tar', 'bsdtar', 'python3'] });
const Sparse = suite('decodeSparseMap');

const scratch = why ? null : makeScratch('restoreplan-sparse-');
const root = scratch?.dir ?? '';
const REGIONS = 30;
const REAL_SIZE = 4 * 1024 * 1024;

Sparse.before(() => {
  if (why) return;
  mkdirSync(path.join(root, 'src'));
  const fd = openSync(path.join(root, 'src/holes.img'), 'w');
  ftruncateSync(fd, REAL_SIZE);
  for (let i = 0; i < REGIONS; i += 1)
    writeSync(fd, Buffer.alloc(100 + i, 0x78), 0, 100 + i, i * 131072 + 5000);
  closeSync(fd);
});
Sparse.after(() => scratch?.cleanup());

/** Archives `holes.img` and returns its bytes and tarfile's view of the member (data extents only). */
function archive(
  name: string,
  tool: string,
  flags: string[],
): {
  bytes: Buffer;
  extents: Array<[number, number]>;
  offset: number;
  offsetData: number;
  size: number;
} {
  const file = path.join(root, name);
  run(tool, [...flags, '-C', path.join(root, 'src'), '-cf', file, 'holes.img']);
  const [member] = readWithTarfile(file);
  assert.ok(member?.sparse, `${name}: tarfile sees a sparse member`);
  return {
    bytes: readFileSync(file),
    // GNU tar ends pax maps with an empty extent at the real size; it is no data.
    extents: member.sparse.filter(([, length]) => length > 0),
    offset: member.offset,
    offsetData: member.offsetData,
    size: member.size,
  };
}

/** The pax records of the x header at `at`, in order: key, data, value start, value end. */
function paxRecords(bytes: Buffer, at: number): Array<[string, Buffer, number, number]> {
  const size = readNumericField(bytes, at + 124, 12);
  const data = bytes.subarray(at + 512, at + 512 + size);
  const records: Array<[string, Buffer, number, number]> = [];
  parsePaxRecords(data, size, at, (key, buf, start, end) => records.push([key, buf, start, end]));
  return records;
}

if (why) {
  Sparse.skip('maps as GNU tar and bsdtar write them');
  console.log(`skipped: ${why}`);
} else {
  Sparse('old GNU: four extents in the header, the rest in extension blocks', () => {
    const { bytes, extents, offset, offsetData, size } = archive('gnu.tar', 'tar', [
      '--format=gnu',
      '--sparse',
    ]);
    assert.is(extents.length, REGIONS);
    assert.is(String.fromCharCode(bytes[offset + 156]!), 'S');
    const list: Array<[number, number]> = [];
    let more = decodeOldGnuSparseHeader(bytes, offset, list, offset);
    assert.is(list.length, 4);
    let blocks = 0;
    for (let at = offset + 512; more; at += 512) {
      more = decodeOldGnuSparseExtension(bytes, at, list, at);
      blocks += 1;
    }
    assert.is(blocks, 2, '4 + 21 + 5 extents');
    assert.is(offset + 512 + blocks * 512, offsetData, 'the data follows the last extension block');
    assert.equal(list, extents);
    assert.is(readOldGnuRealSize(bytes, offset), REAL_SIZE);
    assert.is(size, REAL_SIZE);
  });

  Sparse('pax 0.0 (offset/numbytes records) and 0.1 (GNU.sparse.map)', () => {
    const v00 = archive('pax00.tar', 'tar', ['--format=posix', '--sparse', '--sparse-version=0.0']);
    const flat: number[] = [];
    for (const [key, buf, start, end] of paxRecords(v00.bytes, v00.offset)) {
      if (key === 'GNU.sparse.offset' || key === 'GNU.sparse.numbytes')
        flat.push(Number(buf.toString('latin1', start, end)));
    }
    assert.equal(pairExtents(flat), v00.extents, '0.0');

    const v01 = archive('pax01.tar', 'tar', ['--format=posix', '--sparse', '--sparse-version=0.1']);
    const record = paxRecords(v01.bytes, v01.offset).find(([key]) => key === 'GNU.sparse.map');
    assert.ok(record, 'GNU.sparse.map record');
    const [, buf, start, end] = record;
    const map = decodePaxSparseMap(buf, start, end);
    assert.ok(map);
    assert.is(map.length, 2 * REGIONS + 2, 'GNU tar ends the map with [realsize, 0]');
    assert.equal(pairExtents(map), v01.extents, '0.1');
  });

  Sparse('pax 1.0: the map at the start of the data, read block by block (GNU tar, bsdtar)', () => {
    for (const [name, tool, flags] of [
      ['pax10.tar', 'tar', ['--format=posix', '--sparse', '--sparse-version=1.0']],
      ['bsdtar-pax.tar', 'bsdtar', ['--format', 'pax']],
    ] as const) {
      const { bytes, extents, offset, offsetData } = archive(name, tool, [...flags]);
      // The member's own header follows its x header; the map follows that.
      const xSize = readNumericField(bytes, offset + 124, 12);
      const own = offset + 512 + Math.ceil(xSize / 512) * 512;
      const stored = readNumericField(bytes, own + 124, 12);
      const decoder = new SparseMapDecoder();
      decoder.start(own, stored);
      let at = own + 512;
      while (!decoder.readBlock(bytes, at)) at += 512;
      assert.is(own + 512 + decoder.bytes, offsetData, `${name}: the data follows the map`);
      assert.equal(decoder.extents(), extents, name);
      // Reused for the next member: start() forgets the last map.
      decoder.start(own, stored);
      assert.ok(decoder.readBlock(bytes, own + 512), `${name}: read again`);
      assert.equal(decoder.extents(), extents, `${name}: again`);
    }
  });
}

Sparse('GNU.sparse.map values: comma-separated decimal pairs, or null', () => {
  const table: ReadonlyArray<readonly [string, number[] | null]> = [
    ['0,5,990,0', [0, 5, 990, 0]],
    ['', []],
    ['0,5,1', null],
    ['a,b', null],
    ['1,,2,3', null],
    [',', null],
    ['1,2,', null],
    ['-1,2', null],
    ['1 ,2', null],
  ];
  for (const [text, expected] of table) {
    const buf = Buffer.from(`x=${text}`);
    assert.equal(decodePaxSparseMap(buf, 2, buf.length), expected, JSON.stringify(text));
  }
  const tooMany = Buffer.from(
    Array(2 * MAX_SPARSE_EXTENTS + 2)
      .fill('1')
      .join(','),
  );
  assert.is(decodePaxSparseMap(tooMany, 0, tooMany.length), null, 'more than MAX_SPARSE_EXTENTS');
});

Sparse('pairExtents drops the empty extents GNU tar ends its maps with', () => {
  assert.equal(pairExtents([0, 5, 990, 0]), [[0, 5]]);
  assert.equal(pairExtents([]), []);
  assert.equal(pairExtents([0, 0, 10, 3]), [[10, 3]]);
});

Sparse('a pax 1.0 map that lies is ARCHIVE_HEADER, with what is wrong', () => {
  const block = (text: string): Buffer => {
    const b = Buffer.alloc(512);
    b.write(text, 'latin1');
    return b;
  };
  const table: ReadonlyArray<readonly [string, string, number, RegExp]> = [
    ['a letter', '1\nx\n', 1024, /not a decimal number per line/],
    ['an empty line', '1\n\n', 1024, /not a decimal number per line/],
    ['a 17-digit number', `1\n${'1'.repeat(17)}\n`, 1024, /number too long/],
    ['too many extents', `${MAX_SPARSE_EXTENTS + 1}\n`, 1 << 30, /too many extents/],
    [
      'a map past the member',
      `1000\n${'1\n'.repeat(252)}12\n`,
      512,
      /does not end inside the member/,
    ],
    ['a map as long as the member', '1\n0\n1\n', 100, /longer than the member/],
  ];
  for (const [what, text, stored, message] of table) {
    const decoder = new SparseMapDecoder();
    try {
      decoder.start(4096, stored);
      decoder.readBlock(block(text), 0);
      assert.unreachable(what);
    } catch (error) {
      assert.instance(error, RestoreplanError, what);
      assert.is((error as RestoreplanError).code, 'ARCHIVE_HEADER', what);
      assert.match((error as Error).message, message, what);
      assert.match((error as Error).message, /offset 4096/, what);
    }
  }
  assert.throws(() => new SparseMapDecoder().start(0, 0), /stores no sparse map/);
  // A map spans blocks when it has many extents; a number cut by a block boundary is one number.
  const pairs: Array<[number, number]> = [];
  for (let i = 0; i < 100; i += 1) pairs.push([i * 100_000, 1 + i]);
  const text = `${pairs.length}\n${pairs.map(([o, l]) => `${o}\n${l}\n`).join('')}`;
  const map = Buffer.alloc(Math.ceil(text.length / 512) * 512);
  map.write(text, 'latin1');
  assert.ok(map[511]! >= 0x30 && map[512]! >= 0x30, 'a number straddles the first boundary');
  const decoder = new SparseMapDecoder();
  decoder.start(0, map.length + 512);
  let at = 0;
  while (!decoder.readBlock(map, at)) at += 512;
  assert.is(decoder.bytes, map.length);
  assert.equal(decoder.extents(), pairs);
});

Sparse.run();
