import type { Compression } from '../types.js';

/** Bytes `detectCompression` needs to decide (the xz magic is the longest). */
export const COMPRESSION_MAGIC_BYTES = 6;

/**
 * Compression from the first bytes of the input, never from the file name (CONTRACT.md): a
 * backup renamed `.tar` that is really gzip, or stdin, must still work. Returns `'none'` when no
 * known magic matches (the tar parser then decides whether it is a tar at all).
 */
export function detectCompression(head: Uint8Array): Compression {
  const b0 = head[0];
  const b1 = head[1];
  const b2 = head[2];
  const b3 = head[3];
  if (b0 === 0x1f && b1 === 0x8b) return 'gzip';
  if (b0 === 0x42 && b1 === 0x5a && b2 === 0x68 && b3 !== undefined && b3 >= 0x31 && b3 <= 0x39) {
    return 'bzip2';
  }
  if (
    b0 === 0xfd &&
    b1 === 0x37 &&
    b2 === 0x7a &&
    b3 === 0x58 &&
    head[4] === 0x5a &&
    head[5] === 0x00
  ) {
    return 'xz';
  }
  if (b0 === 0x28 && b1 === 0xb5 && b2 === 0x2f && b3 === 0xfd) return 'zstd';
  // A zstd skippable frame (0x184D2A50..5F little-endian) may precede the data frames (pzstd
  // writes one): `zstd -d` reads it.
  if (b0 !== undefined && (b0 & 0xf0) === 0x50 && b1 === 0x2a && b2 === 0x4d && b3 === 0x18) {
    return 'zstd';
  }
  return 'none';
}

/**
 * Names a compression we recognise but do not read, so the error can say so instead of "not a
 * tar archive". Null when the bytes match none of them.
 */
export function describeUnsupportedCompression(head: Uint8Array): string | null {
  const b0 = head[0];
  const b1 = head[1];
  if (b0 === 0x1f && b1 === 0x9d) return 'compress (.Z)';
  if (b0 === 0x1f && b1 === 0xa0) return 'LZH';
  if (b0 === 0x04 && b1 === 0x22 && head[2] === 0x4d && head[3] === 0x18) return 'lz4';
  if (b0 === 0x89 && b1 === 0x4c && head[2] === 0x5a && head[3] === 0x4f) return 'lzop';
  if (b0 === 0x5d && b1 === 0x00 && head[2] === 0x00) return 'lzma';
  if (b0 === 0x50 && b1 === 0x4b && head[2] === 0x03 && head[3] === 0x04) return 'zip';
  return null;
}
