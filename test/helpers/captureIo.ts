/** An Io whose stdout and stderr are kept as text (off a terminal), for tests of the front ends. */
import { PassThrough } from 'node:stream';

import { runCli } from '../../src/cli/main.js';
import type { Io } from '../../src/cli/output.js';

export interface CapturedIo {
  io: Io;
  out: () => string;
  err: () => string;
}

export function captureIo(): CapturedIo {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => (out += c.toString()));
  stderr.on('data', (c: Buffer) => (err += c.toString()));
  return { io: { stdout, stderr, stdin: new PassThrough() }, out: () => out, err: () => err };
}

/** The CLI run in this process with a captured Io: its exit code and what it printed. */
export async function runCliCaptured(
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const { io, out, err } = captureIo();
  const code = await runCli(args, io);
  return { code, stdout: out(), stderr: err() };
}
