/**
 * Where apply reads the archive: the plan's `archive.path`, or what the caller names instead
 * (`--archive FILE`, `-` for stdin, a stream). A regular file — also stdin redirected from one
 * — can be read by offset and in as many passes as apply likes; anything else (a pipe from
 * `borg export-tar … -`, a FIFO, a socket) can be read once, from start to end.
 */
import { constants, fstat, read, type BigIntStats } from 'node:fs';
import { isatty } from 'node:tty';
import { promisify } from 'node:util';

import { openArchiveFile, readError, type ReadAt } from '../archive/openArchive.js';
import { RestoreplanError } from '../errors.js';
import type { PlanDocument } from '../types.js';

export interface ArchiveSource {
  /** The archive in messages: its path, or `stdin`. */
  label: string;
  /** What walkArchive reads: the path, `-` for stdin, or the caller's stream. */
  input: string | NodeJS.ReadableStream;
  /** True when the input is stdin (its own errors then say how to pipe the archive). */
  stdin: boolean;
  /** What fstat says of it (null for a caller's stream). */
  stats: BigIntStats | null;
  /** Reads by offset: set for a regular file only. */
  readAt: ReadAt | null;
  close(): Promise<void>;
}

const readAsync = promisify(read);

function fstatBigInt(fd: number): Promise<BigIntStats> {
  return new Promise((resolve, reject) => {
    fstat(fd, { bigint: true }, (error, stats) => (error ? reject(error) : resolve(stats)));
  });
}

function readAtFd(fd: number, label: string): ReadAt {
  return async (buffer, length, position) => {
    try {
      return (await readAsync(fd, buffer, 0, length, position)).bytesRead;
    } catch (error) {
      throw readError(label, error);
    }
  };
}

export async function openArchiveSource(
  planned: PlanDocument['archive'],
  given: string | NodeJS.ReadableStream = planned.path,
): Promise<ArchiveSource> {
  if (given === '-' || given === process.stdin) return openStdin(planned);
  if (typeof given !== 'string') {
    return {
      label: 'the stream',
      input: given,
      stdin: false,
      stats: null,
      readAt: null,
      close: async () => {},
    };
  }
  // O_NONBLOCK: a plan made from a FIFO must not hang here waiting for a writer.
  const handle = await openArchiveFile(given, constants.O_RDONLY | constants.O_NONBLOCK);
  let stats: BigIntStats;
  try {
    stats = await handle.stat({ bigint: true });
  } catch (error) {
    await handle.close();
    throw readError(given, error);
  }
  if (stats.isFile()) {
    let closing: Promise<void> | null = null;
    return {
      label: given,
      input: given,
      stdin: false,
      stats,
      readAt: readAtFd(handle.fd, given),
      close: () => (closing ??= handle.close()),
    };
  }
  // A FIFO (or a device): walkArchive opens it again, blocking, and reads it once.
  await handle.close();
  return { label: given, input: given, stdin: false, stats, readAt: null, close: async () => {} };
}

/** Stdin: the archive piped in, or a file redirected to it; never a terminal. */
async function openStdin(planned: PlanDocument['archive']): Promise<ArchiveSource> {
  if (isatty(0)) {
    throw new RestoreplanError(
      'USAGE',
      `apply reads the archive from stdin, which is a terminal: pipe the archive the plan was made from into it, or name a saved copy with --archive FILE`,
      {
        path: planned.path,
        hint: 'borg export-tar REPO::ARCHIVE - | restoreplan apply PLAN --yes   (or: restoreplan apply PLAN --archive saved.tar)',
      },
    );
  }
  const stats = await fstatBigInt(0).catch((error: unknown) => {
    throw readError('stdin', error);
  });
  return {
    label: 'stdin',
    input: '-',
    stdin: true,
    stats,
    // Redirected from a file: read by offset like any file (fd 0 is not ours to close).
    readAt: stats.isFile() ? readAtFd(0, 'stdin') : null,
    close: async () => {},
  };
}
