/**
 * The fish completion script: one `complete` line per command, flag and argument, generated
 * from the spec, with descriptions; `--lists` asks `restoreplan __list-names DIR` for the names
 * under the var dir the line names.
 */
import type { CompletionCommand, CompletionSpec, CompletionValue } from './describeCompletion.js';
import { LIST_NAMES_COMMAND } from './describeCompletion.js';
import { identifier } from './formatBashCompletion.js';

export function formatFishCompletion(spec: CompletionSpec): string {
  const p = spec.program;
  const fn = `__${identifier(p)}`;
  const lines: string[] = [];
  const complete = (condition: string, rest: string): void => {
    lines.push(`complete -c ${p} -n ${quote(condition)} ${rest}`.trimEnd());
  };
  for (const option of spec.options)
    complete(`${fn}_needs_command`, flagPart(option) + describe(option.description));
  for (const command of spec.commands)
    complete(`${fn}_needs_command`, `-f -a ${quote(command.name)}${describe(command.summary)}`);
  const names = spec.commands.map((command) => command.name);
  for (const command of spec.commands) {
    const condition = `${fn}_using ${command.name}`;
    for (const option of command.options) {
      const value = option.value ? ` ${valuePart(option.value, fn, names, command)}` : '';
      complete(condition, `${flagPart(option)}${value}${describe(option.description)}`);
    }
    for (const argument of command.arguments)
      complete(
        condition,
        `${asArgument(valuePart(argument.value, fn, names, command))}${describe(argument.name)}`,
      );
  }
  return `# fish completion for ${p}, printed by \`${p} completion fish\`.
# Every shell: ${p} completion fish > ~/.config/fish/completions/${p}.fish
# This shell:  ${p} completion fish | source

# The command on the line, or nothing before one (the program's own flags take no value).
function ${fn}_command
    set -l tokens (commandline -opc)
    set -e tokens[1]
    for token in $tokens
        string match -q -- '-*' $token; and continue
        echo $token
        return
    end
end

function ${fn}_needs_command
    set -l command (${fn}_command)
    test -z "$command"
end

function ${fn}_using
    set -l command (${fn}_command)
    test "$command" = $argv[1]
end

# The list names under the var dir the line names. $argv[1]: option:FLAG or argument:N;
# the rest: the command's flags that take a value (their value is not an argument).
function ${fn}_list_names
    set -l from $argv[1]
    set -l valued $argv[2..-1]
    set -l tokens (commandline -opc)
    set -e tokens[1]
    set -l dir
    set -l expect
    set -l positional -1
    for token in $tokens
        if test -n "$expect"
            test "option:$expect" = "$from"; and set dir $token
            set expect
        else if string match -q -- '--*=*' $token
            set -l parts (string split -m 1 = -- $token)
            test "option:$parts[1]" = "$from"; and set dir $parts[2]
        else if contains -- $token $valued
            set expect $token
        else if not string match -q -- '-*' $token
            test "argument:$positional" = "$from"; and set dir $token
            set positional (math $positional + 1)
        end
    end
    test -n "$dir"; or return
    set dir (string replace -r '^~(?=/|$)' -- $HOME $dir)
    # The names typed before the last comma stay, and are not offered again.
    set -l prefix (string match -r -- '^.*,' (commandline -ct); or echo '')
    set -l typed (string split , -- $prefix)
    for name in (command ${p} ${LIST_NAMES_COMMAND} -- $dir 2>/dev/null)
        contains -- $name $typed; or echo $prefix$name
    end
end

complete -c ${p} -f
${lines.join('\n')}
`;
}

function flagPart(option: CompletionSpec['options'][number]): string {
  const parts: string[] = [];
  if (option.short) parts.push(`-s ${quote(option.short.replace(/^-/, ''))}`);
  if (option.long) parts.push(`-l ${quote(option.long.replace(/^--/, ''))}`);
  return parts.join(' ');
}

function valuePart(
  value: CompletionValue,
  fn: string,
  commands: string[],
  command: CompletionCommand,
): string {
  switch (value.kind) {
    case 'file':
      return '-r -F';
    case 'dir':
      return `-x -a ${quote('(__fish_complete_directories (commandline -ct))')}`;
    case 'lists': {
      const from = command.listsFrom;
      if (!from) return '-x';
      const valued = command.options
        .filter((option) => option.value)
        .flatMap((option) => [option.short, option.long])
        .filter((flag): flag is string => !!flag);
      const where = 'option' in from ? `option:${from.option}` : `argument:${from.argument}`;
      return `-x -a ${quote(`(${fn}_list_names ${[where, ...valued].join(' ')})`)}`;
    }
    case 'choices':
      return `-x -a ${quote(value.choices.join(' '))}`;
    case 'command':
      return `-x -a ${quote(commands.join(' '))}`;
    case 'text':
      return '-x';
  }
}

/** An argument's completion: the same values, without the `-r` that makes them a flag's. */
function asArgument(part: string): string {
  return part.replace(/^-x\b/, '-f').replace(/^-r -F\b/, '-F');
}

function describe(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line ? ` -d ${quote(line)}` : '';
}

/** A fish single-quoted string: only \\ and ' are escaped there. */
function quote(text: string): string {
  return `'${text.replace(/[\\']/g, '\\$&')}'`;
}
