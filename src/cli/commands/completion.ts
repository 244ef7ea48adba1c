import type { Command } from 'commander';
import { Argument } from 'commander';

import { listDirNamesAt } from '../../mailman/findMailmanRoot.js';
import type { CliContext } from '../command.js';
import { describeCompletion, LIST_NAMES_COMMAND } from '../completion/describeCompletion.js';
import { formatBashCompletion } from '../completion/formatBashCompletion.js';
import { formatFishCompletion } from '../completion/formatFishCompletion.js';
import { formatZshCompletion } from '../completion/formatZshCompletion.js';
import { EXIT } from '../exitCodes.js';
import { writeLine } from '../output.js';

const SHELLS = {
  bash: formatBashCompletion,
  zsh: formatZshCompletion,
  fish: formatFishCompletion,
} as const;

/**
 * A name the completion scripts can offer as typed: Mailman's own list names are lowercase
 * letters, digits and - _ . + =; anything with a space, comma, quote or control character
 * would break the line it is completed into.
 */
const OFFERABLE_NAME = /^[\p{L}\p{N}._+=@-]+$/u;

export function registerCompletionCommand(program: Command, ctx: CliContext): void {
  program
    .command('completion')
    .summary('print the shell completion script (bash, zsh or fish)')
    .description(
      'Print a completion script for SHELL on stdout: commands, their flags, files and directories, and for --lists the names of the lists under the var dir the line names (--target or DIR). bash: `restoreplan completion bash > /etc/bash_completion.d/restoreplan`; zsh: save it as _restoreplan in a directory of $fpath; fish: `restoreplan completion fish > ~/.config/fish/completions/restoreplan.fish`.',
    )
    .addArgument(new Argument('<shell>', 'bash, zsh or fish').choices(Object.keys(SHELLS)))
    .action((shell: keyof typeof SHELLS) => {
      writeLine(ctx.io, SHELLS[shell](describeCompletion(program)).trimEnd());
      ctx.exitCode = EXIT.OK;
    });
  // For the scripts only, at every Tab on --lists: the directory names under DIR/lists, no
  // diagnosis (a var dir of thousands of lists answers at once), silent when there are none.
  program
    .command(LIST_NAMES_COMMAND, { hidden: true })
    .argument('<dir>')
    .action(async (dir: string) => {
      for (const name of await listDirNamesAt(dir))
        if (OFFERABLE_NAME.test(name)) writeLine(ctx.io, name);
      ctx.exitCode = EXIT.OK;
    });
}
