/**
 * Everything the CLI writes goes through here: exactly one JSON document on stdout with
 * --json, human text otherwise, one coded error line on stderr. Commands return an exit code
 * and never call process.exit themselves.
 */
import { isRestoreplanError, RestoreplanError, type ErrorCode } from '../errors.js';
import { SCHEMA_VERSION } from '../types.js';
import { EXIT, type ExitCode } from './exitCodes.js';

export interface GlobalFlags {
  json: boolean;
  progress: boolean;
  debug: boolean;
}

export interface Io {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
}

export const processIo: Io = {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
};

/** What `--json` prints on stdout when a command fails (exit 3): the code of the error line. */
export interface ErrorDocument {
  schemaVersion: typeof SCHEMA_VERSION;
  error: {
    /** The stable code of the error line `restoreplan: <CODE>: <message>` (docs/error-codes.md). */
    code: ErrorCode;
    /** The error line's message, on one line. */
    message: string;
  };
}

export function writeJson(io: Io, document: unknown): void {
  io.stdout.write(`${JSON.stringify(document, null, 2)}\n`);
}

export function writeLine(io: Io, text = ''): void {
  io.stdout.write(`${text}\n`);
}

/** Maps any thrown value to the error line (and JSON error document) and exit code 3. */
export function reportError(
  io: Io,
  flags: Pick<GlobalFlags, 'json' | 'debug'>,
  error: unknown,
): ExitCode {
  const coded: RestoreplanError = isRestoreplanError(error)
    ? error
    : new RestoreplanError(
        'INTERNAL',
        error instanceof Error ? error.message : String(error),
        {},
        { cause: error },
      );
  const oneLine = coded.message.replace(/\s*\n\s*/g, ' ');
  io.stderr.write(`restoreplan: ${coded.code}: ${oneLine}\n`);
  const hint = typeof coded.details.hint === 'string' ? coded.details.hint : null;
  if (hint) io.stderr.write(`  hint: ${hint}\n`);
  if (flags.debug && error instanceof Error && error.stack) io.stderr.write(`${error.stack}\n`);
  if (flags.json) {
    const document: ErrorDocument = {
      schemaVersion: SCHEMA_VERSION,
      error: { code: coded.code, message: oneLine },
    };
    writeJson(io, document);
  }
  return EXIT.UNKNOWN;
}
