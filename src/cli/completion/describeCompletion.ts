/**
 * What shell completion offers, read from the program's commander definitions (the ones
 * `--help` and restoreplan(1) show): the commands, each one's flags, and what a value or an
 * argument is — a file, a directory, one of fixed choices, Mailman list names — judged from its
 * placeholder (`<dir>`, `<file>`, `<archive>`) so a new flag completes without a change here.
 * The shell scripts (formatBashCompletion and its siblings) only render this.
 */
import type { Command, Option } from 'commander';

/** What a flag's value or an argument is, as far as completing it goes. */
export type CompletionValue =
  | { kind: 'file' }
  | { kind: 'dir' }
  /** Mailman list names, comma-separated, read from `<var dir>/lists/` (see listNamesFrom). */
  | { kind: 'lists' }
  | { kind: 'choices'; choices: string[] }
  /** The program's own command names (`help COMMAND`). */
  | { kind: 'command' }
  /** Anything (a number, a glob): nothing to offer. */
  | { kind: 'text' };

export interface CompletionOption {
  /** `--target`, or undefined for a short-only flag. */
  long: string | undefined;
  /** `-h`, or undefined. */
  short: string | undefined;
  description: string;
  /** The placeholder's word (`dir` of `--target <dir>`); '' for a flag without a value. */
  placeholder: string;
  /** null: a flag without a value. */
  value: CompletionValue | null;
  /** Given more than once (`--include` is collected). */
  repeatable: boolean;
}

export interface CompletionArgument {
  name: string;
  value: CompletionValue;
}

export interface CompletionCommand {
  name: string;
  summary: string;
  options: CompletionOption[];
  arguments: CompletionArgument[];
  /**
   * Where the Mailman var dir of `--lists` is named on the line: the value of a flag
   * (`--target`), or the positional argument at an index (`doctor DIR`); null without --lists.
   */
  listsFrom: { option: string } | { argument: number } | null;
}

export interface CompletionSpec {
  program: string;
  /** The program's own flags (before a command). */
  options: CompletionOption[];
  commands: CompletionCommand[];
}

/** The hidden command the scripts ask for the list names under a var dir (commands/completion.ts). */
export const LIST_NAMES_COMMAND = '__list-names';

/** The flag that names Mailman lists, and the flag that names the var dir they live in. */
const LISTS_FLAG = '--lists';
const VAR_DIR_FLAG = '--target';

export function describeCompletion(program: Command): CompletionSpec {
  const help = program.createHelp();
  return {
    program: program.name(),
    options: help.visibleOptions(program).map(describeOption),
    commands: help.visibleCommands(program).map((command) => {
      const commandHelp = command.createHelp();
      const options = commandHelp.visibleOptions(command).map(describeOption);
      const args: CompletionArgument[] = command.registeredArguments.map((argument) => ({
        name: argument.name(),
        value:
          // commander's implicit `help [command]`.
          command.name() === 'help' && argument.name() === 'command'
            ? { kind: 'command' }
            : argument.argChoices
              ? { kind: 'choices', choices: [...argument.argChoices] }
              : valueOfPlaceholder(argument.name()),
      }));
      return {
        name: command.name(),
        summary: commandHelp.subcommandDescription(command),
        options,
        arguments: args,
        listsFrom: listsFromOf(options, args),
      };
    }),
  };
}

function listsFromOf(
  options: CompletionOption[],
  args: CompletionArgument[],
): CompletionCommand['listsFrom'] {
  if (!options.some((option) => option.long === LISTS_FLAG)) return null;
  if (options.some((option) => option.long === VAR_DIR_FLAG)) return { option: VAR_DIR_FLAG };
  const index = args.findIndex((argument) => argument.value.kind === 'dir');
  return index >= 0 ? { argument: index } : null;
}

function describeOption(option: Option): CompletionOption {
  const placeholder = /[<[]([^>\]]*)[>\]]/.exec(option.flags)?.[1]?.replace(/\.\.\.$/, '') ?? '';
  const takesValue = option.required || option.optional;
  return {
    long: option.long,
    short: option.short,
    description: option.description,
    placeholder,
    value: !takesValue
      ? null
      : option.argChoices
        ? { kind: 'choices', choices: [...option.argChoices] }
        : option.long === LISTS_FLAG
          ? { kind: 'lists' }
          : valueOfPlaceholder(placeholder),
    repeatable: option.variadic || Array.isArray(option.defaultValue),
  };
}

/** `<dir>` a directory; `<file>`, `<archive>`, `<plan>` a file; else free text (`--member-root <path>` is a path inside the archive, not here). */
function valueOfPlaceholder(word: string): CompletionValue {
  const name = word.toLowerCase();
  if (name === 'dir' || name === 'directory') return { kind: 'dir' };
  if (['file', 'archive', 'plan'].includes(name)) return { kind: 'file' };
  return { kind: 'text' };
}
