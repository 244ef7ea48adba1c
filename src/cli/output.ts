/**
 * Everything the CLI writes goes through here: exactly one JSON document on stdout with
 * --json, human text otherwise, one coded error line on stderr. Commands return an exit code
 * and never call process.exit themselves.
 */
import { isRestoreplanError, RestoreplanError, type ErrorCode } from '../errors.js';
import { SCHEMA_VERSION } from '../types.js';
import { EXIT, type ExitCode } from './exitCodes.js';

/**
 * How much a human screen shows (--quiet, --verbose): `quiet` the verdict line only, `verbose`
 * what the normal screen sums up. A JSON document is the same whatever it is.
 */
export type Verbosity = 'quiet' | 'normal' | 'verbose';

export interface GlobalFlags {
  json: boolean;
  progress: boolean;
  debug: boolean;
  verbosity: Verbosity;
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

/** What a screen is assumed to be when neither COLUMNS nor a terminal says: an 80×25 console. */
export const DEFAULT_COLUMNS = 80;
/** Narrower than this a table cannot be drawn at all: COLUMNS=5 is taken as this. */
const MIN_COLUMNS = 40;

/**
 * The width human output is laid out for: $COLUMNS when it is a whole number (as GNU ls and
 * Python's shutil do, so a script or a `watch` can choose), else the width the terminal
 * reports, else 80. A terminal reporting 0 columns (a serial console, some containers) does
 * not know its width: 80, not 0. Off a terminal (a pipe, a log, a mail from cron) 80 as well:
 * a log is read later on whatever screen is at hand, often an 80-column console.
 */
export function screenColumns(
  io: Pick<Io, 'stdout'>,
  env: NodeJS.ProcessEnv = process.env,
): number {
  const fromEnv = /^\s*\d+\s*$/.test(env.COLUMNS ?? '') ? Number(env.COLUMNS) : 0;
  if (fromEnv > 0) return Math.max(MIN_COLUMNS, fromEnv);
  const stdout = io.stdout as { isTTY?: boolean; columns?: number };
  const reported = stdout.isTTY === true ? (stdout.columns ?? 0) : 0;
  return reported > 0 ? Math.max(MIN_COLUMNS, reported) : DEFAULT_COLUMNS;
}

/**
 * East Asian wide and fullwidth characters (CJK, Hangul, kana, fullwidth forms) and emoji
 * shown as emoji (Emoji_Presentation: 🚀 ✅ ⚡, which cli-table3 counts as two as well) take two
 * columns of a terminal: a list name in Japanese measured by code points overflowed its
 * column, and cli-table3 cut it off with "…"; a 🚀 counted as one was cut mid-character.
 */
const WIDE =
  /[\u1100-\u115F\u2329\u232A\u2E80-\u303E\u3041-\u33FF\u3400-\u4DBF\u4E00-\u9FFF\uA000-\uA4CF\uA960-\uA97F\uAC00-\uD7A3\uF900-\uFAFF\uFE10-\uFE19\uFE30-\uFE6F\uFF00-\uFF60\uFFE0-\uFFE6\u{16FE0}-\u{16FFF}\u{17000}-\u{18D8F}\u{1AFF0}-\u{1B2FF}\u{1F200}-\u{1F2FF}\u{1F300}-\u{1F64F}\u{1F900}-\u{1F9FF}\u{20000}-\u{3FFFD}]|\p{Emoji_Presentation}/u;
/** Combining marks take no column of their own. */
const ZERO = /[\p{Mn}\p{Me}]/u;

const charWidth = (char: string): number => (ZERO.test(char) ? 0 : WIDE.test(char) ? 2 : 1);

/** The columns `text` takes on a terminal (one line). */
export function displayWidth(text: string): number {
  let width = 0;
  for (const char of text) width += charWidth(char);
  return width;
}

/** How many of `chars` (from the start) fit in `width` columns; at least one. */
function charsThatFit(chars: readonly string[], width: number): number {
  let used = 0;
  let count = 0;
  for (const char of chars) {
    used += charWidth(char);
    if (used > width) break;
    count += 1;
  }
  return Math.max(1, count);
}

/**
 * `text` cut at its end to at most `width` columns (a wide character that does not fit whole is
 * left out): for a line that must never wrap, as the progress line redrawn in place.
 */
export function cutToWidth(text: string, width: number): string {
  if (displayWidth(text) <= width) return text;
  if (width <= 0) return '';
  const chars = [...text];
  const count = charsThatFit(chars, width);
  // charsThatFit gives at least one: a wide first character in one column is none.
  return count === 1 && charWidth(chars[0]!) > width ? '' : chars.slice(0, count).join('');
}

/**
 * `text` shortened to `width` columns by cutting out its middle (`abc…xyz`); shortenPath (in
 * makeTable.ts) cuts whole directories first. Only for a screen: documents keep the whole text.
 */
export function shortenMiddle(text: string, width: number): string {
  if (displayWidth(text) <= width) return text;
  if (width <= 1) return '…'.slice(0, Math.max(0, width));
  const chars = [...text];
  const tailWidth = Math.floor((width - 1) / 2);
  const head = chars.slice(0, charsThatFit(chars, width - 1 - tailWidth));
  const reversed = [...chars].reverse();
  const tail = reversed.slice(0, charsThatFit(reversed, tailWidth)).reverse();
  const shortened = `${head.join('')}…${tail.join('')}`;
  // A wide character that did not fit leaves a column: fine; one too many never happens, but
  // a width of 2 with wide characters on both ends would: cut the tail then.
  return displayWidth(shortened) <= width ? shortened : `${head.join('')}…`;
}

/**
 * `line` broken at blanks into lines of at most `width` columns; the lines after the first are
 * indented two more than the first, so a wrapped line still reads as one item. A word longer
 * than a line (a path) is broken, never cut: what a log shows must be all there.
 */
export function wrapLine(line: string, width: number): string[] {
  if (displayWidth(line) <= width) return [line];
  const indent = /^\s*/.exec(line)?.[0] ?? '';
  // A hanging indent that leaves no room would loop: none then.
  const hanging = displayWidth(indent) + 2 < width / 2 ? `${indent}  ` : '';
  const out: string[] = [];
  let current = indent;
  let empty = true;
  for (const word of line.slice(indent.length).split(/ +/)) {
    if (word === '') continue;
    if (displayWidth(current) + (empty ? 0 : 1) + displayWidth(word) <= width) {
      current += empty ? word : ` ${word}`;
      empty = false;
      continue;
    }
    if (!empty) {
      out.push(current);
      current = hanging;
    }
    let rest = [...word];
    while (displayWidth(current) + displayWidth(rest.join('')) > width) {
      const take = charsThatFit(rest, width - displayWidth(current));
      out.push(current + rest.slice(0, take).join(''));
      current = hanging;
      rest = rest.slice(take);
    }
    current += rest.join('');
    empty = false;
  }
  out.push(current);
  return out;
}

/**
 * Human prose that wraps at the screen's width (screenColumns): each line broken at blanks,
 * continuation lines indented. `oneLine` first joins the data the text quotes onto one line, as
 * writeOneLine does. Tables are fitted by makeTable and written with writeLine; the monitoring
 * line is never wrapped (a plugin's output is one line).
 */
export function writeWrapped(io: Io, text: string, options: { oneLine?: boolean } = {}): void {
  const printable = options.oneLine ? printableLine(text) : printableText(text);
  const width = screenColumns(io);
  const lines = printable.split('\n').flatMap((line) => wrapLine(line, width));
  io.stdout.write(`${lines.join('\n')}\n`);
}

/**
 * A line (or lines) of human output. Member names, list names and paths come from the archive
 * and the target, chosen by whoever made them: what a terminal would act on is escaped as in
 * error lines (newlines between lines and tabs stay).
 */
export function writeLine(io: Io, text = ''): void {
  io.stdout.write(`${printableText(text)}\n`);
}

/**
 * One line of human output that quotes data — a problem, a step, a reason, a path: on one line
 * whatever the data holds (a list name with a newline would forge a second problem line), and
 * escaped as error lines are.
 */
export function writeOneLine(io: Io, text: string): void {
  io.stdout.write(`${printableLine(text)}\n`);
}

/**
 * What a text line never echoes raw: control characters (C0, DEL, C1: ESC sequences, carriage
 * returns, NUL), format characters (bidi overrides, zero-width), line and paragraph separators,
 * lone surrogates, private-use and unassigned code points, and U+FFFD (what invalid UTF-8 was
 * decoded to). An error message quotes what it could not use — a path, the first bytes of a
 * file that is not a plan — and those bytes are chosen by whoever made the file: echoed to a
 * terminal, an ESC sequence can rewrite or hide what the operator reads, a bidi override can
 * reverse it, a newline can forge a second line for a script.
 */
const UNPRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\uFFFD]/gu;

function escapeCodePoint(char: string): string {
  const code = char.codePointAt(0) ?? 0;
  if (code <= 0xff) return `\\x${code.toString(16).padStart(2, '0')}`;
  if (code <= 0xffff) return `\\u${code.toString(16).padStart(4, '0')}`;
  return `\\u{${code.toString(16)}}`;
}

/**
 * One printable line: a message wrapped over lines reads as one (newlines and the blanks
 * around them become one space), and every character a terminal would act on instead of show
 * is written as an escape (`\x1b`, `\u202e`). The one place the CLI's error lines (and the
 * monitoring line) pass through.
 */
export function printableLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').replace(UNPRINTABLE, escapeCodePoint);
}

/** Like printableLine, but keeps the line breaks and tabs of multi-line output. */
export function printableText(text: string): string {
  return text.replace(UNPRINTABLE, (char) =>
    char === '\n' || char === '\t' ? char : escapeCodePoint(char),
  );
}

/**
 * The stderr streams a progress line is drawn on now (progressBar.ts marks them). A line
 * written to stderr while one is up would be glued to its end ("…25,543 membersrestoreplan:
 * warning: …") and stay there: the lines below clear it first; the next redraw brings it back.
 */
const progressShownOn = new WeakSet<object>();

export function markProgressLine(io: Pick<Io, 'stderr'>, shown: boolean): void {
  if (shown) progressShownOn.add(io.stderr);
  else progressShownOn.delete(io.stderr);
}

function clearProgressLine(io: Pick<Io, 'stderr'>): void {
  if (!progressShownOn.has(io.stderr)) return;
  io.stderr.write('\r\x1b[2K');
  progressShownOn.delete(io.stderr);
}

/**
 * The one error line on stderr, `restoreplan: <CODE>: <message>`, and its `  hint:` line: for a
 * thrown error (reportError), and for a document that carries one (a failed apply's `error`).
 */
export function writeErrorLine(
  io: Io,
  error: { code: ErrorCode; message: string; hint?: string | null | undefined },
): void {
  clearProgressLine(io);
  io.stderr.write(`restoreplan: ${error.code}: ${printableLine(error.message)}\n`);
  if (error.hint) io.stderr.write(`  hint: ${printableLine(error.hint)}\n`);
}

/** A diagnostic line on stderr (--debug notes): `restoreplan: <text>`, escaped. */
export function writeNoteLine(io: Io, text: string): void {
  clearProgressLine(io);
  io.stderr.write(`restoreplan: ${printableLine(text)}\n`);
}

/** Maps any thrown value to the error line (and JSON error document) and exit code 3. */
export function reportError(
  io: Io,
  flags: Pick<GlobalFlags, 'json' | 'debug'>,
  error: unknown,
): ExitCode {
  const coded = toRestoreplanError(error);
  // JSON escapes what it carries: the document keeps the message as it was (on one line).
  const oneLine = coded.message.replace(/\s*\n\s*/g, ' ');
  const hint = typeof coded.details.hint === 'string' ? coded.details.hint : null;
  writeErrorLine(io, { code: coded.code, message: coded.message, hint });
  if (flags.debug && error instanceof Error && error.stack)
    io.stderr.write(`${error.stack.split('\n').map(printableLine).join('\n')}\n`);
  if (flags.json) {
    const document: ErrorDocument = {
      schemaVersion: SCHEMA_VERSION,
      error: { code: coded.code, message: oneLine },
    };
    writeJson(io, document);
  }
  return EXIT.UNKNOWN;
}

/** Any thrown value as a coded error: a RestoreplanError as it is, anything else INTERNAL. */
export function toRestoreplanError(error: unknown): RestoreplanError {
  return isRestoreplanError(error)
    ? error
    : new RestoreplanError(
        'INTERNAL',
        error instanceof Error ? error.message : String(error),
        {},
        { cause: error },
      );
}

/** The error as one printable line without the `restoreplan:` prefix: `<CODE>: <message>`. */
export function formatErrorLine(error: unknown): string {
  const coded = toRestoreplanError(error);
  return `${coded.code}: ${printableLine(coded.message)}`;
}
