/**
 * An operator at 3 a.m. in an 80-column terminal (a console, a tmux pane): the screens of
 * doctor, check, plan and apply fit the width the terminal reports, instead of wrapping
 * mid-border. Off a terminal (a pipe, a log, a transcript) they fit 80 columns, as on the
 * console the log is read on later; $COLUMNS overrides both. Doctor over 200 lists with one
 * broken fits one 80×25 screen. --quiet prints the verdict line alone, --verbose more.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import type { IncidentSandbox } from '../../samples/buildIncidentSandbox.js';
import { renderApply } from '../../src/cli/commands/renderApply.js';
import { renderCheck } from '../../src/cli/commands/renderCheck.js';
import { renderDoctor } from '../../src/cli/commands/renderDoctor.js';
import { renderPlan } from '../../src/cli/commands/renderPlan.js';
import { displayWidth, type Io } from '../../src/cli/output.js';
import { diagnoseMailman } from '../../src/mailman/diagnoseMailman.js';
import { checkBudget } from '../../src/plan/checkBudget.js';
import { planRestore } from '../../src/plan/planRestore.js';
import { makeProblem } from '../../src/problems.js';
import { runCli } from '../../src/cli/main.js';
import type { ApplyRunResult } from '../../src/types.js';
import { applyPlan } from '../../src/apply/applyPlan.js';
import { breakMailmanTree } from '../../samples/breakMailmanTree.js';
import { generateMailmanTree } from '../../samples/generateMailmanTree.js';
import { makeScratch, missingNeeds } from '../helpers/env.js';
import { unwrapLines } from '../helpers/unwrapLines.js';
import { buildBackup } from '../helpers/liveMailman.js';
import { repo } from '../helpers/runCli.js';

const why = missingNeeds({ tools: ['tar', 'python3'] });
const scratch = makeScratch('restoreplan-narrow-');
let sandbox: IncidentSandbox;

const columnsBefore = process.env.COLUMNS;
test.before(async () => {
  delete process.env.COLUMNS;
  if (why) return;
  sandbox = await buildBackup(path.join(scratch.dir, 'sandbox'));
});
test.after(() => {
  if (columnsBefore !== undefined) process.env.COLUMNS = columnsBefore;
  scratch.cleanup();
});

/**
 * A terminal of `columns` columns, or a pipe (undefined). No colour: NO_COLOR is not what is
 * tested here. $COLUMNS is cleared while this file runs (a developer's shell may export it).
 */
function terminal(columns: number | undefined): { io: Io; text: () => string } {
  let text = '';
  const stdout = Object.assign(new PassThrough(), { isTTY: columns !== undefined, columns });
  stdout.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  const io: Io = { stdout, stderr: new PassThrough(), stdin: new PassThrough() };
  return { io, text: () => text };
}

const widest = (text: string): number =>
  Math.max(...text.split('\n').map((line) => [...line].length));

test('check, plan and apply tables fit an 80-column terminal', async () => {
  if (why) return console.log(`skipped: ${why}`);
  const previous = process.env.NO_COLOR;
  process.env.NO_COLOR = '1';
  try {
    const check = await checkBudget(sandbox.backup, { target: sandbox.live });
    const plan = await planRestore(sandbox.backup, { target: sandbox.live });
    const applied: ApplyRunResult = {
      schemaVersion: 1,
      status: 'stopped',
      restored: [],
      skipped: [
        {
          targetPath: path.join(sandbox.live, 'lists/announce/config.pck'),
          reason: 'locked: locks/announce.lock is held by process 4242 on this host (mailmanctl)',
          kind: 'locked',
        },
      ],
      verified: true,
      inodes: [{ mountPoint: '/', predicted: 0, actual: 0 }],
      journal: '/root/plan.json.journal',
      reason: 'some lists are locked by a live process',
    };
    for (const [name, render] of [
      ['check', (io: Io) => renderCheck(io, check)],
      ['plan', (io: Io) => renderPlan(io, plan, '/root/plan.json')],
      ['apply', (io: Io) => renderApply(io, applied)],
    ] as const) {
      const narrow = terminal(80);
      render(narrow.io);
      assert.ok(widest(narrow.text()) <= 80, `${name}: a line of ${widest(narrow.text())}`);
      const table = narrow
        .text()
        .split('\n')
        .filter((line) => /^[┌│├└]/.test(line))
        .join('\n');
      assert.ok(table.length > 0, `${name} prints a table`);
      assert.ok(widest(table) <= 80, `${name}: a table line of ${widest(table)} columns`);
      assert.not.match(table, /…/, `${name}: nothing is cut off`);
    }
    // A pipe is not a terminal: 80 columns (a log is read later, often on a console), and a
    // terminal that reports 0 columns does not know its width: 80 too.
    for (const columns of [undefined, 0]) {
      const piped = terminal(columns);
      renderPlan(piped.io, plan, '/root/plan.json');
      assert.ok(widest(piped.text()) <= 80, `${columns}: ${widest(piped.text())}`);
      assert.ok(widest(piped.text()) >= 70, 'the width is used');
    }
    // Nor is a path longer than its column cut off there (the log is what is read later).
    const deep = `${sandbox.live}/archives/private/announce/2024-November/thread-of-a-long-subject.html`;
    const log = terminal(undefined);
    renderApply(log.io, { ...applied, skipped: [{ ...applied.skipped[0]!, targetPath: deep }] });
    assert.not.match(log.text(), /…/);
    const firstColumn = log
      .text()
      .split('\n')
      .filter((line) => line.startsWith('│'))
      .map((line) => line.split('│')[1]?.trim())
      .join('');
    assert.ok(firstColumn.endsWith(`skipped${deep}`), firstColumn);
  } finally {
    if (previous === undefined) delete process.env.NO_COLOR;
    else process.env.NO_COLOR = previous;
  }
});

test("plan's steps with paths in Japanese stay one line each, within 80 columns", async () => {
  if (why) return console.log(`skipped: ${why}`);
  const plan = await planRestore(sandbox.backup, { target: sandbox.live });
  const stage = plan.stages[0]!;
  // Fewer characters than the line has room for, more columns: only a count of columns sees it.
  const name = '日本語のメーリングリスト';
  const step = {
    ...stage.steps[0]!,
    targetPath: `/srv/${name}/config.pck`,
    memberPath: `lists/${name}/config.pck`,
  };
  const cjk = { ...plan, stages: [{ ...stage, steps: [step] }, ...plan.stages.slice(1)] };
  const screen = terminal(80);
  renderPlan(screen.io, cjk, null);
  const lines = screen.text().split('\n');
  const widestColumns = Math.max(...lines.map(displayWidth));
  assert.ok(widestColumns <= 80, `a line of ${widestColumns} columns`);
  const stepLines = lines.filter((line) => line.includes('config.pck') && line.includes('←'));
  assert.is(stepLines.length, 1, lines.join('\n'));
  assert.match(stepLines[0]!, /^ {2}\S+ +\S+ {2,}/);
});

test("doctor's tables fit an 80-column terminal too, long evidence wrapped; a pipe gets 80 columns too", async () => {
  if (why) return console.log(`skipped: ${why}`);
  const previous = process.env.NO_COLOR;
  process.env.NO_COLOR = '1';
  try {
    const report = await diagnoseMailman(sandbox.live);
    // A list gone with long evidence, as doctor reports one (the widest cell of the table).
    report.lists.push({
      ...report.lists[0]!,
      name: 'a-list-with-a-long-name',
      status: 'missing',
      mailmanAction:
        'does not see the list (lists/a-list-with-a-long-name is gone): it is down and its mail is refused',
      evidence: [
        {
          kind: 'alias-stanza',
          path: 'data/virtual-mailman',
          detail: 'data/virtual-mailman has its stanza',
        },
      ],
    });
    const narrow = terminal(80);
    renderDoctor(narrow.io, report);
    const table = narrow
      .text()
      .split('\n')
      .filter((line) => /^[┌│├└]/.test(line))
      .join('\n');
    assert.ok(widest(table) <= 80, `doctor: a table line of ${widest(table)} columns\n${table}`);
    assert.not.match(table, /…/, 'nothing is cut off');
    // The action column, read down: the whole sentence is there, wrapped.
    const action = table
      .split('\n')
      .filter((line) => line.startsWith('│'))
      .map((line) => line.split('│')[3]?.trim() ?? '')
      .join(' ');
    assert.match(action, /it is down and its mail is refused/);
    const piped = terminal(undefined);
    renderDoctor(piped.io, report);
    assert.ok(widest(piped.text()) <= 80, 'off a terminal: 80 columns');
  } finally {
    if (previous === undefined) delete process.env.NO_COLOR;
    else process.env.NO_COLOR = previous;
  }
});

test('on a terminal a table prints no escape codes, raw or as text (its colours were escaped)', async () => {
  if (why) return console.log(`skipped: ${why}`);
  const previous = process.env.NO_COLOR;
  delete process.env.NO_COLOR;
  try {
    const plan = await planRestore(sandbox.backup, { target: sandbox.live });
    const tty = terminal(200);
    renderPlan(tty.io, plan, null);
    assert.ok(tty.text().includes('┌'), 'a table');
    assert.not.ok(tty.text().includes('\x1b'), 'no raw ESC');
    assert.not.ok(tty.text().includes('\\x1b'), 'no escaped colour code as text');
  } finally {
    if (previous !== undefined) process.env.NO_COLOR = previous;
  }
});

/** 200 lists, one corrupt (both config files broken), a few queue files: a real server's day. */
async function buildManyLists(root: string): Promise<string[]> {
  const lists = Array.from({ length: 200 }, (_, i) => `list${String(i).padStart(3, '0')}`);
  await generateMailmanTree(root, { lists, members: 3, postsPerList: 1, queueFiles: 12 });
  await breakMailmanTree(root, [
    { list: 'list042', shape: 'truncated' },
    { list: 'list042', shape: 'zeroed', file: 'config.pck.last' },
  ]);
  return lists;
}

test('doctor over 200 lists with one broken fits one 80×25 screen; --all and --verbose list them all', async () => {
  if (why) return console.log(`skipped: ${why}`);
  const root = path.join(scratch.dir, 'many');
  await buildManyLists(root);
  const report = await diagnoseMailman(root);
  assert.is(report.summary.corrupt, 1);
  for (const columns of [80, undefined, 0]) {
    const screen = terminal(columns);
    renderDoctor(screen.io, report);
    const lines = screen.text().replace(/\n$/, '').split('\n');
    assert.ok(lines.length <= 24, `${columns}: ${lines.length} lines\n${screen.text()}`);
    assert.ok(widest(screen.text()) <= 80, `${columns}: ${widest(screen.text())} columns`);
    // The broken list is on the screen, first; the others in one line.
    assert.match(screen.text(), /│ list042 +│ corrupt/);
    assert.ok(lines.includes('199 more lists ok (--all lists them)'), screen.text());
    assert.not.match(screen.text(), /list041/);
  }
  const all = terminal(80);
  renderDoctor(all.io, report, { all: true });
  const rows = all.text().match(/^│ list\d{3} /gm) ?? [];
  assert.is(rows.length, 200, 'every list a row');
  assert.ok(rows[0]?.startsWith('│ list042'), 'the broken one first');
  assert.not.match(all.text(), /more lists? ok/);
  // A healthy list is one line: 200 lists are not 400 lines.
  assert.ok(all.text().split('\n').length < 240, `${all.text().split('\n').length} lines`);
  assert.ok(widest(all.text()) <= 80);

  const verbose = terminal(80);
  renderDoctor(verbose.io, report, { verbosity: 'verbose' });
  assert.is((verbose.text().match(/^│ list\d{3} /gm) ?? []).length, 200, '--verbose implies --all');
  assert.match(verbose.text(), /loads from/);
  assert.match(verbose.text(), /config\.db: missing/, 'every file, the missing ones too');
  assert.ok(widest(verbose.text()) <= 80);

  const quiet = terminal(80);
  renderDoctor(quiet.io, report, { verbosity: 'quiet' });
  assert.is(
    quiet.text(),
    'Lists: 199 ok, 0 degraded, 1 corrupt, 0 lost, 0 missing · Mailman not running\n',
  );
});

test('$COLUMNS sets the width, over the terminal and off it; nonsense in it is ignored', async () => {
  if (why) return console.log(`skipped: ${why}`);
  const report = await diagnoseMailman(sandbox.live);
  const width = (columns: number | undefined, env: string | undefined): number => {
    if (env === undefined) delete process.env.COLUMNS;
    else process.env.COLUMNS = env;
    try {
      const screen = terminal(columns);
      renderDoctor(screen.io, report, { all: true });
      return widest(screen.text());
    } finally {
      delete process.env.COLUMNS;
    }
  };
  assert.ok(width(undefined, '60') <= 60);
  assert.ok(width(200, '60') <= 60, 'over the terminal');
  assert.ok(width(undefined, '200') > 80, 'wider than 80 when asked');
  for (const nonsense of ['', 'wide', '-5', '0', '1e3'])
    assert.ok(width(undefined, nonsense) <= 80, `COLUMNS=${JSON.stringify(nonsense)}`);
  // Narrower than a table can be drawn: 40 (the tables stay whole, borders aligned).
  const tiny = width(undefined, '5');
  assert.ok(tiny <= 40, `COLUMNS=5: ${tiny}`);
});

test('--help fits the screen too: a terminal reporting 0 columns, and $COLUMNS', () => {
  if (missingNeeds({ tools: ['script', 'stty'] })) return console.log('skipped: no script(1)');
  // A real pseudo-terminal: commander asks process.stdout for its width, not the Io.
  const help = (setup: string): string => {
    const command = `${setup}; "${process.execPath}" --import tsx "${path.join(repo, 'src/cli/bin.ts')}" plan --help`;
    const run = spawnSync('script', ['-qec', command, '/dev/null'], {
      cwd: repo,
      encoding: 'utf8',
      input: '',
      env: { ...process.env, COLUMNS: '' },
    });
    assert.is(run.status, 0, run.stderr);
    return run.stdout.replace(/\r/g, '');
  };
  const zero = help('stty cols 0 rows 25');
  assert.match(zero, /--include-degraded/);
  assert.ok(widest(zero) <= 80, `0 columns: a line of ${widest(zero)}`);
  const wide = help('stty cols 200 rows 25; export COLUMNS=80');
  assert.ok(widest(wide) <= 80, `COLUMNS=80 on 200 columns: a line of ${widest(wide)}`);
  assert.ok(widest(wide) >= 70, 'the width is used');
});

test("plan's verdict line says what it means: a verdict other than OK named, nothing to do not a refusal", async () => {
  if (why) return console.log(`skipped: ${why}`);
  const plan = await planRestore(sandbox.backup, { target: sandbox.live });
  assert.ok(plan.feasible);
  const down = {
    ...plan,
    verdict: 'critical' as const,
    problems: [
      ...plan.problems,
      makeProblem('no-valid-copy', 'announce: the archive has no config.pck for it', {
        list: 'announce',
      }),
    ],
  };
  const quiet = terminal(80);
  renderPlan(quiet.io, down, null, { verbosity: 'quiet' });
  assert.match(quiet.text(), /^Feasible: .* · CRITICAL: no-valid-copy\n$/);
  const ok = terminal(80);
  renderPlan(ok.io, { ...plan, verdict: 'ok', problems: [] }, null, { verbosity: 'quiet' });
  assert.not.match(ok.text(), /CRITICAL|WARNING|OK/);
  // Nothing to do is feasible: not "no strategy fits", which reads as a refusal.
  const idle = terminal(80);
  renderPlan(idle.io, { ...plan, strategy: null, stages: [] }, null, { verbosity: 'quiet' });
  assert.match(idle.text(), /^Feasible: nothing to do — /);
});

test('--quiet prints the verdict line alone; --verbose more than the normal screen', async () => {
  if (why) return console.log(`skipped: ${why}`);
  const check = await checkBudget(sandbox.backup, { target: sandbox.live });
  const plan = await planRestore(sandbox.backup, { target: sandbox.live });
  const preview = await applyPlan(plan, { dryRun: true });
  const quiet = (render: (io: Io) => void): string => {
    const screen = terminal(80);
    render(screen.io);
    return screen.text();
  };
  assert.is(
    quiet((io) => renderCheck(io, check, { verbosity: 'quiet' })),
    `Verdict: ${check.verdict.toUpperCase()}\n`,
  );
  assert.match(
    quiet((io) => renderPlan(io, plan, '/root/plan.json', { verbosity: 'quiet' })),
    /^(Feasible|NOT feasible): [^\n]*\n$/,
  );
  assert.match(
    quiet((io) => renderApply(io, preview, undefined, { verbosity: 'quiet' })),
    /^Dry run: \d+ paths would be restored; nothing was written\.\n$/,
  );
  // --verbose: what the normal screen sums up.
  const normalPlan = quiet((io) => renderPlan(io, plan, null));
  const verbosePlan = quiet((io) => renderPlan(io, plan, null, { verbosity: 'verbose' }));
  assert.match(normalPlan, /lists ok, not restored \(--verbose lists them\)/);
  for (const list of plan.lists) assert.match(verbosePlan, new RegExp(`│ ${list.name} `));
  const verboseCheck = quiet((io) => renderCheck(io, check, { verbosity: 'verbose' }));
  assert.match(verboseCheck, /Space free including root's reserved blocks/);
  assert.not.match(
    quiet((io) => renderCheck(io, check)),
    /Space free including/,
  );
});

test('the CLI: --quiet with --verbose is a USAGE error; with --json neither changes the document', async () => {
  if (why) return console.log(`skipped: ${why}`);
  const run = async (args: string[]): Promise<{ code: number; stdout: string; stderr: string }> => {
    let stdout = '';
    let stderr = '';
    const out = new PassThrough();
    const err = new PassThrough();
    out.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    err.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    const code = await runCli(args, { stdout: out, stderr: err, stdin: new PassThrough() });
    return { code, stdout, stderr };
  };
  const both = await run(['doctor', sandbox.live, '--quiet', '--verbose']);
  assert.is(both.code, 3);
  assert.is(both.stdout, '');
  assert.match(both.stderr, /^restoreplan: USAGE: --quiet and --verbose exclude each other\n/);
  // A monitoring plugin still prints its one line, UNKNOWN, for the refusal.
  const plugin = await run(['doctor', sandbox.live, '--nagios', '-q', '-v']);
  assert.is(plugin.code, 3);
  assert.is(
    plugin.stdout,
    'RESTOREPLAN-MAILMAN UNKNOWN - USAGE: --quiet and --verbose exclude each other\n',
  );
  const checkPlugin = await run([
    'check',
    sandbox.backup,
    '--target',
    sandbox.live,
    '--nagios',
    '-q',
    '-v',
  ]);
  assert.match(checkPlugin.stdout, /^RESTOREPLAN UNKNOWN - USAGE: --quiet and --verbose/);
  const bothJson = await run(['doctor', sandbox.live, '-q', '-v', '--json']);
  assert.is(bothJson.code, 3);
  assert.is(JSON.parse(bothJson.stdout).error.code, 'USAGE');

  const strip = (text: string): unknown => {
    const doc = JSON.parse(text) as Record<string, unknown>;
    // Free inodes move between two runs (other processes write on the same filesystem), and
    // with them the forecast; a queue file's mtime can leave the last hour between them.
    const moving = ['filesystem', 'forecast', 'queues', 'queueInflowPerHour', 'growthAllowance'];
    for (const key of [...moving, 'growthMeasured']) delete doc[key];
    return doc;
  };
  const json = await run(['doctor', sandbox.live, '--json']);
  for (const flag of ['--quiet', '--verbose', '--all'])
    assert.equal(
      strip((await run(['doctor', sandbox.live, '--json', flag])).stdout),
      strip(json.stdout),
      flag,
    );

  const quiet = await run(['doctor', sandbox.live, '--quiet']);
  assert.is(quiet.code, 2);
  // The verdict: the list counts, and what makes it critical (the exit code's reasons).
  assert.match(unwrapLines(quiet.stdout), /^Lists: \d+ ok, [^\n]*\nCRITICAL: [^\n]*\n$/);
  const checkQuiet = await run(['check', sandbox.backup, '--target', sandbox.live, '-q']);
  assert.match(checkQuiet.stdout, /^Verdict: [A-Z]+\n$/);
  // Errors are still printed.
  const missing = await run(['doctor', path.join(scratch.dir, 'nowhere'), '--quiet']);
  assert.is(missing.code, 3);
  assert.match(missing.stderr, /^restoreplan: MAILMAN_NOT_FOUND: /);
});

test.run();
