/**
 * One 512-byte tar header, decoded from its bytes: the v7 fields every dialect shares, the ustar
 * prefix, GNU's magic, and the type flags. Pure: no state between headers, no policy. What an
 * unreadable field means (a warning, an error, a default) is the parser's decision; here it is
 * NaN, as `readNumericField` returns it.
 *
 * Layout (POSIX ustar; GNU and old GNU reuse the prefix bytes for atime, ctime and the old
 * sparse map, see decodeSparseMap.ts):
 *
 *   0 name[100]  100 mode[8]  108 uid[8]  116 gid[8]  124 size[12]  136 mtime[12]
 *   148 chksum[8]  156 typeflag  157 linkname[100]  257 magic[6]  263 version[2]
 *   265 uname[32]  297 gname[32]  329 devmajor[8]  337 devminor[8]  345 prefix[155]
 *
 * Runs for every header of every walk: nothing here allocates but the strings it returns, and
 * the caller passes in the one `TarHeader` it reuses.
 */
import type { TarFormat } from '../types.js';
import type { EntryType } from './ArchiveEntry.js';
import { readNumericField } from './readNumericField.js';
import { sumTarHeader } from './sumTarHeader.js';

export const BLOCK = 512;

/**
 * What every header needs decoded before the parser knows what it is: its dialect, its type,
 * how much data follows it, and its checksum. Reused: `decodeHeader` overwrites every field.
 */
export class TarHeader {
  format: TarFormat = 'v7';
  typeflag = 0;
  /** Octal or base-256 as written; NaN when unreadable, Infinity past 2^53. */
  size = 0;
  checksum = 0;
  /** Set by `readHeaderName`: the name it returned needs no normalization and has no `..`. */
  namePlain = false;
}

/**
 * Decodes the fields every header needs. A member's own fields (mode, ids, mtime, names) are
 * read by the functions below only when the parser uses them: in pax archives records often
 * replace them (GNU tar's posix format gives every member an `x` header with its mtime), and
 * decoding them anyway cost 7% of a walk of such an archive.
 */
export function decodeHeader(b: Buffer, o: number, header: TarHeader): TarHeader {
  header.format = readHeaderFormat(b, o);
  header.typeflag = b[o + 156]!;
  header.size = readNumericField(b, o + 124, 12);
  header.checksum = readNumericField(b, o + 148, 8, true);
  return header;
}

/** Permission bits and set-id bits as written (tar stores 12 bits; some writers more). */
export function readHeaderMode(b: Buffer, o: number): number {
  return readNumericField(b, o + 100, 8);
}

export function readHeaderUid(b: Buffer, o: number): number {
  return readNumericField(b, o + 108, 8);
}

export function readHeaderGid(b: Buffer, o: number): number {
  return readNumericField(b, o + 116, 8);
}

/** Seconds since the epoch; negative (base-256) before 1970. */
export function readHeaderMtime(b: Buffer, o: number): number {
  return readNumericField(b, o + 136, 12);
}

/** A device's major and minor numbers (char and block devices only). */
export function readHeaderDevMajor(b: Buffer, o: number): number {
  return readNumericField(b, o + 329, 8);
}

export function readHeaderDevMinor(b: Buffer, o: number): number {
  return readNumericField(b, o + 337, 8);
}

/**
 * An 8-byte mode field's permission and set-id bits when its value is past 2^53 (base-256 with
 * high bytes set): GNU tar keeps the low 12 bits of whatever it reads, and in two's complement
 * those are the field's last 12 bits either way.
 */
export function readHeaderModeLowBits(b: Buffer, o: number): number {
  return ((b[o + 106]! << 8) | b[o + 107]!) & 0o7777;
}

/**
 * 'gnu' for GNU tar's `ustar  \0` magic (it writes the same magic for --format=gnu and
 * --format=oldgnu, so the two cannot be told apart from the bytes), 'ustar' for POSIX
 * `ustar\0`, 'v7' for anything else.
 */
export function readHeaderFormat(b: Buffer, o: number): TarFormat {
  if (
    b[o + 257] !== 0x75 ||
    b[o + 258] !== 0x73 ||
    b[o + 259] !== 0x74 ||
    b[o + 260] !== 0x61 ||
    b[o + 261] !== 0x72
  ) {
    return 'v7';
  }
  if (b[o + 262] === 0x20 && b[o + 263] === 0x20 && b[o + 264] === 0) return 'gnu';
  return b[o + 262] === 0 ? 'ustar' : 'v7';
}

/**
 * True when the stored checksum matches the header's bytes. Some old tars (Sun, early GNU)
 * summed signed chars; GNU tar accepts either sum, and so do we.
 */
export function isHeaderChecksumValid(b: Buffer, o: number, stored: number): boolean {
  if (sumTarHeader(b, o) === stored) return true;
  let signed = 256;
  for (let i = o; i < o + BLOCK; i += 1) {
    if (i === o + 148) i = o + 156;
    const byte = b[i]!;
    signed += byte > 127 ? byte - 256 : byte;
  }
  return signed === stored;
}

/** A block of 512 NUL bytes: two of them end the archive. */
export function isZeroBlock(b: Buffer, o: number): boolean {
  for (let i = o; i < o + BLOCK; i += 1) if (b[i] !== 0) return false;
  return true;
}

/**
 * The type of a member header's typeflag, or null for a flag tar does not know (GNU tar extracts
 * those as regular files; the caller says so). Metadata and volume flags (`x`, `X`, `g`, `L`,
 * `K`, `V`, `M`) are the parser's business and never reach here; old GNU tar's `N` does, as an
 * unknown flag: GNU tar 1.34 lists and extracts it as a regular file.
 */
export function decodeEntryType(typeflag: number, name: string): EntryType | null {
  switch (typeflag) {
    case 0x30: // '0'
    case 0x00: // '\0' pre-POSIX regular file
    case 0x37: // '7' contiguous file: a regular file everywhere but Masscomp
      // tar (extract.c) extracts a "regular" member whose name ends in '/' as a directory:
      // that is how v7 archives, which have no directory type, store directories.
      return name.charCodeAt(name.length - 1) === 0x2f ? 'dir' : 'file';
    case 0x53: // 'S' old GNU sparse file
      return 'file';
    case 0x31: // '1'
      return 'hardlink';
    case 0x32: // '2'
      return 'symlink';
    case 0x33: // '3'
      return 'chardev';
    case 0x34: // '4'
      return 'blockdev';
    case 0x35: // '5'
    case 0x44: // 'D' GNU dumpdir (incremental): a directory whose data lists its contents
      return 'dir';
    case 0x36: // '6'
      return 'fifo';
    default:
      return null;
  }
}

/**
 * The name field, with the ustar prefix joined by '/'. GNU headers use those bytes for
 * atime/ctime/sparse data, never a prefix. Sets `header.namePlain`.
 */
export function readHeaderName(b: Buffer, o: number, header: TarHeader): string {
  const name = readName(b, o, 100, header);
  if (header.format !== 'ustar' || b[o + 345] === 0) return name;
  const namePlain = header.namePlain;
  const prefix = readName(b, o + 345, 155, header);
  // The joint is plain too: a plain prefix does not end in '/', a plain name does not start
  // with '/' or '.'.
  header.namePlain &&= namePlain;
  return `${prefix}/${name}`;
}

/** The linkname field: a symlink's text, or the name a hard link points at. */
export function readHeaderLinkName(b: Buffer, o: number): string {
  return b[o + 157] === 0 ? '' : readCString(b, o + 157, 100);
}

/** The data of a GNU `L` or `K` header: one name, NUL-terminated (GNU tar counts the NUL). */
export function readLongName(data: Buffer, length: number): string {
  return readCString(data, 0, length);
}

interface SlicingBuffer extends Buffer {
  latin1Slice(start: number, end: number): string;
  utf8Slice(start: number, end: number): string;
}
// Buffer's own slicers skip toString's encoding lookup; they are what toString calls.
const hasSlicers = typeof (Buffer.prototype as Partial<SlicingBuffer>).latin1Slice === 'function';

/**
 * A NUL-terminated name field, decoded as UTF-8 (as GNU tar and bsdtar write the bytes they
 * got from the file system). One pass over the bytes also decides `namePlain` (no leading '.'
 * or '/', no '/.' or '//', no trailing '/': already normal, and no room for a '..'), and
 * ASCII-only names (nearly all) take the cheaper one-byte decoder.
 */
function readName(b: Buffer, at: number, length: number, header: TarHeader): string {
  const limit = at + length;
  const first = b[at];
  let plain = first !== 0x2e && first !== 0x2f;
  let ascii = true;
  let previous = 0;
  let end = at;
  while (end < limit) {
    const code = b[end]!;
    if (code === 0) break;
    if (previous === 0x2f && (code === 0x2f || code === 0x2e)) plain = false;
    if (code > 0x7f) ascii = false;
    previous = code;
    end += 1;
  }
  if (previous === 0x2f) plain = false;
  header.namePlain = plain && end > at;
  if (!hasSlicers) return b.toString('utf8', at, end);
  return ascii
    ? (b as SlicingBuffer).latin1Slice(at, end)
    : (b as SlicingBuffer).utf8Slice(at, end);
}

function readCString(b: Buffer, at: number, length: number): string {
  let end = at;
  const limit = at + length;
  while (end < limit && b[end] !== 0) end += 1;
  return b.toString('utf8', at, end);
}
