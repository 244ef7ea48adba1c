/**
 * The bash completion script: the spec's commands, flags and value kinds as `case` tables, and
 * one function that reads the line as commander will (a flag's value is the next word, or
 * follows `=`), then offers commands, flags, files, directories, choices or list names. List
 * names come from `restoreplan __list-names DIR`, DIR being what the line names as the var dir.
 * No bash-completion package needed: COMP_WORDS and compgen only.
 */
import type { CompletionSpec, CompletionValue } from './describeCompletion.js';
import { LIST_NAMES_COMMAND } from './describeCompletion.js';

export function formatBashCompletion(spec: CompletionSpec): string {
  const fn = `_${identifier(spec.program)}`;
  const flagCases: string[] = [`    '') printf '%s\\n' ${flagWords(spec.options)} ;;`];
  const valueCases: string[] = [];
  const argumentCases: string[] = [];
  const listsCases: string[] = [];
  for (const command of spec.commands) {
    const name = command.name;
    flagCases.push(`    ${quote(name)}) printf '%s\\n' ${flagWords(command.options)} ;;`);
    for (const option of command.options) {
      if (!option.value) continue;
      const patterns = [option.short, option.long]
        .filter((flag): flag is string => !!flag)
        .map((flag) => quote(`${name}/${flag}`));
      valueCases.push(`    ${patterns.join('|')}) echo ${quote(valueWord(option.value))} ;;`);
    }
    command.arguments.forEach((argument, index) =>
      argumentCases.push(
        `    ${quote(`${name}/${index}`)}) echo ${quote(valueWord(argument.value))} ;;`,
      ),
    );
    if (command.listsFrom) {
      const from =
        'option' in command.listsFrom
          ? `option:${command.listsFrom.option}`
          : `argument:${command.listsFrom.argument}`;
      listsCases.push(`    ${quote(name)}) echo ${quote(from)} ;;`);
    }
  }
  const commands = spec.commands.map((command) => command.name).join(' ');
  return `# bash completion for ${spec.program}, printed by \`${spec.program} completion bash\`.
# This shell:   source <(${spec.program} completion bash)
# Every shell:  ${spec.program} completion bash > /etc/bash_completion.d/${spec.program}

${fn}_commands=${quote(commands)}

# The flags of a command ('' for the program itself).
${fn}_flags() {
  case $1 in
${flagCases.join('\n')}
  esac
}

# What the value of COMMAND's FLAG is: file, dir, lists, command, text or "choices A B";
# nothing for a flag without a value.
${fn}_value() {
  case $1/$2 in
${valueCases.join('\n')}
  esac
}

# What COMMAND's argument N (from 0) is, in the same words.
${fn}_argument() {
  case $1/$2 in
${argumentCases.join('\n')}
  esac
}

# Where COMMAND's --lists finds the Mailman var dir: option:FLAG or argument:N.
${fn}_lists_from() {
  case $1 in
${listsCases.join('\n')}
  esac
}

# Offers the words of $1 (flags, commands, choices: no spaces in them) that start with $cur.
# mapfile, not COMPREPLY=($(...)): a result is never taken for a glob.
${fn}_words() {
  mapfile -t COMPREPLY < <(compgen -W "$1" -- "$cur")
}

# Offers list names under $1/lists, after any names already typed (a,b,<cur>).
${fn}_lists() {
  local dir=$1 prefix='' part=$cur name names
  [[ -n $dir ]] || return 0
  # The word as typed: quotes and backslashes are the shell's, ~ is the home directory.
  if [[ $dir == \\"*\\" || $dir == \\'*\\' ]]; then
    dir=\${dir:1:\${#dir}-2}
  else
    dir=\${dir//\\\\/}
  fi
  [[ $dir == '~' || $dir == '~/'* ]] && dir=$HOME\${dir#'~'}
  if [[ $part == *,* ]]; then
    prefix=\${part%,*},
    part=\${part##*,}
  fi
  names=$("$program" ${LIST_NAMES_COMMAND} -- "$dir" 2>/dev/null) || return 0
  while IFS= read -r name; do
    [[ -n $name && $name == "$part"* && ,$prefix != *",$name,"* ]] && COMPREPLY+=("$prefix$name")
  done <<<"$names"
}

${fn}() {
  local cur=\${COMP_WORDS[COMP_CWORD]} program=\${COMP_WORDS[0]} command='' expect='' vardir=''
  local listsfrom='' word value
  local -i i positional=0
  [[ $program == '~/'* ]] && program=$HOME/\${program#'~/'}
  COMPREPLY=()
  for ((i = 1; i < COMP_CWORD; i++)); do
    word=\${COMP_WORDS[i]}
    if [[ -n $expect ]]; then
      # --flag=value: bash splits the word at the =, which is not the value.
      [[ $word == = ]] && continue
      [[ $listsfrom == "option:$expect" ]] && vardir=$word
      expect=''
    elif [[ $word == -?* ]]; then
      [[ -n $(${fn}_value "$command" "$word") ]] && expect=$word
    elif [[ -z $command ]]; then
      command=$word
      listsfrom=$(${fn}_lists_from "$command")
    else
      [[ $listsfrom == "argument:$positional" ]] && vardir=$word
      positional+=1
    fi
  done
  [[ -n $expect && $cur == = ]] && cur=''
  if [[ -n $expect ]]; then
    value=$(${fn}_value "$command" "$expect")
  elif [[ $cur == -* ]]; then
    ${fn}_words "$(${fn}_flags "$command")"
    return 0
  elif [[ -z $command ]]; then
    value=command
  else
    value=$(${fn}_argument "$command" "$positional")
  fi
  case $value in
    file)
      compopt -o filenames 2>/dev/null
      mapfile -t COMPREPLY < <(compgen -f -- "$cur")
      ;;
    dir)
      compopt -o filenames 2>/dev/null
      mapfile -t COMPREPLY < <(compgen -d -- "$cur")
      ;;
    lists) ${fn}_lists "$vardir" ;;
    command) ${fn}_words "$${fn}_commands" ;;
    'choices '*) ${fn}_words "\${value#choices }" ;;
  esac
  return 0
}

complete -F ${fn} ${spec.program}
`;
}

/** The words the `_value`/`_argument` tables answer. */
function valueWord(value: CompletionValue): string {
  return value.kind === 'choices' ? `choices ${value.choices.join(' ')}` : value.kind;
}

function flagWords(options: CompletionSpec['options']): string {
  return options
    .flatMap((option) => [option.short, option.long])
    .filter((flag): flag is string => !!flag)
    .map(quote)
    .join(' ');
}

/** A shell word in single quotes. */
export function quote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** A name usable in a shell function name. */
export function identifier(text: string): string {
  return text.replace(/[^A-Za-z0-9_]/g, '_');
}
