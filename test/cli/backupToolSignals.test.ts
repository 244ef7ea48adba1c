/**
 * restoreplan stopped by a signal while restic or borg runs: the tools run in a session of their
 * own (no terminal to prompt on), so no signal meant for restoreplan reaches them. SIGINT,
 * SIGTERM (`kill`, `timeout`, systemd) and SIGHUP (the operator's ssh session closed) must each
 * end the tool's whole process group too — a password command that hangs, a `restic restore`
 * into the private scratch dir — and restoreplan then ends as cancelled (exit 3), not by the
 * signal. A fake `restic` and `borg` on PATH stand in: each writes its pid and sleeps.
 */
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { bin } from '../apply/generatedTree.js';
import { makeScratch } from '../helpers/env.js';

const scratch = makeScratch('restoreplan-tool-signals-');
test.after(() => scratch.cleanup());

/** A fake tool: its pid (and its child's) in PIDFILE, then it waits as a hung password command. */
function fakeTool(name: string): void {
  const file = path.join(scratch.dir, name);
  writeFileSync(file, `#!/bin/sh\nsleep 300 &\necho "$$ $!" >> "$PIDFILE"\nwait\n`);
  chmodSync(file, 0o755);
}
fakeTool('restic');
fakeTool('borg');

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Every pid the fake tools wrote (borg's scan runs two of them side by side). */
const readPids = (file: string): number[] =>
  existsSync(file)
    ? readFileSync(file, 'utf8')
        .split(/\s+/)
        .filter((word) => /^\d+$/.test(word))
        .map(Number)
    : [];

async function waitFor(what: () => boolean, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (what()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return what();
}

for (const [source, signal] of [
  ['restic:latest', 'SIGTERM'],
  ['restic:latest', 'SIGHUP'],
  ['restic:latest', 'SIGINT'],
  ['borg:/nowhere::a1', 'SIGTERM'],
] as const) {
  test(`${signal} during ${source}: the tool's process group ends with restoreplan`, async () => {
    const pidFile = path.join(scratch.dir, `pids-${signal}-${source.slice(0, 4)}`);
    const child = spawn(process.execPath, [bin, 'scan', source, '--json'], {
      env: {
        ...process.env,
        PATH: `${scratch.dir}:${process.env.PATH ?? ''}`,
        PIDFILE: pidFile,
        RESTIC_REPOSITORY: path.join(scratch.dir, 'repo'),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    try {
      assert.ok(
        await waitFor(
          () => existsSync(pidFile) && readFileSync(pidFile, 'utf8').includes('\n'),
          10_000,
        ),
        'the fake tool ran',
      );
      await new Promise((resolve) => setTimeout(resolve, 300)); // borg's second run starts
      child.kill(signal);
      const code = await exited;
      assert.ok(
        await waitFor(() => readPids(pidFile).every((pid) => !alive(pid)), 5_000),
        `tool processes ${readPids(pidFile).join(', ')} outlived restoreplan (${signal})`,
      );
      assert.is(code, 3);
      assert.is((JSON.parse(stdout) as { error: { code: string } }).error.code, 'ABORTED');
    } finally {
      child.kill('SIGKILL');
      for (const pid of readPids(pidFile)) if (alive(pid)) process.kill(pid, 'SIGKILL');
    }
  });
}

test.run();
