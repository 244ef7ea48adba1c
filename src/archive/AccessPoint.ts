/**
 * A place inside a compressed archive where decompression can start without reading what lies
 * before it (the archive index keeps them; apply and the index's data reads resume there).
 *
 * - gzip: zlib's `examples/zran.c` access point — a deflate block boundary: `inputOffset` is the
 *   first compressed byte holding bits of the block, `bits` how many of that byte's low bits
 *   (0–7; deflate fills bytes from the least significant bit) belong to the previous block (0: the block starts on a byte boundary), `window` the
 *   32 KiB of output before `outputOffset` (the back-reference dictionary).
 * - xz: a block start (its index gives the sizes); zstd: a frame start. `bits` 0, `window` null.
 */
export interface AccessPoint {
  /** Offset in the decompressed (tar) stream. */
  outputOffset: number;
  /** Byte offset in the compressed file where decoding resumes. */
  inputOffset: number;
  /** gzip only: low bits of the byte at `inputOffset` that belong to the previous block (0–7). */
  bits: number;
  /** gzip only: up to 32 KiB of output just before `outputOffset`; null for xz and zstd. */
  window: Buffer | null;
}
