/**
 * The zsh completion function (`#compdef`): one `_arguments` spec per command, generated from
 * the spec, with descriptions; `--lists` asks `restoreplan __list-names DIR` for the names under
 * the var dir the line names (`opt_args` for a flag, `line` for an argument).
 */
import type {
  CompletionCommand,
  CompletionOption,
  CompletionSpec,
  CompletionValue,
} from './describeCompletion.js';
import { LIST_NAMES_COMMAND } from './describeCompletion.js';
import { identifier, quote } from './formatBashCompletion.js';

export function formatZshCompletion(spec: CompletionSpec): string {
  const fn = `_${identifier(spec.program)}`;
  const context: ActionContext = {
    fn,
    commands: spec.commands.map((command) => command.name),
    listsFrom: null,
  };
  const described = spec.commands.map((command) =>
    quote(`${command.name.replace(/:/g, '\\:')}:${oneLine(command.summary)}`),
  );
  const cases = spec.commands.map((command) => {
    const specs = [
      ...command.options.flatMap((option) =>
        optionSpecs(option, { ...context, listsFrom: command.listsFrom }),
      ),
      ...command.arguments.map((argument, index) =>
        quote(
          `${index + 1}:${message(argument.name)}:${action(argument.value, { ...context, listsFrom: command.listsFrom })}`,
        ),
      ),
    ];
    return `        ${quote(command.name)})\n          _arguments -s \\\n            ${specs.join(' \\\n            ')} && ret=0\n          ;;`;
  });
  const rootSpecs = spec.options.flatMap((option) => optionSpecs(option, context));
  return `#compdef ${spec.program}
# zsh completion for ${spec.program}, printed by \`${spec.program} completion zsh\`.
# Every shell: save it as _${spec.program} in a directory of $fpath (before compinit runs),
# e.g. /usr/local/share/zsh/site-functions/_${spec.program}. This shell:
# source <(${spec.program} completion zsh)

# The list names under the var dir the line names. Its last argument (_arguments puts its own
# compadd options before it) is option=FLAG or argument=N (a colon would end the action).
${fn}_lists() {
  local from=\${@[-1]} dir='' names
  case $from in
    option=*) dir=\${opt_args[\${from#option=}]} ;;
    argument=*) dir=\${line[$(( \${from#argument=} + 1 ))]} ;;
  esac
  # As typed on the line: unquoted (\\: is _arguments' own quoting of a colon), ~ expanded.
  dir=\${(Q)\${dir//\\\\:/:}}
  dir=\${dir/#\\~/$HOME}
  [[ -n $dir ]] || return 1
  names=("\${(@f)$(command ${spec.program} ${LIST_NAMES_COMMAND} -- "$dir" 2>/dev/null)}")
  names=(\${names:#})
  (( \${#names} )) || return 1
  # The names typed before the last comma stay, and are not offered again.
  compset -P '*,'
  local -a typed
  typed=(\${(s:,:)IPREFIX})
  names=(\${names:|typed})
  _wanted lists expl 'list' compadd -a names
}

${fn}() {
  local curcontext=$curcontext state state_descr line ret=1
  typeset -A opt_args
  _arguments -C \\
    ${[...rootSpecs, quote('1: :->command'), quote('*:: :->argument')].join(' \\\n    ')} && ret=0
  case $state in
    command)
      local -a commands
      commands=(
        ${described.join('\n        ')}
      )
      _describe -t commands '${spec.program} command' commands && ret=0
      ;;
    argument)
      curcontext=\${curcontext%:*:*}:${spec.program}-$words[1]:
      case $words[1] in
${cases.join('\n')}
      esac
      ;;
  esac
  return ret
}

if [[ $funcstack[1] == ${fn} ]]; then
  ${fn} "$@"
else
  compdef ${fn} ${spec.program}
fi
`;
}

/** `--target=[desc]:dir:_files -/`, one spec per name (short and long). */
interface ActionContext {
  fn: string;
  commands: string[];
  listsFrom: CompletionCommand['listsFrom'];
}

function optionSpecs(option: CompletionOption, context: ActionContext): string[] {
  const repeat = option.repeatable ? '*' : '';
  const description = `[${escapeBrackets(oneLine(option.description))}]`;
  return [option.short, option.long]
    .filter((flag): flag is string => !!flag)
    .map((flag) => {
      if (!option.value) return quote(`${repeat}${flag}${description}`);
      const separator = flag.startsWith('--') ? '=' : '+';
      return quote(
        `${repeat}${flag}${separator}${description}:${message(option.placeholder)}:${action(option.value, context)}`,
      );
    });
}

function action(value: CompletionValue, context: ActionContext): string {
  const { listsFrom } = context;
  switch (value.kind) {
    case 'file':
      return '_files';
    case 'dir':
      return '_files -/';
    case 'lists':
      return listsFrom === null
        ? ' '
        : `${context.fn}_lists ${'option' in listsFrom ? `option=${listsFrom.option}` : `argument=${listsFrom.argument}`}`;
    case 'choices':
      return `(${value.choices.map(escapeWord).join(' ')})`;
    case 'command':
      return `(${context.commands.map(escapeWord).join(' ')})`;
    case 'text':
      return ' ';
  }
}

function message(word: string): string {
  return (word || 'value').replace(/[:\\]/g, '\\$&');
}

function escapeBrackets(text: string): string {
  return text.replace(/[\\[\]]/g, '\\$&');
}

function escapeWord(word: string): string {
  return word.replace(/[\\\s()'"`$:]/g, '\\$&');
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}
