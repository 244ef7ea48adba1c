/**
 * The wizard on a real terminal: the built binary runs in a tmux pane over the incident
 * sandbox (a live Mailman tree broken as in the incident, and its backup). The keys are what
 * an operator presses: Enter at every prompt, or Ctrl-C. The verdicts come from outside the
 * wizard: the doctor's report afterwards, GNU tar's copy of the member, a snapshot of the tree.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, lstatSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { diagnoseMailman } from '../../src/mailman/diagnoseMailman.js';
import { buildIncidentSandbox, type IncidentSandbox } from '../../samples/buildIncidentSandbox.js';
import { makeScratch, missingNeeds, run } from '../helpers/env.js';
import {
  buildLostListsScenario,
  LOST,
  MISSING,
  NO_VALID_COPY,
  REMOVED,
} from '../helpers/lostListsScenario.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const bin = path.join(repo, 'dist', 'cli', 'bin.js');
const socket = `restoreplan-wizard-test-${process.pid}`;

function tmux(...args: string[]): string {
  return run('tmux', ['-L', socket, ...args]);
}

/** Every path under `root` with its type, size, mode, mtime and content hash. */
function snapshotTree(root: string): string[] {
  const rows: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const full = path.join(dir, name);
      const st = lstatSync(full);
      const hash = st.isFile() ? createHash('sha256').update(readFileSync(full)).digest('hex') : '';
      rows.push(`${path.relative(root, full)} ${st.mode} ${st.size} ${st.mtimeMs} ${hash}`);
      if (st.isDirectory()) walk(full);
    }
  };
  walk(root);
  return rows;
}

interface Session {
  /** The whole pane, scrollback included. */
  screen(): string;
  exitCode(): number | null;
}

function startWizard(
  args: string[],
  scratch: string,
  size: { columns: number; rows: number } = { columns: 200, rows: 50 },
): Session {
  const exitFile = path.join(scratch, 'exit-code');
  const tmp = path.join(scratch, 'tmp');
  mkdirSync(tmp, { recursive: true });
  const quoted = args.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  // The pane stays open after the wizard exits, so its last screen can still be read.
  tmux(
    'new-session',
    '-d',
    '-x',
    String(size.columns),
    '-y',
    String(size.rows),
    `TMPDIR='${tmp}' '${process.execPath}' '${bin}' wizard ${quoted}; echo $? > '${exitFile}'; sleep 600`,
  );
  return {
    screen: () => tmux('capture-pane', '-p', '-J', '-S', '-'),
    exitCode: () =>
      existsSync(exitFile) && readFileSync(exitFile, 'utf8').trim() !== ''
        ? Number(readFileSync(exitFile, 'utf8'))
        : null,
  };
}

/** An active @inquirer prompt's first line starts with `? `; an answered one with `✔ `. */
function promptState(screen: string): { active: boolean; answered: number } {
  const lines = screen.split('\n');
  return {
    active: lines.some((line) => line.startsWith('? ')),
    answered: lines.filter((line) => line.startsWith('✔ ')).length,
  };
}

/** Presses `key` at each new prompt until the wizard exits; returns how many were answered. */
async function answerEveryPrompt(
  session: Session,
  key: string,
  options: { stopAfter?: number; timeoutMs?: number; answered?: number } = {},
): Promise<number> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  let pressed = options.answered ?? 0;
  while (Date.now() < deadline) {
    if (session.exitCode() !== null) return pressed;
    const state = promptState(session.screen());
    if (state.active && state.answered === pressed) {
      if (options.stopAfter !== undefined && pressed >= options.stopAfter) return pressed;
      tmux('send-keys', key);
      pressed += 1;
    }
    await sleep(150);
  }
  throw new Error(`the wizard did not finish in time; screen:\n${session.screen()}`);
}

async function waitForPrompt(session: Session, answered: number): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const state = promptState(session.screen());
    if (state.active && state.answered === answered) return;
    if (session.exitCode() !== null) break;
    await sleep(150);
  }
  throw new Error(`no prompt #${answered + 1}; screen:\n${session.screen()}`);
}

async function waitForExit(session: Session): Promise<number> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const code = session.exitCode();
    if (code !== null) return code;
    await sleep(100);
  }
  throw new Error(`the wizard did not exit; screen:\n${session.screen()}`);
}

async function withSandbox(
  body: (sandbox: IncidentSandbox, scratch: string) => Promise<void>,
  options: { lists?: string[] } = {},
) {
  const { dir, cleanup } = makeScratch('restoreplan-wizard-');
  try {
    const sandbox = await buildIncidentSandbox(path.join(dir, 'sandbox'), {
      stuffedQueueFiles: 20,
      ...(options.lists ? { lists: options.lists } : {}),
    });
    await body(sandbox, dir);
  } finally {
    spawnSync('tmux', ['-L', socket, 'kill-server'], { stdio: 'ignore' });
    cleanup();
  }
}

test('without a terminal: exit 3, NOT_INTERACTIVE, naming the commands to use instead', async () => {
  if (!existsSync(bin)) throw new Error('dist/ is missing: npm run build');
  await withSandbox(async (sandbox) => {
    const before = snapshotTree(sandbox.live);
    for (const args of [
      ['wizard', '--archive', sandbox.backup, '--target', sandbox.live],
      [], // `restoreplan` alone starts the wizard
    ]) {
      const result = spawnSync(process.execPath, [bin, ...args], {
        encoding: 'utf8',
        input: '\n\n\n\n',
      });
      assert.is(result.status, 3, result.stderr);
      assert.is(result.stdout, '');
      const [line] = result.stderr.split('\n');
      assert.match(line ?? '', /^restoreplan: NOT_INTERACTIVE: /);
      for (const command of ['restoreplan doctor', 'restoreplan plan', 'restoreplan apply'])
        assert.ok(line?.includes(command), `names ${command}`);
    }
    assert.equal(snapshotTree(sandbox.live), before);
  });
});

const why = missingNeeds({ tools: ['tmux', 'tar'] });
const onTerminal = why ? test.skip : test;
if (why) console.log(`skipped: wizard terminal tests ${why}`);

onTerminal('Enter at every prompt restores the corrupt list, and the doctor agrees', async () => {
  await withSandbox(async (sandbox, scratch) => {
    const [corrupt] = sandbox.expected.corrupt;
    const [degraded] = sandbox.expected.degraded;
    assert.ok(corrupt && degraded);
    const before = await diagnoseMailman(sandbox.live);
    assert.is(before.lists.find((l) => l.name === corrupt)?.status, 'corrupt');

    const session = startWizard(['--archive', sandbox.backup, '--target', sandbox.live], scratch);
    const answered = await answerEveryPrompt(session, 'Enter');
    const screen = session.screen();
    assert.is(session.exitCode(), 0, screen);
    // lists, extras, strategy, confirmation: archive and target were given on the command line.
    assert.is(answered, 4, screen);
    assert.match(screen, /Apply complete: 1 restored/);
    assert.match(screen, /Next steps/);

    const after = await diagnoseMailman(sandbox.live);
    const status = Object.fromEntries(after.lists.map((l) => [l.name, l.status]));
    assert.is(status[corrupt], 'ok');
    // The planner leaves degraded lists to Mailman's own fallback unless asked.
    assert.is(status[degraded], 'degraded');
    assert.is(after.summary.corrupt, 0);
    const fromTar = spawnSync('tar', [
      '-xOf',
      sandbox.backup,
      `${sandbox.memberRoot}/lists/${corrupt}/config.pck`,
    ]);
    assert.is(fromTar.status, 0);
    assert.ok(
      readFileSync(path.join(sandbox.live, 'lists', corrupt, 'config.pck')).equals(fromTar.stdout),
      'config.pck is the backup copy, byte for byte',
    );
  });
});

onTerminal(
  'on an 80×25 console: no line wider than 80, the healthy lists summed up before the first question',
  async () => {
    const lists = Array.from({ length: 36 }, (_, i) => `list${String(i).padStart(2, '0')}`);
    await withSandbox(
      async (sandbox, scratch) => {
        const session = startWizard(
          ['--archive', sandbox.backup, '--target', sandbox.live],
          scratch,
          { columns: 80, rows: 25 },
        );
        await waitForPrompt(session, 0);
        // -J joins what the terminal wrapped: a line wider than the pane shows whole.
        const first = session.screen().split('\n');
        const beforeQuestion = first.slice(
          0,
          first.findIndex((line) => line.startsWith('? ')),
        );
        const [corrupt] = sandbox.expected.corrupt;
        assert.ok(beforeQuestion.some((line) => line.startsWith(`│ ${corrupt} `)));
        assert.ok(beforeQuestion.includes('34 more lists ok (--all lists them)'), first.join('\n'));
        assert.ok(beforeQuestion.includes('34 more lists ok, not restored (--verbose lists them)'));
        const tableLines = beforeQuestion.filter((line) => /^[┌│├└]/.test(line)).length;
        assert.ok(tableLines < 60, `${tableLines} table lines before the first question`);
        await answerEveryPrompt(session, 'Enter', { answered: 0 });
        const screen = session.screen();
        assert.is(session.exitCode(), 0, screen);
        assert.match(screen, /Apply complete: 1 restored/);
        const wide = screen.split('\n').filter((line) => [...line.trimEnd()].length > 80);
        assert.equal(wide, [], 'no line wider than 80');
      },
      { lists },
    );
  },
);

onTerminal('Ctrl-C at the first prompt exits 3 having written nothing', async () => {
  await withSandbox(async (sandbox, scratch) => {
    const before = snapshotTree(sandbox.live);
    const session = startWizard(['--target', sandbox.live], scratch);
    await waitForPrompt(session, 0);
    assert.match(session.screen(), /\? Backup archive/);
    tmux('send-keys', 'C-c');
    assert.is(await waitForExit(session), 3);
    assert.match(session.screen(), /Cancelled: nothing was written/);
    assert.equal(snapshotTree(sandbox.live), before);
    assert.equal(readdirSync(path.join(scratch, 'tmp')), [], 'not even a plan file');
  });
});

onTerminal('Ctrl-C at the confirmation, after diagnosis and planning, writes nothing', async () => {
  await withSandbox(async (sandbox, scratch) => {
    const before = snapshotTree(sandbox.live);
    const session = startWizard(['--archive', sandbox.backup, '--target', sandbox.live], scratch);
    const answered = await answerEveryPrompt(session, 'Enter', { stopAfter: 3 });
    assert.is(answered, 3);
    await waitForPrompt(session, 3);
    // The roots it writes under are named (the screen may wrap a long path).
    assert.match(session.screen(), /\? Restore 1 path under [\s\S]*now/);
    tmux('send-keys', 'C-c');
    assert.is(await waitForExit(session), 3);
    assert.match(session.screen(), /Cancelled: nothing was written/);
    assert.equal(snapshotTree(sandbox.live), before);
    assert.equal(readdirSync(path.join(scratch, 'tmp')), []);
  });
});

onTerminal(
  'lost and missing lists are checked, the removed one is offered; choosing it restores all three',
  async () => {
    const { dir, cleanup } = makeScratch('restoreplan-wizard-lost-');
    try {
      mkdirSync(path.join(dir, 'srv'));
      const { live, backup } = await buildLostListsScenario(path.join(dir, 'srv'), dir);
      const session = startWizard(['--archive', backup, '--target', live], dir);
      await waitForPrompt(session, 0);
      const screen = session.screen();
      assert.match(screen, /Lists: 3 ok, 0 degraded, 1 corrupt, 1 lost, 1 missing/);
      // Down lists first and checked when the backup can restore them; then the removed one.
      const choices = screen
        .split('\n')
        .filter((line) => /list00\d \(/.test(line))
        .map((line) => line.trim())
        .slice(0, 4);
      assert.equal(
        choices.map((line) => line.replace(/^❯/, '').trim()),
        [
          `◉ ${MISSING} (missing)`,
          `◉ ${LOST} (lost)`,
          `◯ ${NO_VALID_COPY} (corrupt)`,
          `◯ ${REMOVED} (removed)`,
        ],
        screen,
      );
      for (const key of ['Down', 'Down', 'Down', 'Space', 'Enter']) tmux('send-keys', key);
      await answerEveryPrompt(session, 'Enter', { answered: 1 });
      const end = session.screen();
      // The list with no valid copy stays down: the wizard says so and exits 2.
      assert.is(session.exitCode(), 2, end);
      assert.match(end, /Still down: list006 \(corrupt\)/);
      const after = await diagnoseMailman(live);
      const status = Object.fromEntries(after.lists.map((l) => [l.name, l.status]));
      for (const name of [LOST, MISSING, REMOVED]) assert.is(status[name], 'ok', `${name}: ${end}`);
    } finally {
      spawnSync('tmux', ['-L', socket, 'kill-server'], { stdio: 'ignore' });
      cleanup();
    }
  },
);

test.run();
