import { ENTRY_TYPES, type EntryType } from '../archive/ArchiveEntry.js';

/** Small integer codes for entry types, so the table stores one byte per member. */
export const TYPE_CODES = {
  file: 1,
  dir: 2,
  symlink: 3,
  hardlink: 4,
  fifo: 5,
  chardev: 6,
  blockdev: 7,
} as const satisfies Record<EntryType, number>;

export const TYPE_BY_CODE: readonly (EntryType | undefined)[] = [undefined, ...ENTRY_TYPES];

/**
 * The hash state after the first `length` characters of a path. Members of one directory share
 * their parent's prefix, and both hashes are sequential, so a caller that walks an archive
 * directory by directory hashes the prefix once and each member's name only.
 */
export interface PathHashPrefix {
  readonly h1: number;
  readonly h2: number;
  readonly length: number;
}

// Two independent 32-bit hashes in one pass (FNV-1a, and a multiplicative one mixed once at
// the end), so the pair behaves as a 64-bit hash without BigInt on the hot path.
const EMPTY_PREFIX: PathHashPrefix = { h1: 0x811c9dc5, h2: 0x9747b28c, length: 0 };

export function hashPathPrefix(path: string, length: number): PathHashPrefix {
  let h1 = EMPTY_PREFIX.h1;
  let h2 = EMPTY_PREFIX.h2;
  for (let i = 0; i < length; i += 1) {
    const c = path.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 + c, 0x5bd1e995);
  }
  return { h1, h2, length };
}

export interface MemberTable {
  /**
   * Records the latest occurrence of `memberPath`. Returns -1 when the path is new, else the
   * type code of the occurrence it supersedes (whose sizes `previousSize()` and
   * `previousStored()` then return), so a consumer can retract what it counted for it.
   * `prefix`, when given, is `hashPathPrefix` of the start of `memberPath`.
   */
  upsert(
    memberPath: string,
    typeCode: number,
    size: number,
    stored: number,
    prefix?: PathHashPrefix,
  ): number;
  previousSize(): number;
  previousStored(): number;
  /** The type code recorded for `memberPath`, or -1 when it was never recorded. */
  lookup(memberPath: string): number;
  /** Distinct paths recorded. */
  readonly size: number;
  /** Bytes the table currently holds (for the memory budget and its test). */
  readonly memoryBytes: number;
}

const INITIAL_SLOTS = 1 << 16;
const MAX_LOAD = 0.75;
const SIZE_OVERFLOW = 0xffffffff;

/**
 * Last-occurrence-wins bookkeeping for archives of millions of members without one JS string
 * per member (DESIGN.md: memory bounded by the selection and the directory count): an
 * open-addressing table of 64-bit path hashes with a type byte and a 32-bit size per slot,
 * 13 bytes a slot, about 17 bytes a member at the load limit (10 million members: ~170 MiB,
 * 700,000: ~12 MiB). Sizes of 4 GiB and more, and the stored size of sparse members, are rare
 * and go to side maps. Two distinct paths share a 64-bit hash with probability ~n²/2⁶⁵
 * (10 million members: about 3 in a million archives); such a pair would be counted as one.
 */
export function createMemberTable(): MemberTable {
  let capacity = INITIAL_SLOTS;
  let hashHi = new Int32Array(capacity);
  let hashLo = new Int32Array(capacity);
  let types = new Uint8Array(capacity); // 0 = empty slot
  let sizes = new Uint32Array(capacity);
  let bigSizes = new Map<number, number>(); // slot -> size >= 4 GiB
  let storedSizes = new Map<number, number>(); // slot -> stored size when it differs from size
  let count = 0;
  let prevSize = 0;
  let prevStored = 0;
  // The hash of the last path hashed: two numbers, not an object, on the per-member path.
  let h1 = 0;
  let h2 = 0;

  function hashPath(memberPath: string, prefix: PathHashPrefix): void {
    let a = prefix.h1;
    let b = prefix.h2;
    for (let i = prefix.length; i < memberPath.length; i += 1) {
      const c = memberPath.charCodeAt(i);
      a = Math.imul(a ^ c, 0x01000193);
      b = Math.imul(b + c, 0x5bd1e995);
    }
    a ^= memberPath.length;
    b ^= b >>> 15;
    b = Math.imul(b, 0xc2b2ae35);
    b ^= b >>> 13;
    h1 = a | 0;
    h2 = b | 0;
  }

  function findSlot(hi: number, lo: number): number {
    const mask = capacity - 1;
    let slot = (lo ^ (hi >>> 7)) & mask;
    while (types[slot] !== 0 && (hashHi[slot] !== hi || hashLo[slot] !== lo)) {
      slot = (slot + 1) & mask;
    }
    return slot;
  }

  function store(slot: number, typeCode: number, size: number, stored: number): void {
    types[slot] = typeCode;
    if (size >= SIZE_OVERFLOW) {
      sizes[slot] = SIZE_OVERFLOW;
      bigSizes.set(slot, size);
    } else {
      sizes[slot] = size;
      if (bigSizes.size > 0) bigSizes.delete(slot);
    }
    if (stored !== size) storedSizes.set(slot, stored);
    else if (storedSizes.size > 0) storedSizes.delete(slot);
  }

  function sizeAt(slot: number): number {
    const size = sizes[slot] ?? 0;
    return size === SIZE_OVERFLOW ? (bigSizes.get(slot) ?? size) : size;
  }

  function grow(): void {
    const old = { hashHi, hashLo, types, sizes, bigSizes, storedSizes, capacity };
    capacity *= 2;
    hashHi = new Int32Array(capacity);
    hashLo = new Int32Array(capacity);
    types = new Uint8Array(capacity);
    sizes = new Uint32Array(capacity);
    bigSizes = new Map();
    storedSizes = new Map();
    for (let i = 0; i < old.capacity; i += 1) {
      const type = old.types[i] ?? 0;
      if (type === 0) continue;
      const hi = old.hashHi[i] ?? 0;
      const lo = old.hashLo[i] ?? 0;
      const slot = findSlot(hi, lo);
      hashHi[slot] = hi;
      hashLo[slot] = lo;
      types[slot] = type;
      sizes[slot] = old.sizes[i] ?? 0;
      const big = old.bigSizes.get(i);
      if (big !== undefined) bigSizes.set(slot, big);
      const stored = old.storedSizes.get(i);
      if (stored !== undefined) storedSizes.set(slot, stored);
    }
  }

  return {
    upsert(memberPath, typeCode, size, stored, prefix = EMPTY_PREFIX) {
      hashPath(memberPath, prefix);
      const slot = findSlot(h1, h2);
      const previous = types[slot] ?? 0;
      if (previous !== 0) {
        prevSize = sizeAt(slot);
        prevStored = storedSizes.get(slot) ?? prevSize;
        store(slot, typeCode, size, stored);
        return previous;
      }
      hashHi[slot] = h1;
      hashLo[slot] = h2;
      store(slot, typeCode, size, stored);
      count += 1;
      if (count > capacity * MAX_LOAD) grow();
      return -1;
    },
    lookup(memberPath) {
      hashPath(memberPath, EMPTY_PREFIX);
      const type = types[findSlot(h1, h2)] ?? 0;
      return type === 0 ? -1 : type;
    },
    previousSize: () => prevSize,
    previousStored: () => prevStored,
    get size() {
      return count;
    },
    get memoryBytes() {
      return capacity * 13 + (bigSizes.size + storedSizes.size) * 48;
    },
  };
}
