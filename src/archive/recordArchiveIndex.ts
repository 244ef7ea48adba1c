/**
 * `createIndexRecorder`: keeps each member the walk reports, compactly, as it goes, and encodes
 * the index file at the end (ArchiveIndex.ts; the layout is docs/archive-index.md).
 *
 * Why columns and not JSON: a real list server's backup has 700k+ members. As JSON the index
 * was as big as 8 % of the archive and took longer to parse than a walk of the headers; as
 * typed columns (each narrowed to the smallest integer type that holds all its values) with
 * front-coded paths it is ~3 % and is read with no parsing per member. Nothing per member is
 * kept as a JS object or string while recording: memory is ~40 bytes a member.
 */
import { crc32 } from 'node:zlib';

import { ENTRY_TYPES, type ArchiveEntry, type EntryType } from './ArchiveEntry.js';
import {
  INDEX_FORMAT_VERSION,
  INDEX_MAGIC,
  INDEX_TRAILER,
  WALK_REVISION,
  type ColumnEncoding,
  type IndexHeader,
  type IndexedWalk,
} from './ArchiveIndex.js';
import type { AccessPoint } from './AccessPoint.js';
import type { TarFormat } from '../types.js';

export const TAR_FORMATS: readonly TarFormat[] = ['v7', 'ustar', 'gnu', 'oldgnu', 'pax'];
/** How a member's raw name relates to its memberPath (RAW_EXPLICIT: stored as is). */
export const RAW_SAME = 0;
export const RAW_DOT_SLASH = 1;
export const RAW_TRAILING_SLASH = 2;
export const RAW_DOT_SLASH_TRAILING = 3;
export const RAW_LEADING_SLASH = 4;
export const RAW_EXPLICIT = 255;

const TYPE_CODE = Object.fromEntries(ENTRY_TYPES.map((type, code) => [type, code])) as Record<
  EntryType,
  number
>;
const FORMAT_CODE = Object.fromEntries(TAR_FORMATS.map((format, code) => [format, code])) as Record<
  TarFormat,
  number
>;
/** Flag bits: type in bits 0–2, unsafe in bit 3, format in bits 4–6. */
export const FLAG_UNSAFE = 8;

/** The typed arrays a column can be, narrowest first, with the largest integer each holds. */
const WIDTHS = [
  { encoding: 'u8', max: 0xff, make: (n: number) => new Uint8Array(n) },
  { encoding: 'u16', max: 0xffff, make: (n: number) => new Uint16Array(n) },
  { encoding: 'u32', max: 0xffffffff, make: (n: number) => new Uint32Array(n) },
  { encoding: 'f64', max: Infinity, make: (n: number) => new Float64Array(n) },
] as const;

type ColumnArray = Uint8Array | Uint16Array | Uint32Array | Float64Array;

/** Members staged before their values are moved, column by column, into the narrow arrays. */
const STAGE_ROWS = 8192;

/**
 * A growing column of numbers, always in the narrowest typed array that holds every value so far
 * (widened at the first value that needs it; float64 for fractions and negatives). Most columns
 * (name lengths, modes, owners, header gaps) fit one or two bytes a member.
 *
 * Values arrive in bulk (`append`, from the recorder's stage) and are moved with
 * `TypedArray.set` (native): storing each value straight into arrays of four different types
 * from one method made that store megamorphic, and recording cost ~900 ns a member.
 */
class NumberColumn {
  private width = 0;
  private values: ColumnArray = new Uint8Array(STAGE_ROWS);
  private stored = 0;

  append(batch: Float64Array): void {
    let max = 0;
    let exact = true;
    for (let i = 0; i < batch.length; i += 1) {
      const value = batch[i]!;
      if (value > max) max = value;
      // A non-negative integer below 2^32 survives >>> 0 unchanged; fractions, negatives and
      // NaN do not.
      if (value >>> 0 !== value) exact = false;
    }
    let width = this.width;
    const needs = !exact ? 3 : max <= 0xff ? 0 : max <= 0xffff ? 1 : 2;
    if (needs > width) width = needs;
    const needed = this.stored + batch.length;
    if (width !== this.width || needed > this.values.length) {
      const capacity = Math.max(needed, Math.ceil(this.values.length * 1.5));
      const grown = WIDTHS[width]!.make(capacity);
      grown.set(this.values.subarray(0, this.stored));
      this.values = grown;
      this.width = width;
    }
    this.values.set(batch, this.stored);
    this.stored = needed;
  }

  encode(): { encoding: ColumnEncoding; bytes: Buffer } {
    const values = this.values.subarray(0, this.stored);
    return {
      encoding: WIDTHS[this.width]!.encoding,
      bytes: Buffer.from(values.buffer, values.byteOffset, values.byteLength),
    };
  }
}

export interface IndexRecorder {
  add(entry: ArchiveEntry): void;
  /** The note of member `index` (DataNotes). */
  note(index: number, note: string): void;
  readonly members: number;
  /** The index file's bytes, in parts. */
  encode(meta: {
    key: string;
    walk: IndexedWalk;
    notesKind: string | null;
    summaryKind: string | null;
    summary: string | null;
    accessPoints: readonly AccessPoint[];
  }): Buffer[];
}

export const NUMBER_COLUMNS = [
  'prefix',
  'suffix',
  'size',
  'dataLength',
  'mode',
  'uid',
  'gid',
  'mtime',
  'headerDelta',
  'dataDelta',
] as const;

export function createIndexRecorder(): IndexRecorder {
  const columns = NUMBER_COLUMNS.map(() => new NumberColumn());
  const width = NUMBER_COLUMNS.length;
  // Each column's next values staged in a Float64Array of its own (all ten stores go to arrays
  // of one type: monomorphic), handed to the column in bulk every STAGE_ROWS members.
  const stage = NUMBER_COLUMNS.map(() => new Float64Array(STAGE_ROWS));
  const [sPrefix, sSuffix, sSize, sDataLength, sMode, sUid, sGid, sMtime, sHeader, sData] =
    stage as [
      Float64Array,
      Float64Array,
      Float64Array,
      Float64Array,
      Float64Array,
      Float64Array,
      Float64Array,
      Float64Array,
      Float64Array,
      Float64Array,
    ];
  let staged = 0;
  const flush = (): void => {
    for (let column = 0; column < width; column += 1) {
      const values = stage[column]!;
      columns[column]!.append(staged === STAGE_ROWS ? values : values.subarray(0, staged));
    }
    staged = 0;
  };
  let flags: Uint8Array<ArrayBuffer> = new Uint8Array(1024);
  let rawKinds: Uint8Array<ArrayBuffer> = new Uint8Array(1024);
  let suffixes = Buffer.allocUnsafe(1 << 20);
  let suffixBytes = 0;
  /** The UTF-8 of the path being added and of the one before it. */
  // Own ArrayBuffers (not pooled), so the Int32Array views start at their first byte.
  let current = Buffer.allocUnsafeSlow(4096);
  let previous = Buffer.allocUnsafeSlow(4096);
  let current32 = new Int32Array(current.buffer, 0, 1024);
  let previous32 = new Int32Array(previous.buffer, 0, 1024);
  let previousLength = 0;
  let previousHeader = 0;
  let members = 0;
  const rawPaths: Array<[number, string]> = [];
  const linkPaths: Array<[number, string]> = [];
  const sparse: Array<[number, Array<[number, number]>]> = [];
  const notes: Array<[number, string]> = [];

  return {
    get members() {
      return members;
    },
    add(entry) {
      const index = members;
      if (index === flags.length) {
        flags = growBytes(flags);
        rawKinds = growBytes(rawKinds);
      }
      const memberPath = entry.memberPath;
      // Front coding on the UTF-8 bytes: the bytes shared with the previous path, then the
      // rest. Done on bytes, not on the string: a byte loop over two buffers is several times
      // cheaper than charCodeAt over two strings, and no substring is made.
      if (memberPath.length * 3 > current.length) {
        const size = memberPath.length * 3 + 8;
        current = Buffer.allocUnsafeSlow(size);
        const room = Buffer.allocUnsafeSlow(size);
        previous.copy(room, 0, 0, previousLength);
        previous = room;
        current32 = new Int32Array(current.buffer, 0, size >> 2);
        previous32 = new Int32Array(previous.buffer, 0, size >> 2);
      }
      const length = current.write(memberPath, 0, 'utf8');
      const limit = length < previousLength ? length : previousLength;
      // Four bytes at a time, then byte by byte: paths share ~57 bytes with the one before.
      const words = limit >> 2;
      let word = 0;
      while (word < words && current32[word] === previous32[word]) word += 1;
      let shared = word << 2;
      while (shared < limit && current[shared] === previous[shared]) shared += 1;
      const rest = length - shared;
      if (suffixBytes + rest > suffixes.length) {
        const grown = Buffer.allocUnsafe(Math.max(suffixes.length * 2, suffixBytes + rest));
        suffixes.copy(grown, 0, 0, suffixBytes);
        suffixes = grown;
      }
      // A loop, not Buffer#copy: for the ~15 bytes of a typical rest, copy's argument
      // handling costs more than the copy.
      for (let i = shared; i < length; i += 1) suffixes[suffixBytes++] = current[i]!;
      sPrefix[staged] = shared;
      sSuffix[staged] = rest;
      const swap = current;
      current = previous;
      previous = swap;
      const swap32 = current32;
      current32 = previous32;
      previous32 = swap32;
      previousLength = length;
      flags[index] =
        TYPE_CODE[entry.type] |
        (entry.unsafe !== null ? FLAG_UNSAFE : 0) |
        (FORMAT_CODE[entry.format] << 4);
      const kind = rawKind(entry.rawPath, memberPath);
      rawKinds[index] = kind;
      if (kind === RAW_EXPLICIT) rawPaths.push([index, entry.rawPath]);
      if (entry.linkPath !== '') linkPaths.push([index, entry.linkPath]);
      if (entry.sparse !== null) sparse.push([index, entry.sparse.map(([o, l]) => [o, l])]);
      sSize[staged] = entry.size;
      sDataLength[staged] = entry.dataLength;
      sMode[staged] = entry.mode;
      sUid[staged] = entry.uid;
      sGid[staged] = entry.gid;
      sMtime[staged] = entry.mtime;
      sHeader[staged] = entry.headerOffset - previousHeader;
      sData[staged] = entry.dataOffset - entry.headerOffset;
      staged += 1;
      if (staged === STAGE_ROWS) flush();
      previousHeader = entry.headerOffset;
      members += 1;
    },
    note(index, note) {
      notes.push([index, note]);
    },
    encode(meta) {
      const parts: Buffer[] = [];
      let bodyBytes = 0;
      const place = (bytes: Buffer): [number, number] => {
        const at: [number, number] = [bodyBytes, bytes.length];
        parts.push(bytes);
        bodyBytes += bytes.length;
        const pad = (8 - (bodyBytes % 8)) % 8;
        if (pad > 0) {
          parts.push(Buffer.alloc(pad));
          bodyBytes += pad;
        }
        return at;
      };
      const columnTable: IndexHeader['columns'] = {};
      columnTable.flags = { encoding: 'u8', at: place(Buffer.from(flags.buffer, 0, members)) };
      columnTable.rawKind = { encoding: 'u8', at: place(Buffer.from(rawKinds.buffer, 0, members)) };
      columnTable.suffixes = { encoding: 'bytes', at: place(suffixes.subarray(0, suffixBytes)) };
      flush();
      for (const [column, name] of NUMBER_COLUMNS.entries()) {
        const { encoding, bytes } = columns[column]!.encode();
        columnTable[name] = { encoding, at: place(bytes) };
      }
      const accessPoints = meta.accessPoints.map((point) => ({
        outputOffset: point.outputOffset,
        inputOffset: point.inputOffset,
        bits: point.bits,
        window: point.window ? place(point.window) : null,
      }));
      const header: IndexHeader = {
        version: INDEX_FORMAT_VERSION,
        walkRevision: WALK_REVISION,
        key: meta.key,
        createdAt: new Date().toISOString(),
        bodyBytes,
        walk: meta.walk,
        notesKind: meta.notesKind,
        notes,
        summaryKind: meta.summaryKind,
        summary: meta.summary,
        accessPoints,
        columns: columnTable,
        rawPaths,
        linkPaths,
        sparse,
        littleEndian: new Uint8Array(new Uint16Array([1]).buffer)[0] === 1,
      };
      const headerBytes = Buffer.from(JSON.stringify(header), 'utf8');
      const lead = Buffer.alloc(16);
      lead.write(INDEX_MAGIC, 0, 'latin1');
      lead.writeUInt32LE(headerBytes.length, 8);
      lead.writeUInt32LE(INDEX_FORMAT_VERSION, 12);
      const headerPad = Buffer.alloc((8 - ((16 + headerBytes.length) % 8)) % 8);
      // Handed out as parts (written with one writev), not joined: joining doubled the peak
      // memory of a walk that builds the index of a big archive.
      const all = [lead, headerBytes, headerPad, ...parts];
      let crc = 0;
      for (const part of all) crc = crc32(part, crc);
      const trailer = Buffer.alloc(8);
      trailer.writeUInt32LE(crc, 0);
      trailer.write(INDEX_TRAILER, 4, 'latin1');
      return [...all, trailer];
    },
  };
}

function growBytes(bytes: Uint8Array<ArrayBuffer>): Uint8Array<ArrayBuffer> {
  const grown = new Uint8Array(bytes.length * 2);
  grown.set(bytes);
  return grown;
}

function rawKind(raw: string, memberPath: string): number {
  if (raw === memberPath) return RAW_SAME;
  const extra = raw.length - memberPath.length;
  if (extra === 2 && raw.startsWith('./') && raw.endsWith(memberPath)) return RAW_DOT_SLASH;
  if (extra === 1 && raw.endsWith('/') && raw.startsWith(memberPath)) return RAW_TRAILING_SLASH;
  if (extra === 1 && raw.startsWith('/') && raw.endsWith(memberPath)) return RAW_LEADING_SLASH;
  if (extra === 3 && raw.startsWith('./') && raw.endsWith('/') && raw.slice(2, -1) === memberPath)
    return RAW_DOT_SLASH_TRAILING;
  return RAW_EXPLICIT;
}
