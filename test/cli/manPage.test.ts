/**
 * restoreplan(1): rendered by man-db and groff without a warning, naming every command and
 * every flag `--help` shows, generated from the program (a changed definition changes the
 * page), and the page the build leaves in man/ is that generation.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import type { Command } from 'commander';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { EXIT } from '../../src/cli/exitCodes.js';
import { formatManPage } from '../../src/cli/formatManPage.js';
import { buildProgram } from '../../src/cli/main.js';
import { makeScratch, missingNeeds } from '../helpers/env.js';
import { repo } from '../helpers/runCli.js';

const DATE = '2026-01-02';
const scratch = makeScratch('restoreplan-man-');
test.after(() => scratch.cleanup());

function program(): Command {
  const io = { stdout: new PassThrough(), stderr: new PassThrough(), stdin: new PassThrough() };
  return buildProgram({ io, exitCode: 0 });
}

/** The page as man(1) shows it at 80 columns, and what it said on stderr. */
function renderPage(roff: string): { text: string; warnings: string } {
  const file = path.join(scratch.dir, 'restoreplan.1');
  writeFileSync(file, roff);
  const result = spawnSync('man', ['--warnings', '-l', file], {
    encoding: 'utf8',
    env: { ...process.env, MANWIDTH: '80', MANPAGER: 'cat', PAGER: 'cat', LANG: 'C.UTF-8' },
  });
  assert.is(result.status, 0, result.stderr);
  // Bold/underline by overstrike, should man-db keep it: the letters only. A minus sign (when
  // the groff build renders \- as U+2212) reads as the hyphen-minus a user types.
  // eslint-disable-next-line no-control-regex -- the backspace of an overstrike is what is matched
  const text = result.stdout.replace(/.\x08/g, '').replace(/\u2212|\u2010/g, '-');
  return { text, warnings: result.stderr };
}

/** The visible commands and, per command, its visible flags (what --help lists). */
function definitions(p: Command): Array<{ name: string; flags: string[] }> {
  const help = p.createHelp();
  const flagsOf = (command: Command): string[] =>
    command
      .createHelp()
      .visibleOptions(command)
      .flatMap((option) => [option.short, option.long].filter((f): f is string => !!f));
  return [
    { name: p.name(), flags: flagsOf(p) },
    ...help
      .visibleCommands(p)
      .map((command) => ({ name: command.name(), flags: flagsOf(command) })),
  ];
}

/** The text of one section (a heading at the left margin up to the next). */
function section(text: string, heading: string): string {
  const match = new RegExp(`^${heading}\\n([\\s\\S]*?)(?=^\\S|$(?![\\s\\S]))`, 'm').exec(text);
  assert.ok(match, `section ${heading}`);
  return match[1] ?? '';
}

test('man renders the page without a warning, no line over 80 columns', () => {
  const why = missingNeeds({ tools: ['man', 'groff'] });
  if (why) return console.log(`skipped: ${why}`);
  const roff = formatManPage(program(), { date: DATE });
  const { text, warnings } = renderPage(roff);
  assert.is(warnings, '');
  // groff's own check, every warning category on: man(1) may not pass them all through.
  const groff = spawnSync('groff', ['-man', '-Tutf8', '-ww', '-z'], {
    input: roff,
    encoding: 'utf8',
  });
  assert.is(groff.status, 0);
  assert.is(groff.stderr, '');
  const wide = text.split('\n').filter((line) => [...line].length > 80);
  assert.equal(wide, []);
  for (const heading of [
    'NAME',
    'SYNOPSIS',
    'DESCRIPTION',
    'OPTIONS',
    'COMMANDS',
    'EXIT STATUS',
    'ENVIRONMENT',
    'FILES',
    'EXAMPLES',
    'SEE ALSO',
  ])
    assert.match(text, new RegExp(`^${heading}$`, 'm'));
});

test('every command and every flag of every command is on the rendered page, under its command', () => {
  const why = missingNeeds({ tools: ['man', 'groff'] });
  if (why) return console.log(`skipped: ${why}`);
  const p = program();
  const { text } = renderPage(formatManPage(p, { date: DATE }));
  const commandsText = section(text, 'COMMANDS');
  const synopsis = section(text, 'SYNOPSIS');
  const defs = definitions(p);
  assert.ok(defs.length >= 9, 'the program, its commands and help');
  for (const { name, flags } of defs) {
    const own =
      name === p.name()
        ? section(text, 'OPTIONS')
        : // The command's subsection: from its heading to the next one.
          (new RegExp(`^   ${name}\\n([\\s\\S]*?)(?=^   \\S|$(?![\\s\\S]))`, 'm').exec(
            commandsText,
          )?.[1] ?? '');
    assert.ok(own, `${name}: a subsection`);
    if (name !== p.name()) assert.match(synopsis, new RegExp(`^\\s+restoreplan ${name}\\b`, 'm'));
    for (const flag of flags)
      assert.match(own, new RegExp(`(^|[\\s,])${flag}(?![\\w-])`, 'm'), `${name} ${flag}`);
  }
});

test('the page is generated from the definitions: a changed one changes the page', () => {
  const p = program();
  const before = formatManPage(p, { date: DATE });
  const plan = p.commands.find((command) => command.name() === 'plan');
  assert.ok(plan);
  plan.description('Plan a restore, reworded for this test.');
  const target = plan.options.find((option) => option.long === '--target');
  assert.ok(target);
  target.description = 'where it goes, reworded';
  plan.option('--brand-new-flag <thing>', 'a flag only this test defines', 'x');
  plan.option('--secret-flag', 'hidden').options.at(-1)?.hideHelp();
  const after = formatManPage(p, { date: DATE });
  assert.is.not(after, before);
  assert.ok(after.includes('Plan a restore, reworded for this test.'));
  assert.ok(after.includes('where it goes, reworded (required)'), 'a required flag says so');
  assert.ok(after.includes('\\fB\\-\\-brand\\-new\\-flag\\fR \\fIthing\\fR'));
  assert.ok(after.includes('a flag only this test defines (default: "x")'));
  assert.not.ok(after.includes('secret'), 'a hidden flag stays off the page, as in --help');
});

test('roff: text that would be a request, backslashes, non-ASCII and quotes are escaped', () => {
  const p = program();
  p.commands[0]?.description(".TH hijack \\fB 'quoted' \u2014 caf\u00e9 \"x\"\n'SH also");
  const roff = formatManPage(p, { date: DATE });
  assert.ok(roff.includes('\\&.TH hijack \\efB \'quoted\' \\[u2014] caf\\[u00E9] "x"'));
  assert.ok(roff.includes("\n\\&'SH also"));
  assert.not.match(roff, /^\.TH hijack/m);
});

test('EXIT STATUS names every exit code; ENVIRONMENT every variable src reads', () => {
  const why = missingNeeds({ tools: ['man', 'groff'] });
  if (why) return console.log(`skipped: ${why}`);
  const { text } = renderPage(formatManPage(program(), { date: DATE }));
  const exit = section(text, 'EXIT STATUS');
  for (const [name, code] of Object.entries(EXIT))
    assert.match(exit, new RegExp(`^\\s+${code}\\s+${name}:`, 'm'));
  const environment = section(text, 'ENVIRONMENT');
  const read = new Set<string>();
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const file = path.join(dir, name);
      if (statSync(file).isDirectory()) walk(file);
      else if (file.endsWith('.ts'))
        for (const m of readFileSync(file, 'utf8').matchAll(
          // env.NAME, env['NAME'], and a name kept in a constant (`const X_ENV = 'NAME'`).
          /\benv(?:\.([A-Z][A-Z0-9_]*)|\[['"]([A-Z][A-Z0-9_]*)['"]\])|_ENV = ['"]([A-Z][A-Z0-9_]*)['"]/g,
        ))
          read.add((m[1] ?? m[2] ?? m[3]) as string);
    }
  };
  walk(path.join(repo, 'src'));
  assert.ok(read.has('XDG_CACHE_HOME'), 'the scan finds what src reads');
  for (const variable of read)
    assert.match(environment, new RegExp(`^\\s+${variable}\\b`, 'm'), `${variable} documented`);
});

test('the build leaves man/restoreplan.1, generated from the program, and packs it', () => {
  const file = path.join(repo, 'man/restoreplan.1');
  let built: string;
  try {
    built = readFileSync(file, 'utf8');
  } catch {
    assert.unreachable('man/restoreplan.1 is missing: `npm run build` writes it');
    return;
  }
  const date = /^\.TH "RESTOREPLAN" 1 "([0-9-]+)"/.exec(built)?.[1];
  assert.ok(date, 'dated');
  assert.fixture(built, formatManPage(program(), { date }));
  const manifest = JSON.parse(readFileSync(path.join(repo, 'package.json'), 'utf8')) as {
    man?: string[];
    files?: string[];
  };
  assert.equal(manifest.man, ['./man/restoreplan.1']);
  const pack = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: repo,
    encoding: 'utf8',
  });
  assert.is(pack.status, 0, pack.stderr);
  const [packed] = JSON.parse(pack.stdout) as Array<{ files: Array<{ path: string }> }>;
  assert.ok(
    packed?.files.some((f) => f.path === 'man/restoreplan.1'),
    'npm pack ships the page',
  );
});

test.run();
