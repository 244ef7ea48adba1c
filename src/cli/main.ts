import { Command, CommanderError } from 'commander';
import { RestoreplanError } from '../errors.js';
import { EXIT, type ExitCode } from './exitCodes.js';
import {
  formatErrorLine,
  processIo,
  reportError,
  screenColumns,
  writeLine,
  type Io,
} from './output.js';
import type { CliContext } from './command.js';
import { COMMANDS } from './commands/index.js';

export const VERSION = '0.1.0';

export function buildProgram(ctx: CliContext): Command {
  const program = new Command('restoreplan')
    .description(
      'Plan and carry out a restore from backup that fits the target filesystems (inodes and blocks); Mailman 2.1 aware.',
    )
    .version(VERSION)
    .showHelpAfterError(false)
    .exitOverride()
    .configureOutput({
      writeOut: (text) => ctx.io.stdout.write(text),
      writeErr: (text) => ctx.io.stderr.write(text),
      // Commander's own messages become our one-line USAGE error.
      outputError: () => {},
      // --help is laid out for the same width as every other screen: a terminal reporting 0
      // columns gave commander a width of 0 (no line wrapped: options 200 columns wide), and
      // $COLUMNS was not heard.
      getOutHelpWidth: () => screenColumns(ctx.io),
      getErrHelpWidth: () => screenColumns({ stdout: ctx.io.stderr }),
    });
  for (const register of COMMANDS) register(program, ctx);
  return program;
}

export async function runCli(argv: string[], io: Io = processIo): Promise<ExitCode> {
  const ctx: CliContext = { io, exitCode: EXIT.OK };
  const program = buildProgram(ctx);
  const wantsJson = argv.includes('--json');
  try {
    // `restoreplan` alone is the operator's entry point: the wizard (which, without a
    // terminal, exits 3 naming the non-interactive commands).
    await program.parseAsync(argv.length === 0 ? ['wizard'] : argv, { from: 'user' });
    return ctx.exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (
        error.code === 'commander.helpDisplayed' ||
        error.code === 'commander.version' ||
        error.exitCode === 0
      ) {
        return EXIT.OK;
      }
      const message = error.message.replace(/^error:\s*/i, '');
      const usage = new RestoreplanError('USAGE', message, { hint: 'see restoreplan --help' });
      await writePluginUnknown(io, argv, usage);
      return reportError(io, { json: wantsJson, debug: false }, usage);
    }
    return reportError(io, { json: wantsJson, debug: argv.includes('--debug') }, error);
  }
}

/**
 * A command line commander refuses (an unknown option, a missing value, a missing DIR) never
 * reaches the command's own error handling: a monitoring plugin's caller still gets its one
 * UNKNOWN line on stdout (`--warn-hours $ARG1$` with an empty macro printed nothing at all).
 */
async function writePluginUnknown(io: Io, argv: string[], error: RestoreplanError): Promise<void> {
  if (!argv.includes('--nagios') || argv.includes('--json')) return;
  const end = argv.indexOf('--');
  if (end !== -1 && end < argv.indexOf('--nagios')) return;
  if (argv[0] === 'doctor') {
    const { formatDoctorUnknown } = await import('./commands/formatDoctorNagios.js');
    writeLine(io, formatDoctorUnknown(formatErrorLine(error)));
  } else if (argv[0] === 'check') {
    const { formatCheckUnknown } = await import('./commands/formatNagios.js');
    writeLine(io, formatCheckUnknown(formatErrorLine(error)));
  }
}
