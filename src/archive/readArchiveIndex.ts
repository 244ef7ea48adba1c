/**
 * `readArchiveIndex`: an index file's bytes as an ArchiveIndex, or null when they are not one
 * this version wrote for this archive. Everything is checked before anything is trusted: the
 * magic, the version, the CRC-32 over the whole file (a truncated or flipped byte), the key (a
 * different or changed archive), the byte order, and that every column lies inside the body
 * with exactly one value per member. A file that fails any check is as good as absent.
 */
import { crc32 } from 'node:zlib';

import { ENTRY_TYPES, type ArchiveEntry } from './ArchiveEntry.js';
import {
  INDEX_FORMAT_VERSION,
  INDEX_MAGIC,
  INDEX_TRAILER,
  WALK_REVISION,
  type ArchiveIndex,
  type ColumnEncoding,
  type IndexHeader,
} from './ArchiveIndex.js';
import type { AccessPoint } from './AccessPoint.js';
import {
  FLAG_UNSAFE,
  NUMBER_COLUMNS,
  RAW_DOT_SLASH,
  RAW_DOT_SLASH_TRAILING,
  RAW_EXPLICIT,
  RAW_LEADING_SLASH,
  RAW_TRAILING_SLASH,
  TAR_FORMATS,
} from './recordArchiveIndex.js';

type Numbers = ArrayLike<number>;

export function readArchiveIndex(file: Buffer, key: string): ArchiveIndex | null {
  try {
    return decode(file, key);
  } catch {
    // A header that is not the JSON we wrote, a column of the wrong length: not an index.
    return null;
  }
}

function decode(file: Buffer, key: string): ArchiveIndex | null {
  if (file.length < 24 || file.toString('latin1', 0, 8) !== INDEX_MAGIC) return null;
  if (file.readUInt32LE(12) !== INDEX_FORMAT_VERSION) return null;
  if (file.toString('latin1', file.length - 4) !== INDEX_TRAILER) return null;
  if (crc32(file.subarray(0, file.length - 8)) !== file.readUInt32LE(file.length - 8)) return null;
  const headerLength = file.readUInt32LE(8);
  if (16 + headerLength > file.length - 8) return null;
  const header = JSON.parse(file.toString('utf8', 16, 16 + headerLength)) as IndexHeader;
  if (
    header.version !== INDEX_FORMAT_VERSION ||
    header.walkRevision !== WALK_REVISION ||
    header.key !== key
  )
    return null;
  if (!wellFormed(header)) return null;
  const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
  if (header.littleEndian !== littleEndian) return null;
  const bodyStart = 16 + headerLength + ((8 - ((16 + headerLength) % 8)) % 8);
  if (bodyStart + header.bodyBytes !== file.length - 8) return null;
  // Typed arrays need aligned offsets: a file read into a pooled buffer is copied once.
  const body =
    (file.byteOffset + bodyStart) % 8 === 0
      ? file.subarray(bodyStart, bodyStart + header.bodyBytes)
      : Buffer.from(file.subarray(bodyStart, bodyStart + header.bodyBytes));
  const members = header.walk.members;
  const slice = (name: string): { encoding: ColumnEncoding; bytes: Buffer } => {
    const column = header.columns[name];
    if (!column) throw new Error(`no column ${name}`);
    const [offset, length] = column.at;
    if (!isCount(offset) || !isCount(length) || offset + length > body.length)
      throw new Error('out of range');
    return { encoding: column.encoding, bytes: body.subarray(offset, offset + length) };
  };
  const numbers = (name: string): Numbers => {
    const { encoding, bytes } = slice(name);
    const view = toNumbers(encoding, bytes);
    if (view.length !== members) throw new Error(`column ${name} has ${view.length} values`);
    return view;
  };
  const flags = numbers('flags');
  const rawKinds = numbers('rawKind');
  const [prefix, suffixLength, size, dataLength, mode, uid, gid, mtime, headerDelta, dataDelta] =
    NUMBER_COLUMNS.map(numbers) as [
      Numbers,
      Numbers,
      Numbers,
      Numbers,
      Numbers,
      Numbers,
      Numbers,
      Numbers,
      Numbers,
      Numbers,
    ];
  // Paths are front-coded on their UTF-8 bytes: each is rebuilt in `path` from the bytes it
  // shares with the one before and its own rest, then decoded once (a flat string, which the
  // consumers' hashing and comparing need anyway).
  const suffixes = slice('suffixes').bytes;
  const rawPaths = new Map(header.rawPaths);
  const linkPaths = new Map(header.linkPaths);
  const sparse = new Map(header.sparse);
  const notes = new Map(header.notes);
  const accessPoints: AccessPoint[] = header.accessPoints.map((point) => {
    let window: Buffer | null = null;
    if (point.window) {
      const [offset, length] = point.window;
      if (!isCount(offset) || !isCount(length) || offset + length > body.length || length > 32768)
        throw new Error('bad window');
      window = Buffer.from(body.subarray(offset, offset + length));
    }
    return {
      outputOffset: point.outputOffset,
      inputOffset: point.inputOffset,
      bits: point.bits,
      window,
    };
  });
  for (let i = 1; i < accessPoints.length; i += 1) {
    if (accessPoints[i]!.outputOffset <= accessPoints[i - 1]!.outputOffset)
      throw new Error('access points out of order');
  }

  // Every member as a replay will read it, checked now (a lie found half-way through a replay
  // would fail the command): each path shares no more than the previous one has and the rests
  // fill `suffixes` exactly; entry types, formats and raw-name kinds are ones a walk writes.
  let previousLength = 0;
  let used = 0;
  for (let i = 0; i < members; i += 1) {
    const shared = prefix[i]!;
    const rest = suffixLength[i]!;
    if (shared > previousLength) throw new Error('front coding out of range');
    previousLength = shared + rest;
    used += rest;
    const flag = flags[i]!;
    if (ENTRY_TYPES[flag & 7] === undefined || TAR_FORMATS[(flag >> 4) & 7] === undefined)
      throw new Error('bad flags');
    const kind = rawKinds[i]!;
    if (kind > RAW_LEADING_SLASH && !(kind === RAW_EXPLICIT && rawPaths.has(i)))
      throw new Error('bad raw path kind');
  }
  if (used !== suffixes.length) throw new Error('paths do not fill their column');

  let next = 0;
  let path = Buffer.allocUnsafe(4096);
  let pathLength = 0;
  let cursor = 0;
  let headerOffset = 0;
  let matchKnown = false;
  let matched = false;
  /** Bytes of the path the last prefix answer depended on. */
  let matchedUpTo = 0;
  return {
    header,
    accessPoints,
    members,
    note: (index) => notes.get(index),
    advance(index: number) {
      if (index !== next) throw new Error('members are read in order');
      next += 1;
      const shared = prefix[index]!;
      const rest = suffixLength[index]!;
      if (shared > pathLength || cursor + rest > suffixes.length)
        throw new Error('path out of range');
      const length = shared + rest;
      if (length > path.length) {
        const grown = Buffer.allocUnsafe(length * 2);
        path.copy(grown, 0, 0, shared);
        path = grown;
      }
      // A loop, not Buffer#copy: the rest is ~15 bytes, less than copy's argument handling.
      for (let i = 0; i < rest; i += 1) path[shared + i] = suffixes[cursor + i]!;
      cursor += rest;
      pathLength = length;
      headerOffset += headerDelta[index]!;
      // The answer for the previous path stands while the paths share every prefix's bytes.
      if (shared < matchedUpTo) matchKnown = false;
    },
    startsWithAny(prefixes: readonly Buffer[]) {
      if (matchKnown) return matched;
      matched = false;
      matchedUpTo = 0;
      for (const wanted of prefixes) {
        if (wanted.length > matchedUpTo) matchedUpTo = wanted.length;
        if (wanted.length > pathLength) continue;
        let i = 0;
        while (i < wanted.length && path[i] === wanted[i]) i += 1;
        if (i === wanted.length) matched = true;
      }
      matchKnown = true;
      return matched;
    },
    fill(entry: ArchiveEntry, index: number) {
      if (index !== next - 1) throw new Error('fill follows advance');
      const memberPath = path.toString('utf8', 0, pathLength);
      const flag = flags[index]!;
      const type = ENTRY_TYPES[flag & 7];
      const format = TAR_FORMATS[(flag >> 4) & 7];
      if (type === undefined || format === undefined) throw new Error('bad flags');
      entry.memberPath = memberPath;
      entry.rawPath = rawPathOf(rawKinds[index]!, memberPath, rawPaths.get(index));
      entry.type = type;
      entry.size = size[index]!;
      entry.dataLength = dataLength[index]!;
      entry.storedSize = entry.dataLength;
      entry.linkPath = linkPaths.get(index) ?? '';
      entry.mode = mode[index]!;
      entry.uid = uid[index]!;
      entry.gid = gid[index]!;
      entry.mtime = mtime[index]!;
      entry.headerOffset = headerOffset;
      entry.dataOffset = headerOffset + dataDelta[index]!;
      const map = sparse.get(index);
      entry.sparse = map ? map.map(([o, l]) => [o, l]) : null;
      entry.format = format;
      entry.unsafe = flag & FLAG_UNSAFE ? 'dotdot' : null;
      entry.index = index;
    },
  };
}

function isCount(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

const isString = (value: unknown): value is string => typeof value === 'string';

/** `[member index, value]` pairs whose values pass `valid`. */
function isPairs(value: unknown, valid: (item: unknown) => boolean): boolean {
  return (
    Array.isArray(value) &&
    value.every((pair) => Array.isArray(pair) && isCount(pair[0]) && valid(pair[1]))
  );
}

/** The header's shapes as a walk writes them (the JSON could say anything). */
function wellFormed(header: IndexHeader): boolean {
  const { walk } = header;
  return (
    typeof walk === 'object' &&
    walk !== null &&
    isCount(walk.members) &&
    isCount(walk.streamBytes) &&
    Array.isArray(walk.formats) &&
    walk.formats.every((format) => TAR_FORMATS.includes(format)) &&
    Array.isArray(walk.warnings) &&
    walk.warnings.every(
      (item) =>
        typeof item === 'object' &&
        item !== null &&
        isCount(item.afterMembers) &&
        typeof item.warning === 'object' &&
        item.warning !== null &&
        isString(item.warning.code) &&
        isString(item.warning.message),
    ) &&
    typeof walk.warningCounts === 'object' &&
    walk.warningCounts !== null &&
    Object.values(walk.warningCounts).every(isCount) &&
    (header.notesKind === null || isString(header.notesKind)) &&
    (header.summaryKind === null || isString(header.summaryKind)) &&
    (header.summary === null || isString(header.summary)) &&
    isPairs(header.notes, isString) &&
    isPairs(header.rawPaths, isString) &&
    isPairs(header.linkPaths, isString) &&
    isPairs(
      header.sparse,
      (map) =>
        Array.isArray(map) &&
        map.every((extent) => Array.isArray(extent) && isCount(extent[0]) && isCount(extent[1])),
    ) &&
    Array.isArray(header.accessPoints) &&
    header.accessPoints.every(
      (point) =>
        typeof point === 'object' &&
        point !== null &&
        isCount(point.outputOffset) &&
        isCount(point.inputOffset) &&
        Number.isInteger(point.bits) &&
        point.bits >= 0 &&
        point.bits <= 7 &&
        (point.window === null || Array.isArray(point.window)),
    ) &&
    typeof header.columns === 'object' &&
    header.columns !== null
  );
}

function toNumbers(encoding: ColumnEncoding, bytes: Buffer): Numbers {
  const { buffer, byteOffset, byteLength } = bytes;
  switch (encoding) {
    case 'u8':
    case 'bytes':
      return new Uint8Array(buffer, byteOffset, byteLength);
    case 'u16':
      return new Uint16Array(buffer, byteOffset, byteLength / 2);
    case 'u32':
      return new Uint32Array(buffer, byteOffset, byteLength / 4);
    case 'f64':
      return new Float64Array(buffer, byteOffset, byteLength / 8);
  }
}

function rawPathOf(kind: number, memberPath: string, explicit: string | undefined): string {
  switch (kind) {
    case RAW_DOT_SLASH:
      return `./${memberPath}`;
    case RAW_TRAILING_SLASH:
      return `${memberPath}/`;
    case RAW_DOT_SLASH_TRAILING:
      return `./${memberPath}/`;
    case RAW_LEADING_SLASH:
      return `/${memberPath}`;
    case RAW_EXPLICIT:
      if (explicit === undefined) throw new Error('raw path missing');
      return explicit;
    default:
      if (kind !== 0) throw new Error('bad raw path kind');
      return memberPath;
  }
}
