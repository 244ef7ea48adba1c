/**
 * An operator at 3 a.m. in an 80-column terminal (a console, a tmux pane): the tables of
 * check, plan and apply fit the width the terminal reports, instead of wrapping mid-border.
 * Off a terminal (a pipe, a log, a transcript) tables keep their natural width.
 */
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import type { IncidentSandbox } from '../../samples/buildIncidentSandbox.js';
import { renderApply } from '../../src/cli/commands/renderApply.js';
import { renderCheck } from '../../src/cli/commands/renderCheck.js';
import { renderDoctor } from '../../src/cli/commands/renderDoctor.js';
import { renderPlan } from '../../src/cli/commands/renderPlan.js';
import type { Io } from '../../src/cli/output.js';
import { diagnoseMailman } from '../../src/mailman/diagnoseMailman.js';
import { checkBudget } from '../../src/plan/checkBudget.js';
import { planRestore } from '../../src/plan/planRestore.js';
import type { ApplyRunResult } from '../../src/types.js';
import { makeScratch, missingNeeds } from '../helpers/env.js';
import { buildBackup } from '../helpers/liveMailman.js';

const why = missingNeeds({ tools: ['tar', 'python3'] });
const scratch = makeScratch('restoreplan-narrow-');
let sandbox: IncidentSandbox;

test.before(async () => {
  if (why) return;
  sandbox = await buildBackup(path.join(scratch.dir, 'sandbox'));
});
test.after(() => scratch.cleanup());

/** A terminal of `columns` columns (no colour: NO_COLOR is not what is tested here). */
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
      const table = narrow
        .text()
        .split('\n')
        .filter((line) => /^[┌│├└]/.test(line))
        .join('\n');
      assert.ok(table.length > 0, `${name} prints a table`);
      assert.ok(widest(table) <= 80, `${name}: a table line of ${widest(table)} columns`);
      assert.not.match(table, /…/, `${name}: nothing is cut off`);
    }
    // A pipe is not a terminal: the natural width (transcripts and logs do not change).
    const piped = terminal(undefined);
    renderPlan(piped.io, plan, null);
    assert.ok(widest(piped.text()) > 80);
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

test("doctor's tables fit an 80-column terminal too, long evidence wrapped; a pipe keeps them whole", async () => {
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
    assert.match(table.replace(/[│\s]+/g, ' '), /its mail is refused/);
    const piped = terminal(undefined);
    renderDoctor(piped.io, report);
    assert.ok(widest(piped.text()) > 80, 'off a terminal: the natural width');
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

test.run();
