/**
 * The shared shape of a CLI command: common flags, error mapping and exit codes in one place,
 * so each command file only parses its own options, calls the API and renders the result.
 */
import type { Command } from 'commander';
import type { ExitCode } from './exitCodes.js';
import { createProgressDisplay, type ProgressDisplay } from './progressBar.js';
import { reportError, type GlobalFlags, type Io } from './output.js';

export interface CliContext {
  io: Io;
  /** Set by the command that ran; read by runCli. */
  exitCode: ExitCode;
}

export interface RunArgs {
  flags: GlobalFlags;
  progress: ProgressDisplay;
  signal: AbortSignal;
}

export function addCommonFlags(command: Command, options: { json?: boolean } = {}): Command {
  if (options.json !== false) command.option('--json', 'print one JSON document on stdout');
  return command
    .option('--no-progress', 'no progress display on stderr')
    .option('--debug', 'print stack traces with errors');
}

export function readFlags(opts: Record<string, unknown>): GlobalFlags {
  return {
    json: opts.json === true,
    progress: opts.progress !== false,
    debug: opts.debug === true,
  };
}

/** Runs a command body with progress, Ctrl-C cancellation and error mapping. */
export async function runCommand(
  ctx: CliContext,
  opts: Record<string, unknown>,
  body: (args: RunArgs) => Promise<ExitCode>,
): Promise<void> {
  const flags = readFlags(opts);
  const progress = createProgressDisplay(ctx.io, flags);
  const controller = new AbortController();
  const onSigint = (): void => controller.abort();
  process.once('SIGINT', onSigint);
  try {
    ctx.exitCode = await body({ flags, progress, signal: controller.signal });
  } catch (error) {
    progress.done();
    ctx.exitCode = reportError(ctx.io, flags, error);
  } finally {
    progress.done();
    process.removeListener('SIGINT', onSigint);
  }
}
