import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';

import { copyEntry, type ArchiveEntry } from '../../src/archive/ArchiveEntry.js';
import { TarParser } from '../../src/archive/TarParser.js';
import { RestoreplanError } from '../../src/errors.js';
import { makeScratch, missingNeeds, run } from '../helpers/env.js';
import { buildSourceTree, writeWithPython } from './fixtures/buildSourceTree.js';

const why = missingNeeds({ tools: ['tar', 'python3', 'mkfifo', 'truncate'] });
const Parser = suite('TarParser');

function parse(
  bytes: Buffer,
  chunkSize: number | number[] = bytes.length,
  options: { maxDataBytes?: number; want?: (entry: ArchiveEntry) => boolean } = {},
): { entries: ArchiveEntry[]; data: Map<string, Buffer>; parser: TarParser } {
  const entries: ArchiveEntry[] = [];
  const data = new Map<string, Buffer>();
  const parser = new TarParser({
    maxDataBytes: options.maxDataBytes ?? 1 << 30,
    onEntry: (entry) => {
      entries.push(copyEntry(entry));
      return options.want?.(entry) ? 'data' : undefined;
    },
    onData: (entry, stored) => {
      data.set(entry.memberPath, stored);
    },
  });
  const sizes = Array.isArray(chunkSize) ? chunkSize : [chunkSize];
  let at = 0;
  for (let i = 0; at < bytes.length && !parser.done; i += 1) {
    const size = Math.max(1, sizes[i % sizes.length]!);
    // A copy per chunk, as a stream delivers them: the parser must not keep references.
    parser.push(Buffer.from(bytes.subarray(at, at + size)), at);
    at += size;
  }
  parser.end(bytes.length);
  return { entries, data, parser };
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (error instanceof RestoreplanError) return error.code;
    throw error;
  }
  return 'no error';
}

const scratch = why ? null : makeScratch('restoreplan-parser-');
const root = scratch?.dir ?? '';
let posix = Buffer.alloc(0);
let gnuSparse = Buffer.alloc(0);

Parser.before(() => {
  if (why) return;
  const src = path.join(root, 'src');
  run('mkdir', ['-p', src]);
  const top = buildSourceTree(src, { long: true, fifo: true, sparse: true });
  run('tar', [
    '--format=posix',
    '--sparse',
    '--sparse-version=1.0',
    '-C',
    src,
    '-cf',
    path.join(root, 'p.tar'),
    ...top,
  ]);
  run('tar', ['--format=gnu', '--sparse', '-C', src, '-cf', path.join(root, 'g.tar'), ...top]);
  posix = readFileSync(path.join(root, 'p.tar'));
  gnuSparse = readFileSync(path.join(root, 'g.tar'));
});
Parser.after(() => scratch?.cleanup());

if (why) {
  Parser.skip('chunk boundaries anywhere give the same members and data');
  console.log(`skipped: ${why}`);
} else {
  Parser(
    'chunk boundaries anywhere (1 byte, 511, 513, odd mixes) give the same members and data',
    () => {
      for (const archive of [posix, gnuSparse]) {
        const want = (entry: ArchiveEntry): boolean => entry.type === 'file';
        const whole = parse(archive, archive.length, { want });
        assert.ok(whole.entries.length > 10);
        for (const sizes of [[1], [511], [513], [512], [3, 509, 1024, 7], [100000]]) {
          const split = parse(archive, sizes, { want });
          assert.equal(split.entries, whole.entries, `chunks ${sizes.join()}`);
          assert.equal([...split.data.keys()], [...whole.data.keys()]);
          for (const [key, value] of whole.data) assert.ok(split.data.get(key)!.equals(value), key);
        }
      }
    },
  );

  Parser(
    'cut at any block boundary inside the archive: truncated, never a silent short list',
    () => {
      const whole = parse(posix);
      const end = whole.parser.endOffset - 1024; // the end-of-archive blocks themselves
      const boundaries = new Set<number>();
      for (const entry of whole.entries) {
        boundaries.add(entry.headerOffset + 512);
        boundaries.add(entry.dataOffset + 1);
        boundaries.add(entry.headerOffset + 300);
      }
      for (const cut of boundaries) {
        if (cut >= end) continue;
        const bytes = posix.subarray(0, cut);
        const code = codeOf(() => parse(bytes, 4096));
        // Cut exactly at a member boundary the archive simply lacks its EOF blocks.
        if (code === 'no error') {
          const short = parse(bytes, 4096);
          assert.is(short.parser.warnings[0]?.code, 'missing-eof', `cut ${cut}`);
          continue;
        }
        assert.is(code, cut < 512 ? 'NOT_A_TAR' : 'ARCHIVE_TRUNCATED', `cut at ${cut}`);
      }
    },
  );

  Parser('data beyond maxDataBytes is refused with ARCHIVE_HEADER', () => {
    const want = (entry: ArchiveEntry): boolean =>
      entry.memberPath === 'docs/nested/deeper/deepest/file.bin';
    assert.is(
      codeOf(() => parse(posix, 4096, { want, maxDataBytes: 100 })),
      'ARCHIVE_HEADER',
    );
    assert.is(parse(posix, 4096, { want, maxDataBytes: 3000 }).data.size, 1);
  });

  Parser(
    'a header summed with signed chars (old Sun/GNU tars) is accepted, as GNU tar does',
    () => {
      const file = path.join(root, 'signed.tar');
      writeWithPython(
        `
import io, sys, tarfile
ti = tarfile.TarInfo('caf\\u00e9-\\u00fc.txt'); ti.size = 2
buf = bytearray(ti.tobuf(tarfile.USTAR_FORMAT, 'utf-8', 'strict'))
buf[148:156] = b' ' * 8
signed = sum(b - 256 if b > 127 else b for b in buf)
buf[148:156] = ('%06o' % signed).encode() + b'\\0 '
open(sys.argv[1], 'wb').write(bytes(buf) + b'hi'.ljust(512, b'\\0') + b'\\0' * 1024)
`,
        [file],
      );
      const { entries } = parse(readFileSync(file));
      assert.equal(
        entries.map((e) => [e.memberPath, e.size]),
        [['café-ü.txt', 2]],
      );
    },
  );

  Parser('malformed pax records and lying sparse maps are ARCHIVE_HEADER', () => {
    const file = path.join(root, 'pax.tar');
    writeWithPython(
      `
import io, sys, tarfile
with tarfile.open(sys.argv[1], 'w', format=tarfile.PAX_FORMAT) as tf:
    ti = tarfile.TarInfo('with-comment'); ti.size = 1; ti.pax_headers = {'comment': 'hello'}
    tf.addfile(ti, io.BytesIO(b'x'))
`,
      [file],
    );
    const good = readFileSync(file);
    assert.is(parse(good).entries[0]?.memberPath, 'with-comment');
    const record = good.indexOf('comment=hello');
    for (const [what, patch] of [
      ['length past the data', '99'],
      ['length not a number', 'x1'],
    ] as const) {
      const bad = Buffer.from(good);
      bad.write(patch, record - 3, 'latin1');
      assert.is(
        codeOf(() => parse(bad)),
        'ARCHIVE_HEADER',
        what,
      );
    }
    const noNewline = Buffer.from(good);
    noNewline[record + 'comment=hello'.length] = 0x20;
    assert.is(
      codeOf(() => parse(noNewline)),
      'ARCHIVE_HEADER',
      'record not ended by a newline',
    );

    const sparse = path.join(root, 'bad-sparse.tar');
    writeWithPython(
      `
import io, sys, tarfile
with tarfile.open(sys.argv[1], 'w', format=tarfile.PAX_FORMAT) as tf:
    ti = tarfile.TarInfo('s'); ti.size = 5
    ti.pax_headers = {'GNU.sparse.size': '1000', 'GNU.sparse.numblocks': sys.argv[3],
                      'GNU.sparse.name': 's', 'GNU.sparse.map': sys.argv[2]}
    tf.addfile(ti, io.BytesIO(b'hello'))
`,
      [sparse, '0,5,990,0', '2'],
    );
    const ok = parse(readFileSync(sparse));
    assert.equal(ok.entries[0]?.sparse, [[0, 5]]);
    assert.is(ok.entries[0]?.size, 1000);
    // More extents than GNU.sparse.numblocks allows: GNU tar says "Malformed extended header:
    // excess GNU.sparse.map" and exits 2.
    for (const blocks of ['1', '0']) {
      writeWithPython(
        `
import io, sys, tarfile
with tarfile.open(sys.argv[1], 'w', format=tarfile.PAX_FORMAT) as tf:
    ti = tarfile.TarInfo('s'); ti.size = 5
    ti.pax_headers = {'GNU.sparse.size': '1000', 'GNU.sparse.numblocks': sys.argv[3], 'GNU.sparse.map': sys.argv[2]}
    tf.addfile(ti, io.BytesIO(b'hello'))
`,
        [sparse, '0,5,990,0', blocks],
      );
      assert.is(
        codeOf(() => parse(readFileSync(sparse))),
        'ARCHIVE_HEADER',
        `numblocks ${blocks}`,
      );
      assert.is.not(spawnSync('tar', ['-tf', sparse]).status, 0, 'GNU tar refuses it too');
    }
    for (const map of ['0,100', '10,3,0,2', '0,3,2,2', '998,5', '0,5,1', 'a,b']) {
      writeWithPython(
        `
import io, sys, tarfile
with tarfile.open(sys.argv[1], 'w', format=tarfile.PAX_FORMAT) as tf:
    ti = tarfile.TarInfo('s'); ti.size = 5
    ti.pax_headers = {'GNU.sparse.numblocks': '3', 'GNU.sparse.map': sys.argv[2], 'GNU.sparse.size': '1000'}
    tf.addfile(ti, io.BytesIO(b'hello'))
`,
        [sparse, map],
      );
      assert.is(
        codeOf(() => parse(readFileSync(sparse))),
        'ARCHIVE_HEADER',
        `map ${map}`,
      );
    }
  });

  Parser(
    'metadata headers are folded into their member: offsets point at the first of them',
    () => {
      const { entries } = parse(posix);
      for (const entry of entries) {
        // GNU tar posix writes an x header before every member: the member starts there.
        assert.is(
          posix.toString('latin1', entry.headerOffset + 156, entry.headerOffset + 157),
          'x',
          entry.memberPath,
        );
        assert.ok(entry.dataOffset >= entry.headerOffset + 1024, entry.memberPath);
      }
      assert.ok(entries.every((e, i) => e.index === i));
    },
  );
}

Parser.run();
