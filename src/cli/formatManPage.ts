/**
 * restoreplan(1), written from the program's own commander definitions: the commands, their
 * arguments, options and texts are the ones `--help` prints (through commander's Help, so the
 * defaults and hidden flags are shown or left out the same way), and cannot drift from them.
 * Only what `--help` does not say is written here: exit status, environment, files, examples.
 * Pure: a program in, roff (man(7) macros) out; scripts/buildManPage.mjs writes the file.
 */
import type { Argument, Command, Help, Option } from 'commander';

import { EXIT } from './exitCodes.js';

export interface ManPageOptions {
  /** The page's date (.TH), YYYY-MM-DD. */
  date: string;
}

/** What each exit code means, for every code of EXIT (a new code does not compile without). */
const EXIT_MEANINGS = {
  OK: 'OK: the archive fits, every list is ok, the restore completed.',
  WARNING:
    'WARNING: it fits but leaves less free than the warning threshold, a list is degraded (a fallback config loads), or the plan runs with warnings.',
  CRITICAL:
    'CRITICAL: it does not fit above the reserve, a list is down (corrupt, lost or missing) and not restored, or apply stopped short (run it again to resume).',
  UNKNOWN:
    'UNKNOWN: bad input or an error (one line on stderr, restoreplan: CODE: message, see docs/error-codes.md); a selection that matches nothing is an error, never OK.',
} satisfies Record<keyof typeof EXIT, string>;

/** Every environment variable the program reads (test/cli/manPage.test.ts checks src for more). */
const ENVIRONMENT: ReadonlyArray<[name: string, meaning: string]> = [
  [
    'XDG_CACHE_HOME',
    'An absolute path: archive indexes are kept in $XDG_CACHE_HOME/restoreplan (unless --index-dir).',
  ],
  ['HOME', 'Without XDG_CACHE_HOME, archive indexes are kept in ~/.cache/restoreplan.'],
  [
    'RESTOREPLAN_SYSLOG_SOCKET',
    'The unix datagram socket apply --syslog sends its trail to instead of /dev/log (a container, a test).',
  ],
  [
    'PATH',
    "Where exim4 (or exim) and postconf are looked for, then /usr/local/sbin, /usr/sbin and /sbin: the MTA whose spool takes Mailman's backlog after the repair (--mta auto).",
  ],
  [
    'COLUMNS',
    "A whole number: the width human output is laid out for (at least 40), over what the terminal reports. Unset: the terminal's width, else 80 (off a terminal, or a terminal reporting 0 columns).",
  ],
];

const FILES: ReadonlyArray<[file: string, meaning: string]> = [
  [
    '$XDG_CACHE_HOME/restoreplan/*.rpidx, ~/.cache/restoreplan/*.rpidx',
    'Archive indexes, one per archive, kept to 1 GiB (oldest removed first); never trusted blindly, safe to delete (docs/archive-index.md).',
  ],
  [
    'PLAN.journal',
    'The journal of `restoreplan apply PLAN` (--journal chooses another): what was done, so that a second run resumes.',
  ],
  [
    '/var/lib/mailman',
    'A Mailman 2.1 var dir: lists/NAME/config.pck (and .last, config.db), qfiles/, data/, archives/. The lists of --lists are the directory names under lists/.',
  ],
];

/** Each a sentence and its command lines (at most 72 columns: the page is read at 80). */
const EXAMPLES: ReadonlyArray<[what: string, lines: string[]]> = [
  [
    'What is wrong with the lists, as Mailman would load them:',
    ['restoreplan doctor /var/lib/mailman'],
  ],
  [
    "Would restoring the broken lists from last night's backup fit, keeping the reserve (one monitoring-plugin line):",
    ['restoreplan check backup.tar.zst --target /var/lib/mailman --nagios'],
  ],
  [
    'Plan the restore of two lists into a plan file, then carry it out:',
    [
      'restoreplan plan backup.tar.zst --target /var/lib/mailman \\',
      '    --lists announce,staff --out plan.json',
      'restoreplan apply plan.json',
    ],
  ],
  [
    'Shell completion (bash; zsh and fish alike):',
    ['restoreplan completion bash > /etc/bash_completion.d/restoreplan'],
  ],
];

/** What --help does not say: how the commands go together. */
const DESCRIPTION = [
  'In an outage, run `restoreplan` alone on a terminal: the wizard diagnoses, proposes and, once confirmed, restores. For scripts and runbooks: doctor says which lists are down, check whether restoring them fits the filesystem (free inodes and blocks above a reserve), plan writes what to restore where, and apply (the only command that writes) carries it out, stage by stage, resumable.',
  'Every command with --json prints exactly one JSON document on stdout; errors are one line on stderr, restoreplan: CODE: message.',
];

const SEE_ALSO =
  '\\fBtar\\fR(1), \\fBdf\\fR(1), \\fBstatfs\\fR(2); the README, docs/runbook.md and docs/error-codes.md shipped with the package.';

export function formatManPage(program: Command, options: ManPageOptions): string {
  const help = program.createHelp();
  const name = program.name();
  const version = program.version() ?? '';
  const lines: string[] = [
    `.TH ${quoteArg(name.toUpperCase())} 1 ${quoteArg(options.date)} ${quoteArg(`${name} ${version}`.trim())} "User Commands"`,
    // Flags and paths must be found by searching the page: no hyphenation, no justification.
    '.nh',
    '.ad l',
    '.SH NAME',
    `${escapeText(name)} \\- ${escapeText(lowerFirst(trimPeriod(program.description())))}`,
    '.SH SYNOPSIS',
    '.nf',
    formatUsage(help.commandUsage(program)),
  ];
  const commands = help.visibleCommands(program);
  for (const command of commands) lines.push(formatUsage(usageOf(program, command)));
  lines.push('.fi', '.SH DESCRIPTION', paragraph(help.commandDescription(program)));
  for (const text of DESCRIPTION) lines.push('.PP', paragraph(text));
  lines.push('.SH OPTIONS');
  for (const option of help.visibleOptions(program)) lines.push(...formatOption(help, option));
  lines.push('.SH COMMANDS');
  for (const command of commands) lines.push(...formatCommand(program, command));
  lines.push('.SH "EXIT STATUS"');
  for (const [key, code] of Object.entries(EXIT)) {
    lines.push('.TP', `\\fB${code}\\fR`, paragraph(EXIT_MEANINGS[key as keyof typeof EXIT]));
  }
  lines.push('.SH ENVIRONMENT');
  for (const [variable, meaning] of ENVIRONMENT)
    lines.push('.TP', `\\fB${escapeText(variable)}\\fR`, paragraph(meaning));
  lines.push('.SH FILES');
  for (const [file, meaning] of FILES)
    lines.push('.TP', `\\fI${escapeText(file)}\\fR`, paragraph(meaning));
  lines.push('.SH EXAMPLES');
  for (const [what, commandLines] of EXAMPLES) {
    lines.push('.PP', paragraph(what), '.PP', '.nf', '.RS 4');
    for (const line of commandLines) lines.push(guardLineStart(`\\fB${escapeCode(line)}\\fR`));
    lines.push('.RE', '.fi');
  }
  lines.push('.SH "SEE ALSO"', SEE_ALSO);
  return `${lines.join('\n')}\n`;
}

/**
 * `restoreplan scan [options] <archive>`. Not Help.commandUsage: commander's implicit `help`
 * command has no parent, and its usage would lose the program's name.
 */
function usageOf(program: Command, command: Command): string {
  return `${program.name()} ${command.name()} ${command.usage()}`.trim();
}

function formatCommand(program: Command, command: Command): string[] {
  const help = command.createHelp();
  const lines = [
    `.SS ${quoteArg(command.name())}`,
    '.nf',
    formatUsage(usageOf(program, command)),
    '.fi',
  ];
  const summary = help.subcommandDescription(command);
  const description = help.commandDescription(command);
  lines.push('.PP', paragraph(description || summary));
  for (const argument of help.visibleArguments(command))
    lines.push(...formatArgument(help, argument));
  for (const option of help.visibleOptions(command)) lines.push(...formatOption(help, option));
  return lines;
}

function formatArgument(help: Help, argument: Argument): string[] {
  return [
    '.TP',
    `\\fI${escapeText(argument.name())}\\fR`,
    paragraph(help.argumentDescription(argument)),
  ];
}

function formatOption(help: Help, option: Option): string[] {
  // A required option (requiredOption) looks like any other in --help; the page says it.
  const description = help.optionDescription(option) + (option.mandatory ? ' (required)' : '');
  return ['.TP', formatFlags(help.optionTerm(option)), paragraph(description)];
}

/** `-V, --version` → bold names; `--index-dir <dir>` → bold name, italic placeholder. */
function formatFlags(flags: string): string {
  const match = /^(.*?)(?:[ =]([<[].*))?$/.exec(flags);
  const names = (match?.[1] ?? flags)
    .split(/,\s*|\s*\|\s*|\s+/)
    .filter(Boolean)
    .map((flag) => `\\fB${escapeCode(flag)}\\fR`)
    .join(', ');
  const value = match?.[2];
  return value === undefined ? names : `${names} ${formatPlaceholder(value)}`;
}

/** `restoreplan scan [options] <archive>` as a synopsis line. */
function formatUsage(usage: string): string {
  const words = usage.split(' ');
  const out: string[] = [];
  let inName = true;
  for (const word of words) {
    if (/^[<[]/.test(word)) inName = false;
    out.push(inName ? `\\fB${escapeCode(word)}\\fR` : formatPlaceholder(word));
  }
  return guardLineStart(out.join(' '));
}

/** `<dir>` → italic dir; `[options]` → [italic options]; `<n|p%>` → italic n|p%. */
function formatPlaceholder(word: string): string {
  const optional = word.startsWith('[');
  const inner = word.replace(/^[<[]|[>\]]$/g, '');
  const italic = `\\fI${escapeText(inner)}\\fR`;
  return optional ? `[${italic}]` : italic;
}

/** A paragraph of prose: `code` in bold, option names with minus signs, one input line each. */
function paragraph(text: string): string {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => guardLineStart(escapeProse(line)))
    .join('\n');
}

function escapeProse(text: string): string {
  const parts = text.split('`');
  return parts
    .map((part, index) =>
      // Odd parts sat between backticks (an unmatched last one is plain text).
      index % 2 === 1 && index < parts.length - 1
        ? `\\fB${escapeCode(part)}\\fR`
        : escapeText(part)
            .replace(
              // An option named in prose (--member-root, -h) or a lone - (stdin): minus signs, so
              // a search for the flag finds it and no line breaks inside it.
              /(^|[^\w\\-])(--?[A-Za-z][A-Za-z0-9-]*|-(?=[\s,.;)]|$))/g,
              (_m, before: string, flag: string) => before + flag.replace(/-/g, '\\-'),
            )
            // A path (docs/archive-index.md): literal, copied as it stands, never broken at a hyphen.
            .replace(/[^\s]*\/[^\s]*/g, (token) => token.replace(/(?<!\\)-/g, '\\-')),
    )
    .join('');
}

/** Literal text (a flag, a command line): every hyphen a minus sign. */
function escapeCode(text: string): string {
  return escapeText(text).replace(/-/g, '\\-');
}

/** Backslashes and anything outside ASCII as roff escapes (groff and mandoc read \[uXXXX]). */
function escapeText(text: string): string {
  let out = '';
  for (const char of text.replace(/\\/g, '\\e')) {
    const code = char.codePointAt(0) ?? 0;
    if (code < 0x20 || code === 0x7f) out += ' ';
    else if (code > 0x7e) out += `\\[u${code.toString(16).toUpperCase().padStart(4, '0')}]`;
    else out += char;
  }
  return out;
}

/** A text line that starts with . or ' would be read as a request. */
function guardLineStart(line: string): string {
  return /^[.']/.test(line) ? `\\&${line}` : line;
}

/** A macro argument: quoted, its own quotes as \(dq. */
function quoteArg(text: string): string {
  return `"${escapeText(text).replace(/"/g, '\\(dq')}"`;
}

function trimPeriod(text: string): string {
  return text.replace(/\.\s*$/, '');
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}
