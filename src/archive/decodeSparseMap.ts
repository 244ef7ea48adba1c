/**
 * GNU sparse maps, in each of the four encodings GNU tar 1.34 (sparse.c, xheader.c) writes and
 * reads, decoded to the data extents of the real file as `[offset, length]` pairs:
 *
 * - old GNU (`--format=gnu --sparse`, typeflag `S`): four 24-byte entries (offset[12],
 *   numbytes[12]) in the header at 386, `isextended` at 482, the real size at 483; when
 *   `isextended` is set, 512-byte extension blocks follow the header, 21 entries each and their
 *   own `isextended` at 504;
 * - pax 0.0: repeated `GNU.sparse.offset` / `GNU.sparse.numbytes` records (paired by the
 *   parser, since their order is what pairs them);
 * - pax 0.1: one `GNU.sparse.map` record, `offset,length,offset,length...`;
 * - pax 1.0: decimal numbers one a line at the start of the member's data (the count, then the
 *   pairs), padded to a block; the stored data follows.
 *
 * Whether a decoded map fits its member is findSparseMapError's question, asked by the parser.
 */
import { RestoreplanError } from '../errors.js';
import { readNumericField } from './readNumericField.js';

/**
 * Most extents a sparse map may have. Each is held as a pair in memory (~50 bytes), and a
 * compressed hostile archive can declare millions in a few kilobytes (16 M extents took a 65 KB
 * .tar.gz to 1 GB of memory); real sparse images have thousands.
 */
export const MAX_SPARSE_EXTENTS = 1 << 18;

const BLOCK = 512;

/**
 * The extents of an old GNU `S` header into `list`. Returns true when extension blocks follow
 * (`decodeOldGnuSparseExtension` reads each).
 */
export function decodeOldGnuSparseHeader(
  b: Buffer,
  o: number,
  list: Array<[number, number]>,
  headerOffset: number,
): boolean {
  readOldGnuEntries(b, o + 386, 4, list, headerOffset);
  return b[o + 482] !== 0;
}

/** The real (apparent) size of an old GNU sparse file; NaN when unreadable. */
export function readOldGnuRealSize(b: Buffer, o: number): number {
  return readNumericField(b, o + 483, 12);
}

/** The extents of one old GNU extension block into `list`. Returns true when another follows. */
export function decodeOldGnuSparseExtension(
  b: Buffer,
  o: number,
  list: Array<[number, number]>,
  blockOffset: number,
): boolean {
  readOldGnuEntries(b, o, 21, list, blockOffset);
  return b[o + 504] !== 0;
}

function readOldGnuEntries(
  b: Buffer,
  at: number,
  count: number,
  list: Array<[number, number]>,
  offset: number,
): void {
  for (let i = 0; i < count; i += 1) {
    const entryAt = at + i * 24;
    // Unused entries are all NUL: the first one ends the map.
    if (b[entryAt] === 0) break;
    const start = readNumericField(b, entryAt, 12);
    const length = readNumericField(b, entryAt + 12, 12);
    if (!(start >= 0 && length >= 0) || list.length >= MAX_SPARSE_EXTENTS) {
      throw new RestoreplanError(
        'ARCHIVE_HEADER',
        `bad sparse map in the header at offset ${offset}`,
        {
          offset,
          field: 'sparse',
        },
      );
    }
    pushExtent(list, start, length);
  }
}

/**
 * A pax 0.1 `GNU.sparse.map` value (`data[start..end)`) as flat numbers, `[offset, length,
 * offset, length...]`; null when it is not an even count of comma-separated decimals or has
 * more than MAX_SPARSE_EXTENTS pairs. An empty value is an empty map.
 */
export function decodePaxSparseMap(data: Buffer, start: number, end: number): number[] | null {
  const map: number[] = [];
  let value = 0;
  let digits = 0;
  for (let i = start; i <= end; i += 1) {
    const code = i === end ? 0x2c : data[i]!;
    if (code === 0x2c) {
      if (digits === 0) {
        if (i === end && map.length === 0) break;
        return null;
      }
      map.push(value);
      value = 0;
      digits = 0;
    } else if (code >= 0x30 && code <= 0x39) {
      value = value * 10 + (code - 0x30);
      digits += 1;
    } else {
      return null;
    }
  }
  if (map.length % 2 !== 0 || map.length > 2 * MAX_SPARSE_EXTENTS) return null;
  return map;
}

/** Flat `[offset, length, ...]` numbers (pax 0.0, 0.1, 1.0) as extents. */
export function pairExtents(flat: readonly number[]): Array<[number, number]> {
  const list: Array<[number, number]> = [];
  for (let i = 0; i + 1 < flat.length; i += 2) pushExtent(list, flat[i]!, flat[i + 1]!);
  return list;
}

function pushExtent(list: Array<[number, number]>, offset: number, length: number): void {
  // GNU tar ends 0.0/0.1/1.0 maps with an empty extent at the real size: not data.
  if (length > 0) list.push([offset, length]);
}

/** ARCHIVE_HEADER for the sparse map of the member whose header is at `headerOffset`. */
export function badSparseMap(headerOffset: number, what: string): RestoreplanError {
  return new RestoreplanError(
    'ARCHIVE_HEADER',
    `bad sparse map for the member at offset ${headerOffset}: ${what}`,
    {
      offset: headerOffset,
      field: 'sparse',
    },
  );
}

/**
 * The pax 1.0 map, read one 512-byte block at a time as the parser gets them (a map can span
 * blocks and chunks). Reused from member to member: `start` resets it.
 */
export class SparseMapDecoder {
  /** Bytes of the member's data the map occupies so far, in whole blocks. */
  bytes = 0;
  private numbers: number[] = [];
  private count = -1;
  private value = 0;
  private digits = 0;
  private storedSize = 0;
  private headerOffset = 0;

  /** Begins the map of a member storing `storedSize` bytes (map included). */
  start(headerOffset: number, storedSize: number): void {
    this.numbers = [];
    this.count = -1;
    this.value = 0;
    this.digits = 0;
    this.bytes = 0;
    this.storedSize = storedSize;
    this.headerOffset = headerOffset;
    if (storedSize === 0) throw badSparseMap(headerOffset, 'the member stores no sparse map');
  }

  /** Reads the next block of the map; true when the map is complete (the rest is padding). */
  readBlock(b: Buffer, o: number): boolean {
    this.bytes += BLOCK;
    const numbers = this.numbers;
    for (let i = o; i < o + BLOCK; i += 1) {
      const code = b[i]!;
      if (code >= 0x30 && code <= 0x39) {
        this.value = this.value * 10 + (code - 0x30);
        this.digits += 1;
        if (this.digits > 16) throw badSparseMap(this.headerOffset, 'number too long');
        continue;
      }
      if (code !== 0x0a || this.digits === 0)
        throw badSparseMap(this.headerOffset, 'not a decimal number per line');
      if (this.count === -1) {
        this.count = this.value;
        if (this.count > MAX_SPARSE_EXTENTS)
          throw badSparseMap(this.headerOffset, 'too many extents');
      } else {
        numbers.push(this.value);
      }
      this.value = 0;
      this.digits = 0;
      if (numbers.length === 2 * this.count) {
        if (this.bytes > this.storedSize)
          throw badSparseMap(this.headerOffset, 'the map is longer than the member');
        return true;
      }
    }
    if (this.bytes >= this.storedSize)
      throw badSparseMap(this.headerOffset, 'the map does not end inside the member');
    return false;
  }

  /** The extents of a complete map. */
  extents(): Array<[number, number]> {
    return pairExtents(this.numbers);
  }
}
