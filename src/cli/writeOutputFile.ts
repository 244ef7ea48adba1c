/**
 * A document a command writes to a FILE the operator names (`plan --out`, `--prometheus`):
 * whole or not at all, by the writer apply restores files with (a temp file in the same
 * directory, created O_EXCL|O_NOFOLLOW, fsynced, renamed, the directory fsynced; the temp file
 * removed on any error). A file already at FILE stays as it was when the new one cannot be
 * written. Every failure is one WRITE_FAILED naming the errno, what it means and what to do.
 */
import { lstat, readlink } from 'node:fs/promises';
import path from 'node:path';

import { isRestoreplanError, RestoreplanError } from '../errors.js';

export interface OutputFile {
  /** The flag naming FILE, for the hints: `--out`, `--prometheus`. */
  flag: string;
  /** What is written, in the message: "the plan", "the metrics". */
  what: string;
  /** A file name for the hints' examples: `plan.json`. */
  example: string;
  /** How to get the document on stdout instead, for a FILE that is a device or a fifo. */
  stdoutHint: string;
  /** Permission bits of the file written. */
  mode: number;
}

/** What a failed write means, and what to do about it, by errno. */
function explain(code: string, spec: OutputFile): { why: string; hint: string } | undefined {
  const { flag, example } = spec;
  const known: Record<string, { why: string; hint: string }> = {
    ENOSPC: {
      why: 'no space or no inode is left on its filesystem',
      hint: `write it to another filesystem (${flag} /other/fs/${example}), or free space first`,
    },
    EDQUOT: {
      why: 'the disk quota is exceeded',
      hint: `write it where your quota has room (${flag} /other/dir/${example})`,
    },
    EACCES: {
      why: 'permission denied',
      hint: `${flag} names a file in a directory you may write to`,
    },
    EPERM: {
      why: 'operation not permitted',
      hint: `${flag} names a file in a directory you may write to (not an immutable file)`,
    },
    EROFS: {
      why: 'its filesystem is mounted read-only',
      hint: `write it to a writable filesystem (${flag} /other/fs/${example})`,
    },
    EISDIR: {
      why: 'it is a directory',
      hint: `${flag} names the file itself, e.g. ${flag} DIR/${example}`,
    },
    ENOENT: {
      why: 'its directory does not exist',
      hint: 'create the directory first, or name a file in an existing one',
    },
    ENOTDIR: {
      why: 'a component of its path is not a directory',
      hint: `${flag} names a file in an existing, writable directory`,
    },
    ELOOP: {
      why: 'too many symbolic links',
      hint: `${flag} names a regular file, or a symlink to one`,
    },
  };
  return known[code];
}

/** Symlinks followed from FILE before giving up, as the kernel does (ELOOP). */
const MAX_LINKS = 40;

/**
 * The file written: `out`, or — when `out` is a symlink — the file it names, the link kept
 * (written through, as a shell's `>` does). Only a regular file, or nothing, is replaced: the
 * atomic rename replaces whatever is at the path, so `--out /dev/full` as root put a regular
 * file in place of the device, and `--prometheus /dev/stdout` replaced the symlink (and
 * `/dev/null` the device). A device, a fifo or a socket is WRITE_FAILED; a directory fails in
 * the write (EISDIR).
 */
async function resolveOutputPath(out: string, spec: OutputFile): Promise<string> {
  let file = path.resolve(out);
  for (let hops = 0; ; hops += 1) {
    const stats = await lstat(file).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return null;
      throw error;
    });
    if (stats === null || stats.isFile() || stats.isDirectory()) return file;
    if (!stats.isSymbolicLink()) {
      const kind = stats.isFIFO()
        ? 'a fifo'
        : stats.isSocket()
          ? 'a socket'
          : stats.isCharacterDevice()
            ? 'a character device'
            : 'a block device';
      throw new RestoreplanError(
        'WRITE_FAILED',
        `cannot write ${spec.what} to ${out}: ${hops === 0 ? 'it' : file} is ${kind}, not a regular file (it would be replaced by one)`,
        { path: out, hint: `${spec.flag} names a regular file; ${spec.stdoutHint}` },
      );
    }
    if (hops >= MAX_LINKS) throw Object.assign(new Error('ELOOP'), { code: 'ELOOP' });
    file = path.resolve(path.dirname(file), await readlink(file));
  }
}

export async function writeOutputFile(out: string, data: Buffer, spec: OutputFile): Promise<void> {
  const { writeFileAtomic } = await import('../apply/writeFileAtomic.js');
  try {
    const file = await resolveOutputPath(out, spec);
    await writeFileAtomic(file, data, { mode: spec.mode });
  } catch (error) {
    if (isRestoreplanError(error)) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    const known = code ? explain(code, spec) : undefined;
    throw new RestoreplanError(
      'WRITE_FAILED',
      `cannot write ${spec.what} to ${out}: ${code ?? (error as Error).message}${known ? ` (${known.why})` : ''}`,
      {
        path: out,
        ...(code ? { errno: code } : {}),
        hint: known?.hint ?? `${spec.flag} names a file in an existing, writable directory`,
      },
    );
  }
}
