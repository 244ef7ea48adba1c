import { createHash, type Hash } from 'node:crypto';

/** Bytes hashed at each end of an archive file, and at the start of a stream. */
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
 * The stream form: the first 64 KiB and the total length. Fed chunk by chunk as the walk reads
 * the raw (still compressed) input; `digest` after the last chunk.
 */
export class StreamFingerprint {
  private readonly hash: Hash = createHash('sha256');
  private sampled = 0;
  private digested: string | null = null;
  length = 0;

  update(chunk: Buffer): void {
    this.length += chunk.length;
    if (this.sampled < FINGERPRINT_SAMPLE_BYTES) {
      const take = Math.min(chunk.length, FINGERPRINT_SAMPLE_BYTES - this.sampled);
      this.hash.update(chunk.subarray(0, take));
      this.sampled += take;
    }
  }

  digest(): string {
    if (this.digested === null) {
      this.hash.update(`\nrestoreplan-stream-v1 length=${this.length}\n`);
      this.digested = `sha256:${this.hash.digest('hex')}`;
    }
    return this.digested;
  }
}
