import * as childProcess from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';

import { copyEntry, type ArchiveEntry } from '../../src/archive/ArchiveEntry.js';
import { expandSparseData } from '../helpers/expandSparseData.js';
import { normalizeMemberPath } from '../../src/archive/normalizeMemberPath.js';
import { walkArchive, type WalkOptions, type WalkResult } from '../../src/archive/walkArchive.js';
import { RestoreplanError } from '../../src/errors.js';
import { scanArchive } from '../../src/scanArchive.js';
import type { ProgressEvent } from '../../src/progress.js';
import { makeScratch, missingNeeds, run } from '../helpers/env.js';
import {
  buildSourceTree,
  LONG_FILE,
  LONG_SYMLINK_TARGET,
  listWithGnuTar,
  readTreeTruth,
  readWithTarfile,
  SPARSE_DATA,
  SPARSE_SIZE,
  UNICODE_NAME,
  VERY_LONG_FILE,
  writeWithPython,
  type TruthMember,
} from './fixtures/buildSourceTree.js';

const why = missingNeeds({
  tools: ['tar', 'bsdtar', 'python3', 'gzip', 'bzip2', 'xz', 'zstd', 'mkfifo', 'truncate'],
});
const Walk = suite('walkArchive');

interface Walked {
  entries: ArchiveEntry[];
  result: WalkResult;
}

async function walkAll(
  archive: string | NodeJS.ReadableStream,
  options: Partial<WalkOptions> = {},
): Promise<Walked> {
  const entries: ArchiveEntry[] = [];
  const result = await walkArchive(archive, {
    ...options,
    onEntry: (entry) => {
      entries.push(copyEntry(entry));
      return options.onEntry?.(entry);
    },
  });
  return { entries, result };
}

async function expectCode(promise: Promise<unknown>, code: string): Promise<RestoreplanError> {
  try {
    await promise;
  } catch (error) {
    assert.instance(error, RestoreplanError, String(error));
    assert.is((error as RestoreplanError).code, code, (error as Error).message);
    return error as RestoreplanError;
  }
  assert.unreachable(`expected ${code}`);
  throw new Error('unreachable');
}

/** A Readable that hands out `data` in awkward chunk sizes, so headers straddle chunks. */
function chunkedStream(data: Buffer, seed = 1): Readable {
  const sizes = [1, 7, 511, 513, 100, 4096, 3, 65536, 1024, 17];
  const chunks: Buffer[] = [];
  let i = seed;
  for (let at = 0; at < data.length; i += 1) {
    const size = sizes[i % sizes.length]!;
    chunks.push(data.subarray(at, at + size));
    at += size;
  }
  return Readable.from(chunks, { objectMode: false });
}

/** Strips what differs legitimately between two walks of the same bytes (nothing, for entries). */
function sameEntries(a: ArchiveEntry[], b: ArchiveEntry[], label: string): void {
  assert.is(a.length, b.length, `${label}: member count`);
  for (let i = 0; i < a.length; i += 1) assert.equal(a[i], b[i], `${label}: member ${i}`);
}

const scratch = why ? null : makeScratch('restoreplan-walk-');
const root = scratch?.dir ?? '';
const basicSrc = path.join(root, 'basic');
const fullSrc = path.join(root, 'full');
let basicTruth = new Map<string, TruthMember>();
let fullTruth = new Map<string, TruthMember>();
let basicTop: string[] = [];
let fullTop: string[] = [];

Walk.before(() => {
  if (why) return;
  run('mkdir', ['-p', basicSrc, fullSrc]);
  basicTop = buildSourceTree(basicSrc, { fifo: true });
  fullTop = buildSourceTree(fullSrc, { fifo: true, long: true, sparse: true });
  basicTruth = readTreeTruth(basicSrc);
  fullTruth = readTreeTruth(fullSrc);
});

Walk.after(() => scratch?.cleanup());

/** Checks a walk against the tree (lstat), GNU tar's listing and Python's tarfile. */
function checkAgainstTruth(
  label: string,
  archive: string,
  walked: Walked,
  truth: Map<string, TruthMember>,
  options: { withRoot?: boolean; without?: string[]; sparseRead?: boolean } = {},
): void {
  const { entries } = walked;
  const expected = new Set(truth.keys());
  for (const name of options.without ?? []) expected.delete(name);
  if (options.withRoot) expected.add('');
  assert.equal(new Set(entries.map((e) => e.memberPath)), expected, `${label}: member paths`);
  assert.is(entries.length, expected.size, `${label}: each path once`);
  const byPath = new Map(entries.map((e) => [e.memberPath, e]));
  for (const entry of entries) {
    if (entry.memberPath === '') {
      assert.is(entry.type, 'dir');
      continue;
    }
    const t = truth.get(entry.memberPath)!;
    const where = `${label}: ${entry.memberPath}`;
    assert.is(entry.unsafe, null, where);
    assert.is(Math.floor(entry.mtime), t.mtime, `${where} mtime`);
    assert.is(entry.mode, t.mode, `${where} mode`);
    if (entry.type === 'hardlink') {
      const other = truth.get(entry.linkPath);
      assert.ok(
        other && other.ino === t.ino && entry.linkPath !== entry.memberPath,
        `${where} hard link target`,
      );
      assert.is(byPath.get(entry.linkPath)?.type, 'file', `${where} link target is a file member`);
      continue;
    }
    assert.is(entry.type, t.type, `${where} type`);
    assert.is(entry.size, t.size, `${where} size`);
    assert.is(entry.linkPath, t.linkTarget, `${where} link`);
    if (entry.memberPath === 'sparse.img' && options.sparseRead !== false) {
      assert.ok(entry.sparse, `${where} is reported sparse`);
      assert.is(entry.size, SPARSE_SIZE);
    }
  }
  // GNU tar's listing: same names, same order.
  const gnuNames = listWithGnuTar(archive).map(normalizeMemberPath);
  assert.equal(
    entries.map((e) => e.memberPath),
    gnuNames,
    `${label}: names and order as GNU tar lists them`,
  );
  // Python's tarfile: offsets, sizes, sparse maps.
  const oracle = readWithTarfile(archive);
  assert.is(oracle.length, entries.length, `${label}: tarfile member count`);
  oracle.forEach((m, i) => {
    const entry = entries[i]!;
    const where = `${label}: tarfile ${m.name}`;
    assert.is(normalizeMemberPath(m.name), entry.memberPath, where);
    assert.is(entry.headerOffset, m.offset, `${where} header offset`);
    if (entry.type === 'file') {
      assert.is(entry.dataOffset, m.offsetData, `${where} data offset`);
      assert.is(entry.size, m.size, `${where} size`);
      assert.equal(
        entry.sparse,
        m.sparse && m.sparse.filter(([, length]) => length > 0),
        `${where} sparse map`,
      );
    }
  });
}

/** Reads every file member's data through onData and compares it with the source file. */
async function checkData(
  archive: string | (() => NodeJS.ReadableStream),
  src: string,
): Promise<number> {
  let checked = 0;
  const input = typeof archive === 'string' ? archive : archive();
  await walkArchive(input, {
    onEntry: (entry) => (entry.type === 'file' ? 'data' : undefined),
    onData: (entry, stored) => {
      const data = entry.sparse ? expandSparseData(stored, entry.sparse, entry.size) : stored;
      const expected = readFileSync(path.join(src, entry.memberPath));
      assert.ok(data.equals(expected), `data of ${entry.memberPath}`);
      checked += 1;
    },
  });
  return checked;
}

const GNU_FORMATS: Array<{
  format: string;
  src: 'basic' | 'full';
  args: string[];
  without?: string[];
}> = [
  { format: 'v7', src: 'basic', args: [], without: ['links/fifo'] },
  { format: 'ustar', src: 'basic', args: [] },
  { format: 'gnu', src: 'full', args: ['--sparse'] },
  { format: 'oldgnu', src: 'full', args: ['--sparse'] },
  { format: 'posix', src: 'full', args: ['--sparse', '--sparse-version=0.0'] },
  { format: 'posix', src: 'full', args: ['--sparse', '--sparse-version=0.1'] },
  { format: 'posix', src: 'full', args: ['--sparse', '--sparse-version=1.0'] },
  { format: 'pax', src: 'full', args: [] },
];

for (const { format, src, args, without } of GNU_FORMATS) {
  const label = `GNU tar --format=${format} ${args.join(' ')}`.trim();
  if (why) {
    Walk.skip(label);
    continue;
  }
  Walk(`${label}: matches the tree, GNU tar and tarfile; data is right`, async () => {
    const dir = src === 'basic' ? basicSrc : fullSrc;
    const archive = path.join(root, `${format}${args.join('')}.tar`);
    const top = src === 'basic' ? basicTop : fullTop;
    // v7 cannot hold a fifo: GNU tar skips it and exits 2, which is what we expect here.
    const result = spawnTar(['--format', format, ...args, '-C', dir, '-cf', archive, ...top]);
    assert.ok(result === 0 || (format === 'v7' && result === 2), `tar exit ${result}`);
    const walked = await walkAll(archive);
    const expectedFormat =
      format === 'posix' || format === 'pax' ? 'pax' : format === 'oldgnu' ? 'gnu' : format;
    assert.ok(
      walked.result.formats.includes(expectedFormat as never),
      `formats ${walked.result.formats.join()}`,
    );
    assert.is(walked.result.seekable, true);
    assert.is(walked.result.compression, 'none');
    assert.equal(walked.result.warnings, []);
    checkAgainstTruth(label, archive, walked, src === 'basic' ? basicTruth : fullTruth, {
      ...(without ? { without } : {}),
      sparseRead: args.includes('--sparse'),
    });
    const files = [...(src === 'basic' ? basicTruth : fullTruth).values()].filter(
      (t) => t.type === 'file',
    );
    const checked = await checkData(archive, dir);
    assert.ok(checked >= files.length - 1, `collected ${checked} files`); // one of the two hard links is a link
    // The same bytes as a stream in awkward chunks: the same entries.
    const streamed = await walkAll(chunkedStream(readFileSync(archive)));
    sameEntries(streamed.entries, walked.entries, `${label} streamed`);
    assert.is(streamed.result.seekable, false);
  });
}

function spawnTar(args: string[], tool = 'tar'): number {
  return childProcess.spawnSync(tool, args, { stdio: 'ignore' }).status ?? -1;
}

const BSD_FORMATS: Array<{
  format: string;
  src: 'basic' | 'full';
  without?: string[];
  sparse?: boolean;
}> = [
  { format: 'v7', src: 'basic', without: ['links/fifo'] },
  { format: 'ustar', src: 'basic' },
  { format: 'pax', src: 'full', sparse: true },
  { format: 'gnutar', src: 'full' },
];
for (const { format, src, without, sparse } of BSD_FORMATS) {
  const label = `bsdtar --format ${format}`;
  if (why) {
    Walk.skip(label);
    continue;
  }
  Walk(`${label}: matches the tree, GNU tar and tarfile`, async () => {
    const dir = src === 'basic' ? basicSrc : fullSrc;
    const archive = path.join(root, `bsd-${format}.tar`);
    const top = src === 'basic' ? basicTop : fullTop;
    const status = spawnTar(
      ['--format', format, ...(sparse ? ['--read-sparse'] : []), '-C', dir, '-cf', archive, ...top],
      'bsdtar',
    );
    assert.is(status, 0);
    const walked = await walkAll(archive);
    checkAgainstTruth(label, archive, walked, src === 'basic' ? basicTruth : fullTruth, {
      ...(without ? { without } : {}),
      sparseRead: sparse === true,
    });
    await checkData(archive, dir);
  });
}

if (why) {
  Walk.skip('long names, long link targets, unicode names are reported in full');
} else {
  Walk(
    'long names, long link targets, unicode names are reported in full (gnu and pax)',
    async () => {
      for (const format of ['gnu', 'posix']) {
        const archive = path.join(root, `long-${format}.tar`);
        run('tar', [
          '--format',
          format,
          '-C',
          fullSrc,
          '-cf',
          archive,
          'long',
          'links',
          UNICODE_NAME,
        ]);
        const { entries } = await walkAll(archive);
        const paths = entries.map((e) => e.memberPath);
        assert.ok(paths.includes(LONG_FILE), `${format}: ${LONG_FILE.length}-byte name`);
        assert.ok(paths.includes(VERY_LONG_FILE), `${format}: ${VERY_LONG_FILE.length}-byte name`);
        assert.ok(paths.includes(UNICODE_NAME), `${format}: unicode name`);
        assert.is(
          entries.find((e) => e.memberPath === 'links/longsym')?.linkPath,
          LONG_SYMLINK_TARGET,
        );
      }
    },
  );
}

if (why) {
  Walk.skip('sparse members: real name and real size');
} else {
  Walk(
    'sparse members: real name and real size, never GNUSparseFile.N or the stored size',
    async () => {
      const cases: Array<[string, string[]]> = [
        ['gnu', ['--format=gnu', '--sparse']],
        ['oldgnu', ['--format=oldgnu', '--sparse']],
        ['0.0', ['--format=posix', '--sparse', '--sparse-version=0.0']],
        ['0.1', ['--format=posix', '--sparse', '--sparse-version=0.1']],
        ['1.0', ['--format=posix', '--sparse', '--sparse-version=1.0']],
      ];
      for (const [name, args] of cases) {
        const archive = path.join(root, `sparse-${name}.tar`);
        run('tar', [...args, '-C', fullSrc, '-cf', archive, 'sparse.img']);
        const { entries } = await walkAll(archive);
        assert.is(entries.length, 1, name);
        const entry = entries[0]!;
        assert.is(entry.memberPath, 'sparse.img', name);
        assert.is(entry.size, SPARSE_SIZE, name);
        assert.ok(
          entry.storedSize < SPARSE_SIZE / 100,
          `${name}: stores only the data (${entry.storedSize})`,
        );
        // Each data region lies inside an extent of the map.
        for (const [offset, text] of SPARSE_DATA) {
          assert.ok(
            entry.sparse!.some(([o, l]) => o <= offset && offset + text.length <= o + l),
            `${name}: extent covers ${offset}`,
          );
        }
        await checkData(archive, fullSrc);
      }
    },
  );
}

if (why) {
  Walk.skip('a 9 GiB sparse file: base-256 real size from GNU tar');
  Walk.skip('member data is jumped over, not read');
} else {
  Walk(
    'a 9 GiB sparse file: GNU tar writes its real size in base-256 (gnu) or decimal (pax)',
    async () => {
      const huge = path.join(root, 'huge');
      const size = 9 * 1024 ** 3;
      run('truncate', ['-s', String(size), huge]);
      run('dd', [`of=${huge}`, 'bs=1', `seek=${size - 3}`, 'conv=notrunc', 'status=none'], {
        input: 'end',
      });
      for (const format of ['gnu', 'posix']) {
        const archive = path.join(root, `huge-${format}.tar`);
        run('tar', [`--format=${format}`, '--sparse', '-C', root, '-cf', archive, 'huge']);
        const { entries } = await walkAll(archive);
        assert.is(entries[0]?.size, size, format);
        assert.is(entries[0]?.size, readWithTarfile(archive)[0]?.size, `${format}: tarfile agrees`);
        const data = await walkArchive(archive, {
          onEntry: () => 'data',
          onData: (entry, stored) => {
            assert.is(stored.subarray(-3).toString(), 'end');
            assert.is(stored.length, entry.dataLength);
          },
        });
        assert.is(data.members, 1);
      }
    },
  );

  Walk(
    'member data is jumped over by offset, not read (bytes read from /proc/self/io)',
    async () => {
      const big = path.join(root, 'bigmember');
      writeFileSync(big, Buffer.alloc(64 * 1024 * 1024, 7));
      writeFileSync(path.join(root, 'after.txt'), 'after\n');
      const archive = path.join(root, 'bigmember.tar');
      run('tar', ['--format=gnu', '-C', root, '-cf', archive, 'bigmember', 'after.txt']);
      const readBytes = (): number =>
        Number(/rchar: (\d+)/.exec(readFileSync('/proc/self/io', 'utf8'))![1]);
      const before = readBytes();
      const { entries } = await walkAll(archive);
      const read = readBytes() - before;
      assert.equal(
        entries.map((e) => e.memberPath),
        ['bigmember', 'after.txt'],
      );
      assert.ok(
        read < 4 * 1024 * 1024,
        `read ${read} bytes of a ${statSync(archive).size}-byte archive`,
      );
    },
  );
}

if (why) {
  Walk.skip('./ names, the root member, absolute and .. members');
} else {
  Walk('./ names, the root member; -P names lose their /, .. members are unsafe', async () => {
    const dotArchive = path.join(root, 'dot.tar');
    run('tar', ['--format=gnu', '-C', basicSrc, '-cf', dotArchive, '.']);
    const dot = await walkAll(dotArchive);
    assert.is(dot.entries[0]?.rawPath, './');
    assert.is(dot.entries[0]?.memberPath, '');
    checkAgainstTruth('tar -C src .', dotArchive, dot, basicTruth, { withRoot: true });

    const absArchive = path.join(root, 'abs.tar');
    const absolute = path.join(basicSrc, 'docs/readme.txt');
    run('tar', ['--format=gnu', '-P', '-cf', absArchive, absolute]);
    const abs = await walkAll(absArchive);
    assert.is(abs.entries[0]?.rawPath, absolute);
    assert.is(abs.entries[0]?.memberPath, absolute.slice(1));
    assert.is(abs.entries[0]?.unsafe, null);

    const evilArchive = path.join(root, 'evil.tar');
    writeWithPython(
      `
import io, sys, tarfile
with tarfile.open(sys.argv[1], 'w', format=tarfile.PAX_FORMAT) as tf:
    for name in ['ok/file', '../escape', 'a/../../b', 'fine/..x']:
        data = b'x'
        ti = tarfile.TarInfo(name); ti.size = len(data)
        tf.addfile(ti, io.BytesIO(data))
    ti = tarfile.TarInfo('ok/hard'); ti.type = tarfile.LNKTYPE; ti.linkname = '../../etc/shadow'
    tf.addfile(ti)
`,
      [evilArchive],
    );
    const evil = await walkAll(evilArchive);
    assert.equal(
      evil.entries.map((e) => [e.memberPath, e.unsafe]),
      [
        ['ok/file', null],
        ['../escape', 'dotdot'],
        ['a/../../b', 'dotdot'],
        ['fine/..x', null],
        ['ok/hard', 'dotdot'],
      ],
    );
    assert.is(evil.entries[4]?.linkPath, '../../etc/shadow');
  });
}

if (why) {
  Walk.skip('absolute names (tar -P, bsdtar -P): stripped like GNU tar, not unsafe, one warning');
} else {
  Walk(
    'absolute names (tar -P, bsdtar -P): stripped like GNU tar, not unsafe, one warning',
    async () => {
      for (const [tool, flags] of [
        ['tar', ['--format=gnu']],
        ['tar', ['--format=posix']],
        ['bsdtar', []],
      ] as const) {
        const label = `${tool} ${flags.join(' ')} -P`;
        const archive = path.join(root, `abs-P-${tool}${flags.join('')}.tar`);
        // A backup script's way: absolute paths of a whole tree, hard links included.
        run(tool, [...flags, '-P', '-cf', archive, basicSrc]);
        const listed = listWithGnuTar(archive);
        assert.ok(
          listed.every((name) => name.startsWith('/')),
          `${label}: every name is absolute`,
        );
        const walked = await walkAll(archive);
        const { entries, result } = walked;
        assert.equal(
          entries.map((e) => e.memberPath),
          listed.map(normalizeMemberPath),
          `${label}: GNU tar's members, without the leading /`,
        );
        assert.ok(
          entries.every((e) => e.unsafe === null && !e.memberPath.startsWith('/')),
          label,
        );
        const hard = entries.find((e) => e.type === 'hardlink');
        assert.ok(hard, `${label}: has a hard link`);
        assert.ok(
          entries.some((e) => e.memberPath === hard.linkPath && e.type === 'file'),
          `${label}: its target is a member, relative like it`,
        );
        // Once per walk, however many members: a whole-system backup must not bury the rest.
        assert.equal(result.warningCounts, { 'absolute-names-stripped': 1 }, label);
        assert.is(result.warnings[0]?.memberPath, entries[0]?.memberPath, label);
        assert.match(result.warnings[0]?.message ?? '', `(${entries.length}, the first "/`);

        const scan = await scanArchive(archive);
        assert.is(scan.totals.entries, listed.length, `${label}: scan counts GNU tar's members`);
        assert.equal(
          scan.warnings.map((w) => w.code),
          ['absolute-names-stripped'],
          `${label}: no UNSAFE_PATH`,
        );
      }

      // A '..' stays unsafe behind a leading '/' too.
      const evil = path.join(root, 'abs-dotdot.tar');
      writeWithPython(
        `
import io, sys, tarfile
with tarfile.open(sys.argv[1], 'w', format=tarfile.GNU_FORMAT) as tf:
    for name in ['/srv/ok', '/srv/../etc/cron.d/x']:
        ti = tarfile.TarInfo(name); ti.size = 1
        tf.addfile(ti, io.BytesIO(b'x'))
    ti = tarfile.TarInfo('/srv/hard'); ti.type = tarfile.LNKTYPE; ti.linkname = '/srv/../etc/shadow'
    tf.addfile(ti)
`,
        [evil],
      );
      const { entries, result } = await walkAll(evil);
      assert.equal(
        entries.map((e) => [e.memberPath, e.unsafe]),
        [
          ['srv/ok', null],
          ['srv/../etc/cron.d/x', 'dotdot'],
          ['srv/hard', 'dotdot'],
        ],
      );
      assert.equal(result.warningCounts, { 'absolute-names-stripped': 1 });
    },
  );
}

if (why) {
  Walk.skip('a member appended twice is reported twice, in archive order');
} else {
  Walk('a member appended twice (tar -r) is reported twice, in archive order', async () => {
    const archive = path.join(root, 'append.tar');
    const file = path.join(root, 'appended.txt');
    writeFileSync(file, 'first\n');
    run('tar', ['--format=gnu', '-C', root, '-cf', archive, 'appended.txt']);
    appendFileSync(file, 'second version, longer\n');
    run('tar', ['--format=gnu', '-C', root, '-rf', archive, 'appended.txt']);
    const contents: string[] = [];
    const { entries } = await walkAll(archive, {
      onEntry: () => 'data',
      onData: (_entry, data) => {
        contents.push(data.toString());
      },
    });
    assert.equal(
      entries.map((e) => [e.memberPath, e.index]),
      [
        ['appended.txt', 0],
        ['appended.txt', 1],
      ],
    );
    assert.equal(contents, ['first\n', readFileSync(file, 'utf8')]);
    assert.ok(entries[1]!.headerOffset > entries[0]!.headerOffset);
  });
}

const COMPRESSORS: Array<[string, string[]]> = [
  ['gzip', ['gzip', '-c']],
  ['bzip2', ['bzip2', '-c']],
  ['xz', ['xz', '-c']],
  ['zstd', ['zstd', '-q', '-c']],
];

if (why) {
  Walk.skip('every compression, from a path and from a stream');
} else {
  Walk(
    'every compression, from a path and from a stream: the same members as the plain archive',
    async () => {
      const plain = path.join(root, 'plain-for-compression.tar');
      run('tar', ['--format=posix', '--sparse', '-C', fullSrc, '-cf', plain, ...fullTop]);
      const reference = await walkAll(plain);
      for (const [name, command] of COMPRESSORS) {
        const compressed = path.join(root, `c.tar.${name}`);
        writeFileSync(
          compressed,
          childProcess.execFileSync(command[0]!, [...command.slice(1), plain], {
            maxBuffer: 1 << 28,
          }),
        );
        const fromPath = await walkAll(compressed);
        assert.is(fromPath.result.compression, name);
        assert.is(fromPath.result.seekable, false);
        assert.is(fromPath.result.sizeBytes, statSync(compressed).size);
        assert.is(
          fromPath.result.streamBytes,
          reference.result.streamBytes,
          `${name} stream bytes`,
        );
        sameEntries(fromPath.entries, reference.entries, `${name} from a path`);
        const fromStream = await walkAll(chunkedStream(readFileSync(compressed), 3));
        assert.is(fromStream.result.path, '-');
        sameEntries(fromStream.entries, reference.entries, `${name} from a stream`);
        const checked = await checkData(compressed, fullSrc);
        assert.ok(checked > 5, `${name}: data collected`);
      }
    },
  );
}

if (why) {
  Walk.skip('stop ends a compressed walk early and cleanly');
} else {
  Walk("'stop' ends a walk early; a compressed one kills its decompressor cleanly", async () => {
    const plain = path.join(root, 'plain-for-stop.tar');
    run('tar', ['--format=gnu', '-C', fullSrc, '-cf', plain, ...fullTop]);
    for (const [name, command] of [['none', ['cat']] as [string, string[]], ...COMPRESSORS]) {
      const archive = path.join(root, `stop.tar.${name}`);
      writeFileSync(
        archive,
        childProcess.execFileSync(command[0]!, [...command.slice(1), plain], {
          maxBuffer: 1 << 28,
        }),
      );
      let seen = 0;
      const { result } = await walkAll(archive, {
        onEntry: () => (++seen === 2 ? 'stop' : undefined),
      });
      assert.is(seen, 2, name);
      assert.is(result.stopped, true, name);
      assert.is(result.members, 2, name);
      // onData may stop the walk too (readMembers relies on it).
      let data = 0;
      const viaData = await walkArchive(archive, {
        onEntry: (entry) => (entry.type === 'file' ? 'data' : undefined),
        onData: () => (++data === 1 ? 'stop' : undefined),
      });
      assert.is(viaData.stopped, true, name);
      assert.is(data, 1, name);
    }
  });
}

if (why) {
  Walk.skip('errors: truncation, checksum, not a tar, corrupt compression, absurd sizes');
} else {
  Walk(
    'truncated archives: ARCHIVE_TRUNCATED with the offset, from a file and a stream',
    async () => {
      const archive = path.join(root, 'trunc-src.tar');
      run('tar', ['--format=posix', '-C', basicSrc, '-cf', archive, 'docs']);
      const bytes = readFileSync(archive);
      const { entries } = await walkAll(archive);
      const file = entries.find((e) => e.memberPath === 'docs/nested/deeper/deepest/file.bin')!;
      const cuts: Array<[string, number]> = [
        ['mid pax header data', entries[1]!.headerOffset + 512 + 10],
        ['mid header', file.dataOffset - 200],
        ['mid data', file.dataOffset + 1000],
        ['in the padding after data', file.dataOffset + file.dataLength + 10],
      ];
      for (const [what, cut] of cuts) {
        const truncated = path.join(root, 'trunc.tar');
        writeFileSync(truncated, bytes.subarray(0, cut));
        const error = await expectCode(walkAll(truncated), 'ARCHIVE_TRUNCATED');
        assert.is(error.details.offset, cut, what);
        await expectCode(walkAll(chunkedStream(bytes.subarray(0, cut))), 'ARCHIVE_TRUNCATED');
      }
    },
  );

  Walk(
    'end of archive: missing EOF blocks and a lone zero block warn; trailing garbage warns',
    async () => {
      const archive = path.join(root, 'eof-src.tar');
      run('tar', ['--format=gnu', '-C', basicSrc, '-cf', archive, 'docs']);
      const full = await walkAll(archive);
      const end = full.result.streamBytes - 1024;
      const bytes = readFileSync(archive);
      const noEof = await walkAll(chunkedStream(bytes.subarray(0, end)));
      assert.is(noEof.entries.length, full.entries.length);
      assert.is(noEof.result.warnings[0]?.code, 'missing-eof');
      const lone = path.join(root, 'lone.tar');
      writeFileSync(lone, bytes.subarray(0, end + 512));
      const loneWalk = await walkAll(lone);
      assert.is(loneWalk.entries.length, full.entries.length);
      assert.is(loneWalk.result.warnings[0]?.code, 'lone-zero-block');
      // From a stream the rest after a lone zero block is read (not parsed): the fingerprint
      // is of every byte, so streams that differ only there are told apart.
      const loneBytes = Buffer.concat([bytes.subarray(0, end + 512), Buffer.alloc(4096, 7)]);
      const otherTail = Buffer.concat([bytes.subarray(0, end + 512), Buffer.alloc(4096, 8)]);
      const loneStream = await walkAll(chunkedStream(loneBytes));
      assert.is(loneStream.entries.length, full.entries.length);
      assert.is(loneStream.result.sizeBytes, loneBytes.length);
      const otherStream = await walkAll(chunkedStream(otherTail));
      assert.is.not(otherStream.result.fingerprint, loneStream.result.fingerprint);
      const garbage = path.join(root, 'garbage.tar');
      writeFileSync(garbage, Buffer.concat([bytes, Buffer.from('not zeros')]));
      const garbageWalk = await walkAll(garbage);
      assert.is(garbageWalk.entries.length, full.entries.length);
      assert.equal(Object.keys(garbageWalk.result.warningCounts), ['trailing-garbage']);
    },
  );

  Walk('checksum mismatch, not a tar, empty input, corrupt compressed streams', async () => {
    const archive = path.join(root, 'cks-src.tar');
    run('tar', ['--format=ustar', '-C', basicSrc, '-cf', archive, 'docs']);
    const bytes = Buffer.from(readFileSync(archive));
    const second = (await walkAll(archive)).entries[1]!.headerOffset;
    for (const offset of [0, second]) {
      const flipped = Buffer.from(bytes);
      flipped[offset + 20] = flipped[offset + 20]! ^ 0x01; // a name byte: the stored checksum no longer matches
      const file = path.join(root, 'cks.tar');
      writeFileSync(file, flipped);
      const error = await expectCode(walkAll(file), 'ARCHIVE_CHECKSUM');
      assert.is(error.details.offset, offset);
    }
    const random = Buffer.alloc(4096);
    for (let i = 0; i < random.length; i += 1) random[i] = (i * 2654435761) >>> 24;
    const randomFile = path.join(root, 'random.bin');
    writeFileSync(randomFile, random);
    await expectCode(walkAll(randomFile), 'NOT_A_TAR');
    const empty = path.join(root, 'empty.tar');
    writeFileSync(empty, '');
    await expectCode(walkAll(empty), 'NOT_A_TAR');
    await expectCode(walkAll(Readable.from([])), 'NOT_A_TAR');
    await expectCode(walkAll(path.join(root, 'does-not-exist.tar')), 'ARCHIVE_NOT_FOUND');
    const gzipOfText = path.join(root, 'text.gz');
    writeFileSync(gzipOfText, childProcess.execFileSync('gzip', ['-c'], { input: random }));
    await expectCode(walkAll(gzipOfText), 'NOT_A_TAR');

    const big = path.join(root, 'corrupt-src.tar');
    run('tar', ['--format=gnu', '-C', fullSrc, '-cf', big, ...fullTop]);
    for (const [name, command] of COMPRESSORS) {
      const compressed = childProcess.execFileSync(command[0]!, [...command.slice(1), big], {
        maxBuffer: 1 << 28,
      });
      const cut = path.join(root, `cut.${name}`);
      writeFileSync(cut, compressed.subarray(0, Math.floor(compressed.length * 0.6)));
      await expectCode(walkAll(cut), 'COMPRESSION_CORRUPT');
      await expectCode(walkAll(chunkedStream(readFileSync(cut))), 'COMPRESSION_CORRUPT');
    }
  });

  Walk('absurd size fields are ARCHIVE_HEADER; a base-256 size over 8 GiB is read', async () => {
    const archive = path.join(root, 'size-src.tar');
    run('tar', ['--format=gnu', '-C', basicSrc, '-cf', archive, 'docs/readme.txt']);
    const bytes = readFileSync(archive);
    const withSize = (field: Buffer): Buffer => {
      const header = Buffer.from(bytes.subarray(0, 512));
      field.copy(header, 124);
      header.fill(0x20, 148, 156);
      let sum = 0;
      for (const byte of header) sum += byte;
      header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
      return Buffer.concat([header, bytes.subarray(512)]);
    };
    const base256 = (value: bigint): Buffer => {
      const field = Buffer.alloc(12);
      let v = value < 0n ? (1n << 96n) + value : value;
      for (let i = 11; i >= 0; i -= 1) {
        field[i] = Number(v & 0xffn);
        v >>= 8n;
      }
      field[0] = value < 0n ? 0xff : 0x80 | field[0]!;
      return field;
    };
    const file = path.join(root, 'size.tar');
    for (const field of [Buffer.from('00000000zz9\0'), base256(-5n), base256(1n << 60n)]) {
      writeFileSync(file, withSize(field));
      await expectCode(walkAll(file), 'ARCHIVE_HEADER');
    }
    // 9 GiB: only base-256 can say it. The walk reports it, and the data is then missing.
    const nineGiB = 9 * 1024 ** 3;
    writeFileSync(file, withSize(base256(BigInt(nineGiB))));
    const sizes: number[] = [];
    await expectCode(
      walkArchive(file, {
        onEntry: (entry) => {
          sizes.push(entry.size);
        },
      }),
      'ARCHIVE_TRUNCATED',
    );
    assert.equal(sizes, [nineGiB]);
    // python3 as the oracle for the encoding: tarfile writes base-256 for this size too.
    const pyFile = path.join(root, 'py-size.tar');
    writeWithPython(
      `
import io, sys, tarfile
ti = tarfile.TarInfo('huge'); ti.size = ${nineGiB}
with open(sys.argv[1], 'wb') as f:
    f.write(ti.tobuf(tarfile.GNU_FORMAT))
`,
      [pyFile],
    );
    const stopped = await walkAll(pyFile, { onEntry: () => 'stop' });
    assert.is(stopped.entries[0]?.size, nineGiB);
  });
}

if (why) {
  Walk.skip('a hostile sparse map of millions of extents');
} else {
  Walk(
    'a hostile pax 1.0 sparse map of millions of extents is refused, not held in memory',
    async () => {
      // 16 M declared extents compress to kilobytes; they used to take a gigabyte to hold.
      const hostile = path.join(root, 'hostile-sparse.tar.gz');
      writeWithPython(
        `
import gzip, io, sys, tarfile
N = 1 << 24
body = (str(N) + "\\n").encode() + b"0\\n0\\n" * N
data = body + b"\\0" * ((-len(body)) % 512)
ti = tarfile.TarInfo("big.sparse"); ti.size = len(data)
ti.pax_headers = {"GNU.sparse.major": "1", "GNU.sparse.minor": "0", "GNU.sparse.realsize": "0", "GNU.sparse.name": "big"}
with gzip.open(sys.argv[1], "wb") as g:
    t = tarfile.open(fileobj=g, mode="w", format=tarfile.PAX_FORMAT); t.addfile(ti, io.BytesIO(data)); t.close()
`,
        [hostile],
      );
      const before = process.memoryUsage().rss;
      try {
        await walkAll(hostile);
        assert.unreachable('walked');
      } catch (error) {
        assert.instance(error, RestoreplanError);
        assert.is((error as RestoreplanError).code, 'ARCHIVE_HEADER');
        assert.match((error as RestoreplanError).message, /too many extents/);
      }
      assert.ok(process.memoryUsage().rss - before < 200 * 1024 * 1024, 'memory stayed bounded');
    },
  );
}

if (why) {
  Walk.skip('typeflags: V, D, M, unknown; negative mtimes; pax global headers');
} else {
  Walk(
    'volume labels and GNU dumpdirs; M skipped with a warning; unknown typeflags are files',
    async () => {
      const labelled = path.join(root, 'label.tar');
      run('tar', [
        '--format=gnu',
        '-V',
        'BACKUP 2024',
        '-C',
        basicSrc,
        '-cf',
        labelled,
        'docs/readme.txt',
      ]);
      const label = await walkAll(labelled);
      assert.equal(
        label.entries.map((e) => e.memberPath),
        ['docs/readme.txt'],
      );

      const incremental = path.join(root, 'incr.tar');
      run('tar', [
        '--format=gnu',
        `--listed-incremental=${path.join(root, 'snapshot')}`,
        '-C',
        basicSrc,
        '-cf',
        incremental,
        'docs',
      ]);
      const incr = await walkAll(incremental);
      // tarfile for the types only: it reads GNU's atime/ctime bytes as a ustar prefix and gets
      // incremental names wrong; GNU tar's own listing for the names.
      const oracle = readWithTarfile(incremental);
      assert.ok(
        oracle.some((m) => m.type === 'D'),
        'GNU tar wrote dumpdir members',
      );
      assert.equal(
        incr.entries.map((e) => e.type),
        oracle.map((m) => (m.type === 'D' || m.type === '5' ? 'dir' : 'file')),
      );
      assert.equal(
        incr.entries.map((e) => e.memberPath),
        listWithGnuTar(incremental).map(normalizeMemberPath),
      );
      assert.equal(incr.result.warnings, []);

      // Rewrite typeflags of a real archive: 'M' (continuation), 'Q' (unknown).
      const base = path.join(root, 'types-src.tar');
      run('tar', [
        '--format=ustar',
        '-C',
        basicSrc,
        '-cf',
        base,
        'docs/readme.txt',
        'docs/empty.txt',
      ]);
      for (const [flag, expectMembers, warning] of [
        ['M', ['docs/empty.txt'], 'skipped-member'],
        ['Q', ['docs/readme.txt', 'docs/empty.txt'], 'unknown-typeflag'],
      ] as const) {
        const bytes = Buffer.from(readFileSync(base));
        bytes[156] = flag.charCodeAt(0);
        bytes.fill(0x20, 148, 156);
        let sum = 0;
        for (let i = 0; i < 512; i += 1) sum += bytes[i]!;
        bytes.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
        const file = path.join(root, `type-${flag}.tar`);
        writeFileSync(file, bytes);
        const walked = await walkAll(file);
        assert.equal(
          walked.entries.map((e) => e.memberPath),
          [...expectMembers],
          flag,
        );
        assert.is(walked.entries[0]!.type, 'file');
        assert.is(walked.result.warnings[0]?.code, warning);
      }
    },
  );

  Walk('negative mtimes (base-256 in gnu, decimal in pax) and pax global headers', async () => {
    const old = path.join(root, 'old.txt');
    writeFileSync(old, 'old\n');
    // touch, not utimes: Node's utimes turns a negative time into "now".
    run('touch', ['-d', '1950-06-01 12:00:00 UTC', old]);
    const expectedMtime = Number(run('stat', ['-c', '%Y', old]).trim());
    assert.ok(expectedMtime < 0);
    for (const format of ['gnu', 'posix']) {
      const archive = path.join(root, `old-${format}.tar`);
      run('tar', [`--format=${format}`, '-C', root, '-cf', archive, 'old.txt']);
      const { entries } = await walkAll(archive);
      assert.is(Math.floor(entries[0]!.mtime), expectedMtime, format);
    }
    const globalArchive = path.join(root, 'global.tar');
    writeWithPython(
      `
import io, sys, tarfile
with tarfile.open(sys.argv[1], 'w', format=tarfile.PAX_FORMAT, pax_headers={'uid': '4242', 'comment': 'g'}) as tf:
    for name, uid in [('a', 1), ('b', 2)]:
        ti = tarfile.TarInfo(name); ti.size = 1; ti.uid = uid
        tf.addfile(ti, io.BytesIO(b'x'))
`,
      [globalArchive],
    );
    const oracle = readWithTarfile(globalArchive);
    const { entries, result } = await walkAll(globalArchive);
    assert.equal(
      entries.map((e) => [e.memberPath, e.uid, e.headerOffset]),
      oracle.map((m) => [m.name, m.uid, m.offset]),
    );
    assert.ok(entries.every((e) => e.uid === 4242));
    assert.equal(result.formats, ['pax']);
  });
}

if (why) {
  Walk.skip('progress, abort, fingerprint, stdin');
} else {
  Walk('progress events, abort between chunks, a fingerprint that follows the file', async () => {
    const archive = path.join(root, 'progress.tar');
    run('tar', ['--format=gnu', '-C', fullSrc, '-cf', archive, ...fullTop]);
    const events: ProgressEvent[] = [];
    const { result } = await walkAll(archive, { onProgress: (event) => events.push(event) });
    const last = events.at(-1)!;
    assert.is(last.done, result.members);
    assert.is(last.totalBytes, statSync(archive).size);
    assert.is(last.phase, 'scan');

    const controller = new AbortController();
    controller.abort();
    await expectCode(walkAll(archive, { signal: controller.signal }), 'ABORTED');
    const midway = new AbortController();
    await expectCode(
      walkAll(chunkedStream(readFileSync(archive)), {
        signal: midway.signal,
        onEntry: () => {
          midway.abort();
        },
      }),
      'ABORTED',
    );

    const again = await walkAll(archive);
    assert.is(again.result.fingerprint, result.fingerprint);
    assert.match(result.fingerprint, /^sha256:[0-9a-f]{64}$/);
    const stat = statSync(archive);
    utimesSync(archive, stat.atime, new Date(stat.mtimeMs + 5000));
    const touched = await walkAll(archive);
    assert.is.not(touched.result.fingerprint, result.fingerprint);
    const mtimeNs = statSync(archive, { bigint: true }).mtimeNs;
    assert.is(touched.result.mtime, new Date(Number(mtimeNs / 1_000_000n)).toISOString());

    const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
    const streamA = await walkAll(chunkedStream(readFileSync(archive), 1));
    const streamB = await walkAll(chunkedStream(readFileSync(archive), 5));
    assert.is(streamA.result.fingerprint, streamB.result.fingerprint, 'chunking does not matter');
    assert.is(streamA.result.sizeBytes, stat.size);
    assert.ok(sha(readFileSync(archive)).length === 64);
  });

  Walk("'-' reads stdin; stdin redirected from a file is walked by offset", async () => {
    const archive = path.join(root, 'stdin.tar');
    run('tar', ['--format=gnu', '-C', basicSrc, '-cf', archive, 'docs']);
    const script = `
      import { walkArchive } from ${JSON.stringify(path.resolve('src/archive/walkArchive.ts'))};
      let n = 0;
      const r = await walkArchive('-', { onEntry: () => { n += 1; } });
      console.log(JSON.stringify({ n, members: r.members, seekable: r.seekable, size: r.sizeBytes }));
    `;
    const scriptFile = path.join(root, 'stdin-walk.mts');
    writeFileSync(scriptFile, script);
    const expected = (await walkAll(archive)).result.members;
    const fromFile = JSON.parse(
      childProcess
        .execSync(`node --import tsx ${scriptFile} < ${archive}`, { cwd: process.cwd() })
        .toString(),
    );
    assert.equal(fromFile, {
      n: expected,
      members: expected,
      seekable: false,
      size: statSync(archive).size,
    });
    const fromPipe = JSON.parse(
      childProcess
        .execSync(`cat ${archive} | node --import tsx ${scriptFile}`, { cwd: process.cwd() })
        .toString(),
    );
    assert.equal(fromPipe, {
      n: expected,
      members: expected,
      seekable: false,
      size: statSync(archive).size,
    });
  });
}

Walk.run();
