import { spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { createGunzip } from 'node:zlib';

import { RestoreplanError } from '../errors.js';
import type { Compression } from '../types.js';

/** The system decompressor for each compression node:zlib does not cover, and its Debian package. */
export const SYSTEM_DECOMPRESSORS = {
  bzip2: { command: 'bzip2', args: ['-dc'], debianPackage: 'bzip2' },
  xz: { command: 'xz', args: ['-dcq'], debianPackage: 'xz-utils' },
  // --long=31 lifts zstd's default 128 MiB window limit on decompression: archives made with
  // `zstd --long` (common for big backups) are otherwise refused as needing too much memory.
  zstd: { command: 'zstd', args: ['-dcq', '--long=31'], debianPackage: 'zstd' },
} as const;

/** Output chunk size of the gunzip stream: fewer, bigger chunks keep the per-chunk cost low. */
const GUNZIP_CHUNK_BYTES = 256 * 1024;

export interface Decompressor {
  /** Compressed bytes go in here; null when the decompressor reads a file descriptor itself. */
  input: Writable | null;
  /** The tar stream comes out here. */
  output: Readable;
  /**
   * Settles once the decompressor is done: rejects with DECOMPRESSOR_MISSING or
   * COMPRESSION_CORRUPT. Only meaningful after `output` ended on its own.
   */
  finished: Promise<void>;
  /** The error to report for one thrown while reading `output`. */
  mapError(error: unknown): unknown;
  /** Ends the decompressor early (the walk stopped or failed). */
  kill(): void;
}

/**
 * gzip is inflated by node:zlib, which runs in libuv's threadpool, in parallel with the tar
 * parser on the main thread. bzip2, xz and zstd are piped through the system tools: native,
 * in their own process (so on another core), and always the versions the backup scripts use.
 */
export interface DecompressorOptions {
  /** A file descriptor the system decompressor reads as its stdin (not for gzip). */
  stdinFd?: number;
}

export function openDecompressor(
  compression: Exclude<Compression, 'none'>,
  options: DecompressorOptions = {},
): Decompressor {
  if (compression === 'gzip') {
    const gunzip = createGunzip({ chunkSize: GUNZIP_CHUNK_BYTES });
    return {
      input: gunzip,
      output: gunzip,
      finished: Promise.resolve(),
      mapError: (error) => {
        if (error instanceof RestoreplanError) return error;
        const code = (error as NodeJS.ErrnoException).code ?? '';
        if (code.startsWith('Z_')) {
          return new RestoreplanError(
            'COMPRESSION_CORRUPT',
            `the gzip stream is corrupt or truncated: ${(error as Error).message}`,
            {
              compression,
              detail: (error as Error).message,
            },
          );
        }
        return error;
      },
      kill: () => gunzip.destroy(),
    };
  }
  const tool = SYSTEM_DECOMPRESSORS[compression];
  const child = spawn(tool.command, tool.args, {
    stdio: [options.stdinFd ?? 'pipe', 'pipe', 'pipe'],
  });
  // stdout and stderr are pipes by the stdio spec above.
  const stdout = child.stdout!;
  const stderr = child.stderr!;
  let errorText = '';
  stderr.setEncoding('utf8');
  stderr.on('data', (text: string) => {
    if (errorText.length < 4096) errorText += text;
  });
  // Writing to a decompressor that died raises EPIPE here; its exit status says why it died.
  child.stdin?.on('error', () => undefined);
  let spawnError: RestoreplanError | null = null;
  const finished = new Promise<void>((resolve, reject) => {
    child.on('error', (error: NodeJS.ErrnoException) => {
      spawnError =
        error.code === 'ENOENT'
          ? new RestoreplanError(
              'DECOMPRESSOR_MISSING',
              `the archive is ${compression}-compressed and \`${tool.command}\` is not installed (Debian: apt-get install ${tool.debianPackage})`,
              { compression, command: tool.command, package: tool.debianPackage },
            )
          : new RestoreplanError(
              'COMPRESSION_CORRUPT',
              `running ${tool.command} failed: ${error.code ?? error.message}`,
              { compression, command: tool.command },
            );
      reject(spawnError);
      // A process that never started never closes its stdout: end it, or a reader waits forever.
      stdout.destroy(spawnError);
    });
    child.on('close', (code, signal) => {
      if (code === 0) {
        resolve();
        return;
      }
      const detail = errorText.trim().split('\n')[0] ?? '';
      reject(
        new RestoreplanError(
          'COMPRESSION_CORRUPT',
          `the ${compression} stream is corrupt or truncated (${tool.command} ${signal ? `killed by ${signal}` : `exited ${code}`}${detail ? `: ${detail}` : ''})`,
          { compression, command: tool.command, exitCode: code, detail },
        ),
      );
    });
  });
  finished.catch(() => undefined);
  return {
    input: child.stdin,
    output: stdout,
    finished,
    mapError: (error) => spawnError ?? error,
    kill: () => {
      stdout.destroy();
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    },
  };
}
