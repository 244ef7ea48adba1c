/**
 * The shared shape of a CLI command: common flags, error mapping and exit codes in one place,
 * so each command file only parses its own options, calls the API and renders the result.
 */
import path from 'node:path';

import type { Command } from 'commander';

import type { IndexOutcome } from '../archive/archiveIndexStore.js';
import { RestoreplanError } from '../errors.js';
import type { ArchiveIndexSetting } from '../progress.js';
import type { ExitCode } from './exitCodes.js';
import { createProgressDisplay, type ProgressDisplay } from './progressBar.js';
import { reportError, writeNoteLine, type GlobalFlags, type Io } from './output.js';

export interface CliContext {
  io: Io;
  /** Set by the command that ran; read by runCli. */
  exitCode: ExitCode;
}

export interface RunArgs {
  flags: GlobalFlags;
  progress: ProgressDisplay;
  signal: AbortSignal;
  /** The archive index as --index-dir / --no-index say (commands without them: the default). */
  index: ArchiveIndexSetting;
}

/** --index-dir and --no-index, for the commands that read an archive. */
export function addIndexFlags(command: Command): Command {
  return command
    .option(
      '--index-dir <dir>',
      'where archive indexes are kept (default $XDG_CACHE_HOME/restoreplan or ~/.cache/restoreplan)',
    )
    .option('--no-index', 'neither read nor leave an archive index');
}

/** The index setting of --index-dir / --no-index (USAGE when both are given). */
export function readIndexSetting(
  opts: Record<string, unknown>,
  io: Io,
  debug: boolean,
): ArchiveIndexSetting {
  const dir = typeof opts.indexDir === 'string' ? opts.indexDir : undefined;
  if (opts.index === false) {
    if (dir !== undefined)
      throw new RestoreplanError('USAGE', '--index-dir and --no-index exclude each other');
    return false;
  }
  if (dir === '') throw new RestoreplanError('USAGE', '--index-dir needs a directory');
  return {
    ...(dir !== undefined ? { dir: path.resolve(dir) } : {}),
    // Whether an index was used or left, and why not, is for --debug: the answer is the same.
    ...(debug
      ? { onOutcome: (outcome) => writeNoteLine(io, `index: ${describeIndexOutcome(outcome)}`) }
      : {}),
  };
}

function describeIndexOutcome(outcome: IndexOutcome): string {
  switch (outcome.kind) {
    case 'hit':
      return `answered from ${outcome.file}`;
    case 'saved':
      return `left ${outcome.file} (${outcome.bytes} bytes)`;
    case 'not-saved':
      return `none left: ${outcome.reason}`;
    case 'ignored':
      return `ignored ${outcome.file}: ${outcome.reason}`;
  }
}

export function addCommonFlags(command: Command, options: { json?: boolean } = {}): Command {
  if (options.json !== false) command.option('--json', 'print one JSON document on stdout');
  return command
    .option('--no-progress', 'no progress display on stderr')
    .option('-q, --quiet', 'print the verdict line only (errors still go to stderr)')
    .option('-v, --verbose', 'print the detail the normal screen sums up')
    .option('--debug', 'print stack traces with errors');
}

/** The common flags; USAGE for --quiet with --verbose (which one was meant cannot be told). */
export function readFlags(opts: Record<string, unknown>): GlobalFlags {
  if (opts.quiet === true && opts.verbose === true)
    throw new RestoreplanError('USAGE', '--quiet and --verbose exclude each other');
  return {
    json: opts.json === true,
    progress: opts.progress !== false,
    debug: opts.debug === true,
    verbosity: opts.quiet === true ? 'quiet' : opts.verbose === true ? 'verbose' : 'normal',
  };
}

/** The signals that cancel a command as Ctrl-C does (ABORTED, exit 3). */
const CANCEL_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * Runs a command body with progress, Ctrl-C cancellation and error mapping. `onFlagsError`
 * hears a refusal of the common flags (--quiet with --verbose), which comes before the body:
 * a monitoring plugin prints its UNKNOWN line for it as for any error of its own.
 */
export async function runCommand(
  ctx: CliContext,
  opts: Record<string, unknown>,
  body: (args: RunArgs) => Promise<ExitCode>,
  hooks: { onFlagsError?: (error: unknown) => Promise<void> } = {},
): Promise<void> {
  let flags: GlobalFlags;
  try {
    flags = readFlags(opts);
  } catch (error) {
    await hooks.onFlagsError?.(error);
    ctx.exitCode = reportError(
      ctx.io,
      { json: opts.json === true, debug: opts.debug === true },
      error,
    );
    return;
  }
  const progress = createProgressDisplay(ctx.io, flags);
  const controller = new AbortController();
  // Ctrl-C, `kill`/`timeout`/systemd (SIGTERM) and a closed terminal or ssh session (SIGHUP)
  // cancel alike: restic and borg run in a session of their own, so only this abort ends them
  // (and removes a private restore dir); a process killed outright would leave them running.
  // Once each: the same signal again ends restoreplan at once.
  const onSignal = (): void => controller.abort();
  for (const name of CANCEL_SIGNALS) process.once(name, onSignal);
  try {
    const index = readIndexSetting(opts, ctx.io, flags.debug);
    ctx.exitCode = await body({ flags, progress, signal: controller.signal, index });
  } catch (error) {
    progress.done();
    ctx.exitCode = reportError(ctx.io, flags, error);
  } finally {
    progress.done();
    for (const name of CANCEL_SIGNALS) process.removeListener(name, onSignal);
  }
}
