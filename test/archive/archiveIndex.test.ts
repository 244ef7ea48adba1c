/**
 * The archive index (issue 13): an index built from any tar dialect and compression answers
 * exactly like a fresh walk (every entry, every field, the walk's result, the scan document byte
 * for byte); a changed, truncated, swapped or replaced archive is never answered from a stale
 * index; a corrupt, foreign or untrusted index file is ignored and rebuilt; writing one never
 * fails a walk; `--no-index` reads and writes nothing.
 */
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';

import type { ArchiveEntry } from '../../src/archive/ArchiveEntry.js';
import type { IndexHeader } from '../../src/archive/ArchiveIndex.js';
import type { IndexOutcome } from '../../src/archive/archiveIndexStore.js';
import { walkArchive, type WalkResult } from '../../src/archive/walkArchive.js';
import { judgeListFile, LIST_FILE_NOTES } from '../../src/mailman/noteListFile.js';
import { archiveIndexOptions } from '../../src/plan/archiveIndexOptions.js';
import { scanArchive } from '../../src/scanArchive.js';
import { buildSourceTree } from './fixtures/buildSourceTree.js';
import { cli } from '../helpers/runCli.js';
import { makeScratch, missingNeeds, run } from '../helpers/env.js';

const why = missingNeeds({
  tools: ['tar', 'bsdtar', 'gzip', 'bzip2', 'xz', 'zstd', 'truncate', 'dd'],
});
const Index = suite('archive index');
const scratch = why ? null : makeScratch('restoreplan-index-');
const root = scratch?.dir ?? '';
Index.after(() => scratch?.cleanup());

interface Walked {
  entries: string[];
  result: Omit<WalkResult, 'fromIndex'>;
  fromIndex: boolean;
  outcomes: IndexOutcome['kind'][];
}

/** One walk, every entry as JSON; asking for the data (or note) of the Mailman list files. */
async function walk(archive: string, dir: string | false): Promise<Walked> {
  const entries: string[] = [];
  const outcomes: IndexOutcome['kind'][] = [];
  const indexOptions = await archiveIndexOptions({
    index: dir === false ? false : { dir, onOutcome: (o) => outcomes.push(o.kind) },
  });
  const result = await walkArchive(archive, {
    ...indexOptions,
    onEntry(entry: ArchiveEntry) {
      entries.push(JSON.stringify(entry));
      return LIST_FILE_NOTES.wants(entry.memberPath, entry.type, entry.dataLength)
        ? 'data'
        : undefined;
    },
    onNote(entry, note) {
      entries.push(`note ${entry.index} ${note}`);
    },
  });
  const { fromIndex, ...rest } = result;
  return { entries, result: rest, fromIndex, outcomes };
}

let counter = 0;
function freshDir(): string {
  counter += 1;
  const dir = path.join(root, `idx-${counter}`);
  return dir;
}

function makeTree(): string {
  const src = path.join(root, 'src');
  if (existsSync(src)) return src;
  mkdirSync(src);
  buildSourceTree(src, { long: true, sparse: true });
  // Mailman list files: a valid config, a corrupt one, and a superseded copy (appended later).
  for (const [list, bytes] of [
    ['good', Buffer.from("(dp0\nS'a'\np1\nI1\ns.", 'latin1')],
    ['bad', Buffer.alloc(40)],
  ] as const) {
    mkdirSync(path.join(src, 'mm/lists', list), { recursive: true });
    writeFileSync(path.join(src, 'mm/lists', list, 'config.pck'), bytes);
    writeFileSync(path.join(src, 'mm/lists', list, 'config.pck.last'), bytes);
  }
  return src;
}

const DIALECTS: Array<{ name: string; make: (src: string, archive: string) => void }> = [
  { name: 'gnu', make: (s, a) => run('tar', ['--format=gnu', '--sparse', '-C', s, '-cf', a, '.']) },
  {
    name: 'oldgnu',
    make: (s, a) => run('tar', ['--format=oldgnu', '--sparse', '-C', s, '-cf', a, '.']),
  },
  {
    name: 'posix sparse 1.0',
    make: (s, a) =>
      run('tar', ['--format=posix', '--sparse', '--sparse-version=1.0', '-C', s, '-cf', a, '.']),
  },
  {
    name: 'posix sparse 0.1',
    make: (s, a) =>
      run('tar', ['--format=posix', '--sparse', '--sparse-version=0.1', '-C', s, '-cf', a, '.']),
  },
  {
    name: 'ustar',
    make: (s, a) => run('tar', ['--format=ustar', '-C', s, '-cf', a, 'mm', 'docs']),
  },
  { name: 'v7', make: (s, a) => run('tar', ['--format=v7', '-C', s, '-cf', a, 'mm', 'docs']) },
  {
    name: 'bsdtar pax',
    make: (s, a) => run('bsdtar', ['--format', 'pax', '-C', s, '-cf', a, '.']),
  },
  {
    name: 'bsdtar ustar',
    make: (s, a) => run('bsdtar', ['--format', 'ustar', '-C', s, '-cf', a, 'mm', 'docs']),
  },
  {
    name: 'gnu, appended (duplicates), absolute names',
    make: (s, a) => {
      run('tar', ['--format=gnu', '-C', s, '-cf', a, '.']);
      run('tar', ['--format=gnu', '-C', s, '-rf', a, './mm/lists/good/config.pck']);
      run('tar', ['--format=gnu', '-P', '-rf', a, path.join(s, 'docs/readme.txt')]);
    },
  },
];

const COMPRESSIONS: Array<{ name: string; command: string[] | null; suffix: string }> = [
  { name: 'none', command: null, suffix: '' },
  { name: 'gzip', command: ['gzip', '-6'], suffix: '.gz' },
  { name: 'bzip2', command: ['bzip2'], suffix: '.bz2' },
  { name: 'xz', command: ['xz', '-T2'], suffix: '.xz' },
  { name: 'zstd', command: ['zstd', '-q', '--rm'], suffix: '.zst' },
];

function compress(archive: string, command: string[] | null, suffix: string): string {
  if (!command) return archive;
  const copy = `${archive}.copy`;
  run('cp', [archive, copy]);
  run(command[0]!, [...command.slice(1), copy]);
  const made = `${copy}${suffix}`;
  const final = `${archive}${suffix}`;
  renameSync(made, final);
  return final;
}

if (why) {
  Index.skip(`every dialect and compression (${why})`, () => {});
} else {
  for (const dialect of DIALECTS) {
    Index(`${dialect.name}, every compression: the index answers exactly like a walk`, async () => {
      const src = makeTree();
      const base = path.join(root, `${dialect.name.replace(/\W+/g, '-')}.tar`);
      dialect.make(src, base);
      for (const { name, command, suffix } of COMPRESSIONS) {
        const archive = compress(base, command, suffix);
        const dir = freshDir();
        const cold = await walk(archive, false);
        const built = await walk(archive, dir);
        const warm = await walk(archive, dir);
        assert.equal(cold.fromIndex, false);
        assert.equal(built.outcomes, ['saved'], `${name}: the first walk leaves an index`);
        assert.equal(warm.outcomes, ['hit'], `${name}: the second is answered from it`);
        assert.ok(warm.fromIndex);
        assert.equal(built.entries, cold.entries, `${name}: building changes nothing`);
        assert.equal(warm.entries, cold.entries, `${name}: same entries, same notes, same order`);
        assert.equal(warm.result, cold.result, `${name}: same walk result`);
        const scanCold = await scanArchive(archive, { index: false });
        const scanWarm = await scanArchive(archive, { index: { dir } });
        assert.is(JSON.stringify(scanWarm), JSON.stringify(scanCold), `${name}: scan document`);
      }
    });
  }
}

Index('notes: the verdict of each list file equals judging its data', async () => {
  if (why) return;
  const src = makeTree();
  const archive = path.join(root, 'notes.tar');
  run('tar', ['-C', src, '-cf', archive, 'mm']);
  const dir = freshDir();
  await walk(archive, dir);
  const warm = await walk(archive, dir);
  const notes = warm.entries.filter((e) => e.startsWith('note '));
  assert.is(notes.length, 4);
  const good = JSON.parse(
    notes
      .find((n) => n.includes('"valid":true'))!
      .split(' ')
      .slice(2)
      .join(' '),
  );
  assert.equal(good, judgeListFile(readFileSync(path.join(src, 'mm/lists/good/config.pck'))));
});

Index('a changed archive is never answered from a stale index', async () => {
  if (why) return;
  const src = makeTree();
  const archive = path.join(root, 'stale.tar');
  run('tar', ['-C', src, '-cf', archive, 'docs', 'mm']);
  const dir = freshDir();
  await walk(archive, dir);
  assert.equal((await walk(archive, dir)).outcomes, ['hit']);

  // In place, same size, mtime put back to the nanosecond: only the ctime tells.
  const before = statSync(archive, { bigint: true });
  const bytes = readFileSync(archive);
  const at = bytes.indexOf('hello\n');
  bytes.write('HELLO\n', at, 'latin1');
  writeFileSync(archive, bytes);
  utimesSync(archive, before.atime, before.mtime);
  const edited = await walk(archive, dir);
  assert.not.ok(edited.fromIndex, 'an in-place edit with its mtime restored is walked again');
  assert.equal(edited.outcomes, ['saved']);

  // Appended to (tar -r): size and tail change.
  run('tar', ['-C', src, '-rf', archive, 'docs/readme.txt']);
  const appended = await walk(archive, dir);
  assert.not.ok(appended.fromIndex);
  assert.ok(appended.entries.length > edited.entries.length);

  // Swapped: another archive moved into its place.
  const other = path.join(root, 'other.tar');
  run('tar', ['-C', src, '-cf', other, 'docs']);
  await walk(other, dir);
  renameSync(other, archive);
  const swapped = await walk(archive, dir);
  assert.equal(swapped.result.members, (await walk(archive, false)).result.members);
  assert.not.ok(swapped.fromIndex, 'a renamed file changes its ctime: walked again');

  // Truncated: a different size.
  const truncated = path.join(root, 'truncated.tar');
  run('tar', ['-C', src, '-cf', truncated, 'docs', 'mm']);
  await walk(truncated, dir);
  run('truncate', ['-s', String(statSync(truncated).size - 1024), truncated]);
  const cut = await walk(truncated, dir).catch((error: Error) => error);
  assert.ok(cut instanceof Error || !cut.fromIndex);
});

Index('a corrupt, truncated, foreign or untrusted index file is ignored and rebuilt', async () => {
  if (why) return;
  const src = makeTree();
  const archive = path.join(root, 'corrupt.tar');
  run('tar', ['-C', src, '-cf', archive, 'docs', 'mm']);
  const cold = await walk(archive, false);
  const dir = freshDir();
  await walk(archive, dir);
  const [name] = readdirSync(dir);
  const file = path.join(dir, name!);
  const good = readFileSync(file);

  const damage: Array<[string, (b: Buffer) => Buffer]> = [
    [
      'one flipped byte in the body',
      (b) => {
        const c = Buffer.from(b);
        c[c.length - 100]! ^= 0x10;
        return c;
      },
    ],
    [
      'one flipped byte in the header',
      (b) => {
        const c = Buffer.from(b);
        c[40]! ^= 0x01;
        return c;
      },
    ],
    ['truncated', (b) => b.subarray(0, b.length - 9)],
    ['empty', () => Buffer.alloc(0)],
    ['foreign bytes', () => Buffer.from('not an index at all\n'.repeat(50))],
  ];
  for (const [label, mutate] of damage) {
    writeFileSync(file, mutate(good), { mode: 0o600 });
    const again = await walk(archive, dir);
    assert.not.ok(again.fromIndex, `${label}: not trusted`);
    assert.equal(again.entries, cold.entries, `${label}: answered by a walk`);
    assert.equal(again.outcomes, ['ignored', 'saved'], `${label}: ignored, then rebuilt`);
    assert.ok((await walk(archive, dir)).fromIndex, `${label}: the rebuilt one is used`);
  }

  // Valid in every byte, but written by a walk that read archives differently (another
  // WALK_REVISION): what it would replay may not be what this build reports.
  {
    const text = good.toString('latin1');
    const at = text.indexOf('"walkRevision":"') + '"walkRevision":"'.length;
    const other = Buffer.from(good);
    other.write('X', at, 'latin1');
    other.writeUInt32LE(crc32(other.subarray(0, other.length - 8)), other.length - 8);
    writeFileSync(file, other, { mode: 0o600 });
    const again = await walk(archive, dir);
    assert.not.ok(again.fromIndex, 'another walk revision: not used');
    assert.equal(again.entries, cold.entries);
  }

  // Valid CRC, but not what any walk wrote: a header or columns that do not hang together
  // are found when the file is read, never half-way through a replay (a failed command).
  const rewrite = (mutate: (header: IndexHeader, body: Buffer) => void): Buffer => {
    const length = good.readUInt32LE(8);
    const header = JSON.parse(good.toString('utf8', 16, 16 + length));
    const start = 16 + length + ((8 - ((16 + length) % 8)) % 8);
    const body = Buffer.from(good.subarray(start, good.length - 8));
    mutate(header, body);
    const json = Buffer.from(JSON.stringify(header), 'utf8');
    const head = Buffer.alloc(16);
    good.copy(head, 0, 0, 16);
    head.writeUInt32LE(json.length, 8);
    const before = Buffer.concat([
      head,
      json,
      Buffer.alloc((8 - ((16 + json.length) % 8)) % 8),
      body,
    ]);
    const tail = Buffer.alloc(8);
    tail.writeUInt32LE(crc32(before), 0);
    tail.write('IEND', 4, 'latin1');
    return Buffer.concat([before, tail]);
  };
  const lies: Array<[string, (header: IndexHeader, body: Buffer) => void]> = [
    ['a warning that is not one', (h) => (h.walk.warnings = [null as never])],
    ['front coding past the previous path', (h) => (h.columns.prefix!.at = h.columns.suffix!.at)],
    ['an entry type no walk reports', (h, b) => (b[h.columns.flags!.at[0] + 1] = 0x07)],
    ['a raw name kind no walk writes', (h, b) => (b[h.columns.rawKind!.at[0] + 1] = 200)],
  ];
  for (const [label, mutate] of lies) {
    writeFileSync(file, rewrite(mutate), { mode: 0o600 });
    const again = await walk(archive, dir);
    assert.not.ok(again.fromIndex, `${label}: not trusted`);
    assert.equal(again.entries, cold.entries, `${label}: answered by a walk`);
    assert.equal(again.outcomes, ['ignored', 'saved'], `${label}: ignored, then rebuilt`);
  }

  // Another archive's valid index under this archive's name: the key inside says whose it is.
  const other = path.join(root, 'corrupt-other.tar');
  run('tar', ['-C', src, '-cf', other, 'docs']);
  const otherDir = freshDir();
  await walk(other, otherDir);
  writeFileSync(file, readFileSync(path.join(otherDir, readdirSync(otherDir)[0]!)), {
    mode: 0o600,
  });
  const foreign = await walk(archive, dir);
  assert.not.ok(foreign.fromIndex);
  assert.equal(foreign.entries, cold.entries);

  // Writable by others: an index decides what a plan says, so it is not read.
  chmodSync(file, 0o666);
  const shared = await walk(archive, dir);
  assert.not.ok(shared.fromIndex);
  assert.equal(shared.outcomes[0], 'ignored');
});

Index('writing an index never fails the walk; --no-index writes nothing', async () => {
  if (why) return;
  const src = makeTree();
  const archive = path.join(root, 'nowrite.tar');
  run('tar', ['-C', src, '-cf', archive, 'docs']);
  // The index dir is a regular file: nothing can be written there.
  const blocked = path.join(root, 'blocked');
  writeFileSync(blocked, 'x');
  const result = await walk(archive, path.join(blocked, 'sub'));
  assert.equal(result.outcomes, ['not-saved']);
  assert.ok(result.entries.length > 0);

  const cache = path.join(root, 'xdg');
  const env = { XDG_CACHE_HOME: cache };
  const noIndex = await cli(['scan', archive, '--json', '--no-index'], { env });
  assert.is(noIndex.code, 0);
  assert.not.ok(existsSync(cache), '--no-index creates no cache directory');
  const withIndex = await cli(['scan', archive, '--json'], { env });
  assert.is(withIndex.code, 0);
  assert.is(readdirSync(path.join(cache, 'restoreplan')).length, 1, 'the default leaves one');
  assert.is(withIndex.stdout, noIndex.stdout);
  const both = await cli(['scan', archive, '--no-index', '--index-dir', cache], { env });
  assert.is(both.code, 3);
  assert.match(both.stderr, /USAGE: --index-dir and --no-index exclude each other/);
  // `index` makes the index its whole job: failing to is its one-line error, saying why.
  const onFile = cli(['index', archive, '--index-dir', blocked]);
  assert.is(onFile.code, 3);
  assert.match(onFile.stderr, /^restoreplan: WRITE_FAILED: .* is not a directory \(EEXIST\)\n/);
  const open = path.join(root, 'open-dir');
  mkdirSync(open, { mode: 0o777 });
  chmodSync(open, 0o777);
  const shared = cli(['index', archive, '--index-dir', open]);
  assert.is(shared.code, 3);
  assert.match(shared.stderr, /could not be read back from .*: directory writable by others/);
});

Index('bounded: the least recently used index files are removed beyond the bound', async () => {
  if (why) return;
  const src = makeTree();
  const dir = freshDir();
  const { saveArchiveIndex } = await import('../../src/archive/archiveIndexStore.js');
  const files: string[] = [];
  for (const [i, name] of ['a', 'b', 'c'].entries()) {
    const archive = path.join(root, `bound-${name}.tar`);
    run('tar', ['-C', src, '-cf', archive, 'docs']);
    await walk(archive, dir);
    const made = readdirSync(dir)
      .map((f) => path.join(dir, f))
      .find((f) => !files.includes(f))!;
    files.push(made);
    // Last used i+1 thousand seconds after the epoch: a is the oldest.
    utimesSync(made, new Date(1e6 * (i + 1)), new Date(1e6 * (i + 1)));
  }
  const size = statSync(files[1]!).size + statSync(files[2]!).size + 16;
  const outcome = await saveArchiveIndex(dir, 'key-for-bound-test', [Buffer.alloc(16)], {
    maxBytes: size,
  });
  assert.is(outcome.kind, 'saved');
  assert.not.ok(existsSync(files[0]!), 'the least recently used is removed');
  assert.ok(existsSync(files[1]!) && existsSync(files[2]!));
  // Using an index marks it used: b is read now, so c is the one to go next.
  await walk(path.join(root, 'bound-b.tar'), dir);
  await saveArchiveIndex(dir, 'key-for-bound-test-2', [Buffer.alloc(16)], { maxBytes: size });
  assert.ok(existsSync(files[1]!));
  assert.not.ok(existsSync(files[2]!));
});

/** A tree of incompressible files big enough for many xz blocks / zstd frames / gzip points. */
function makeBigTree(): string {
  const src = path.join(root, 'big');
  if (existsSync(src)) return src;
  let seed = 12345;
  const random = (n: number): Buffer => {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i += 1) {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      b[i] = seed >>> 24;
    }
    return b;
  };
  for (let d = 0; d < 6; d += 1) {
    mkdirSync(path.join(src, `d${d}`), { recursive: true });
    for (let f = 0; f < 12; f += 1)
      writeFileSync(
        path.join(src, `d${d}`, `f${f}.bin`),
        random(7000 + (((d * 12 + f) * 4099) % 90000)),
      );
  }
  return src;
}

/** The big tree as a tar, and what GNU tar extracts from it (the truth to compare with). */
function tarBigTree(name: string): { tar: string; extracted: string } {
  const src = makeBigTree();
  const tar = path.join(root, `${name}.tar`);
  run('tar', ['-C', src, '-cf', tar, '.']);
  const extracted = path.join(root, `${name}-extracted`);
  mkdirSync(extracted, { recursive: true });
  run('tar', ['-C', extracted, '-xf', tar]);
  return { tar, extracted };
}

/** Indexes `archive` into a fresh directory with a gzip access point every 64 KiB of output. */
async function indexWithSmallSpans(archive: string): Promise<string> {
  const dir = freshDir();
  await walkArchive(archive, {
    ...(await archiveIndexOptions({})),
    useIndex: { dir, gzipSpanBytes: 64 * 1024 },
    onEntry: () => undefined,
  });
  return dir;
}

/** Compressed variants with access points, made by the real tools. */
const SEEKABLE: Array<{ name: string; make: (tar: string) => string }> = [
  {
    name: 'gzip -6, a point every 64 KiB of output',
    make: (tar) => {
      run('gzip', ['-6', '-k', '-f', tar]);
      return `${tar}.gz`;
    },
  },
  {
    name: 'xz, 64 KiB blocks',
    make: (tar) => {
      run('xz', ['-T1', '--block-size=64KiB', '-k', '-f', tar]);
      return `${tar}.xz`;
    },
  },
  {
    name: 'zstd, several frames (files compressed one by one, concatenated)',
    make: (tar) => {
      const parts = path.join(root, 'parts');
      mkdirSync(parts, { recursive: true });
      run('split', ['-b', '300000', tar, path.join(parts, 'p')]);
      const pieces = readdirSync(parts)
        .sort()
        .map((p) => path.join(parts, p));
      for (const piece of pieces) run('zstd', ['-q', '-f', piece]);
      const out = `${tar}.zst`;
      writeFileSync(out, Buffer.concat(pieces.map((p) => readFileSync(`${p}.zst`))));
      return out;
    },
  },
];

Index(
  'a temp file a killed run left (same pid, as in a container) neither blocks nor stays',
  async () => {
    if (why) return;
    const { indexFileOf, saveArchiveIndex } =
      await import('../../src/archive/archiveIndexStore.js');
    const dir = freshDir();
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const key = 'key-for-temp-test';
    // What a run killed mid-write leaves; in a container the next run often has its pid.
    const left = `${indexFileOf(dir, key)}.${process.pid}.tmp`;
    writeFileSync(left, 'half an index', { mode: 0o600 });
    const outcome = await saveArchiveIndex(dir, key, [Buffer.alloc(16)]);
    assert.is(outcome.kind, 'saved', 'not blocked by it');
    assert.ok(existsSync(indexFileOf(dir, key)));
    // Another run may still be writing a recent one; an hour old, it is a killed run's.
    const old = new Date(Date.now() - 2 * 3600 * 1000);
    utimesSync(left, old, old);
    await saveArchiveIndex(dir, 'key-for-temp-test-2', [Buffer.alloc(16)]);
    assert.not.ok(existsSync(left), 'an old leftover is removed');
    assert.equal(
      readdirSync(dir).filter((name) => name.endsWith('.tmp')),
      [],
      'no temp file of its own left either',
    );
  },
);

Index("members read through access points equal GNU tar's extraction", async () => {
  if (why) return;
  const { tar, extracted } = tarBigTree('big');
  for (const { name, make } of SEEKABLE) {
    const archive = make(tar);
    const dir = await indexWithSmallSpans(archive);
    const { loadArchiveIndex, indexKeyOf } = await import('../../src/archive/archiveIndexStore.js');
    const { openArchive } = await import('../../src/archive/openArchive.js');
    const opened = await openArchive(archive);
    const index = await loadArchiveIndex(dir, indexKeyOf(opened.identity!));
    await opened.close();
    assert.ok(index && index.accessPoints.length > 3, `${name}: several access points`);
    // Every file's data, asked for in archive order and then backwards (each read restarts at
    // the nearest point), equals what GNU tar extracted.
    const members: Array<{ path: string; data: Buffer }> = [];
    await walkArchive(archive, {
      ...(await archiveIndexOptions({ index: { dir } })),
      onEntry: (entry) => (entry.type === 'file' ? 'data' : undefined),
      onData: (entry, data) => void members.push({ path: entry.memberPath, data }),
    });
    assert.is(members.length, 72, name);
    for (const member of members)
      assert.ok(member.data.equals(readFileSync(path.join(extracted, member.path))), member.path);
    const { openTarReader } = await import('../../src/archive/openTarReader.js');
    const { resumeDecompression } = await import('../../src/archive/resumeDecompression.js');
    const again = await openArchive(archive);
    const reader = openTarReader(
      { readAt: again.readAt!, sizeBytes: again.sizeBytes!, compression: again.compression },
      index!.accessPoints,
      resumeDecompression,
    );
    const plain = readFileSync(tar);
    for (const offset of [plain.length - 4096, 1024, plain.length / 2, 0, plain.length - 600000]) {
      const at = Math.floor(offset / 512) * 512;
      const buffer = Buffer.alloc(4096);
      const got = await reader.readAt(buffer, 4096, at);
      assert.ok(buffer.subarray(0, got).equals(plain.subarray(at, at + 4096)), `${name} @${at}`);
    }
    await reader.close();
    await again.close();
  }
});

Index('plan + apply through the access points restores what GNU tar extracts', async () => {
  if (why) return;
  const { tar, extracted } = tarBigTree('apply-big');
  const { planRestore } = await import('../../src/plan/planRestore.js');
  const { applyPlan } = await import('../../src/apply/applyPlan.js');
  for (const [name, make] of [
    ['gzip', (t: string) => (run('gzip', ['-6', '-k', '-f', t]), `${t}.gz`)],
    ['xz', (t: string) => (run('xz', ['-T1', '--block-size=64KiB', '-k', '-f', t]), `${t}.xz`)],
  ] as const) {
    const archive = make(tar);
    const dir = await indexWithSmallSpans(archive);
    const target = path.join(root, `apply-target-${name}`);
    mkdirSync(target, { recursive: true });
    const plan = await planRestore(archive, {
      target,
      profile: 'none',
      // Members deep in the archive, so that apply starts from a point past the first.
      include: ['d4/**', 'd5/**'],
      index: { dir },
    });
    assert.ok(plan.feasible, name);
    const outcomes: IndexOutcome['kind'][] = [];
    const result = await applyPlan(plan, {
      journalPath: path.join(root, `apply-${name}.journal`),
      index: { dir, onOutcome: (o) => outcomes.push(o.kind) },
    });
    assert.is(result.status, 'complete', `${name}: ${JSON.stringify(result)}`);
    assert.equal(outcomes, ['hit'], `${name}: apply read the access points from the index`);
    for (const d of ['d4', 'd5']) {
      for (const f of readdirSync(path.join(extracted, d))) {
        assert.ok(
          readFileSync(path.join(target, d, f)).equals(readFileSync(path.join(extracted, d, f))),
          `${name}: ${d}/${f}`,
        );
      }
    }
  }
});

Index.run();
