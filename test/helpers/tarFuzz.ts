/**
 * The tar half of test/archive/fuzz.test.ts: small archives of one tree made by GNU tar and
 * bsdtar in every format they write (plus a volume label, the second volume of multi-volume
 * archives, an incremental dump and an old GNU `N` member), seeded mutations of them, GNU tar's
 * own listing of each mutant, and our parser's reading of the same bytes.
 *
 * Everything random comes from one seeded PRNG (`createRng`): a seed names a whole run, and a
 * case prints the recipe that rebuilds it.
 */
import { spawnSync } from 'node:child_process';
import { linkSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { copyEntry, type ArchiveEntry } from '../../src/archive/ArchiveEntry.js';
import { findUnsafeReason, normalizeMemberPath } from '../../src/archive/normalizeMemberPath.js';
import { TarParser } from '../../src/archive/TarParser.js';
import { RestoreplanError } from '../../src/errors.js';
import type { Warning } from '../../src/types.js';
import type { Rng } from './differentialCases.js';
import { run } from './env.js';

export interface FuzzBase {
  id: string;
  bytes: Buffer;
  /** Offsets of the blocks that are headers (their checksum holds). */
  headers: number[];
  /** Offsets of the data blocks of metadata headers (pax x/g, GNU L/K). */
  metaBlocks: number[];
}

const LONG_NAME = `long/${'n'.repeat(120)}.txt`;
const LONG_TARGET = `${'x'.repeat(120)}/target`;

/** The tree every base archive is made of; returns the top-level names. */
function buildTree(src: string): { all: string[]; short: string[] } {
  mkdirSync(path.join(src, 'dir/sub'), { recursive: true });
  mkdirSync(path.join(src, 'emptydir'));
  mkdirSync(path.join(src, 'long'));
  writeFileSync(path.join(src, 'a.txt'), 'hello\n');
  writeFileSync(path.join(src, 'empty.txt'), '');
  writeFileSync(path.join(src, 'block.bin'), Buffer.alloc(512, 0x41));
  const big = Buffer.alloc(13_000);
  for (let i = 0; i < big.length; i += 1) big[i] = (i * 31 + 7) & 0xff;
  writeFileSync(path.join(src, 'big.bin'), big);
  writeFileSync(path.join(src, 'dir/sub/deep.txt'), 'deep\n');
  writeFileSync(path.join(src, 'ünï.txt'), 'u\n');
  writeFileSync(path.join(src, LONG_NAME), 'long\n');
  symlinkSync('a.txt', path.join(src, 'sym'));
  symlinkSync(LONG_TARGET, path.join(src, 'longsym'));
  linkSync(path.join(src, 'a.txt'), path.join(src, 'hard.txt'));
  run('mkfifo', [path.join(src, 'fifo')]);
  run('truncate', ['-s', '40000', path.join(src, 'sparse.img')]);
  run('dd', [`of=${path.join(src, 'sparse.img')}`, 'bs=1', 'seek=30000', 'conv=notrunc'], {
    input: 'sparse data',
  });
  const short = ['a.txt', 'empty.txt', 'block.bin', 'dir', 'emptydir', 'sym', 'hard.txt'];
  const all = [...short, 'big.bin', 'ünï.txt', 'long', 'longsym', 'fifo', 'sparse.img'];
  return { all, short };
}

/** Old GNU tar's `N` member (a shell script renaming members with long names), by hand. */
function oldGnuNames(): Buffer {
  const script = Buffer.from('Rename a.txt to a-very-long-name.txt\n');
  const header = (name: string, flag: string, size: number): Buffer => {
    const b = Buffer.alloc(512);
    b.write(name, 0, 'latin1');
    b.write('0000644\0', 100, 'latin1');
    b.write('0000000\0', 108, 'latin1');
    b.write('0000000\0', 116, 'latin1');
    b.write(`${size.toString(8).padStart(11, '0')}\0`, 124, 'latin1');
    b.write('14000000000\0', 136, 'latin1');
    b.write(flag, 156, 'latin1');
    b.write('ustar  \0', 257, 'latin1');
    fixChecksum(b, 0);
    return b;
  };
  const pad = (data: Buffer): Buffer =>
    Buffer.concat([data, Buffer.alloc((512 - (data.length % 512)) % 512)]);
  return Buffer.concat([
    header('a.txt', '0', 6),
    pad(Buffer.from('hello\n')),
    header('././@MaNgLeD_NaMeS', 'N', script.length),
    pad(script),
    Buffer.alloc(1024),
  ]);
}

/** Builds the base archives in `dir` (a scratch directory). */
export function buildFuzzBases(dir: string): FuzzBase[] {
  const src = path.join(dir, 'src');
  mkdirSync(src);
  const { all, short } = buildTree(src);
  const out = (id: string): string => path.join(dir, `${id}.tar`);
  const made: Array<[string, Buffer]> = [];
  const tar = (id: string, args: string[], names = all): void => {
    run('tar', [...args, '-C', src, '-cf', out(id), ...names]);
    made.push([id, readFileSync(out(id))]);
  };
  const bsdtar = (id: string, args: string[], names = all): void => {
    run('bsdtar', [...args, '-C', src, '-cf', out(id), ...names]);
    made.push([id, readFileSync(out(id))]);
  };
  tar('gnu', ['--format=gnu']);
  tar('gnu-sparse', ['--format=gnu', '--sparse']);
  tar('oldgnu', ['--format=oldgnu', '--sparse']);
  tar('ustar', ['--format=ustar'], short);
  tar('v7', ['--format=v7'], short);
  tar('posix', ['--format=posix']);
  tar('posix-sparse-0.1', ['--format=posix', '--sparse', '--sparse-version=0.1']);
  tar('posix-sparse-1.0', ['--format=posix', '--sparse', '--sparse-version=1.0']);
  tar('gnu-label', ['--format=gnu', '--label=BACKUP 2024'], short);
  tar('posix-label', ['--format=posix', '--label=BACKUP 2024'], short);
  tar(
    'incremental',
    ['--format=gnu', `--listed-incremental=${path.join(dir, 'snapshot')}`],
    ['dir', 'a.txt'],
  );
  for (const format of ['gnu', 'posix']) {
    // The second volume of a multi-volume archive: it starts inside big.bin.
    const volumes = [1, 2, 3].map((n) => path.join(dir, `mv-${format}-${n}.tar`));
    run('tar', [
      `--format=${format}`,
      '-M',
      '-L',
      '10',
      ...volumes.flatMap((v) => ['-f', v]),
      '-C',
      src,
      '-c',
      'a.txt',
      'big.bin',
      'dir',
    ]);
    made.push([`${format}-volume2`, readFileSync(volumes[1] as string)]);
  }
  bsdtar('bsdtar-pax', ['--format=pax']);
  bsdtar('bsdtar-restricted', []);
  bsdtar('bsdtar-ustar', ['--format=ustar'], short);
  bsdtar('bsdtar-gnutar', ['--format=gnutar']);
  bsdtar('bsdtar-v7', ['--format=v7'], short);
  made.push(['old-gnu-names', oldGnuNames()]);
  return made.map(([id, bytes]) => ({ id, bytes, ...findBlocks(bytes) }));
}

function findBlocks(bytes: Buffer): { headers: number[]; metaBlocks: number[] } {
  const headers: number[] = [];
  const metaBlocks: number[] = [];
  for (let at = 0; at + 512 <= bytes.length; at += 512) {
    if (!isHeaderBlock(bytes, at)) continue;
    headers.push(at);
    if ('xgXLK'.includes(String.fromCharCode(bytes[at + 156] ?? 0))) {
      const size = parseInt(bytes.toString('latin1', at + 124, at + 136).trim() || '0', 8);
      for (let b = at + 512; b < at + 512 + size; b += 512) metaBlocks.push(b);
    }
  }
  return { headers, metaBlocks };
}

function isHeaderBlock(bytes: Buffer, at: number): boolean {
  let sum = 0;
  let nonZero = false;
  for (let i = 0; i < 512; i += 1) {
    const byte = bytes[at + i] ?? 0;
    if (byte !== 0) nonZero = true;
    sum += i >= 148 && i < 156 ? 0x20 : byte;
  }
  const stored = parseInt(bytes.toString('latin1', at + 148, at + 155).trim(), 8);
  return nonZero && stored === sum;
}

/** Rewrites the checksum of the header at `at` for its current bytes (unsigned sum, GNU layout). */
export function fixChecksum(bytes: Buffer, at: number): void {
  bytes.fill(0x20, at + 148, at + 156);
  let sum = 0;
  for (let i = 0; i < 512; i += 1) sum += bytes[at + i] ?? 0;
  bytes.write(`${sum.toString(8).padStart(6, '0')}\0 `, at + 148, 'latin1');
}

// ---------------------------------------------------------------------------------------------
// Mutations

interface Field {
  name: string;
  offset: number;
  length: number;
  kind: 'number' | 'name' | 'type' | 'magic' | 'text';
}

const FIELDS: Field[] = [
  { name: 'name', offset: 0, length: 100, kind: 'name' },
  { name: 'mode', offset: 100, length: 8, kind: 'number' },
  { name: 'uid', offset: 108, length: 8, kind: 'number' },
  { name: 'gid', offset: 116, length: 8, kind: 'number' },
  { name: 'size', offset: 124, length: 12, kind: 'number' },
  { name: 'mtime', offset: 136, length: 12, kind: 'number' },
  { name: 'typeflag', offset: 156, length: 1, kind: 'type' },
  { name: 'linkname', offset: 157, length: 100, kind: 'name' },
  { name: 'magic', offset: 257, length: 8, kind: 'magic' },
  { name: 'uname', offset: 265, length: 32, kind: 'text' },
  { name: 'devmajor', offset: 329, length: 8, kind: 'number' },
  { name: 'devminor', offset: 337, length: 8, kind: 'number' },
  { name: 'prefix', offset: 345, length: 155, kind: 'name' },
  // Old GNU: the sparse map's first entry and the real size (prefix bytes in ustar).
  { name: 'sparse0', offset: 386, length: 12, kind: 'number' },
  { name: 'realsize', offset: 483, length: 12, kind: 'number' },
];

const TYPEFLAGS = '01234567\0xgXLKVMNSDAQI ';
const NAMES = [
  '',
  '.',
  './',
  '/',
  '//',
  '././/./a.txt',
  'a.txt',
  'a.txt/',
  './a.txt',
  'hard.txt',
  'dir',
  'dir/',
  'dir/../a.txt',
  '../evil',
  '/abs/a',
  'sym',
  'x'.repeat(99),
  'new\nline',
  'sp ace',
  'caf\u00e9',
  '\u00ff\u00fe',
];

function numberValue(rng: Rng, field: Field, original: Buffer): Buffer {
  const n = field.length;
  const digits = (count: number, value = rng.int(0, 0o777)): string =>
    value.toString(8).padStart(count, '0').slice(-count);
  const b = Buffer.alloc(n);
  switch (rng.int(0, 19)) {
    case 0:
      return b.fill(0x20);
    case 1:
      return b;
    case 2:
      b.fill(0x20, 0, n - 1);
      return b;
    case 3:
      b.write(digits(n - 2), 1, 'latin1');
      return b;
    case 4:
      b.write(digits(n), 0, 'latin1');
      return b;
    case 5:
      b.write(`${digits(n - 2)}\t`, 0, 'latin1');
      return b;
    case 6:
      b.write(` ${digits(n - 3)} `, 0, 'latin1');
      return b;
    case 7:
      b.write(rng.pick(['x', 'zz', '-', '8', '0x1f', '1e5', '12x', '7 x', '\n5']), 0, 'latin1');
      return b;
    case 8:
      b.write(`${digits(n - 2)}${rng.pick(['8', '9', 'x', '+'])}`, 0, 'latin1');
      return b;
    case 9:
      b.write(`${rng.pick(['+', '-'])}${'A'.repeat(n - 3)}${rng.pick(['B', 'D', 'z', '9'])}`);
      return b;
    case 10:
      b[0] = 0x80;
      b[n - 1] = rng.int(0, 255);
      b[n - 2] = rng.int(0, 3);
      return b;
    case 11:
      return b.fill(0xff);
    case 12:
      b[0] = rng.pick([0x81, 0xc0, 0xfe, 0x80]);
      b.write(digits(n - 1), 1, 'latin1');
      return b;
    case 13: {
      // The original value, one octal digit changed (a size: misaligns what follows).
      const copy = Buffer.from(original);
      const at = rng.int(0, n - 2);
      if (copy[at]! >= 0x30 && copy[at]! <= 0x37) copy[at] = 0x30 + rng.int(0, 7);
      return copy;
    }
    case 14:
      b.write(`${' '.repeat(rng.int(1, 3))}${digits(n - 5)}`, 0, 'latin1');
      return b;
    case 15:
      b.write(`\0${digits(n - 3)} `, 0, 'latin1');
      return b;
    case 16:
      b.write(`${digits(n - 1)}${rng.pick(['\v', '\f', '\r', '\n'])}`, 0, 'latin1');
      return b;
    case 17:
      b[0] = 0x80;
      b[n - 1] = rng.int(0, 255);
      b[1] = rng.int(1, 255);
      return b;
    default: {
      const copy = Buffer.from(original);
      copy[rng.int(0, n - 1)] = rng.int(0, 255);
      return copy;
    }
  }
}

function fieldValue(rng: Rng, field: Field, original: Buffer): Buffer {
  switch (field.kind) {
    case 'number':
      return numberValue(rng, field, original);
    case 'type':
      return Buffer.from(rng.pick([...TYPEFLAGS]), 'latin1');
    case 'magic':
      return Buffer.from(
        rng.pick(['ustar\u000000', 'ustar  \0', '\0\0\0\0\0\0\0\0', 'ustar\u0000 0', 'USTAR  \0']),
        'latin1',
      );
    case 'text':
      return Buffer.from(rng.pick(['', 'root', 'nobody-here', 'x'.repeat(32)]));
    default: {
      const value = Buffer.from(rng.pick(NAMES), 'utf8');
      const out = Buffer.alloc(field.length);
      value.copy(out, 0, 0, Math.min(value.length, field.length));
      return out;
    }
  }
}

/** One mutant: the bytes and the recipe that made them (printed with a disagreement). */
export interface Mutant {
  bytes: Buffer;
  recipe: string[];
}

export function mutate(rng: Rng, base: FuzzBase): Mutant {
  let bytes = Buffer.from(base.bytes);
  const recipe: string[] = [base.id];
  const steps = rng.chance(0.7) ? 1 : rng.int(2, 3);
  for (let s = 0; s < steps; s += 1) {
    const kind = rng.int(0, 99);
    if (kind < 45 && base.headers.length > 0) {
      // A header field rewritten, the checksum made to match: what a broken writer produces.
      const at = rng.pick(base.headers);
      if (at + 512 > bytes.length) continue;
      const field = rng.pick(FIELDS);
      const value = fieldValue(
        rng,
        field,
        bytes.subarray(at + field.offset, at + field.offset + field.length),
      );
      value.copy(bytes, at + field.offset, 0, field.length);
      if (value.length < field.length)
        bytes.fill(0, at + field.offset + value.length, at + field.offset + field.length);
      const keepSum = rng.chance(0.1);
      if (!keepSum) fixChecksum(bytes, at);
      recipe.push(
        `field ${field.name}@${at}=${JSON.stringify(value.toString('latin1'))}${keepSum ? ' (checksum not fixed)' : ''}`,
      );
    } else if (kind < 60 && base.metaBlocks.length > 0) {
      // Inside a pax record or a GNU long name.
      const block = rng.pick(base.metaBlocks);
      const used = Math.max(1, bytes.subarray(block, block + 512).indexOf(0) || 512);
      const at = block + rng.int(0, Math.min(used, 511));
      if (at >= bytes.length) continue;
      const value = rng.chance(0.5)
        ? rng.pick([0x30, 0x39, 0x20, 0x0a, 0x3d, 0x00, 0x2e, 0x2f, 0x78, 0x2d])
        : rng.int(0, 255);
      bytes[at] = value;
      recipe.push(`meta byte ${at}=0x${value.toString(16)}`);
    } else if (kind < 75) {
      const at =
        rng.chance(0.6) && base.headers.length > 0
          ? rng.pick(base.headers) + rng.int(0, 511)
          : rng.int(0, bytes.length - 1);
      if (at >= bytes.length) continue;
      const value = rng.int(0, 255);
      bytes[at] = value;
      recipe.push(`byte ${at}=0x${value.toString(16)}`);
    } else if (kind < 88) {
      const cut = rng.chance(0.5)
        ? Math.floor(rng.int(0, bytes.length) / 512) * 512 + rng.pick([0, 0, 1, 511])
        : rng.int(0, bytes.length);
      bytes = bytes.subarray(0, Math.min(cut, bytes.length));
      recipe.push(`truncate ${cut}`);
    } else if (kind < 94) {
      // A block removed or repeated: members shift by 512 bytes.
      const block = rng.int(0, Math.max(0, Math.floor(bytes.length / 512) - 1)) * 512;
      if (rng.chance(0.5)) {
        bytes = Buffer.concat([bytes.subarray(0, block), bytes.subarray(block + 512)]);
        recipe.push(`drop block ${block}`);
      } else {
        bytes = Buffer.concat([
          bytes.subarray(0, block + 512),
          bytes.subarray(block, block + 512),
          bytes.subarray(block + 512),
        ]);
        recipe.push(`repeat block ${block}`);
      }
    } else {
      // Something after the members: garbage, zero blocks, another archive.
      const tail = rng.pick(['garbage', 'zero', 'again', 'lone-zero'] as const);
      const end = findEndMarker(bytes);
      if (tail === 'garbage') bytes = Buffer.concat([bytes, Buffer.from('garbage\n')]);
      else if (tail === 'zero') bytes = Buffer.concat([bytes, Buffer.alloc(512 * rng.int(1, 3))]);
      else if (tail === 'again' && end >= 0)
        bytes = Buffer.concat([bytes.subarray(0, end), base.bytes]);
      else if (tail === 'lone-zero' && end >= 0)
        bytes = Buffer.concat([bytes.subarray(0, end + 512), Buffer.from(base.bytes)]);
      recipe.push(`tail ${tail}`);
    }
  }
  return { bytes, recipe };
}

/** Offset of the first of two zero blocks after a header, or -1. */
function findEndMarker(bytes: Buffer): number {
  for (let at = 0; at + 1024 <= bytes.length; at += 512) {
    let zero = true;
    for (let i = 0; i < 1024 && zero; i += 1) if (bytes[at + i] !== 0) zero = false;
    if (zero) return at;
  }
  return -1;
}

// ---------------------------------------------------------------------------------------------
// GNU tar's listing

export interface GnuMember {
  /** The mode string's first character: '-', 'd', 'l', 'h', 'c', 'b', 'p', 'C', 'V', 'M', '?'... */
  kind: string;
  name: string;
  size: string;
  link: string | null;
  /** `--Volume Header--`, `--Continued at byte N--`, ` unknown file type`... */
  note: string;
}

export interface GnuListing {
  status: number;
  members: GnuMember[];
  stderr: string[];
}

/** Lists every file with `tar -tvf`, two at a time, in one shell per batch. */
export function listWithGnuTar(dir: string, files: string[]): GnuListing[] {
  const script = `
    list() { LC_ALL=C tar --no-seek --quoting-style=c --numeric-owner --full-time -tvf "$1" >"$1.out" 2>"$1.err"; echo $? >"$1.rc"; }
    export -f list
    printf '%s\\0' "$@" | xargs -0 -n 1 -P 2 bash -c 'list "$0"'
  `;
  const result = spawnSync('bash', ['-c', script, 'fuzz', ...files], {
    cwd: dir,
    maxBuffer: 1 << 26,
  });
  if (result.status !== 0) throw new Error(`listing failed: ${result.stderr.toString()}`);
  return files.map((file) => ({
    status: Number(readFileSync(`${file}.rc`, 'utf8').trim()),
    members: parseListing(readFileSync(`${file}.out`)),
    stderr: readFileSync(`${file}.err`, 'latin1')
      .split('\n')
      .filter((line) => line !== ''),
  }));
}

function parseListing(out: Buffer): GnuMember[] {
  const members: GnuMember[] = [];
  for (const line of out.toString('latin1').split('\n')) {
    if (line === '') continue;
    const quote = line.indexOf('"');
    if (quote < 0) throw new Error(`unexpected listing line ${JSON.stringify(line)}`);
    const fields = line.slice(0, quote).trim().split(/\s+/);
    const [name, afterName] = readCString(line, quote);
    let link: string | null = null;
    let note = line.slice(afterName);
    for (const arrow of [' -> ', ' link to ']) {
      if (note.startsWith(arrow) && note[arrow.length] === '"') {
        const [target, after] = readCString(line, afterName + arrow.length);
        link = target;
        note = line.slice(after);
      }
    }
    members.push({ kind: fields[0]?.[0] ?? '?', name, size: fields[2] ?? '', link, note });
  }
  return members;
}

/** Reads a C-quoted string (gnulib's c quoting style) starting at `at`: its UTF-8 text and the index after it. */
function readCString(line: string, at: number): [string, number] {
  const bytes: number[] = [];
  let i = at + 1;
  const simple: Record<string, number> = {
    n: 10,
    t: 9,
    r: 13,
    a: 7,
    b: 8,
    f: 12,
    v: 11,
    '\\': 92,
    '"': 34,
    '?': 63,
    "'": 39,
  };
  while (i < line.length && line[i] !== '"') {
    const ch = line[i] as string;
    if (ch !== '\\') {
      bytes.push(line.charCodeAt(i));
      i += 1;
      continue;
    }
    const next = line[i + 1] as string;
    const octal = /^[0-7]{1,3}/.exec(line.slice(i + 1, i + 4));
    if (octal) {
      bytes.push(parseInt(octal[0], 8));
      i += 1 + octal[0].length;
    } else {
      bytes.push(simple[next] ?? next.charCodeAt(0));
      i += 2;
    }
  }
  return [Buffer.from(bytes).toString('utf8'), i + 1];
}

// ---------------------------------------------------------------------------------------------
// Our reading

export interface OurReading {
  error: string | null;
  errorMessage: string;
  entries: ArchiveEntry[];
  /** The typeflag of each entry's own header (after any metadata headers). */
  typeflags: string[];
  warnings: Warning[];
}

export function readWithParser(bytes: Buffer, chunk = bytes.length): OurReading {
  const entries: ArchiveEntry[] = [];
  const parser = new TarParser({
    maxDataBytes: 0,
    onEntry: (entry) => {
      entries.push(copyEntry(entry));
    },
  });
  const typeflags = (): string[] => entries.map((entry) => ownTypeflag(bytes, entry));
  try {
    // After the end-of-archive marker the parser looks at what follows for garbage, as the
    // walk lets it: the rest goes in too.
    for (let at = 0; at < bytes.length; at += chunk)
      parser.push(Buffer.from(bytes.subarray(at, at + chunk)), at);
    parser.end(bytes.length);
  } catch (error) {
    if (!(error instanceof RestoreplanError)) throw error;
    return {
      error: error.code,
      errorMessage: error.message,
      entries,
      typeflags: typeflags(),
      warnings: parser.warnings,
    };
  }
  return {
    error: null,
    errorMessage: '',
    entries,
    typeflags: typeflags(),
    warnings: parser.warnings,
  };
}

/** The member's own header is the last block with a valid checksum before its data. */
function ownTypeflag(bytes: Buffer, entry: ArchiveEntry): string {
  for (let at = entry.dataOffset - 512; at >= entry.headerOffset; at -= 512)
    if (isHeaderBlock(bytes, at)) return String.fromCharCode(bytes[at + 156] ?? 0);
  return '?';
}

// ---------------------------------------------------------------------------------------------
// Comparison

/** GNU tar's stderr lines that are not errors (rc stays 0 for them alone). */
const GNU_INFO = [
  /^tar: Removing leading /,
  /^tar: A lone zero block at /,
  /^tar: Archive contains obsolescent base-64 headers/,
  /^tar: Ignoring unknown extended header keyword/,
  /^tar: Substituting `\.' for empty /,
  /^tar: Exiting with failure status due to previous errors/,
];

/** The field a GNU tar numeric complaint is about (its type name), or null. */
function numericComplaint(line: string): string | null {
  const m =
    /where numeric (\w+) value expected/.exec(line) ?? /value .*is out of (\w+) range/.exec(line);
  return m ? (m[1] as string) : null;
}

/** pax records whose values nothing here uses: GNU tar checks them, we do not. */
const UNUSED_PAX_RECORD =
  /^tar: (Malformed extended header: invalid|Extended header) (atime|ctime|GNU\.volume\.(size|offset)|SCHILY\.[\w.]+)=/;

export interface GnuVerdict {
  outcome: 'clean' | 'soft' | 'hard';
  /** Numeric complaints by type name (mode_t, time_t, uid_t...). */
  numeric: string[];
  hardLines: string[];
}

export function judgeGnu(listing: GnuListing): GnuVerdict {
  const numeric: string[] = [];
  const hardLines: string[] = [];
  // A message quoting a newline goes on over lines that do not start with "tar: ".
  const messages: string[] = [];
  for (const line of listing.stderr) {
    if (line.startsWith('tar: ') || messages.length === 0) messages.push(line);
    else messages[messages.length - 1] += `\n${line}`;
  }
  for (const line of messages) {
    const type = numericComplaint(line);
    if (type !== null && type !== 'off_t') numeric.push(type);
    else if (!GNU_INFO.some((re) => re.test(line))) hardLines.push(line);
  }
  const outcome =
    hardLines.length > 0 || (listing.status !== 0 && numeric.length === 0)
      ? 'hard'
      : listing.status === 0
        ? 'clean'
        : 'soft';
  return { outcome, numeric, hardLines };
}

const KIND_OF_TYPE: Record<string, string> = {
  file: '-',
  dir: 'd',
  symlink: 'l',
  hardlink: 'h',
  fifo: 'p',
  chardev: 'c',
  blockdev: 'b',
};

/** GNU tar's listing letters for what we call a regular file: contiguous, old sparse, unknown. */
const FILE_KINDS = '-CS?';

const FIELD_OF_TYPE: Record<string, string> = {
  mode_t: 'mode',
  time_t: 'mtime',
  uid_t: 'uid',
  gid_t: 'gid',
  major_t: 'devmajor',
  minor_t: 'devminor',
  // An 'M' header's "Continued at byte N".
  uintmax_t: 'continuation offset',
};

export interface Comparison {
  /** 'agree', or the name of a known, intended difference, or 'DIFFERENT'. */
  verdict: string;
  detail: string;
}

/** The hard links GNU tar lists but never makes (see TarParser's dropHardLink). */
function isDroppedHardLink(member: GnuMember): boolean {
  if (member.kind !== 'h' || member.link === null) return false;
  const link = member.link;
  if (findUnsafeReason(member.name) !== null || findUnsafeReason(link) !== null) return false;
  return (
    normalizeMemberPath(link) === normalizeMemberPath(member.name) ||
    link === '' ||
    link === '.' ||
    link.endsWith('/') ||
    link.endsWith('/.')
  );
}

/**
 * Compares GNU tar's listing of a mutant with our reading of it. The intended differences are
 * named (the test documents each), everything else is 'DIFFERENT'.
 */
export function compareWithGnu(listing: GnuListing, ours: OurReading): Comparison {
  const gnu = judgeGnu(listing);
  const codes = (code: string): Warning[] => ours.warnings.filter((w) => w.code === code);
  const gnuSays = `GNU tar ${gnu.outcome} (exit ${listing.status}): ${listing.stderr.join(' / ')}`;
  const weSay = `we ${ours.error ?? 'read it'} ${ours.errorMessage} [${ours.warnings
    .map((w) => `${w.code}: ${w.message}`)
    .join('; ')}]`;
  const detail = `${gnuSays}\n      ${weSay}`;
  if (ours.error !== null) {
    if (gnu.outcome === 'hard') return { verdict: 'agree', detail };
    // Intended: GNU tar drops a partial last block and takes the end of the data at a header
    // boundary for the end of the archive; a partial header proves the archive was cut.
    if (
      ours.error === 'ARCHIVE_TRUNCATED' &&
      /inside (a header|the member a metadata header describes)$/.test(ours.errorMessage)
    )
      return { verdict: 'cut-inside-a-header', detail };
    // Intended: a sparse map must account for every stored byte and stay within the file.
    // GNU tar extracts what an old GNU map maps and skips the rest; a restore from such a map
    // would not be the file that was archived.
    if (ours.error === 'ARCHIVE_HEADER' && /^bad sparse map/.test(ours.errorMessage))
      return { verdict: 'sparse-map-must-add-up', detail };
    return { verdict: 'DIFFERENT', detail: `we refuse what GNU tar reads: ${detail}` };
  }
  if (gnu.outcome === 'hard') {
    // Intended: pax records we do not use are not checked (atime, ctime); a bad pax mtime is a
    // warning (bad-pax-mtime) and the header's mtime is kept, as GNU tar keeps it.
    const unused = gnu.hardLines.every((line) =>
      UNUSED_PAX_RECORD.test(line)
        ? true
        : /^tar: (Malformed extended header: invalid|Extended header) mtime=/.test(line) &&
          codes('bad-pax-mtime').length > 0,
    );
    if (unused) return { verdict: 'unused-pax-record', detail };
    return { verdict: 'DIFFERENT', detail: `we read what GNU tar refuses: ${detail}` };
  }

  // Both read it: the same members, in order.
  const labels = listing.members.filter((m) => m.kind === 'V');
  const continued = listing.members.filter((m) => m.kind === 'M');
  const dropped = listing.members.filter(isDroppedHardLink);
  const expected = listing.members.filter(
    (m) => m.kind !== 'V' && m.kind !== 'M' && !isDroppedHardLink(m),
  );
  if (labels.length > 0 && codes('volume-label').length === 0)
    return { verdict: 'DIFFERENT', detail: `no volume-label warning: ${detail}` };
  if (continued.length !== codes('skipped-member').length)
    return { verdict: 'DIFFERENT', detail: `'M' members and skipped-member differ: ${detail}` };
  if (dropped.length !== codes('dropped-hardlink').length)
    return { verdict: 'DIFFERENT', detail: `dropped hard links differ: ${detail}` };
  const show = (list: string[]): string => list.join(' ').slice(0, 600);
  const slashTypes = ours.typeflags;
  const theirs = expected.map((m, i) => {
    // GNU tar lists a regular or sparse member whose name ends in '/' as 'd', a contiguous one
    // as 'C'; it extracts the first and the last as directories and an 'S' as a file.
    let kind = FILE_KINDS.includes(m.kind) ? '-' : m.kind;
    if (m.name.endsWith('/') && m.kind === 'C') kind = 'd';
    if (m.name.endsWith('/') && m.kind === 'd' && slashTypes[i] === 'S') kind = '-';
    if (normalizeMemberPath(m.name) === '') kind = '*';
    const size = kind === '-' ? `:${m.size}` : '';
    // GNU tar lists a hard link's target with what precedes a '..' removed; we keep it, and
    // never restore such a member: its target is compared only when it is safe.
    const link =
      kind === 'l'
        ? ` -> ${m.link}`
        : kind === 'h' && ours.entries[i]?.unsafe === null
          ? ` => ${normalizeMemberPath(m.link ?? '')}`
          : '';
    return `${kind}:${normalizeMemberPath(m.name)}${size}${link}`;
  });
  const mine = ours.entries.map((e) => {
    // The archive root ('/', './') is never counted: what type it has does not matter.
    const kind = e.memberPath === '' ? '*' : (KIND_OF_TYPE[e.type] ?? '?');
    const size = kind === '-' ? `:${e.size}` : '';
    const link =
      kind === 'l'
        ? ` -> ${e.linkPath}`
        : kind === 'h' && e.unsafe === null
          ? ` => ${e.linkPath}`
          : '';
    return `${kind}:${e.memberPath}${size}${link}`;
  });
  if (theirs.join('\n') !== mine.join('\n')) {
    return {
      verdict: 'DIFFERENT',
      detail: `members differ:\n      GNU: ${show(theirs)}\n      us:  ${show(mine)}\n      ${detail}`,
    };
  }
  const unknown = expected.filter((m) => m.kind === '?').length;
  if (unknown !== codes('unknown-typeflag').length)
    return { verdict: 'DIFFERENT', detail: `unknown typeflags differ: ${detail}` };

  // Numeric fields: each GNU complaint has its warning, and each warning its complaint, but
  // for the intended differences.
  const theirFields = new Set(gnu.numeric.map((t) => FIELD_OF_TYPE[t] ?? t));
  const ourFields = new Set(
    codes('bad-numeric-field').map(
      (w) => /^(?:unreadable|out-of-range) (.+?) (?:\(|in the header)/.exec(w.message)?.[1],
    ),
  );
  const pax = ours.entries.some((e) => e.format === 'pax');
  for (const field of theirFields) {
    if (ourFields.has(field)) continue;
    // Intended: a header field a pax record replaces is never read (GNU tar reads and checks
    // it anyway), and GNU tar reads a uid/gid field only when the header's user or group name
    // does not resolve on the machine running it: the two sets differ both ways there.
    if (field === 'uid' || field === 'gid') continue;
    if (field === 'mtime' && pax) continue;
    return {
      verdict: 'DIFFERENT',
      detail: `GNU tar complains about ${field}, we do not: ${detail}`,
    };
  }
  for (const field of ourFields) {
    if (field === undefined || theirFields.has(field)) continue;
    if (field === 'uid' || field === 'gid') continue;
    // Intended: an mtime past 2^53 s (GNU tar takes up to 2^63) is not a time.
    if (field === 'mtime' && codes('bad-numeric-field').some((w) => /Infinity/.test(w.message)))
      continue;
    return {
      verdict: 'DIFFERENT',
      detail: `we complain about ${field}, GNU tar does not: ${detail}`,
    };
  }
  return { verdict: gnu.outcome === 'soft' ? 'agree-with-warnings' : 'agree', detail };
}
