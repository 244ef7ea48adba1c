/**
 * `runBackupTool`: one run of restic or borg, its stdout streamed to the caller as text.
 *
 * stdin is ignored and the child gets a session of its own (detached: setsid), so it has no
 * controlling terminal: without a password both tools would otherwise prompt on the tty (borg
 * opens /dev/tty itself) and wait forever; this way they fail at once. The environment passes
 * through untouched (RESTIC_REPOSITORY, RESTIC_PASSWORD_FILE, RESTIC_PASSWORD_COMMAND,
 * BORG_PASSPHRASE, BORG_PASSCOMMAND, BORG_REPO, ...): secrets reach the tool the tool's way,
 * never on its command line. Its stderr is kept (bounded) for the caller to classify; it is
 * never put into an error message whole (see safeExcerpt).
 */
import { spawn } from 'node:child_process';

import { RestoreplanError } from '../errors.js';

export type BackupTool = 'restic' | 'borg';

/** The Debian package of each tool (what BACKUP_TOOL_MISSING names). */
export const DEBIAN_PACKAGE: Record<BackupTool, string> = { restic: 'restic', borg: 'borgbackup' };

/** Bytes of stderr kept: enough for the tools' error lines, bounded whatever they print. */
const MAX_STDERR_CHARS = 64 * 1024;

export interface ToolExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  /** True when the caller stopped the run (onStdout returned 'stop'): the tool was killed. */
  stopped: boolean;
}

export interface RunToolOptions {
  /** Receives stdout as UTF-8 text, chunk by chunk; 'stop' kills the tool. */
  onStdout?: (text: string) => void | 'stop';
  signal?: AbortSignal | undefined;
  /** The command to run instead of the tool's name (a test seam). */
  command?: string;
  /**
   * Run the tool with its stdout into a real pipe read by `cat` (RELAY_SCRIPT), for a tool that
   * writes each small record with its own write(2): restic (Go's unbuffered os.Stdout) writes
   * ~2 per node. Node's child stdout is a socketpair and wakes up for every one of them (75k
   * reads for 100k nodes, the listing ~25 % slower); cat hands them over in larger chunks. Not
   * used for borg: it writes one line per item too, but is CPU-bound itself (python), and the
   * relay halved its chunks without a measurable gain.
   */
  relay?: boolean;
  /**
   * Pipes stdout, as bytes and with backpressure, into this stream instead of onStdout (member
   * data: a tar of `borg export-tar`, the bytes of `restic dump`). It is ended with stdout.
   */
  stdout?: NodeJS.WritableStream;
}

/**
 * The relay: the tool's exit status comes back on fd 3 (a pipeline's status is cat's). `$@`
 * is the command and its arguments, never interpolated into the script.
 */
const RELAY_SCRIPT = '{ "$@" 3>&-; echo "$?" >&3; } | cat 3>&-';
/** The shell's status for a command it could not find. */
const NOT_FOUND_STATUS = 127;

/**
 * Runs `tool args...` and settles when it has exited and its output is read. Rejects with
 * BACKUP_TOOL_MISSING when it is not installed, ABORTED when the signal fires, and with
 * whatever onStdout throws (the tool is killed first); an exit code is the caller's to judge.
 */
export function runBackupTool(
  tool: BackupTool,
  args: readonly string[],
  options: RunToolOptions = {},
): Promise<ToolExit> {
  const command = options.command ?? tool;
  return new Promise<ToolExit>((resolve, reject) => {
    if (options.signal?.aborted) {
      reject(new RestoreplanError('ABORTED', 'cancelled'));
      return;
    }
    const relay = options.relay === true;
    const child = relay
      ? spawn('sh', ['-c', RELAY_SCRIPT, 'sh', command, ...args], {
          stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
          detached: true,
        })
      : spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let status = '';
    if (relay) {
      const statusPipe = child.stdio[3] as NodeJS.ReadableStream;
      statusPipe.setEncoding('utf8');
      statusPipe.on('data', (text: string) => {
        status += text;
      });
    }
    let stderr = '';
    let stopped = false;
    let failure: unknown = null;
    const kill = (): void => {
      if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
      try {
        // The whole process group: restic's and borg's helpers too (the child leads it).
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        child.kill('SIGTERM');
      }
    };
    const onAbort = (): void => {
      failure ??= new RestoreplanError('ABORTED', 'cancelled');
      kill();
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    child.stderr!.setEncoding('utf8');
    if (options.stdout) child.stdout!.pipe(options.stdout);
    else child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (text: string) => {
      if (options.stdout) return;
      if (stopped || failure !== null) return;
      try {
        if (options.onStdout?.(text) === 'stop') {
          stopped = true;
          kill();
        }
      } catch (error) {
        failure = error;
        kill();
      }
    });
    child.stderr!.on('data', (text: string) => {
      if (stderr.length < MAX_STDERR_CHARS)
        stderr += text.slice(0, MAX_STDERR_CHARS - stderr.length);
    });
    const missing = (): RestoreplanError =>
      new RestoreplanError(
        'BACKUP_TOOL_MISSING',
        `a ${tool}: source needs \`${tool}\`, which is not installed (Debian: apt-get install ${DEBIAN_PACKAGE[tool]})`,
        { tool, command, package: DEBIAN_PACKAGE[tool] },
      );
    child.on('error', (error: NodeJS.ErrnoException) => {
      options.signal?.removeEventListener('abort', onAbort);
      if (error.code === 'ENOENT') {
        reject(missing());
      } else {
        reject(
          new RestoreplanError(
            'BACKUP_TOOL_FAILED',
            `running ${tool} failed: ${error.code ?? 'error'}`,
            {
              tool,
              errno: error.code ?? null,
            },
          ),
        );
      }
    });
    child.on('close', (code, signal) => {
      options.signal?.removeEventListener('abort', onAbort);
      // Through the relay: the tool's own status (none when it was killed before echoing).
      const toolCode = relay && /^\d+\s*$/.test(status) ? Number(status) : relay ? null : code;
      if (failure !== null) reject(failure);
      else if (relay && toolCode === NOT_FOUND_STATUS && /not found/.test(stderr))
        reject(missing());
      else resolve({ code: toolCode, signal, stderr, stopped });
    });
  });
}

/** Splits streamed text into lines (without their `\n`), the last one flushed by `end`. */
export function createLineSplitter(onLine: (line: string) => void | 'stop'): {
  push(text: string): void | 'stop';
  end(): void | 'stop';
} {
  let rest = '';
  return {
    push(text) {
      let start = 0;
      let newline = text.indexOf('\n');
      if (newline === -1) {
        rest += text;
        return;
      }
      let line = rest + text.slice(0, newline);
      rest = '';
      while (true) {
        if (line !== '' && onLine(line) === 'stop') return 'stop';
        start = newline + 1;
        newline = text.indexOf('\n', start);
        if (newline === -1) break;
        line = text.slice(start, newline);
      }
      rest = text.slice(start);
    },
    end() {
      const line = rest;
      rest = '';
      return line === '' ? undefined : onLine(line);
    },
  };
}

/** Values of the environment a tool may take a secret from: never shown, whatever prints them. */
const SECRET_VARIABLES = ['RESTIC_PASSWORD', 'BORG_PASSPHRASE', 'RESTIC_REPOSITORY', 'BORG_REPO'];

/**
 * A short excerpt of a tool's stderr fit for an error line: its first non-empty line, at most
 * 160 characters, with the user:password part of any URL and the value of any secret variable
 * blanked out (a repository URL may carry credentials, e.g. rest:https://u:p@host/).
 */
export function safeExcerpt(stderr: string, env: NodeJS.ProcessEnv = process.env): string {
  let line = stderr.split('\n').find((l) => l.trim() !== '') ?? '';
  line = line.trim().replace(/:\/\/[^/\s@]*@/g, '://***@');
  for (const name of SECRET_VARIABLES) {
    const value = env[name];
    if (value && value.length >= 4) line = line.split(value).join('***');
  }
  return line.length > 160 ? `${line.slice(0, 157)}...` : line;
}
