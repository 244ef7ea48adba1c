/**
 * One short query of an MTA's configuration tool (`exim4 -bP`, `postconf -xh`): found on the
 * search path by us, run without a shell (no word splitting of a spool path, nothing of the
 * caller's interpolated), stdin ignored so it can never wait for input, and killed after a
 * timeout so a hung lookup (an Exim config that expands a lookup on a dead LDAP server) cannot
 * hang check or doctor.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';

import { RestoreplanError } from '../errors.js';

/** Long enough for a config that does DNS lookups at parse time; short enough for doctor. */
export const MTA_TOOL_TIMEOUT_MS = 10_000;
/** Bytes of output kept: the few lines asked for, bounded whatever the tool prints. */
const MAX_OUTPUT_CHARS = 64 * 1024;

/**
 * Where an MTA's tools live on Debian (/usr/sbin) is often not on a non-root user's PATH:
 * those directories are searched after PATH.
 */
export function defaultMtaSearchPath(): string {
  return [process.env.PATH ?? '', '/usr/local/sbin', '/usr/sbin', '/sbin'].join(path.delimiter);
}

/** The first executable regular file `name` in the search path, or null. */
export function findMtaTool(name: string, searchPath: string): string | null {
  for (const dir of searchPath.split(path.delimiter)) {
    // An empty PATH entry means the current directory to a shell; never look there.
    if (!dir || !path.isAbsolute(dir)) continue;
    const candidate = path.join(dir, name);
    try {
      if (!statSync(candidate).isFile()) continue;
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      continue;
    }
  }
  return null;
}

export interface MtaToolResult {
  status: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** Runs `command args...`; settles with its exit, never rejects except for ABORTED. */
export function runMtaTool(
  command: string,
  args: readonly string[],
  options: { signal?: AbortSignal | undefined; timeoutMs?: number } = {},
): Promise<MtaToolResult> {
  return new Promise((resolve, reject) => {
    if (options.signal?.aborted) {
      reject(new RestoreplanError('ABORTED', 'cancelled'));
      return;
    }
    // Its own process group, killed whole: a wrapper script's child (the real tool, or a
    // lookup it runs) would otherwise outlive the kill and hold the output pipes open, and
    // 'close' would wait for it however long it hangs.
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    let aborted = false;
    const killAll = (): void => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
        else child.kill('SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killAll();
    }, options.timeoutMs ?? MTA_TOOL_TIMEOUT_MS);
    const onAbort = (): void => {
      aborted = true;
      killAll();
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (text: string) => {
      if (stdout.length < MAX_OUTPUT_CHARS)
        stdout += text.slice(0, MAX_OUTPUT_CHARS - stdout.length);
    });
    child.stderr.on('data', (text: string) => {
      if (stderr.length < MAX_OUTPUT_CHARS)
        stderr += text.slice(0, MAX_OUTPUT_CHARS - stderr.length);
    });
    let done = false;
    const finish = (status: number | null): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      if (aborted) reject(new RestoreplanError('ABORTED', 'cancelled'));
      else resolve({ status, stdout, stderr, timedOut });
    };
    // ENOENT/EACCES between our search and the spawn (the file went away): a failed run.
    child.on('error', () => finish(null));
    child.on('close', (code) => finish(code));
    // Killed: settle when the tool itself is gone, even if a descendant that left the group
    // (setsid) still holds a pipe; what it would still print is not wanted.
    child.on('exit', (code) => {
      if (!timedOut && !aborted) return;
      child.stdout.destroy();
      child.stderr.destroy();
      finish(code);
    });
  });
}
