/**
 * Numeric tar header fields, parsed straight from the header bytes (no substring, no parseInt:
 * this runs for several fields of every member).
 *
 * Two encodings exist, and GNU tar 1.34 and bsdtar 3.6 read both:
 * - octal digits, optionally led by spaces and ended by a space or NUL (some writers fill the
 *   whole field with digits and no terminator; an all-NUL or all-space field reads as 0);
 * - base-256, flagged by the high bit of the first byte, for values octal cannot hold: sizes of
 *   8 GiB and more, negative mtimes (first byte 0xff, two's complement), big uids.
 */

/** Returned for a field that is neither valid octal nor base-256. */
export const INVALID_NUMBER = Number.NaN;

export function readNumericField(header: Uint8Array, offset: number, length: number): number {
  const first = header[offset] ?? 0;
  if (first & 0x80) return readBase256(header, offset, length, first);
  const end = offset + length;
  let i = offset;
  while (i < end && header[i] === 0x20) i += 1;
  let value = 0;
  let digits = 0;
  while (i < end) {
    const code = header[i] ?? 0;
    if (code < 0x30 || code > 0x37) break;
    value = value * 8 + (code - 0x30);
    digits += 1;
    i += 1;
  }
  // GNU tar's from_header: whatever follows the digits must be a terminator.
  if (i < end) {
    const code = header[i];
    if (code !== 0 && code !== 0x20) return INVALID_NUMBER;
  }
  return digits === 0 ? 0 : value;
}

function readBase256(header: Uint8Array, offset: number, length: number, first: number): number {
  const end = offset + length;
  // Bit 6 of the first byte is the sign (GNU tar's from_header); 0x80 and 0xff are what
  // writers emit in practice.
  if (first & 0x40) {
    // Negative: -(~x + 1). Inverting first keeps the magnitudes small for small values.
    let inverted = 0x3f - (first & 0x3f);
    for (let i = offset + 1; i < end; i += 1) inverted = inverted * 256 + (255 - (header[i] ?? 0));
    return inverted >= Number.MAX_SAFE_INTEGER ? -Infinity : -(inverted + 1);
  }
  let value = first & 0x3f;
  for (let i = offset + 1; i < end; i += 1) value = value * 256 + (header[i] ?? 0);
  return value > Number.MAX_SAFE_INTEGER ? Infinity : value;
}
