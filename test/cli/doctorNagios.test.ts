/**
 * doctor --nagios: one plugin line, its status and exit code the var dir's health (0 healthy, 1
 * degraded, 2 a list down or stale qrunners or a queue over --crit-queue, 3 no Mailman var dir),
 * perfdata by the guidelines' grammar; and stdout carrying exactly one document whatever is
 * combined with it.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { breakMailmanTree } from '../../samples/breakMailmanTree.js';
import { generateMailmanTree } from '../../samples/generateMailmanTree.js';
import { runCliCaptured } from '../helpers/captureIo.js';
import { makeScratch } from '../helpers/env.js';
import { cliAsNobody } from '../helpers/runCli.js';
import { parsePluginLine } from '../helpers/pluginLine.js';

const restoreplan = runCliCaptured;

const parse = (stdout: string) => parsePluginLine(stdout, 'RESTOREPLAN-MAILMAN');

/** A pid no process has: one that just exited (and was reaped). */
function deadPid(): number {
  const child = spawnSync('sh', ['-c', 'echo $$']);
  return Number(String(child.stdout).trim());
}

test('exit 0 healthy, 1 degraded, 2 corrupt and lost, 3 no var dir: one plugin line each', async () => {
  const { dir, cleanup } = makeScratch();
  try {
    await generateMailmanTree(dir, {
      lists: ['alpha', 'beta', 'gamma'],
      members: 3,
      postsPerList: 1,
      queueFiles: 4,
    });
    const ok = await restoreplan(['doctor', dir, '--nagios']);
    assert.is(ok.code, 0, ok.stderr);
    const healthy = parse(ok.stdout);
    assert.is(healthy.status, 'OK');
    assert.is(healthy.text, '3 lists ok, 4 queued files');
    assert.is(healthy.perf.get('lists_down'), '0;;0;0;');
    assert.is(healthy.perf.get('lists_ok'), '3;;;0;');
    assert.is(healthy.perf.get('qrunner_stale'), '0;;0;0;1');
    const queued = [...healthy.perf].filter(
      ([label]) => label.startsWith('queue_') && label !== 'queue_inflow_per_hour',
    );
    assert.is(
      queued.reduce((n, [, v]) => n + Number(v.split(';')[0]), 0),
      4,
    );
    assert.ok(healthy.perf.has('inodes_free') && healthy.perf.has('inodes_used'));
    assert.match(healthy.perf.get('bytes_avail') ?? '', /^\d+B;;;0;\d+$/);
    assert.is(ok.stderr, '', 'no progress and nothing else on stderr');

    await breakMailmanTree(dir, [{ list: 'beta', shape: 'zeroed' }]);
    const degraded = await restoreplan(['doctor', dir, '--nagios']);
    assert.is(degraded.code, 1);
    const warn = parse(degraded.stdout);
    assert.is(warn.status, 'WARNING');
    assert.is(warn.text, '1 list degraded: beta');
    assert.is(warn.perf.get('lists_degraded'), '1;0;;0;');

    await breakMailmanTree(dir, [
      { list: 'alpha', shape: 'empty' },
      { list: 'alpha', shape: 'truncated', file: 'config.pck.last' },
    ]);
    // Lost: the directory is there, no config file at all.
    for (const file of ['config.pck', 'config.pck.last'])
      rmSync(path.join(dir, 'lists', 'gamma', file), { force: true });
    const down = await restoreplan(['doctor', dir, '--nagios']);
    assert.is(down.code, 2);
    const crit = parse(down.stdout);
    assert.is(crit.status, 'CRITICAL');
    // What is down first, then what is degraded.
    assert.is(crit.text, '2 lists down: alpha (corrupt), gamma (lost); 1 list degraded: beta');
    assert.is(crit.perf.get('lists_down'), '2;;0;0;');

    for (const missing of [path.join(dir, 'nonexistent'), path.join(dir, 'logs')]) {
      const unknown = await restoreplan(['doctor', missing, '--nagios']);
      assert.is(unknown.code, 3);
      assert.match(unknown.stdout, /^RESTOREPLAN-MAILMAN UNKNOWN - MAILMAN_NOT_FOUND: [^\n|]+\n$/);
      assert.match(unknown.stderr, /^restoreplan: MAILMAN_NOT_FOUND/);
    }
  } finally {
    cleanup();
  }
});

test('a var dir with no list left is CRITICAL (exit 2) in every output, never "0 lists ok"', async () => {
  const { dir, cleanup } = makeScratch();
  try {
    await generateMailmanTree(dir, { lists: ['alpha', 'beta'], members: 2, postsPerList: 1 });
    const backup = `${dir}.tar`;
    spawnSync('tar', ['-cf', backup, '-C', dir, '.']);
    // Every list directory gone, and nothing left naming one (no archives, no alias file):
    // still a var dir (lists/ beside qfiles/, data/, ...), with nothing in it.
    for (const sub of ['lists', 'archives']) {
      rmSync(path.join(dir, sub), { recursive: true });
      mkdirSync(path.join(dir, sub));
    }
    const plugin = await restoreplan(['doctor', dir, '--nagios']);
    assert.is(plugin.code, 2, plugin.stdout);
    const line = parse(plugin.stdout);
    assert.is(line.status, 'CRITICAL');
    assert.match(line.text, /^no list in lists\/: /);
    const human = await restoreplan(['doctor', dir]);
    assert.is(human.code, 2);
    assert.match(human.stdout, /critical no-lists: /);
    const json = await restoreplan(['doctor', dir, '--json']);
    assert.is(json.code, 2);
    const report = JSON.parse(json.stdout) as { problems: Array<{ kind: string }> };
    assert.ok(report.problems.some((p) => p.kind === 'no-lists'));
    // The pre-flight of the restore says the same: restoring none of them is no OK.
    const check = await restoreplan([
      'check',
      backup,
      '--target',
      dir,
      '--profile',
      'mailman',
      '--nagios',
    ]);
    assert.is(check.code, 2, check.stdout);
    assert.match(
      check.stdout,
      /^RESTOREPLAN CRITICAL - .*restore them with --lists alpha,beta \| /,
    );
  } finally {
    rmSync(`${dir}.tar`, { force: true });
    cleanup();
  }
});

test('a lists/ this user may not read is UNKNOWN (exit 3), never its lists "missing" nor "no list"', async () => {
  if (process.getuid?.() !== 0 || spawnSync('runuser', ['--help']).status !== 0)
    return console.log('skipped: an unreadable lists/ needs root (runuser -u nobody)');
  const { dir, cleanup } = makeScratch();
  try {
    const root = path.join(dir, 'mailman');
    await generateMailmanTree(root, { lists: ['alpha', 'beta'], members: 2, postsPerList: 1 });
    spawnSync('chmod', ['-R', 'a+rX', dir]);
    chmodSync(path.join(root, 'lists'), 0o700);
    const plugin = cliAsNobody(['doctor', root, '--nagios']);
    assert.is(plugin.code, 3, plugin.stdout);
    assert.match(
      plugin.stdout,
      /^RESTOREPLAN-MAILMAN UNKNOWN - TARGET_INVALID: cannot read \S+\/lists: EACCES\n$/,
    );
    const human = cliAsNobody(['doctor', root]);
    assert.is(human.code, 3);
    assert.match(human.stderr, /^restoreplan: TARGET_INVALID: .*\n {2}hint: run doctor as root/);
  } finally {
    cleanup();
  }
});

test('a command line commander refuses is one UNKNOWN line too (an empty $ARG1$ printed nothing)', async () => {
  const cases: Array<[string[], RegExp]> = [
    [
      ['doctor', '/x', '--nagios', '--warn-hours'],
      /^RESTOREPLAN-MAILMAN UNKNOWN - USAGE: option '--warn-hours <hours>' argument missing\n$/,
    ],
    [
      ['doctor', '/x', '--nagios', '--bogus'],
      /^RESTOREPLAN-MAILMAN UNKNOWN - USAGE: unknown option '--bogus'\n$/,
    ],
    [
      ['doctor', '--nagios'],
      /^RESTOREPLAN-MAILMAN UNKNOWN - USAGE: missing required argument 'dir'\n$/,
    ],
    [
      ['check', '/x', '--nagios'],
      /^RESTOREPLAN UNKNOWN - USAGE: required option '--target <dir>' not specified\n$/,
    ],
  ];
  for (const [args, line] of cases) {
    const r = await restoreplan(args);
    assert.is(r.code, 3, args.join(' '));
    assert.match(r.stdout, line);
    assert.match(r.stderr, /^restoreplan: USAGE: /);
  }
  // With --json the JSON error document is the one document, as for any other USAGE error.
  const json = await restoreplan(['doctor', '/x', '--nagios', '--json', '--bogus']);
  assert.is(JSON.parse(json.stdout).error.code, 'USAGE');
});

test('CRITICAL when the qrunners should run but do not (stale master-qrunner.pid)', async () => {
  const { dir, cleanup } = makeScratch();
  try {
    await generateMailmanTree(dir, { lists: ['alpha'], members: 2, postsPerList: 0 });
    const pid = deadPid();
    writeFileSync(path.join(dir, 'data', 'master-qrunner.pid'), `${pid}\n`);
    const r = await restoreplan(['doctor', dir, '--nagios']);
    assert.is(r.code, 2, r.stdout);
    const line = parse(r.stdout);
    assert.is(line.text, `qrunners not running (stale data/master-qrunner.pid, pid ${pid})`);
    assert.is(line.perf.get('qrunner_stale'), '1;;0;0;1');
    const json = JSON.parse((await restoreplan(['doctor', dir, '--json'])).stdout);
    assert.is(json.qrunnerPidStale, true);

    writeFileSync(path.join(dir, 'data', 'master-qrunner.pid'), `${process.pid}\n`);
    const alive = await restoreplan(['doctor', dir, '--nagios']);
    assert.is(alive.code, 0, alive.stdout);
  } finally {
    cleanup();
  }
});

test('queue thresholds: over --warn-queue WARNING, over --crit-queue CRITICAL, in their slots', async () => {
  const { dir, cleanup } = makeScratch();
  try {
    await generateMailmanTree(dir, {
      lists: ['alpha'],
      members: 2,
      postsPerList: 0,
      queueFiles: 0,
    });
    mkdirSync(path.join(dir, 'qfiles', 'in'), { recursive: true });
    for (let i = 0; i < 5; i += 1) writeFileSync(path.join(dir, 'qfiles', 'in', `m${i}.pck`), 'x');
    const w = await restoreplan([
      'doctor',
      dir,
      '--nagios',
      '--warn-queue',
      '4',
      '--crit-queue',
      '5',
    ]);
    assert.is(w.code, 1, w.stdout);
    const warn = parse(w.stdout);
    assert.is(warn.text, 'queue in holds 5 files (over 4)');
    assert.is(warn.perf.get('queue_in'), '5;4;5;0;');
    const c = await restoreplan(['doctor', dir, '--nagios', '--crit-queue', '4']);
    assert.is(c.code, 2, c.stdout);
    assert.is(parse(c.stdout).text, 'queue in holds 5 files (over 4)');
    const fine = await restoreplan(['doctor', dir, '--nagios', '--warn-queue', '5']);
    assert.is(fine.code, 0, 'over means more than: 5 files do not pass a threshold of 5');
  } finally {
    cleanup();
  }
});

test('a hostile list name cannot break the line: no "|", no newline in the summary', async () => {
  const { dir, cleanup } = makeScratch();
  try {
    await generateMailmanTree(dir, { lists: ['ok', 'a|b\nc'], members: 2, postsPerList: 0 });
    await breakMailmanTree(dir, [
      { list: 'a|b\nc', shape: 'empty' },
      { list: 'a|b\nc', shape: 'empty', file: 'config.pck.last' },
    ]);
    const r = await restoreplan(['doctor', dir, '--nagios']);
    assert.is(r.code, 2);
    assert.is(r.stdout.split('|').length, 2, r.stdout);
    const line = parse(r.stdout);
    // "|" becomes "/", the newline a space (printableLine): the line stays one plugin line.
    assert.is(line.text, '1 list down: a/b c (corrupt)');
  } finally {
    cleanup();
  }
});

test('flags: bad thresholds are one USAGE line; stdout carries exactly one document', async () => {
  const { dir, cleanup } = makeScratch();
  try {
    await generateMailmanTree(dir, { lists: ['alpha'], members: 2, postsPerList: 0 });
    const usage: Array<[string[], string]> = [
      [['--crit-hours', '-1'], '--crit-hours "-1": expected a number of hours, 0 or more'],
      [['--warn-hours', 'soon'], '--warn-hours "soon": expected a number of hours, 0 or more'],
      [['--warn-queue', '1.5'], '--warn-queue "1.5": expected a whole number of files, 0 or more'],
      [
        ['--warn-hours', '2', '--crit-hours', '4'],
        '--warn-hours 2 is under --crit-hours 4: the warning comes first, so it needs more hours',
      ],
      [
        ['--warn-queue', '10', '--crit-queue', '5'],
        '--warn-queue 10 is over --crit-queue 5: the warning comes first, so it needs fewer files',
      ],
    ];
    for (const [flags, message] of usage) {
      const r = await restoreplan(['doctor', dir, '--nagios', ...flags]);
      assert.is(r.code, 3, flags.join(' '));
      assert.is(r.stdout, `RESTOREPLAN-MAILMAN UNKNOWN - USAGE: ${message}\n`);
      assert.is(r.stderr.split('\n')[0], `restoreplan: USAGE: ${message}`);
    }
    const hours = await restoreplan([
      'doctor',
      dir,
      '--nagios',
      '--warn-hours',
      '48h',
      '--crit-hours',
      '2.5',
    ]);
    assert.is(hours.code, 0, hours.stdout);
    assert.match(hours.stdout, /'inodes_free'=\d+;;;0;\d+ /, 'nothing arrives: no free thresholds');
    // The thresholds are the verdict's, not the plugin line's: the screen takes them too.
    const alone = await restoreplan(['doctor', dir, '--crit-hours', '2']);
    assert.is(alone.code, 0, alone.stderr);

    // --json with --nagios or --prometheus -: the JSON error, the one document on stdout.
    for (const flags of [['--nagios'], ['--prometheus', '-']]) {
      const r = await restoreplan(['doctor', dir, '--json', ...flags]);
      assert.is(r.code, 3, flags.join(' '));
      const doc = JSON.parse(r.stdout) as { error: { code: string } };
      assert.is(doc.error.code, 'USAGE');
    }
    // --nagios with --prometheus -: the plugin line (what a monitoring system reads).
    const both = await restoreplan(['doctor', dir, '--nagios', '--prometheus', '-']);
    assert.is(both.code, 3);
    assert.is(
      both.stdout,
      'RESTOREPLAN-MAILMAN UNKNOWN - USAGE: --prometheus - and --nagios exclude each other\n',
    );
  } finally {
    cleanup();
  }
});

test.run();
