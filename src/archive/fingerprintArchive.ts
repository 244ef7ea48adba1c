import { createHash, type Hash } from 'node:crypto';

import { throwIfAborted } from '../errors.js';

/** Bytes hashed at each end of an archive file. */
export const FINGERPRINT_SAMPLE_BYTES = 64 * 1024;

/**
 * A cheap fingerprint of an archive file that still changes when the file does: size, mtime
 * (ns), inode, and the first and last 64 KiB. `plan` records it and `apply` refuses a plan
 * whose archive no longer matches (PLAN_STALE). Hashing all of a multi-gigabyte archive
 * would cost as much as the walk; a rewritten backup changes at least its mtime and inode, a
 * backup appended to (`tar -r`) changes its size and tail.
 */
export async function fingerprintArchiveFile(
  readAt: (buffer: Buffer, length: number, position: number) => Promise<number>,
  stat: { size: bigint; mtimeNs: bigint; ino: bigint },
): Promise<string> {
  const hash = createHash('sha256');
  hash.update(`restoreplan-file-v1 size=${stat.size} mtimeNs=${stat.mtimeNs} ino=${stat.ino}\n`);
  const size = Number(stat.size);
  const sample = Buffer.allocUnsafe(FINGERPRINT_SAMPLE_BYTES);
  const headBytes = await readAt(sample, Math.min(FINGERPRINT_SAMPLE_BYTES, size), 0);
  hash.update(sample.subarray(0, headBytes));
  if (size > FINGERPRINT_SAMPLE_BYTES) {
    const tailStart = Math.max(FINGERPRINT_SAMPLE_BYTES, size - FINGERPRINT_SAMPLE_BYTES);
    const tailBytes = await readAt(sample, size - tailStart, tailStart);
    hash.update(sample.subarray(0, tailBytes));
  }
  return `sha256:${hash.digest('hex')}`;
}

/**
 * The stream form (stdin, a pipe, a FIFO): sha256 of every raw byte (still compressed, as read)
 * followed by the total length. A stream has no inode or mtime, and nightly backups of the same
 * files can share their first bytes and even their length, so only all of it tells two streams
 * apart; that is what lets `apply` prove that the stream piped into it is the one the plan was
 * made from. (v1 hashed the first 64 KiB: no plan made from a stream could be applied then.)
 * Fed chunk by chunk as the walk reads the input; `digest` after the last chunk. Hashed here,
 * on the walk's thread: a worker thread was tried and cost more than it saved on two cores
 * (README, Performance).
 */
export class StreamFingerprint {
  private readonly hash: Hash = createHash('sha256');
  private digested: string | null = null;
  length = 0;

  update(chunk: Buffer): void {
    this.length += chunk.length;
    this.hash.update(chunk);
  }

  digest(): string {
    if (this.digested === null) {
      this.hash.update(`\nrestoreplan-stream-v2 length=${this.length}\n`);
      this.digested = `sha256:${this.hash.digest('hex')}`;
    }
    return this.digested;
  }
}

/** Read size of fingerprintAsStream. */
const STREAM_READ_BYTES = 1024 * 1024;

/**
 * The stream fingerprint of a file's bytes: what a plan made from `borg export-tar … - |`
 * records is compared with a saved copy of that stream (`apply --archive FILE`). Reads to the
 * end of the file, not to a size taken before: a copy still being written is what it is now.
 */
export async function fingerprintAsStream(
  readAt: (buffer: Buffer, length: number, position: number) => Promise<number>,
  signal?: AbortSignal,
): Promise<{ fingerprint: string; length: number }> {
  const fingerprint = new StreamFingerprint();
  const buffer = Buffer.allocUnsafe(STREAM_READ_BYTES);
  while (true) {
    throwIfAborted(signal);
    const bytesRead = await readAt(buffer, STREAM_READ_BYTES, fingerprint.length);
    if (bytesRead === 0) break;
    fingerprint.update(buffer.subarray(0, bytesRead));
  }
  return { fingerprint: fingerprint.digest(), length: fingerprint.length };
}
