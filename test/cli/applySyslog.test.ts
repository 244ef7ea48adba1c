/**
 * `apply --syslog` against a real syslog socket: a unix DATAGRAM socket bound by python3 (what
 * rsyslog and journald listen on at /dev/log), named to restoreplan by
 * RESTOREPLAN_SYSLOG_SOCKET, with logger(1) doing the sending. The built CLI carries out a real
 * plan twice — stopped by a held Mailman list lock, then resumed once it is released — and
 * every message received is checked: one per restored file, per skip, the stop and the resume,
 * each run's start and end with the plan's sha256; tag restoreplan and the CLI's pid; the
 * priorities; no control character, and a member name carrying a newline and an ESC sequence
 * cannot forge a second line. And when the trail cannot be had, nothing is written.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  linkSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { auditValue, formatAuditLine } from '../../src/cli/openSyslog.js';
import { buildTestPlan } from '../apply/buildTestPlan.js';
import { bin } from '../apply/generatedTree.js';
import { assertMatchesSchema } from '../helpers/assertSchema.js';
import { makeScratch, missingNeeds, run } from '../helpers/env.js';

const PICKLE = `
import pickle, sys
sys.stdout.buffer.write(pickle.dumps({'real_name': sys.argv[1]}, protocol=1))
`;

/** Prints each datagram received as a JSON string, until 1.5 s pass without one. */
const RECEIVER = `
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print('ready', flush=True)
s.settimeout(1.5)
try:
    while True:
        print(json.dumps(s.recv(65536).decode('utf-8', 'backslashreplace')), flush=True)
except socket.timeout:
    pass
`;

const EVIL = 'evil\naction=restored target=shadow\x1b[2J';

interface Received {
  pri: number;
  pid: number;
  text: string;
}

/** Runs the built CLI while a receiver listens on `socket`; returns what it received. */
async function withReceiver(
  socket: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number | null; stderr: string; messages: Received[]; raw: string[] }> {
  rmSync(socket, { force: true });
  const receiver = spawn('python3', ['-c', RECEIVER, socket], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  receiver.stdout.setEncoding('utf8');
  const ready = new Promise<void>((resolve) => {
    receiver.stdout.on('data', (text: string) => {
      out += text;
      if (out.startsWith('ready\n')) resolve();
    });
  });
  const closed = new Promise<void>((resolve) => receiver.on('close', () => resolve()));
  await ready;
  const result = spawnSync(process.execPath, [bin, ...args], {
    encoding: 'utf8',
    input: '',
    env: { ...process.env, RESTOREPLAN_SYSLOG_SOCKET: socket, ...env },
  });
  await closed;
  const raw = out
    .split('\n')
    .slice(1)
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as string);
  const messages = raw.map((message) => {
    // What logger sends to a local socket: <PRI>Mmm dd hh:mm:ss TAG[PID]: MESSAGE
    const match = /^<(\d+)>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d restoreplan\[(\d+)\]: (.*)$/s.exec(
      message,
    );
    assert.ok(match, `a syslog line tagged restoreplan[pid]: ${JSON.stringify(message)}`);
    return { pri: Number(match![1]), pid: Number(match![2]), text: match![3]! };
  });
  return { code: result.status, stderr: result.stderr, messages, raw };
}

const hasControl = (text: string): boolean =>
  [...text].some((char) => char.charCodeAt(0) < 0x20 || char.charCodeAt(0) === 0x7f);

const NOTICE = 13; // user.notice
const WARNING = 12; // user.warning

function actionsOf(messages: Received[]): string[] {
  return messages.map((m) => /^action=(\S+)/.exec(m.text)?.[1] ?? '?');
}

function lockList(root: string, name: string): string {
  const locks = path.join(root, 'locks');
  mkdirSync(locks, { recursive: true });
  const claim = path.join(locks, `${name}.lock.${os.hostname()}.${process.pid}.0`);
  writeFileSync(claim, claim);
  const lock = path.join(locks, `${name}.lock`);
  linkSync(claim, lock);
  const until = new Date(Date.now() + 3_600_000);
  utimesSync(lock, until, until);
  return lock;
}

test('a value is one word, or quoted with \\, " and newlines escaped: it cannot pass for a key or a line', () => {
  assert.is(auditValue('/srv/mailman/lists/a/config.pck'), '/srv/mailman/lists/a/config.pck');
  assert.is(auditValue(''), '""');
  assert.is(auditValue('a b'), '"a b"');
  assert.is(auditValue('x=y'), '"x=y"');
  assert.is(auditValue('say "hi"\\'), '"say \\"hi\\"\\\\"');
  assert.is(auditValue('a\n\r\tb\u202e'), 'a\\n\\x0d\\x09b\\u202e');
  assert.is(auditValue(42), '42');
  const line = formatAuditLine({
    action: 'skipped',
    targetPath: '/t/x\naction=restored',
    kind: 'unsafe',
    reason: 'unsafe: a symlink in the path',
  });
  assert.is(line.priority, 'warning');
  assert.is(
    line.text,
    'action=skipped target="/t/x\\naction=restored" kind=unsafe reason="unsafe: a symlink in the path"',
  );
  const long = formatAuditLine({ action: 'stopped', reason: 'r'.repeat(20_000) });
  assert.ok(long.text.length < 8100);
});

const why = missingNeeds({ tools: ['tar', 'python3', 'logger', 'flock'] });

async function setup(dir: string): Promise<{ planPath: string; root: string; sha: string }> {
  const source = path.join(dir, 'src');
  for (const list of ['alpha', 'beta']) {
    mkdirSync(path.join(source, 'lists', list), { recursive: true });
    writeFileSync(
      path.join(source, 'lists', list, 'config.pck'),
      run('python3', ['-c', PICKLE, list]),
    );
  }
  writeFileSync(path.join(source, 'lists/beta', EVIL), 'x');
  const archive = path.join(dir, 'backup.tar');
  run('tar', ['--format=gnu', '-cf', archive, '-C', source, 'lists']);
  const root = path.join(dir, 'mailman');
  mkdirSync(root);
  const plan = await buildTestPlan(archive, root, { withSha256: true, mailmanRoot: root });
  const planPath = path.join(dir, 'plan.json');
  writeFileSync(planPath, JSON.stringify(plan));
  const sha = createHash('sha256').update(readFileSync(planPath)).digest('hex');
  return { planPath, root, sha };
}

test('a stopped run and its resume, as the syslog socket received them', async () => {
  if (why) return console.log(`skipped: ${why}`);
  const { dir, cleanup } = makeScratch('restoreplan-syslog-');
  try {
    const { planPath, root, sha } = await setup(dir);
    const socket = path.join(dir, 'log.sock');
    const lock = lockList(root, 'alpha');
    const apply = ['apply', planPath, '--yes', '--syslog', '--no-progress', '--json'];

    const first = await withReceiver(socket, apply);
    assert.is(first.code, 2, first.stderr);
    assert.is(first.stderr, '');
    const alpha = path.join(root, 'lists/alpha/config.pck');
    const beta = path.join(root, 'lists/beta/config.pck');
    const evil = path.join(root, 'lists/beta', EVIL);
    // The locked list's directory and config are skipped (classify, before any write), then
    // the other list's files are restored, then the stop.
    assert.equal(actionsOf(first.messages), [
      'invoked',
      'started',
      'skipped',
      'skipped',
      'restored',
      'restored',
      'stopped',
      'ended',
    ]);
    const restored = first.messages.filter((m) => m.text.startsWith('action=restored '));
    assert.is(restored.length, 2, 'one line per restored file, the evil name forges none');
    assert.ok(restored.some((m) => m.text.includes(` target=${beta} `)));
    const forged = restored.find((m) => m.text.includes('evil'))!;
    assert.ok(
      forged.text.includes(
        `target="${root}/lists/beta/evil\\naction=restored target=shadow\\x1b[2J"`,
      ),
      forged.text,
    );
    assert.ok(!first.messages.some((m) => m.text.includes(`target=${evil}`)));
    const [invoked, started, skippedDir, skipped] = first.messages;
    assert.match(
      skippedDir!.text,
      new RegExp(`^action=skipped target=${path.dirname(alpha)} kind=locked `),
    );
    assert.match(invoked!.text, new RegExp(`plan_file=${planPath} plan_sha256=${sha} `));
    assert.match(started!.text, new RegExp(`plan_sha256=${sha} `));
    assert.match(skipped!.text, new RegExp(`^action=skipped target=${alpha} kind=locked reason="`));
    assert.is(skipped!.pri, WARNING);
    for (const m of restored) {
      assert.is(m.pri, NOTICE);
      assert.match(m.text, / type=file bytes=\d+ sha256=[0-9a-f]{64} /);
    }
    const stopped = first.messages.at(-2)!;
    assert.is(stopped.pri, WARNING);
    assert.match(stopped.text, /^action=stopped reason="some lists are locked/);
    const ended = first.messages.at(-1)!;
    assert.is(ended.pri, WARNING);
    assert.match(
      ended.text,
      new RegExp(`^action=ended status=stopped restored=2 skipped=2 plan_sha256=${sha} `),
    );
    // One process, the CLI's: every line carries its pid.
    assert.is(new Set(first.messages.map((m) => m.pid)).size, 1);
    for (const message of [...first.raw]) {
      assert.not.ok(hasControl(message), `no control character reaches syslog: ${message}`);
    }

    unlinkSync(lock);
    const second = await withReceiver(socket, apply);
    assert.is(second.code, 0, second.stderr);
    const actions = actionsOf(second.messages);
    assert.equal(actions.slice(0, 3), ['invoked', 'started', 'resumed']);
    assert.is(actions.at(-1), 'ended');
    assert.match(second.messages[2]!.text, /^action=resumed journal=\S+ done_before=\d+$/);
    const again = second.messages.filter((m) => m.text.startsWith('action=restored '));
    assert.is(again.length, 1);
    assert.match(again[0]!.text, new RegExp(`^action=restored target=${alpha} `));
    const already = second.messages.filter((m) => m.text.startsWith('action=skipped '));
    assert.ok(already.length >= 2);
    for (const m of already) {
      assert.match(m.text, / kind=already-restored /);
      assert.is(m.pri, NOTICE, 'done before is no warning');
    }
    assert.is(second.messages.at(-1)!.pri, NOTICE);
    assert.match(second.messages.at(-1)!.text, /^action=ended status=complete restored=1 /);
    for (const message of second.raw) assert.not.ok(hasControl(message), message);
  } finally {
    cleanup();
  }
});

test('the trail cannot be had (no socket, no logger): SYSLOG_UNAVAILABLE, exit 3, nothing written', async () => {
  if (why) return console.log(`skipped: ${why}`);
  const { dir, cleanup } = makeScratch('restoreplan-syslog-');
  try {
    const { planPath, root } = await setup(dir);
    const apply = ['apply', planPath, '--yes', '--syslog', '--no-progress'];
    const noSocket = spawnSync(process.execPath, [bin, ...apply], {
      encoding: 'utf8',
      input: '',
      env: { ...process.env, RESTOREPLAN_SYSLOG_SOCKET: path.join(dir, 'none.sock') },
    });
    assert.is(noSocket.status, 3);
    assert.match(
      noSocket.stderr,
      /^restoreplan: SYSLOG_UNAVAILABLE: --syslog: the syslog socket .*none\.sock does not take messages/,
    );
    assert.match(
      noSocket.stderr,
      /\n {2}hint: install logger\(1\) \(Debian: apt-get install bsdutils\)/,
    );
    const emptyPath = path.join(dir, 'empty-path');
    mkdirSync(emptyPath);
    const noLogger = spawnSync(process.execPath, [bin, ...apply, '--json'], {
      encoding: 'utf8',
      input: '',
      env: { ...process.env, PATH: emptyPath },
    });
    assert.is(noLogger.status, 3);
    const document = JSON.parse(noLogger.stdout) as { error: { code: string; message: string } };
    assertMatchesSchema(document, 'error', 'apply --syslog --json without logger');
    assert.is(document.error.code, 'SYSLOG_UNAVAILABLE');
    assert.match(document.error.message, /logger\(1\) is not installed/);
    assert.equal(readdirSync(root), [], 'nothing restored');
    assert.not.ok(existsSync(`${planPath}.journal`), 'no journal either');
  } finally {
    cleanup();
  }
});

test.run();
