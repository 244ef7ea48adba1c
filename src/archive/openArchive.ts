import { constants, fstat, read, type BigIntStats } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { promisify } from 'node:util';

import { RestoreplanError } from '../errors.js';
import type { Compression } from '../types.js';
import type { ArchiveIdentity } from './archiveIndexStore.js';
import { detectCompression } from './detectCompression.js';
import { fingerprintArchiveFile, StreamFingerprint } from './fingerprintArchive.js';

/** Bytes of the raw input looked at before deciding how to read it. */
const HEAD_BYTES = 512;
/** Read size for the raw input of a compressed file. */
const RAW_CHUNK_BYTES = 1024 * 1024;

/** Positional read of the raw input: bytes read into buffer[0..length) from `position`. */
export type ReadAt = (buffer: Buffer, length: number, position: number) => Promise<number>;

/** An archive opened for one walk: a regular file (seekable), or a stream (stdin, a pipe, a FIFO). */
export interface OpenedArchive {
  /** The path given, or '-' for a stream. */
  path: string;
  /** Set for a regular file (also stdin redirected from one): positional reads of the raw input. */
  readAt: ReadAt | null;
  /** True when `path` names that regular file, so members can be read again later by offset. */
  reopenable: boolean;
  sizeBytes: number | null;
  mtime: string | null;
  compression: Compression;
  /** Up to 512 bytes from the start of the raw input. */
  head: Buffer;
  /** The raw input from byte 0, read once. */
  rawChunks(): AsyncIterable<Buffer>;
  /** Raw bytes handed out by rawChunks so far. */
  readonly inputBytes: number;
  /** The fingerprint: known at once for a file, after the last chunk for a stream. */
  fingerprint(): string;
  /** A regular file's identity (what an index is keyed by); null for a stream. */
  identity: ArchiveIdentity | null;
  close(): Promise<void>;
}

/**
 * Opens ARCHIVE: a path, `-` for stdin, or a readable stream. Compression is decided from the
 * first bytes only (CONTRACT.md). A path that is not a regular file (a FIFO, /dev/stdin on a
 * pipe) is read as a stream: it cannot be seeked.
 */
export async function openArchive(archive: string | NodeJS.ReadableStream): Promise<OpenedArchive> {
  if (archive === '-' || archive === process.stdin) {
    // `restoreplan scan - < backup.tar`: stdin is the file itself, which can be read by
    // offset like any other (only a path to read it again later is missing).
    const stat = await fstatBigInt(0).catch(() => null);
    if (stat?.isFile()) return openRegularFile(0, '-', stat, null);
    return openStream(process.stdin, '-');
  }
  if (typeof archive !== 'string') return openStream(archive, '-');
  const handle = await openArchiveFile(archive, constants.O_RDONLY);
  try {
    const stat = await handle.stat({ bigint: true });
    if (stat.isDirectory()) {
      throw new RestoreplanError('ARCHIVE_NOT_FOUND', `${archive} is a directory, not an archive`, {
        path: archive,
      });
    }
    if (!stat.isFile()) {
      const stream = handle.createReadStream({ highWaterMark: RAW_CHUNK_BYTES, autoClose: false });
      return await openStream(stream, archive, handle);
    }
    return await openRegularFile(handle.fd, archive, stat, handle);
  } catch (error) {
    await handle.close();
    throw readError(archive, error);
  }
}

const readAsync = promisify(read);

function fstatBigInt(fd: number): Promise<BigIntStats> {
  return new Promise((resolve, reject) => {
    fstat(fd, { bigint: true }, (error, stat) => (error ? reject(error) : resolve(stat)));
  });
}

async function openRegularFile(
  fd: number,
  path: string,
  stat: BigIntStats,
  handle: FileHandle | null,
): Promise<OpenedArchive> {
  const readAt: ReadAt = async (buffer, length, position) => {
    try {
      return (await readAsync(fd, buffer, 0, length, position)).bytesRead;
    } catch (error) {
      throw readError(path, error);
    }
  };
  const head = Buffer.alloc(HEAD_BYTES);
  const headBytes = await readAt(head, HEAD_BYTES, 0);
  const fingerprint = await fingerprintArchiveFile(readAt, stat);
  let inputBytes = 0;
  return {
    path,
    readAt,
    reopenable: handle !== null,
    sizeBytes: Number(stat.size),
    mtime: new Date(Number(stat.mtimeNs / 1_000_000n)).toISOString(),
    compression: detectCompression(head.subarray(0, headBytes)),
    head: head.subarray(0, headBytes),
    get inputBytes() {
      return inputBytes;
    },
    async *rawChunks() {
      while (true) {
        // A fresh buffer per chunk: the decompressor may still hold the previous one.
        const buffer = Buffer.allocUnsafeSlow(RAW_CHUNK_BYTES);
        const bytesRead = await readAt(buffer, RAW_CHUNK_BYTES, inputBytes);
        if (bytesRead === 0) return;
        inputBytes += bytesRead;
        yield buffer.subarray(0, bytesRead);
      }
    },
    fingerprint: () => fingerprint,
    identity: { fingerprint, dev: stat.dev, ino: stat.ino, ctimeNs: stat.ctimeNs },
    close: async () => {
      await handle?.close();
    },
  };
}

async function openStream(
  stream: NodeJS.ReadableStream,
  path: string,
  handle: FileHandle | null = null,
): Promise<OpenedArchive> {
  const iterator = stream[Symbol.asyncIterator]();
  const fingerprint = new StreamFingerprint();
  const pending: Buffer[] = [];
  let have = 0;
  let ended = false;
  try {
    while (have < HEAD_BYTES) {
      const next = await iterator.next();
      if (next.done) {
        ended = true;
        break;
      }
      const chunk = toBuffer(next.value);
      pending.push(chunk);
      have += chunk.length;
    }
  } catch (error) {
    await handle?.close();
    throw readError(path, error);
  }
  const head = Buffer.concat(pending).subarray(0, HEAD_BYTES);
  return {
    path,
    readAt: null,
    reopenable: false,
    sizeBytes: null,
    mtime: null,
    compression: detectCompression(head),
    head,
    get inputBytes() {
      return fingerprint.length;
    },
    async *rawChunks() {
      while (pending.length > 0) {
        const chunk = pending.shift()!;
        fingerprint.update(chunk);
        yield chunk;
      }
      if (ended) return;
      while (true) {
        let next: IteratorResult<string | Buffer>;
        try {
          next = await iterator.next();
        } catch (error) {
          throw readError(path, error);
        }
        if (next.done) {
          ended = true;
          return;
        }
        const chunk = toBuffer(next.value);
        fingerprint.update(chunk);
        yield chunk;
      }
    },
    fingerprint: () => fingerprint.digest(),
    identity: null,
    async close() {
      // Ending the iteration early destroys the stream: a walk that stopped reads no further.
      if (!ended) await iterator.return?.().catch(() => undefined);
      await handle?.close();
    },
  };
}

function toBuffer(value: string | Buffer): Buffer {
  return typeof value === 'string' ? Buffer.from(value, 'latin1') : value;
}

/** An I/O failure as ARCHIVE_READ (a RestoreplanError passes through unchanged). */
export function readError(path: string, error: unknown): RestoreplanError {
  if (error instanceof RestoreplanError) return error;
  const code = (error as NodeJS.ErrnoException).code ?? 'error';
  return new RestoreplanError('ARCHIVE_READ', `reading ${path} failed: ${code}`, {
    path,
    errno: code,
  });
}

/** Opens an archive path, or ARCHIVE_NOT_FOUND naming the errno. */
export async function openArchiveFile(archive: string, flags: number): Promise<FileHandle> {
  try {
    return await open(archive, flags);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new RestoreplanError('ARCHIVE_NOT_FOUND', `cannot open ${archive}: ${code}`, {
      path: archive,
      errno: code,
    });
  }
}
