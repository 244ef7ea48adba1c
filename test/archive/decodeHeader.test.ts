/**
 * decodeHeader on header bytes GNU tar and bsdtar wrote, in every format each writes; the truth
 * is Python's tarfile (an independent reader) and GNU tar's own listing, never typed in by hand.
 */
import { readFileSync, symlinkSync, linkSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';

import {
  decodeEntryType,
  decodeHeader,
  isHeaderChecksumValid,
  isZeroBlock,
  readHeaderGid,
  readHeaderLinkName,
  readHeaderMode,
  readHeaderMtime,
  readHeaderName,
  readHeaderUid,
  readLongName,
  TarHeader,
} from '../../src/archive/decodeHeader.js';
import { makeScratch, missingNeeds, run } from '../helpers/env.js';
import { listWithGnuTar, readWithTarfile, writeWithPython } from './fixtures/buildSourceTree.js';

const why = missingNeeds({ tools: ['tar', 'bsdtar', 'python3', 'mkfifo', 'touch'] });
const Header = suite('decodeHeader');

const scratch = why ? null : makeScratch('restoreplan-header-');
const root = scratch?.dir ?? '';
const src = path.join(root, 'src');
/** 150 bytes: too long for the name field alone, short enough for ustar's prefix + name. */
const PREFIXED = `${'p'.repeat(60)}/${'q'.repeat(60)}/file-with-a-prefix.txt`;

Header.before(() => {
  if (why) return;
  mkdirSync(path.join(src, 'd'), { recursive: true });
  writeFileSync(path.join(src, 'd/f'), 'hello\n', { mode: 0o640 });
  symlinkSync('d/f', path.join(src, 'sym'));
  linkSync(path.join(src, 'd/f'), path.join(src, 'hard'));
  run('mkfifo', [path.join(src, 'fifo')]);
  writeFileSync(path.join(src, 'old'), 'old\n');
  // Before 1970: octal cannot say it, GNU tar writes base-256 (two's complement).
  run('touch', ['-d', '1950-06-01 12:00:00 UTC', path.join(src, 'old')]);
  mkdirSync(path.join(src, path.dirname(PREFIXED)), { recursive: true });
  writeFileSync(path.join(src, PREFIXED), 'prefixed\n');
});
Header.after(() => scratch?.cleanup());

const TYPES: Record<string, string> = {
  '0': 'file',
  '\0': 'file',
  '5': 'dir',
  '1': 'hardlink',
  '2': 'symlink',
  '6': 'fifo',
};

/** [writer, its format flags, the format decodeHeader must see, members it can hold, pax records override fields] */
const WRITERS: ReadonlyArray<readonly [string, string[], string, string[], boolean]> = [
  ['tar', ['--format=v7'], 'v7', ['d', 'd/f', 'sym', 'hard'], false],
  ['tar', ['--format=ustar'], 'ustar', ['d', 'd/f', 'sym', 'hard', 'fifo'], false],
  ['tar', ['--format=gnu'], 'gnu', ['d', 'd/f', 'sym', 'hard', 'fifo', 'old'], false],
  // GNU tar writes the same magic for oldgnu as for gnu: the bytes cannot tell them apart.
  ['tar', ['--format=oldgnu'], 'gnu', ['d', 'd/f', 'sym', 'hard', 'fifo', 'old'], false],
  ['tar', ['--format=posix'], 'ustar', ['d', 'd/f', 'sym', 'hard', 'fifo', 'old'], true],
  ['bsdtar', ['--format', 'v7'], 'v7', ['d', 'd/f', 'sym', 'hard'], false],
  ['bsdtar', ['--format', 'ustar'], 'ustar', ['d', 'd/f', 'sym', 'hard', 'fifo'], false],
  ['bsdtar', ['--format', 'gnutar'], 'gnu', ['d', 'd/f', 'sym', 'hard', 'fifo'], false],
  ['bsdtar', ['--format', 'pax'], 'ustar', ['d', 'd/f', 'sym', 'hard', 'fifo', 'old'], true],
];

if (why) {
  Header.skip('every field of every member header, in every format GNU tar and bsdtar write');
  console.log(`skipped: ${why}`);
} else {
  Header('every field of every member header, in every format GNU tar and bsdtar write', () => {
    for (const [tool, flags, format, members, pax] of WRITERS) {
      const label = `${tool} ${flags.join(' ')}`;
      const archive = path.join(root, `${tool}${flags.join('')}.tar`);
      // --no-recursion: the members listed, in that order, and nothing under d/ twice.
      run(tool, [...flags, '--no-recursion', '-C', src, '-cf', archive, ...members]);
      const bytes = readFileSync(archive);
      const truth = readWithTarfile(archive);
      const names = listWithGnuTar(archive);
      assert.is(truth.length, members.length, label);
      const header = new TarHeader();
      truth.forEach((member, i) => {
        const at = member.offsetData - 512;
        const where = `${label}: ${member.name}`;
        decodeHeader(bytes, at, header);
        assert.is(header.format, format, where);
        assert.ok(isHeaderChecksumValid(bytes, at, header.checksum), `${where}: checksum`);
        const name = readHeaderName(bytes, at, header);
        assert.is(name, names[i], `${where}: name`);
        // Directory names end in '/': the one thing normalization has to do for these.
        assert.is(header.namePlain, !name.endsWith('/'), `${where}: plain`);
        assert.is(decodeEntryType(header.typeflag, name), TYPES[member.type], `${where}: type`);
        assert.is(header.size, member.size, `${where}: size`);
        assert.is(readHeaderLinkName(bytes, at), member.linkname, `${where}: linkname`);
        assert.is(readHeaderMode(bytes, at), member.mode, `${where}: mode`);
        assert.is(readHeaderUid(bytes, at), member.uid, `${where}: uid`);
        assert.is(readHeaderGid(bytes, at), member.gid, `${where}: gid`);
        // In pax formats the record carries the real mtime (fractions, before 1970).
        if (!pax) assert.is(readHeaderMtime(bytes, at), member.mtime, `${where}: mtime`);
        else assert.ok(Number.isFinite(readHeaderMtime(bytes, at)), `${where}: mtime`);
      });
      // The pax x headers are headers too: same magic, their own typeflag and size.
      if (pax) {
        decodeHeader(bytes, truth[0]!.offset, header);
        assert.is(String.fromCharCode(header.typeflag), 'x', label);
        assert.is(header.format, 'ustar', label);
        assert.ok(header.size > 0 && header.size < 512, label);
      }
      assert.ok(isZeroBlock(bytes, bytes.length - 512), `${label}: end-of-archive block`);
      assert.not.ok(isZeroBlock(bytes, 0), `${label}: first header`);
    }
  });

  Header('base-256 fields: GNU tar writes them for ids and times octal cannot hold', () => {
    const archive = path.join(root, 'base256.tar');
    run('tar', [
      '--format=gnu',
      '--owner=big:3000000',
      '--group=big:4000000',
      '-C',
      src,
      '-cf',
      archive,
      'old',
    ]);
    const bytes = readFileSync(archive);
    const [member] = readWithTarfile(archive);
    assert.is(bytes[108], 0x80, 'uid is base-256');
    assert.is(bytes[136], 0xff, 'a negative mtime is base-256 two’s complement');
    assert.is(readHeaderUid(bytes, 0), 3_000_000);
    assert.is(readHeaderGid(bytes, 0), 4_000_000);
    assert.is(readHeaderMtime(bytes, 0), member!.mtime);
    assert.ok(member!.mtime < 0);
  });

  Header('long names: the ustar prefix is joined; GNU puts the name in an L header', () => {
    for (const [tool, flags] of [
      ['tar', ['--format=ustar']],
      ['bsdtar', ['--format', 'ustar']],
    ] as const) {
      const archive = path.join(root, `prefix-${tool}.tar`);
      run(tool, [...flags, '-C', src, '-cf', archive, PREFIXED]);
      const bytes = readFileSync(archive);
      const header = decodeHeader(bytes, 0, new TarHeader());
      assert.ok(bytes[345] !== 0, `${tool}: the prefix field is used`);
      assert.is(readHeaderName(bytes, 0, header), PREFIXED, tool);
      assert.ok(header.namePlain, `${tool}: plain`);
    }

    const gnu = path.join(root, 'longname-gnu.tar');
    run('tar', ['--format=gnu', '-C', src, '-cf', gnu, PREFIXED]);
    const bytes = readFileSync(gnu);
    const header = decodeHeader(bytes, 0, new TarHeader());
    assert.is(String.fromCharCode(header.typeflag), 'L');
    assert.is(header.size, Buffer.byteLength(PREFIXED) + 1, 'GNU tar counts the NUL');
    assert.is(readLongName(bytes.subarray(512), header.size), PREFIXED);
    // The member's own header: GNU bytes at 345 are not a prefix, the name is cut at 100.
    const own = 512 + Math.ceil(header.size / 512) * 512;
    decodeHeader(bytes, own, header);
    assert.is(header.format, 'gnu');
    assert.is(readHeaderName(bytes, own, header), PREFIXED.slice(0, 100));
  });

  Header('names that need normalization or hide a ".." are never plain', () => {
    const archive = path.join(root, 'names.tar');
    const table: ReadonlyArray<readonly [string, boolean]> = [
      ['a/b.txt', true],
      ['x..y/z..', true],
      ['./a', false],
      ['/etc/passwd', false],
      ['a//b', false],
      ['a/./b', false],
      ['a/../b', false],
      ['..', false],
      ['../x', false],
      ['.hidden', false],
      ['dir/', false],
    ];
    writeWithPython(
      `
import io, sys, tarfile
with tarfile.open(sys.argv[1], 'w', format=tarfile.USTAR_FORMAT) as tf:
    for name in sys.argv[2:]:
        ti = tarfile.TarInfo(name); ti.size = 0
        tf.addfile(ti, io.BytesIO(b''))
`,
      [archive, ...table.map(([name]) => name)],
    );
    const bytes = readFileSync(archive);
    const header = new TarHeader();
    table.forEach(([name, plain], i) => {
      decodeHeader(bytes, i * 512, header);
      assert.is(readHeaderName(bytes, i * 512, header), name);
      assert.is(header.namePlain, plain, name);
    });
  });

  Header(
    'checksums: unsigned as tar writes them, signed as old Sun tars did; a flipped bit is not',
    () => {
      const archive = path.join(root, 'signed.tar');
      writeWithPython(
        `
import io, sys, tarfile
ti = tarfile.TarInfo('caf\\u00e9.txt'); ti.size = 0
buf = bytearray(ti.tobuf(tarfile.USTAR_FORMAT, 'utf-8', 'strict'))
good = bytes(buf)
buf[148:156] = b' ' * 8
signed = sum(b - 256 if b > 127 else b for b in buf)
buf[148:156] = ('%06o' % signed).encode() + b'\\0 '
open(sys.argv[1], 'wb').write(good + bytes(buf))
`,
        [archive],
      );
      const bytes = readFileSync(archive);
      const header = new TarHeader();
      for (const at of [0, 512]) {
        decodeHeader(bytes, at, header);
        assert.ok(isHeaderChecksumValid(bytes, at, header.checksum), `header at ${at}`);
      }
      // Not ASCII: the UTF-8 decoder, not the one-byte one.
      assert.is(readHeaderName(bytes, 0, header), 'café.txt');
      const flipped = Buffer.from(bytes.subarray(0, 512));
      flipped[10] = flipped[10]! ^ 0x01;
      assert.not.ok(isHeaderChecksumValid(flipped, 0, decodeHeader(flipped, 0, header).checksum));
    },
  );
}

Header(
  'type flags: what tar extracts each as; a regular file named with a trailing / is a dir',
  () => {
    const table: ReadonlyArray<readonly [string, string, string | null]> = [
      ['0', 'f', 'file'],
      ['\0', 'f', 'file'],
      ['7', 'f', 'file'],
      ['0', 'd/', 'dir'],
      ['\0', 'd/', 'dir'],
      ['S', 'sparse', 'file'],
      ['1', 'h', 'hardlink'],
      ['2', 's', 'symlink'],
      ['3', 'c', 'chardev'],
      ['4', 'b', 'blockdev'],
      ['5', 'd', 'dir'],
      ['D', 'dumpdir', 'dir'],
      ['6', 'p', 'fifo'],
      ['Z', 'z', null],
      ['A', 'a', null],
    ];
    for (const [flag, name, type] of table) {
      assert.is(decodeEntryType(flag.charCodeAt(0), name), type, JSON.stringify([flag, name]));
    }
  },
);

Header.run();
