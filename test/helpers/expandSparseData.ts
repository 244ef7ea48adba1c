/**
 * The real contents of a sparse member from its stored data: the stored bytes are the data
 * extents back to back, in map order; everything else is a hole (zeros). `size` is the real
 * (apparent) size.
 */
export function expandSparseData(
  stored: Buffer,
  sparse: ReadonlyArray<readonly [number, number]>,
  size: number,
): Buffer {
  const real = Buffer.alloc(size);
  let from = 0;
  for (const [offset, length] of sparse) {
    stored.copy(real, offset, from, from + length);
    from += length;
  }
  return real;
}
