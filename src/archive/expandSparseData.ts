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

/**
 * Why a sparse map cannot describe a member, or null when it can: extents must be in order,
 * not overlap, lie within the real size, and add up to exactly the stored data. A map that
 * lies is how a crafted archive would make a reader write outside the file or read the next
 * member's header as data.
 */
export function findSparseMapError(
  sparse: ReadonlyArray<readonly [number, number]>,
  realSize: number,
  storedSize: number,
): string | null {
  let end = 0;
  let total = 0;
  for (const [offset, length] of sparse) {
    if (
      !Number.isSafeInteger(offset) ||
      !Number.isSafeInteger(length) ||
      offset < 0 ||
      length < 0
    ) {
      return 'sparse map entry is not a valid number';
    }
    if (offset < end) return 'sparse map extents overlap or are out of order';
    end = offset + length;
    if (end > realSize) return 'sparse map extent lies beyond the real size';
    total += length;
  }
  if (total !== storedSize) {
    return `sparse map covers ${total} bytes but the member stores ${storedSize}`;
  }
  return null;
}
