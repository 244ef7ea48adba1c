/**
 * Where GNU tar 1.34 and the parser used to disagree (issue 12, point 7, and what the fuzz test
 * found after it), one focused case each, checked against GNU tar itself: what `tar -tvf`
 * lists and what `tar -xf` leaves on disk.
 */
import { spawnSync } from 'node:child_process';
import { lstatSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';

import { copyEntry, type ArchiveEntry } from '../../src/archive/ArchiveEntry.js';
import { TarParser } from '../../src/archive/TarParser.js';
import { RestoreplanError } from '../../src/errors.js';
import { scanArchive } from '../../src/scanArchive.js';
import type { Warning } from '../../src/types.js';
import { makeScratch, missingNeeds, run } from '../helpers/env.js';

const why = missingNeeds({ tools: ['tar'] });
const Parity = suite('GNU tar parity');
const scratch = why ? null : makeScratch('restoreplan-parity-');
const root = scratch?.dir ?? '';
Parity.after(() => scratch?.cleanup());

interface HeaderSpec {
  name: string;
  type?: string;
  size?: number;
  link?: string;
  magic?: 'ustar' | 'gnu' | 'v7';
  /** Raw bytes for fields, by offset, written after the rest (the checksum is fixed after). */
  raw?: Array<[number, string]>;
}

function header(spec: HeaderSpec): Buffer {
  const b = Buffer.alloc(512);
  b.write(spec.name, 0, 'utf8');
  b.write('0000644\0', 100, 'latin1');
  b.write('0000000\0', 108, 'latin1');
  b.write('0000000\0', 116, 'latin1');
  b.write(`${(spec.size ?? 0).toString(8).padStart(11, '0')}\0`, 124, 'latin1');
  b.write('14000000000\0', 136, 'latin1');
  b.write(spec.type ?? '0', 156, 'latin1');
  b.write(spec.link ?? '', 157, 'utf8');
  const magic = spec.magic ?? 'ustar';
  if (magic !== 'v7') b.write(magic === 'gnu' ? 'ustar  \0' : 'ustar\u000000', 257, 'latin1');
  for (const [offset, text] of spec.raw ?? []) b.write(text, offset, 'latin1');
  fixChecksum(b, 0);
  return b;
}

/** The header's checksum for its current bytes (unsigned sum, the field counted as spaces). */
function fixChecksum(b: Buffer, at: number): void {
  b.fill(0x20, at + 148, at + 156);
  let sum = 0;
  for (let i = 0; i < 512; i += 1) sum += b[at + i]!;
  b.write(`${sum.toString(8).padStart(6, '0')}\0 `, at + 148, 'latin1');
}

function data(text: string | Buffer): Buffer {
  const bytes = Buffer.isBuffer(text) ? text : Buffer.from(text);
  return Buffer.concat([bytes, Buffer.alloc((512 - (bytes.length % 512)) % 512)]);
}

function pax(records: Array<[string, string]>): Buffer {
  let body = '';
  for (const [key, value] of records) {
    const rest = ` ${key}=${value}\n`;
    let length = Buffer.byteLength(rest) + 1;
    while (String(length).length + Buffer.byteLength(rest) !== length) length += 1;
    body += `${length}${rest}`;
  }
  return Buffer.concat([
    header({ name: 'PaxHeaders/x', type: 'x', size: body.length }),
    data(body),
  ]);
}

const END = Buffer.alloc(1024);

interface Read {
  entries: ArchiveEntry[];
  warnings: Warning[];
}

function read(bytes: Buffer): Read {
  const entries: ArchiveEntry[] = [];
  const parser = new TarParser({
    maxDataBytes: 0,
    onEntry: (entry) => {
      entries.push(copyEntry(entry));
    },
  });
  parser.push(bytes, 0);
  parser.end(bytes.length);
  return { entries, warnings: parser.warnings };
}

function codeOf(bytes: Buffer): string {
  try {
    read(bytes);
  } catch (error) {
    if (error instanceof RestoreplanError) return error.code;
    throw error;
  }
  return 'no error';
}

let archiveCount = 0;
function save(bytes: Buffer): string {
  const file = path.join(root, `a${(archiveCount += 1)}.tar`);
  writeFileSync(file, bytes);
  return file;
}

/** GNU tar's -tvf: exit status, listing lines, stderr. */
function gnuList(file: string): { status: number; lines: string[]; stderr: string } {
  const result = spawnSync('tar', ['--numeric-owner', '-tvf', file], {
    env: { ...process.env, LC_ALL: 'C' },
  });
  return {
    status: result.status ?? -1,
    lines: result.stdout.toString().split('\n').filter(Boolean),
    stderr: result.stderr.toString(),
  };
}

/** What GNU tar's -xf leaves: every path under the directory with its kind and link count. */
function gnuExtract(file: string): {
  status: number;
  tree: string[];
  stderr: string;
  inodes: number;
} {
  const dir = path.join(root, `x${(archiveCount += 1)}`);
  mkdirSync(dir);
  const result = spawnSync('tar', ['-C', dir, '-xf', file], {
    env: { ...process.env, LC_ALL: 'C' },
  });
  const tree: string[] = [];
  const inodes = new Set<number>();
  const visit = (rel: string): void => {
    for (const name of readdirSync(path.join(dir, rel)).sort()) {
      const child = rel === '' ? name : `${rel}/${name}`;
      const stat = lstatSync(path.join(dir, child));
      if (stat.isDirectory()) {
        tree.push(`d ${child}`);
        visit(child);
      } else {
        tree.push(`${stat.isSymbolicLink() ? 'l' : 'f'} ${child} ${stat.size} x${stat.nlink}`);
        inodes.add(stat.ino);
      }
    }
  };
  visit('');
  return {
    status: result.status ?? -1,
    tree,
    stderr: result.stderr.toString(),
    inodes: inodes.size,
  };
}

const codes = (r: Read): string[] => r.warnings.map((w) => w.code);
const paths = (r: Read): string[] => r.entries.map((e) => `${e.type} ${e.memberPath}`);

if (why) {
  Parity.skip('GNU tar parity');
  console.log(`skipped: ${why}`);
} else {
  Parity("volume labels: GNU tar lists them, extracts nothing: no member, 'volume-label'", () => {
    const src = path.join(root, 'src-label');
    mkdirSync(src);
    writeFileSync(path.join(src, 'a.txt'), 'hello\n');
    for (const format of ['gnu', 'posix']) {
      const file = path.join(root, `label-${format}.tar`);
      run('tar', [`--format=${format}`, '--label=BACKUP 2024', '-C', src, '-cf', file, 'a.txt']);
      const gnu = gnuList(file);
      assert.match(gnu.lines[0] ?? '', /^V.*BACKUP 2024--Volume Header--$/, format);
      assert.equal(gnuExtract(file).tree, ['f a.txt 6 x1']);
      const ours = read(readFileSync(file));
      assert.equal(paths(ours), ['file a.txt'], format);
      assert.equal(codes(ours), ['volume-label'], format);
      assert.match(ours.warnings[0]!.message, /"BACKUP 2024"/);
    }
  });

  Parity("multi-volume: an 'M' continuation is skipped, a posix part counted and named", () => {
    const src = path.join(root, 'src-mv');
    mkdirSync(src);
    const big = Buffer.alloc(13_000, 0x61);
    writeFileSync(path.join(src, 'big.bin'), big);
    writeFileSync(path.join(src, 'b.txt'), 'b');
    for (const format of ['gnu', 'posix']) {
      const volumes = [1, 2, 3].map((n) => path.join(root, `mv-${format}-${n}.tar`));
      run('tar', [
        `--format=${format}`,
        '-M',
        '-L',
        '10',
        ...volumes.flatMap((v) => ['-f', v]),
        '-C',
        src,
        '-c',
        'big.bin',
        'b.txt',
      ]);
      const second = volumes[1]!;
      const ours = read(readFileSync(second));
      const extracted = gnuExtract(second);
      if (format === 'gnu') {
        // GNU tar: "big.bin: Cannot extract -- file is continued from another volume", exit 2.
        assert.is(extracted.status, 2);
        assert.match(extracted.stderr, /Cannot extract -- file is continued from another volume/);
        assert.equal(extracted.tree, ['f b.txt 1 x1']);
        assert.equal(paths(ours), ['file b.txt']);
        assert.equal(codes(ours), ['skipped-member']);
        assert.is(ours.warnings[0]!.memberPath, 'big.bin');
        assert.match(ours.warnings[0]!.message, /from its byte \d+/);
      } else {
        // GNU tar extracts the part as a file of its own, exit 0.
        assert.is(extracted.status, 0);
        const part = extracted.tree.find((line) => line.startsWith('f GNUFileParts/big.bin.'));
        assert.ok(part, extracted.tree.join('\n'));
        const [, name, size] = part.split(' ');
        assert.equal(
          ours.entries.map((e) => [e.memberPath, e.size]),
          [
            [name, Number(size)],
            ['b.txt', 1],
          ],
        );
        assert.equal(codes(ours), ['continued-member']);
        assert.is(ours.warnings[0]!.memberPath, name);
      }
    }
  });

  Parity(
    "old GNU 'N' (mangled names): GNU tar 1.34 extracts it as a file, so it is counted",
    () => {
      const script = 'Rename a.txt to a-long-name.txt\n';
      const file = save(
        Buffer.concat([
          header({ name: 'a.txt', size: 6, magic: 'gnu' }),
          data('hello\n'),
          header({ name: '././@MaNgLeD_NaMeS', type: 'N', size: script.length, magic: 'gnu' }),
          data(script),
          END,
        ]),
      );
      const extracted = gnuExtract(file);
      assert.is(extracted.status, 0);
      assert.equal(extracted.tree, ['f @MaNgLeD_NaMeS 32 x1', 'f a.txt 6 x1']);
      const ours = read(readFileSync(file));
      assert.equal(
        ours.entries.map((e) => [e.memberPath, e.type, e.size]),
        [
          ['a.txt', 'file', 6],
          ['@MaNgLeD_NaMeS', 'file', 32],
        ],
      );
      assert.equal(codes(ours), ['unknown-typeflag']);
    },
  );

  Parity(
    'hard links to themselves or to directory names: counted as GNU tar extraction leaves them',
    async () => {
      const file = header({ name: 'a.txt', size: 3 });
      const cases: Array<[string, Buffer[]]> = [
        // Issue 12: a hard link named ././/./a.txt to a.txt left the scan with no file at all.
        ['dotted name', [header({ name: '././/./a.txt', type: '1', link: 'a.txt' })]],
        ['dotted both', [header({ name: '././/./a.txt', type: '1', link: '././/./a.txt' })]],
        ['plain', [header({ name: 'a.txt', type: '1', link: 'a.txt' })]],
        ['dotted target', [header({ name: 'l', type: '1', link: '././/./a.txt' })]],
        ['to itself, dotted', [header({ name: 'l', type: '1', link: '././/./l' })]],
        ['trailing slash', [header({ name: 'l', type: '1', link: 'a.txt/' })]],
        ['trailing dot', [header({ name: 'l', type: '1', link: 'a.txt/.' })]],
        ['dot', [header({ name: 'l', type: '1', link: '.' })]],
      ];
      for (const [label, members] of cases) {
        const archive = save(Buffer.concat([file, data('abc'), ...members, END]));
        const extracted = gnuExtract(archive);
        const names = extracted.tree.filter((line) => line.startsWith('f ')).length;
        // GNU tar's result in scan's terms: one file per inode, the other names hard links.
        const links = names - extracted.inodes;
        const scan = await scanArchive(archive);
        assert.is(extracted.inodes, 1, label);
        assert.is(scan.totals.files, 1, `${label}: ${extracted.tree.join(', ')}`);
        assert.is(scan.totals.bytes, 3, label);
        assert.is(scan.totals.hardlinks, links, `${label}: ${extracted.tree.join(', ')}`);
        const dropped = scan.warnings.filter((w) => w.code === 'dropped-hardlink').length;
        assert.is(dropped, 1 - links, label);
      }
    },
  );

  Parity("a hard link's size field is never read; a pax size on it is", () => {
    const a = Buffer.concat([header({ name: 'a.txt', size: 3 }), data('abc')]);
    const b = Buffer.concat([header({ name: 'b.txt', size: 2 }), data('hi')]);
    const garbage = header({ name: 'l', type: '1', link: 'a.txt', raw: [[124, 'not a size']] });
    const clean = save(Buffer.concat([a, garbage, b, END]));
    assert.is(gnuList(clean).status, 0);
    assert.equal(paths(read(readFileSync(clean))), ['file a.txt', 'hardlink l', 'file b.txt']);
    // Size 3 and a data block after it: GNU tar reads the block as a header and fails it
    // ("Skipping to next header", exit 2); so does the parser (a checksum error).
    const withData = save(
      Buffer.concat([
        a,
        header({ name: 'l', type: '1', link: 'a.txt', size: 3 }),
        data('abc'),
        b,
        END,
      ]),
    );
    assert.match(gnuList(withData).stderr, /Skipping to next header/);
    assert.is(codeOf(readFileSync(withData)), 'ARCHIVE_CHECKSUM');
    const paxSized = save(
      Buffer.concat([
        a,
        pax([['size', '3']]),
        header({ name: 'l', type: '1', link: 'a.txt' }),
        data('abc'),
        b,
        END,
      ]),
    );
    assert.is(gnuList(paxSized).status, 0);
    assert.equal(paths(read(readFileSync(paxSized))), ['file a.txt', 'hardlink l', 'file b.txt']);
  });

  Parity('numeric fields GNU tar refuses: a warning, or ARCHIVE_HEADER for a size', () => {
    const member = (raw: Array<[number, string]>, type = '0'): Buffer =>
      Buffer.concat([
        header({ name: 'a.txt', size: type === '0' ? 3 : 0, type, raw }),
        type === '0' ? data('abc') : Buffer.alloc(0),
        END,
      ]);
    const cases: Array<[string, Buffer, RegExp, string]> = [
      // Issue 12: an all-blank mtime was read as 0 without a word.
      [
        'blank mtime',
        member([[136, ' '.repeat(12)]]),
        /Blanks in header where numeric time_t/,
        'mtime',
      ],
      ['garbage mode', member([[100, '06x4\0']]), /numeric mode_t value expected/, 'mode'],
      ['garbage uid', member([[108, 'uid?\0']]), /numeric uid_t value expected/, 'uid'],
      ['blank gid', member([[116, ' '.repeat(8)]]), /Blanks in header where numeric gid_t/, 'gid'],
      ['negative uid', member([[108, '\xff'.repeat(8)]]), /out of uid_t range/, 'uid'],
      [
        'char device, garbage major',
        member([[329, 'zz\0']], '3'),
        /numeric major_t value expected/,
        'devmajor',
      ],
      [
        'byte 0x81 (no base-256)',
        member([[136, '\x81' + '\0'.repeat(11)]]),
        /numeric time_t value expected/,
        'mtime',
      ],
    ];
    for (const [label, bytes, complaint, field] of cases) {
      const gnu = gnuList(save(bytes));
      assert.is(gnu.status, 2, label);
      assert.match(gnu.stderr, complaint, label);
      assert.is(gnu.lines.length, 1, `${label}: GNU tar still lists the member`);
      const ours = read(bytes);
      assert.is(ours.entries.length, 1, label);
      assert.equal(codes(ours), ['bad-numeric-field'], label);
      assert.match(
        ours.warnings[0]!.message,
        new RegExp(`^(unreadable|out-of-range) ${field} `),
        label,
      );
    }
    // An 'M' header's "Continued at byte" field: GNU tar's verbose listing reads it too.
    const continued = Buffer.concat([
      header({ name: 'big.bin', type: 'M', size: 3, magic: 'gnu', raw: [[369, 'x'.repeat(12)]] }),
      data('abc'),
      END,
    ]);
    const listed = gnuList(save(continued));
    assert.is(listed.status, 2);
    assert.match(listed.stderr, /numeric uintmax_t value expected/);
    const skipped = read(continued);
    assert.equal(codes(skipped), ['bad-numeric-field', 'skipped-member']);
    assert.match(skipped.warnings[0]!.message, /^unreadable continuation offset /);
    // A size GNU tar cannot read makes the header a bad one ("Skipping to next header").
    for (const size of [' '.repeat(12), '12x\0', '\x81\0']) {
      const bytes = member([[124, size]]);
      assert.match(
        gnuList(save(bytes)).stderr,
        /numeric off_t value expected[\s\S]*Skipping to next header/,
      );
      assert.is(codeOf(bytes), 'ARCHIVE_HEADER', JSON.stringify(size));
    }
    // Read as GNU tar reads them: a leading NUL, tabs, a \v terminator.
    const fine = member([
      [124, '\x0000000000003'],
      [136, '\t14000000000\t'],
      [100, '644\v'],
    ]);
    assert.is(gnuList(save(fine)).status, 0);
    const ours = read(fine);
    assert.equal(codes(ours), []);
    assert.equal(
      [ours.entries[0]!.size, ours.entries[0]!.mode, ours.entries[0]!.mtime],
      [3, 0o644, 0o14000000000],
    );
  });

  Parity('pax headers are read with their member: a second one replaces the first unread', () => {
    const a = Buffer.concat([header({ name: 'a.txt', size: 3 }), data('abc')]);
    // The first 'x' (path, size) is never read by GNU tar: only the second one counts.
    const twice = Buffer.concat([
      pax([
        ['path', 'renamed'],
        ['size', '700'],
      ]),
      pax([['mtime', '5']]),
      a,
      END,
    ]);
    assert.match(gnuList(save(twice)).lines.join('\n'), / a\.txt$/);
    assert.equal(paths(read(twice)), ['file a.txt']);
    const garbled = Buffer.concat([
      header({ name: 'PaxHeaders/x', type: 'x', size: 12 }),
      data('not records!'),
      pax([['mtime', '5']]),
      a,
      END,
    ]);
    assert.is(gnuList(save(garbled)).status, 0);
    assert.equal(paths(read(garbled)), ['file a.txt']);
    // GNU.sparse.size without a map: no sparse member; its data is as long as that size.
    const sized = Buffer.concat([
      pax([['GNU.sparse.size', '600']]),
      header({ name: 's', size: 3 }),
      data(Buffer.alloc(600, 0x62)),
      a,
      END,
    ]);
    const gnu = gnuList(save(sized));
    assert.is(gnu.status, 0);
    assert.match(gnu.lines[0] ?? '', / 600 .* s$/);
    assert.equal(
      read(sized).entries.map((e) => [e.memberPath, e.size, e.sparse]),
      [
        ['s', 600, null],
        ['a.txt', 3, null],
      ],
    );
  });
}

Parity.run();
