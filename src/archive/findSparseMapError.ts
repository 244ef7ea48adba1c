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
    // GNU maps end with a zero-length extent at the real size, and some writers pad with
    // [0, 0]: empty extents carry no data and take no part in the ordering.
    if (length === 0 && offset <= realSize) continue;
    if (offset < end)
      return 'sparse map extents overlap or are out of order (not ordered by offset)';
    end = offset + length;
    if (end > realSize) return 'sparse map extent lies beyond the real size (it exceeds the file)';
    total += length;
  }
  if (total !== storedSize) {
    return `sparse map covers ${total} bytes but the member stores ${storedSize}`;
  }
  return null;
}
