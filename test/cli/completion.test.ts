/**
 * `restoreplan completion bash|zsh|fish`: the scripts complete commands, each command's flags
 * (from the same definitions as --help), files, directories and, for --lists, the list names
 * under the var dir the line names. bash is driven as bash drives it (COMP_WORDS, COMP_CWORD,
 * the function, COMPREPLY); fish answers `complete -C`; zsh's script is parsed and loaded.
 * The CLI on PATH is the built one (dist/), as an installed package runs it.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import type { Command } from 'commander';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { describeCompletion } from '../../src/cli/completion/describeCompletion.js';
import { formatBashCompletion } from '../../src/cli/completion/formatBashCompletion.js';
import { formatManPage } from '../../src/cli/formatManPage.js';
import { buildProgram } from '../../src/cli/main.js';
import { makeScratch, missingNeeds } from '../helpers/env.js';
import { repo } from '../helpers/runCli.js';

const scratch = makeScratch('restoreplan-completion-');
const bin = path.join(scratch.dir, 'bin');
const varDir = path.join(scratch.dir, 'var');
const work = path.join(scratch.dir, 'work');
const PATH = `${bin}:${process.env.PATH ?? ''}`;

const why = (): string | null =>
  missingNeeds({ tools: ['bash'] }) ??
  (spawnSync('test', ['-f', path.join(repo, 'dist/cli/bin.js')]).status === 0
    ? null
    : 'needs the build (npm run build)');

test.before(() => {
  mkdirSync(bin);
  // `restoreplan` as an installed package puts it on PATH: the built CLI.
  writeFileSync(
    path.join(bin, 'restoreplan'),
    `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(path.join(repo, 'dist/cli/bin.js'))} "$@"\n`,
  );
  chmodSync(path.join(bin, 'restoreplan'), 0o755);
  // Three lists; hidden entries, lost+found, a stray file and a name no line could hold are
  // not offered.
  for (const name of ['announce', 'anne-list', 'staff', '.hidden', 'lost+found', 'bad name'])
    mkdirSync(path.join(varDir, 'lists', name), { recursive: true });
  writeFileSync(path.join(varDir, 'lists', 'apropos'), '');
  mkdirSync(path.join(work, 'subdir'), { recursive: true });
  writeFileSync(path.join(work, 'backup.tar'), '');
  // What `source <(restoreplan completion bash)` loads, printed once by the built CLI.
  if (!why()) {
    const generated = run('restoreplan', ['completion', 'bash']);
    assert.is(generated.code, 0, generated.stderr);
    writeFileSync(path.join(scratch.dir, 'restoreplan.bash'), generated.stdout);
  }
});
test.after(() => scratch.cleanup());

function program(): Command {
  const io = { stdout: new PassThrough(), stderr: new PassThrough(), stdin: new PassThrough() };
  return buildProgram({ io, exitCode: 0 });
}

function run(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync(cmd, args, {
    cwd: work,
    encoding: 'utf8',
    env: { ...process.env, PATH, ...env },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** COMPREPLY for the words of a line, the last being completed (as bash splits them). */
function bashComplete(
  words: string[],
  script = path.join(scratch.dir, 'restoreplan.bash'),
): string[] {
  const line = words.join(' ');
  const result = run(
    'bash',
    [
      '--norc',
      '--noprofile',
      '-c',
      [
        `source ${shellQuote(script)}`,
        `COMP_WORDS=(${words.map(shellQuote).join(' ')})`,
        `COMP_CWORD=${words.length - 1}`,
        `COMP_LINE=${shellQuote(line)}`,
        'COMP_POINT=${#COMP_LINE}',
        '_restoreplan',
        'printf "%s\\n" "${COMPREPLY[@]}"',
      ].join('\n'),
    ],
    { HOME: scratch.dir },
  );
  assert.is(result.code, 0, result.stderr);
  assert.is(result.stderr, '');
  return result.stdout.split('\n').filter(Boolean).sort();
}

test('bash: commands, then each command’s own flags, from the definitions', () => {
  const skip = why();
  if (skip) return console.log(`skipped: ${skip}`);
  assert.equal(bashComplete(['restoreplan', 'pl']), ['plan']);
  const spec = describeCompletion(program());
  assert.equal(bashComplete(['restoreplan', '']), spec.commands.map((c) => c.name).sort());
  assert.ok(spec.commands.some((c) => c.name === 'completion'));
  assert.not.ok(
    spec.commands.some((c) => c.name.startsWith('__')),
    'the helper is hidden',
  );
  assert.equal(bashComplete(['restoreplan', 'check', '--ta']), ['--target']);
  assert.equal(bashComplete(['restoreplan', 'check', 'backup.tar', '--target', '/x', '--ta']), [
    '--target',
  ]);
  for (const command of spec.commands) {
    const flags = command.options
      .flatMap((o) => [o.short, o.long])
      .filter((f): f is string => !!f)
      .sort();
    assert.equal(bashComplete(['restoreplan', command.name, '-']), flags, command.name);
  }
  assert.equal(bashComplete(['restoreplan', '--v']), ['--version']);
});

test('bash: list names under --target for --lists, comma-separated, in every spelling', () => {
  const skip = why();
  if (skip) return console.log(`skipped: ${skip}`);
  const line = ['restoreplan', 'plan', 'backup.tar', '--target', varDir, '--lists'];
  assert.equal(bashComplete([...line, 'an']), ['anne-list', 'announce']);
  assert.equal(bashComplete([...line, '']), ['anne-list', 'announce', 'staff']);
  // The names already typed stay, and are not offered again.
  assert.equal(bashComplete([...line, 'announce,']), ['announce,anne-list', 'announce,staff']);
  assert.equal(bashComplete([...line, 'announce,st']), ['announce,staff']);
  // --target=DIR and --lists=NAMES: bash splits the words at the =.
  assert.equal(
    bashComplete([
      'restoreplan',
      'check',
      '--target',
      '=',
      varDir,
      'backup.tar',
      '--lists',
      '=',
      'st',
    ]),
    ['staff'],
  );
  assert.equal(bashComplete(['restoreplan', 'check', '--target', '=', varDir, '--lists', '=']), [
    'anne-list',
    'announce',
    'staff',
  ]);
  // --target after --lists, and no --target at all.
  assert.equal(
    bashComplete([
      'restoreplan',
      'plan',
      '--lists',
      'x',
      '--target',
      varDir,
      'b.tar',
      '--lists',
      's',
    ]),
    ['staff'],
  );
  // The var dir as typed: quoted, with a backslash, from ~.
  symlinkSync(varDir, path.join(scratch.dir, 'var dir'));
  for (const typed of [
    `"${varDir}"`,
    `'${scratch.dir}/var dir'`,
    `${scratch.dir}/var\\ dir`,
    '~/var',
  ])
    assert.equal(
      bashComplete(['restoreplan', 'plan', '--target', typed, '--lists', 'st']),
      ['staff'],
      typed,
    );
  assert.equal(bashComplete(['restoreplan', 'plan', 'backup.tar', '--lists', '']), []);
  // A var dir word that reads as an option is still the directory: never help text or a
  // version number offered as list names.
  for (const typed of ['-V', '--help'])
    assert.equal(
      bashComplete(['restoreplan', 'plan', '--target', typed, '--lists', '']),
      [],
      typed,
    );
  assert.equal(
    bashComplete(['restoreplan', 'plan', '--target', '/nonexistent', '--lists', '']),
    [],
  );
});

test('bash: files for archives and plans, directories for dirs, nothing for numbers', () => {
  const skip = why();
  if (skip) return console.log(`skipped: ${skip}`);
  assert.equal(bashComplete(['restoreplan', 'scan', '']), ['backup.tar', 'subdir']);
  assert.equal(bashComplete(['restoreplan', 'apply', 'b']), ['backup.tar']);
  assert.equal(bashComplete(['restoreplan', 'plan', 'backup.tar', '--out', 'b']), ['backup.tar']);
  assert.equal(bashComplete(['restoreplan', 'doctor', '']), ['subdir']);
  assert.equal(bashComplete(['restoreplan', 'plan', 'backup.tar', '--target', '']), ['subdir']);
  assert.equal(bashComplete(['restoreplan', 'scan', '--depth', '']), []);
  assert.equal(bashComplete(['restoreplan', 'completion', '']), ['bash', 'fish', 'zsh']);
  assert.equal(bashComplete(['restoreplan', 'help', 'w']), ['wizard']);
});

test('bash: a flag defined on a command is completed, its var dir argument found (generated, not hand-written)', () => {
  const skip = why();
  if (skip) return console.log(`skipped: ${skip}`);
  const p = program();
  const doctor = p.commands.find((c) => c.name() === 'doctor');
  assert.ok(doctor);
  doctor.option('--lists <names>', 'only these lists').option('--brand-new <file>', 'a file');
  const file = path.join(scratch.dir, 'modified.bash');
  writeFileSync(file, formatBashCompletion(describeCompletion(p)));
  assert.equal(bashComplete(['restoreplan', 'doctor', '--bra'], file), ['--brand-new']);
  assert.equal(bashComplete(['restoreplan', 'doctor', '--brand-new', 'back'], file), [
    'backup.tar',
  ]);
  // doctor DIR --lists: the var dir is the command's DIR argument.
  assert.equal(
    bashComplete(['restoreplan', 'doctor', '--brand-new', 'x', varDir, '--lists', 'a'], file),
    ['anne-list', 'announce'],
  );
});

test('completion: an unknown or missing shell is one USAGE line; the helper lists names only', () => {
  const skip = why();
  if (skip) return console.log(`skipped: ${skip}`);
  for (const args of [['completion', 'tcsh'], ['completion']]) {
    const result = run('restoreplan', args);
    assert.is(result.code, 3);
    assert.is(result.stdout, '');
    assert.match(result.stderr, /^restoreplan: USAGE: .*shell.*\n {2}hint: /);
  }
  const names = run('restoreplan', ['__list-names', varDir]);
  assert.is(names.code, 0);
  assert.is(names.stdout, 'anne-list\nannounce\nstaff\n');
  const none = run('restoreplan', ['__list-names', path.join(scratch.dir, 'nonexistent')]);
  assert.equal([none.code, none.stdout, none.stderr], [0, '', '']);
  const page = formatManPage(program(), { date: '2026-01-01' });
  assert.ok(page.includes('.SS "completion"'), 'completion is documented');
  assert.not.ok(page.includes('list\\-names'), 'the helper is not');
});

test('fish: the script parses and answers complete -C', () => {
  const skip = why() ?? missingNeeds({ tools: ['fish'] });
  if (skip) return console.log(`skipped: ${skip}`);
  const script = path.join(scratch.dir, 'restoreplan.fish');
  const generated = run('restoreplan', ['completion', 'fish']);
  assert.is(generated.code, 0, generated.stderr);
  writeFileSync(script, generated.stdout);
  assert.is(run('fish', ['-n', script]).code, 0);
  const complete = (line: string): string[] => {
    const result = run('fish', [
      '--no-config',
      '-c',
      `source ${shellQuote(script)}; complete -C ${shellQuote(line)}`,
    ]);
    assert.is(result.code, 0, result.stderr);
    assert.is(result.stderr, '');
    return result.stdout
      .split('\n')
      .filter(Boolean)
      .map((entry) => entry.split('\t')[0] as string)
      .sort();
  };
  assert.equal(complete('restoreplan pl'), ['plan']);
  assert.equal(complete('restoreplan check --ta'), ['--target']);
  assert.equal(complete(`restoreplan plan backup.tar --target ${varDir} --lists an`), [
    'anne-list',
    'announce',
  ]);
  assert.equal(complete(`restoreplan check --target=${varDir} x.tar --lists announce,`), [
    'announce,anne-list',
    'announce,staff',
  ]);
  assert.equal(complete('restoreplan completion '), ['bash', 'fish', 'zsh']);
  assert.equal(complete('restoreplan scan b'), ['backup.tar']);
  assert.equal(complete('restoreplan doctor '), ['subdir/']);
  assert.equal(complete('restoreplan scan --depth '), []);
});

/**
 * Drives an interactive zsh in a pseudo-terminal (zsh/zpty): types the line and a Tab, and
 * records every match the completion system adds (compadd wrapped). The line is typed once the
 * shell is ready (typed ahead, zsh drops it), and the `print` typed after the Tab waits for the
 * completion to finish: zsh reads its input in order. 42, not the typed text: the echo of what
 * was typed must not match.
 */
const ZSH_DRIVER = String.raw`
zmodload zsh/zpty
zpty z zsh -f -i
zpty -w z "PS1=''; fpath=($1 \$fpath); autoload -U compinit; compinit -u -D"
zpty -w z "compadd() { builtin compadd -O __m \"\$@\"; print -rl -- \$__m >> $2; builtin compadd \"\$@\" }"
zpty -w z "print -r -- \$((6 * 7))READY"
zpty -r -m z line '*42READY*'
zpty -w -n z "$3"$'\t'
zpty -w z $'\C-u'"print -r -- \$((6 * 7))DONE"
zpty -r -m z line '*42DONE*'
zpty -d z
`;

test('zsh: the script parses, registers with compdef, and completes in a real zsh', () => {
  const skip = why() ?? missingNeeds({ tools: ['zsh'] });
  if (skip) return console.log(`skipped: ${skip}`);
  const dir = path.join(scratch.dir, 'zsh-functions');
  mkdirSync(dir, { recursive: true });
  const script = path.join(dir, '_restoreplan');
  const generated = run('restoreplan', ['completion', 'zsh']);
  assert.is(generated.code, 0, generated.stderr);
  writeFileSync(script, generated.stdout);
  assert.is(run('zsh', ['-n', script]).code, 0);
  const sourced = run('zsh', [
    '-f',
    '-c',
    `autoload -U compinit && compinit -u -D; source ${shellQuote(script)}; print -r -- \${_comps[restoreplan]}`,
  ]);
  assert.equal([sourced.code, sourced.stdout, sourced.stderr], [0, '_restoreplan\n', '']);
  const driver = path.join(scratch.dir, 'drive.zsh');
  writeFileSync(driver, ZSH_DRIVER);
  let n = 0;
  // On a loaded machine (CI, once) a completion through the pty offered nothing at all — the
  // line typed after the Tab racing it, as far as we can tell; it never reproduced alone. Try
  // again, a few times, before calling a completion empty.
  const complete = (line: string): string[] => {
    for (let attempt = 1; ; attempt += 1) {
      const matches = completeOnce(line);
      if (matches.length > 0 || attempt === 3) return matches;
    }
  };
  const completeOnce = (line: string): string[] => {
    const out = path.join(scratch.dir, `zsh-matches-${n++}`);
    writeFileSync(out, '');
    const result = spawnSync('zsh', ['-f', driver, dir, out, line], {
      cwd: work,
      encoding: 'utf8',
      timeout: 30_000,
      env: { ...process.env, PATH, HOME: scratch.dir },
    });
    assert.is(result.status, 0, `${line}: ${result.stderr}`);
    return [...new Set(readFileSync(out, 'utf8').split('\n').filter(Boolean))].sort();
  };
  assert.equal(complete('restoreplan pl'), ['plan']);
  assert.equal(complete('restoreplan check --ta'), ['--target']);
  assert.equal(complete(`restoreplan plan backup.tar --target ${varDir} --lists an`), [
    'anne-list',
    'announce',
  ]);
  // After a comma zsh keeps the typed part aside (IPREFIX): the names alone, less the typed.
  assert.equal(complete(`restoreplan check --target=${varDir} x.tar --lists announce,`), [
    'anne-list',
    'staff',
  ]);
  assert.equal(complete(`restoreplan plan --target ~/var --lists s`), ['staff']);
  assert.equal(complete('restoreplan completion '), ['bash', 'fish', 'zsh']);
  assert.equal(complete('restoreplan scan b'), ['backup.tar']);
});

test.run();
