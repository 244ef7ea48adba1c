/**
 * Numeric tar header fields, parsed straight from the header bytes (no substring, no parseInt:
 * this runs for several fields of every member).
 *
 * What is accepted is what GNU tar 1.34's `from_header` (list.c) accepts, step by step, so that
 * a field GNU tar rejects ("Archive contains ... where numeric off_t value expected", "Blanks in
 * header where numeric time_t value expected") is unreadable here too, and one it reads is
 * read to the same value:
 * - one leading NUL is skipped ("buggy tar of unknown vintage, which outputs leading NUL if the
 *   previous field overflows"), then any white space (C `isspace`: space, \t \n \v \f \r);
 *   a field that is blank to its end is unreadable;
 * - octal digits, ended by the end of the field, a NUL or white space; anything else after
 *   them makes the field unreadable ("12x"); an empty or all-NUL field reads as 0;
 * - base-256, flagged by a first byte (after the padding) of exactly 0x80 (positive) or 0xff
 *   (negative, two's complement), for values octal cannot hold: sizes of 8 GiB and more,
 *   mtimes before 1970, big uids. Any other byte with the high bit set is unreadable;
 * - obsolete base-64 (`+` or `-`, then digits `A-Za-z0-9+/`), which only GNU tar test versions
 *   1.13.6 to 1.13.11 wrote and 1.34 still reads.
 *
 * Unreadable is NaN. A value past 2^53 (no real size or time is) is ±Infinity: the caller says
 * what either costs, and checks the field's range (a uid is 0..2^32-1) itself.
 */

/** Returned for a field that is neither valid octal nor base-256 (nor base-64). */
export const INVALID_NUMBER = Number.NaN;

export function readNumericField(
  header: Uint8Array,
  offset: number,
  length: number,
  /** The checksum: GNU tar reads it as octal only. */
  octalOnly = false,
): number {
  const end = offset + length;
  let i = offset;
  let code = header[i] ?? 0;
  // The common case, every writer's zero-padded octal, goes straight to the digits.
  if (code < 0x30 || code > 0x37) {
    if (code === 0) {
      i += 1;
      code = header[i] ?? 0;
    }
    for (;;) {
      if (i === end) return INVALID_NUMBER; // "Blanks in header where numeric ... expected"
      if (!isSpace(code)) break;
      i += 1;
      code = header[i] ?? 0;
    }
    if (code < 0x30 || code > 0x37) {
      if (!octalOnly) {
        if (code === 0x80 || code === 0xff) {
          if (i <= end - 2) return readBase256(header, i, end, code);
        } else if (code === 0x2b || code === 0x2d) {
          return readBase64(header, i, end);
        }
      }
      // No digits: 0 when a terminator follows the padding, unreadable otherwise.
      return code === 0 ? 0 : INVALID_NUMBER;
    }
  }
  let value = 0;
  while (i < end) {
    code = header[i] ?? 0;
    if (code < 0x30 || code > 0x37) break;
    value = value * 8 + (code - 0x30);
    i += 1;
  }
  // GNU tar's from_header: whatever follows the digits must be a terminator.
  if (i < end && code !== 0 && !isSpace(code)) return INVALID_NUMBER;
  return value;
}

/** C's isspace in the C locale. */
function isSpace(code: number): boolean {
  return code === 0x20 || (code >= 0x09 && code <= 0x0d);
}

function readBase256(header: Uint8Array, at: number, end: number, first: number): number {
  if (first === 0xff) {
    // Negative: -(~x + 1). Inverting first keeps the magnitudes small for small values.
    let inverted = 0;
    for (let i = at + 1; i < end; i += 1) inverted = inverted * 256 + (255 - (header[i] ?? 0));
    return inverted >= Number.MAX_SAFE_INTEGER ? -Infinity : -(inverted + 1);
  }
  let value = 0;
  for (let i = at + 1; i < end; i += 1) value = value * 256 + (header[i] ?? 0);
  return value > Number.MAX_SAFE_INTEGER ? Infinity : value;
}

const BASE64_DIGITS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** GNU tar 1.13.6–1.13.11's signed base-64; more than 64 bits is unreadable, as in from_header. */
function readBase64(header: Uint8Array, at: number, end: number): number {
  const negative = header[at] === 0x2d;
  let value = 0n;
  let i = at + 1;
  for (; i < end; i += 1) {
    const digit = BASE64_DIGITS.indexOf(String.fromCharCode(header[i] ?? 0));
    if (digit < 0) break;
    if (value >> 58n !== 0n) return INVALID_NUMBER;
    value = (value << 6n) | BigInt(digit);
  }
  const code = header[i] ?? 0;
  if (i < end && code !== 0 && !isSpace(code)) return INVALID_NUMBER;
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) return negative ? -Infinity : Infinity;
  return negative && value > 0n ? -Number(value) : Number(value);
}
