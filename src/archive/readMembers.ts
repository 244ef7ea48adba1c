import type { CommonOptions } from '../progress.js';
import { copyEntry, type ArchiveEntry } from './ArchiveEntry.js';
import { expandSparseData } from './expandSparseData.js';
import { walkArchive, type WalkResult } from './walkArchive.js';

export interface ReadMembersOptions extends CommonOptions {
  /**
   * How many members the caller wants at most: the walk stops right after the last of them
   * instead of decompressing the rest of the archive.
   */
  limit?: number;
  /** Largest member (stored bytes) to collect; default 64 MiB (see walkArchive). */
  maxDataBytes?: number;
}

export interface MemberData {
  /** A copy of the member's entry. */
  entry: ArchiveEntry;
  /** The member's contents; a sparse member is expanded to its real size. */
  data: Buffer;
}

/**
 * The contents of the members `wanted` selects, in ONE pass: the way to read members of a
 * compressed archive (or stdin), which cannot be read by offset (use readMemberAt for an
 * uncompressed file). Select by `entry.headerOffset` when you hold offsets from an earlier
 * walk: a path may occur more than once, and the last occurrence is the one extraction keeps.
 */
export async function readMembers(
  archive: string | NodeJS.ReadableStream,
  wanted: (entry: ArchiveEntry) => boolean,
  options: ReadMembersOptions = {},
): Promise<{ members: MemberData[]; walk: WalkResult }> {
  const members: MemberData[] = [];
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  if (limit <= 0) {
    return { members, walk: await walkArchive(archive, { onEntry: () => 'stop' }) };
  }
  const walk = await walkArchive(archive, {
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    ...(options.maxDataBytes !== undefined ? { maxDataBytes: options.maxDataBytes } : {}),
    onEntry: (entry) => (wanted(entry) ? 'data' : undefined),
    onData: (entry, stored) => {
      const data = entry.sparse ? expandSparseData(stored, entry.sparse, entry.size) : stored;
      members.push({ entry: copyEntry(entry), data });
      return members.length >= limit ? 'stop' : undefined;
    },
  });
  return { members, walk };
}
