/**
 * detectMta against stand-in tools (shell scripts answering as exim4 -bP and postconf -xh do):
 * the choice between them, the errors, and the layout read from a spool when no tool is
 * there. The real Exim and Postfix answer in mtaSpool.realfs.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { detectMta } from '../../src/mailman/detectMta.js';
import { runMtaTool } from '../../src/mailman/runMtaTool.js';
import { makeScratch, rejectionCode } from '../helpers/env.js';

function fakeTool(dir: string, name: string, script: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, name), `#!/bin/sh\n${script}\n`, { mode: 0o755 });
}

const EXIM_ANSWER = `printf 'spool_directory = /var/spool/exim4\\nsplit_spool_directory\\nmessage_logs\\n'`;
const POSTCONF_ANSWER = `printf '/var/spool/postfix\\n1\\ndeferred, defer\\n'`;

async function withScratch(body: (dir: string) => Promise<void>): Promise<void> {
  const scratch = makeScratch();
  try {
    await body(scratch.dir);
  } finally {
    scratch.cleanup();
  }
}

test('no tool anywhere: auto finds nothing, none asks nothing, a named MTA is an error', async () => {
  await withScratch(async (dir) => {
    assert.is(await detectMta({ searchPath: dir }), null);
    assert.is(await detectMta({ mta: 'none', searchPath: dir }), null);
    const exim = await detectMta({ mta: 'exim', searchPath: dir }).catch((e: Error) => e);
    assert.is((exim as { code?: string }).code, 'MTA_NOT_FOUND');
    assert.match((exim as Error).message, /apt-get install exim4/);
    assert.not.match((exim as Error).message, /\n/);
    const postfix = await detectMta({ mta: 'postfix', searchPath: dir }).catch((e: Error) => e);
    assert.match((postfix as Error).message, /apt-get install postfix/);
  });
});

test('exim4, else exim; Exim before Postfix; the tool gets its arguments, no shell, no stdin', async () => {
  await withScratch(async (dir) => {
    const bin = path.join(dir, 'bin');
    const argsFile = path.join(dir, 'args');
    // `cat` would wait forever on a terminal or an open pipe: stdin must be /dev/null.
    fakeTool(bin, 'exim', `cat >/dev/null; printf '%s|' "$@" > '${argsFile}'; ${EXIM_ANSWER}`);
    fakeTool(bin, 'postconf', POSTCONF_ANSWER);
    assert.equal(await detectMta({ searchPath: bin }), {
      kind: 'exim',
      spool: '/var/spool/exim4',
      source: 'detected',
      splitSpool: true,
      messageLogs: true,
    });
    assert.is(
      readFileSync(argsFile, 'utf8'),
      '-bP|spool_directory|split_spool_directory|message_logs|',
    );
    fakeTool(
      bin,
      'exim4',
      `printf 'spool_directory = /x\\nno_split_spool_directory\\nno_message_logs\\n'`,
    );
    const info = await detectMta({ searchPath: `${dir}/nowhere:relative:${bin}` });
    assert.equal(info?.kind === 'exim' && [info.spool, info.splitSpool, info.messageLogs], [
      '/x',
      false,
      false,
    ]);
    const postfix = await detectMta({ mta: 'postfix', searchPath: bin, spool: '/elsewhere' });
    assert.equal(postfix, {
      kind: 'postfix',
      spool: '/elsewhere',
      source: 'given',
      hashQueueDepth: 1,
      hashQueueNames: ['deferred', 'defer'],
      masterRunning: false,
    });
  });
});

test('a tool that fails: the other MTA in auto, else MTA_QUERY_FAILED with its first stderr line', async () => {
  await withScratch(async (dir) => {
    const bin = path.join(dir, 'bin');
    fakeTool(
      bin,
      'exim4',
      `echo 'non-existent configuration file(s): /etc/exim4/exim4.conf' >&2; echo more >&2; exit 1`,
    );
    const failed = await detectMta({ searchPath: bin }).catch((e: Error) => e);
    assert.is((failed as { code?: string }).code, 'MTA_QUERY_FAILED');
    assert.match((failed as Error).message, /exim4 -bP .*exit 1: non-existent configuration/);
    assert.not.match((failed as Error).message, /more/);
    fakeTool(bin, 'postconf', POSTCONF_ANSWER);
    assert.is((await detectMta({ searchPath: bin }))?.kind, 'postfix');
    // postconf's unknown parameter: a warning, nothing on stdout, exit 0.
    fakeTool(bin, 'postconf', `echo 'postconf: warning: hash_queue_names: unknown parameter' >&2`);
    const empty = await detectMta({ mta: 'postfix', searchPath: bin }).catch((e: Error) => e);
    assert.is((empty as { code?: string }).code, 'MTA_QUERY_FAILED');
    assert.match((empty as Error).message, /unknown parameter/);
  });
});

test('a named MTA without its tool reads the layout from the given spool', async () => {
  await withScratch(async (dir) => {
    const empty = path.join(dir, 'empty');
    mkdirSync(empty);
    const split = path.join(dir, 'exim-split');
    mkdirSync(path.join(split, 'input', 'a'), { recursive: true });
    mkdirSync(path.join(split, 'msglog', 'a'), { recursive: true });
    assert.equal(await detectMta({ mta: 'exim', spool: split, searchPath: empty }), {
      kind: 'exim',
      spool: split,
      source: 'given',
      splitSpool: true,
      messageLogs: true,
    });
    // Queued messages and no msglog/: message_logs is off.
    const quiet = path.join(dir, 'exim-quiet');
    mkdirSync(path.join(quiet, 'input'), { recursive: true });
    writeFileSync(path.join(quiet, 'input', '1xYcMM-00024e-2l-H'), '');
    const info = await detectMta({ spool: quiet, searchPath: empty });
    assert.equal(info?.kind === 'exim' && [info.splitSpool, info.messageLogs], [false, false]);
    // Postfix: the defaults, and master.pid naming a live process.
    const queue = path.join(dir, 'postfix');
    mkdirSync(path.join(queue, 'pid'), { recursive: true });
    mkdirSync(path.join(queue, 'maildrop'));
    writeFileSync(path.join(queue, 'pid', 'master.pid'), `${String(process.pid).padStart(17)}\n`);
    assert.equal(await detectMta({ spool: queue, searchPath: empty }), {
      kind: 'postfix',
      spool: queue,
      source: 'given',
      hashQueueDepth: 1,
      hashQueueNames: ['deferred', 'defer'],
      masterRunning: true,
    });
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
    writeFileSync(path.join(queue, 'pid', 'master.pid'), dead.stdout);
    const stopped = await detectMta({ mta: 'postfix', spool: queue, searchPath: empty });
    assert.is(stopped?.kind === 'postfix' && stopped.masterRunning, false);
    // A spool that is neither, with nothing to ask: say so rather than budget nothing.
    assert.is(await rejectionCode(detectMta({ spool: empty, searchPath: empty })), 'MTA_NOT_FOUND');
  });
});

test('runMtaTool: a hung tool is killed at the timeout; an aborted run rejects', async () => {
  const started = Date.now();
  const result = await runMtaTool('/bin/sleep', ['30'], { timeoutMs: 200 });
  assert.is(result.timedOut, true);
  assert.ok(Date.now() - started < 5000);
  const controller = new AbortController();
  const run = runMtaTool('/bin/sleep', ['30'], { signal: controller.signal });
  setTimeout(() => controller.abort(), 50);
  assert.is(await rejectionCode(run), 'ABORTED');
});

test('runMtaTool: a hung wrapper whose child holds the output pipe is killed at the timeout too', async () => {
  // A shell wrapper (Debian's exim4 on some hosts, a site's postconf shim) that runs the real
  // tool as its child: killing the shell alone leaves the child holding stdout open.
  await withScratch(async (dir) => {
    fakeTool(dir, 'exim4', 'sleep 30; echo never');
    const started = Date.now();
    const result = await runMtaTool(path.join(dir, 'exim4'), ['-bP'], { timeoutMs: 300 });
    assert.is(result.timedOut, true);
    assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
    const controller = new AbortController();
    const run = runMtaTool(path.join(dir, 'exim4'), ['-bP'], { signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    const abortedAt = Date.now();
    assert.is(await rejectionCode(run), 'ABORTED');
    assert.ok(Date.now() - abortedAt < 5000, `took ${Date.now() - abortedAt} ms`);
  });
});

test.run();
