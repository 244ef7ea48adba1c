/**
 * Reading a member's data for apply. For an uncompressed archive on disk the data is read at
 * its recorded offset (pread): restoring four configs from a 900 MB archive reads four small
 * ranges instead of the whole file, which is why apply beats `tar -x` by far. A sparse member
 * stores only its data extents; the holes come back as numbers (hole lengths) so the writer
 * can skip them and the restored file stays sparse, as the budget counted it.
 */
import { findSparseMapError } from '../archive/findSparseMapError.js';
import { RestoreplanError } from '../errors.js';
import type { MemberSource } from '../types.js';

/** A run of data, or a number: a hole of that many bytes (zeros not stored). */
export type MemberChunk = Buffer | number;

const CHUNK_BYTES = 1 << 20;

/**
 * Checks a plan step's source against the member's size (ARCHIVE_HEADER when absurd): a plan
 * file is input too, and a lying sparse map would make apply write outside the file or read
 * the next member's header as data. The rules are the walker's own.
 */
export function checkSparseMap(source: MemberSource, size: number, memberPath: string): void {
  const error = source.sparse
    ? findSparseMapError(source.sparse, size, source.dataLength)
    : source.dataLength !== size
      ? `stored length ${source.dataLength} differs from size ${size}`
      : null;
  if (error)
    throw new RestoreplanError('ARCHIVE_HEADER', `${memberPath}: ${error}`, { memberPath });
}

/** The extents of a member in file order: [fileOffset, length, storedOffset]. */
function extentsOf(source: MemberSource, size: number): Array<[number, number, number]> {
  if (!source.sparse) return size > 0 ? [[0, size, 0]] : [];
  const extents: Array<[number, number, number]> = [];
  let stored = 0;
  for (const [offset, length] of source.sparse) {
    if (length > 0) extents.push([offset, length, stored]);
    stored += length;
  }
  return extents;
}

/** What a member is read from by offset: a FileHandle, or an fd wrapped alike (stdin). */
export interface PositionalFile {
  read(
    buffer: Buffer,
    offset: number,
    length: number,
    position: number,
  ): Promise<{ bytesRead: number }>;
}

/** Reads a member at its offsets in an uncompressed archive, chunk by chunk. */
export async function* readMemberChunks(
  archive: PositionalFile,
  source: MemberSource,
  size: number,
  memberPath: string,
): AsyncGenerator<MemberChunk> {
  checkSparseMap(source, size, memberPath);
  let position = 0;
  for (const [offset, length, storedOffset] of extentsOf(source, size)) {
    if (offset > position) yield offset - position;
    let done = 0;
    while (done < length) {
      const want = Math.min(CHUNK_BYTES, length - done);
      const buffer = Buffer.allocUnsafe(want);
      let got = 0;
      while (got < want) {
        const { bytesRead } = await archive
          .read(buffer, got, want - got, source.dataOffset + storedOffset + done + got)
          .catch((error: unknown) => {
            // An I/O error on the archive is not a failed write to the target.
            throw new RestoreplanError(
              'ARCHIVE_READ',
              `${memberPath}: reading the archive failed: ${(error as Error).message}`,
              { memberPath },
            );
          });
        if (bytesRead === 0) {
          throw new RestoreplanError(
            'ARCHIVE_TRUNCATED',
            `${memberPath}: the archive ends inside the member's data`,
            {
              memberPath,
            },
          );
        }
        got += bytesRead;
      }
      yield buffer;
      done += want;
    }
    position = offset + length;
  }
  if (size > position) yield size - position;
}

/** Expands a member's stored data (as a one-pass walk delivers it) into chunks. */
export function expandStoredData(
  stored: Buffer,
  source: MemberSource,
  size: number,
  memberPath: string,
): MemberChunk[] {
  checkSparseMap({ ...source, dataLength: stored.length }, size, memberPath);
  const chunks: MemberChunk[] = [];
  let position = 0;
  for (const [offset, length, storedOffset] of extentsOf(source, size)) {
    if (offset > position) chunks.push(offset - position);
    chunks.push(stored.subarray(storedOffset, storedOffset + length));
    position = offset + length;
  }
  if (size > position) chunks.push(size - position);
  return chunks;
}

/** Concatenates chunks into one buffer, holes as zeros (for small members that are verified first). */
export async function collectChunks(
  chunks: AsyncIterable<MemberChunk> | Iterable<MemberChunk>,
): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of chunks)
    parts.push(typeof chunk === 'number' ? Buffer.alloc(chunk) : chunk);
  return Buffer.concat(parts);
}
