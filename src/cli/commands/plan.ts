import type { Command } from 'commander';
import { lstat, readlink } from 'node:fs/promises';
import path from 'node:path';

import { isRestoreplanError, RestoreplanError } from '../../errors.js';
import type { PlanOptions } from '../../plan/planRestore.js';
import type { PlanDocument, Strategy } from '../../types.js';
import { addCommonFlags, addIndexFlags, runCommand, type CliContext } from '../command.js';
import { exitCodeForVerdict } from '../exitCodes.js';
import { writeJson } from '../output.js';
import { archiveArgument } from './archiveArgument.js';
import { addBudgetFlags, readBudgetFlags } from './budgetFlags.js';

const STRATEGIES = ['auto', 'in-place', 'staged', 'alternate'] as const;

/** The options `plan` shares with the wizard and `check --profile mailman`. */
export function readPlanOptions(
  opts: Record<string, unknown>,
): Omit<PlanOptions, 'signal' | 'onProgress'> {
  const strategy = (opts.strategy as string | undefined) ?? 'auto';
  if (!(STRATEGIES as readonly string[]).includes(strategy)) {
    throw new RestoreplanError(
      'USAGE',
      `--strategy must be one of ${STRATEGIES.join(', ')}, not ${JSON.stringify(strategy)}`,
    );
  }
  return {
    target: String(opts.target),
    strategy: strategy as 'auto' | Strategy,
    ...(typeof opts.staging === 'string' ? { staging: opts.staging } : {}),
    ...readBudgetFlags(opts),
  };
}

export function registerPlanCommand(program: Command, ctx: CliContext): void {
  addIndexFlags(
    addCommonFlags(
      addBudgetFlags(
        program
          .command('plan')
          .summary('decide what to restore, where, in which order, and whether it fits (read-only)')
          .description(
            'Plan a restore of ARCHIVE into DIR. With a Mailman var dir as DIR (or --profile mailman), only the lists that are down are restored: each corrupt list gets the newest valid config.pck from the archive, a lost or missing list its whole directory. Never writes to DIR. Exit 0 OK, 1 the plan runs with warnings, 2 nothing fits or a list stays down, 3 error.',
          )
          .argument('<archive>', 'archive file, or - for stdin')
          .requiredOption(
            '--target <dir>',
            'the directory to restore into (a Mailman var dir for the mailman profile)',
          )
          .option('--strategy <strategy>', 'auto, in-place, staged or alternate', 'auto')
          .option('--staging <dir>', 'alternate root, normally on another filesystem')
          .option('--out <file>', 'also write the plan document to FILE (for restoreplan apply)'),
      ),
    ),
  ).action(async (archive: string, opts: Record<string, unknown>) => {
    await runCommand(ctx, opts, async ({ flags, progress, signal, index }) => {
      const options = readPlanOptions(opts);
      const { planRestore } = await import('../../plan/planRestore.js');
      const plan = await planRestore(archiveArgument(archive, ctx.io), {
        index,
        ...options,
        signal,
        onProgress: progress.onProgress,
      });
      progress.done();
      if (typeof opts.out === 'string') await writePlanFile(opts.out, plan);
      if (flags.json) writeJson(ctx.io, plan);
      else {
        // Loaded only to print text: it needs the apply layer's isStreamPlan, whose module
        // (archive fingerprints) would otherwise load at every command's startup.
        const { renderPlan } = await import('./renderPlan.js');
        renderPlan(ctx.io, plan, typeof opts.out === 'string' ? opts.out : null, {
          verbosity: flags.verbosity,
        });
      }
      return exitCodeForVerdict(plan.verdict);
    });
  });
}

/** What a failed write of the plan file means, and what to do about it, by errno. */
const WRITE_FAILURES: Record<string, { why: string; hint: string }> = {
  ENOSPC: {
    why: 'no space or no inode is left on its filesystem',
    hint: 'write the plan to another filesystem (--out /other/fs/plan.json), or free space first',
  },
  EDQUOT: {
    why: 'the disk quota is exceeded',
    hint: 'write the plan where your quota has room (--out /other/dir/plan.json)',
  },
  EACCES: {
    why: 'permission denied',
    hint: '--out names a file in a directory you may write to',
  },
  EPERM: {
    why: 'operation not permitted',
    hint: '--out names a file in a directory you may write to (not an immutable file)',
  },
  EROFS: {
    why: 'its filesystem is mounted read-only',
    hint: 'write the plan to a writable filesystem (--out /other/fs/plan.json)',
  },
  EISDIR: {
    why: 'it is a directory',
    hint: '--out names the file itself, e.g. --out DIR/plan.json',
  },
  ENOENT: {
    why: 'its directory does not exist',
    hint: 'create the directory first, or name a file in an existing one',
  },
  ENOTDIR: {
    why: 'a component of its path is not a directory',
    hint: '--out names a file in an existing, writable directory',
  },
  ELOOP: {
    why: 'too many symbolic links',
    hint: '--out names a regular file, or a symlink to one',
  },
};

/** Symlinks followed from --out before giving up, as the kernel does (ELOOP). */
const MAX_OUT_LINKS = 40;

/**
 * The file the plan goes to: `out`, or — when `out` is a symlink — the file it names, the link
 * kept (written through, as a shell's `>` does). Only a regular file, or nothing, is replaced:
 * the atomic rename replaces whatever is at the path, so `--out /dev/full` as root put a
 * regular file in place of the device, and `--out /dev/stdout` would replace the symlink. A
 * device, a fifo or a socket is WRITE_FAILED; a directory fails in the write (EISDIR).
 */
async function planFilePath(out: string): Promise<string> {
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
        `cannot write the plan to ${out}: ${hops === 0 ? 'it' : file} is ${kind}, not a plan file (it would be replaced by one)`,
        {
          path: out,
          hint: '--out names a regular file; --json prints the plan on stdout',
        },
      );
    }
    if (hops >= MAX_OUT_LINKS) throw Object.assign(new Error('ELOOP'), { code: 'ELOOP' });
    file = path.resolve(path.dirname(file), await readlink(file));
  }
}

/**
 * The plan is data for apply: written whole or not at all, by the writer apply restores files
 * with (a temp file in the same directory, created O_EXCL|O_NOFOLLOW, fsynced, renamed, the
 * directory fsynced; the temp file removed on any error). A plan file that already exists stays
 * as it was when the new one cannot be written.
 */
async function writePlanFile(out: string, plan: PlanDocument): Promise<void> {
  const { writeFileAtomic } = await import('../../apply/writeFileAtomic.js');
  try {
    const file = await planFilePath(out);
    await writeFileAtomic(file, Buffer.from(`${JSON.stringify(plan, null, 2)}\n`), {
      mode: 0o600,
    });
  } catch (error) {
    if (isRestoreplanError(error)) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    const known = code ? WRITE_FAILURES[code] : undefined;
    throw new RestoreplanError(
      'WRITE_FAILED',
      `cannot write the plan to ${out}: ${code ?? (error as Error).message}${known ? ` (${known.why})` : ''}`,
      {
        path: out,
        ...(code ? { errno: code } : {}),
        hint: known?.hint ?? '--out names a file in an existing, writable directory',
      },
    );
  }
}
