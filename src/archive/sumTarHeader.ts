/**
 * The unsigned header checksum as tar computes it: the sum of all 512 header bytes with the
 * checksum field (bytes 148..155) counted as eight spaces.
 *
 * This runs for every header of every walk, so it sums 32-bit words instead of bytes when the
 * header is 4-byte aligned in memory (always, for the positional reads of a file walk): each
 * word contributes its bytes 0 and 2 to one accumulator's two 16-bit lanes and bytes 1 and 3
 * to another's. 128 words of at most 255 per byte cannot carry out of a lane
 * (128 x 255 < 65536). The checksum field is words 37 and 38 exactly.
 */
let cachedBuffer: ArrayBufferLike | null = null;
let cachedWords: Uint32Array = new Uint32Array(0);
const scratch = Buffer.from(new ArrayBuffer(512));
const scratchWords = new Uint32Array(scratch.buffer);

export function sumTarHeader(b: Buffer, o: number): number {
  let start = b.byteOffset + o;
  let words: Uint32Array;
  if ((start & 3) !== 0) {
    // Streams deliver chunks at any offset: one native copy to an aligned block beats a
    // byte-by-byte sum.
    b.copy(scratch, 0, o, o + 512);
    words = scratchWords;
    start = 0;
  } else {
    if (b.buffer !== cachedBuffer) {
      cachedBuffer = b.buffer;
      cachedWords = new Uint32Array(b.buffer, 0, b.buffer.byteLength >>> 2);
    }
    words = cachedWords;
  }
  const first = start >>> 2;
  let even = 0;
  let odd = 0;
  for (let i = first; i < first + 37; i += 1) {
    const w = words[i]!;
    even += w & 0x00ff00ff;
    odd += (w >>> 8) & 0x00ff00ff;
  }
  for (let i = first + 39; i < first + 128; i += 1) {
    const w = words[i]!;
    even += w & 0x00ff00ff;
    odd += (w >>> 8) & 0x00ff00ff;
  }
  return 256 + (even & 0xffff) + (even >>> 16) + (odd & 0xffff) + (odd >>> 16);
}

/** The same sum, one byte at a time (headers that straddle an unaligned chunk boundary). */
export function sumTarHeaderBytes(b: Uint8Array, o: number): number {
  let sum = 256;
  for (let i = o; i < o + 148; i += 1) sum += b[i]!;
  for (let i = o + 156; i < o + 512; i += 1) sum += b[i]!;
  return sum;
}
