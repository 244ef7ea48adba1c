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
   * Run the tool with its stdout into a real pipe drained by a relay (RELAY_SCRIPT), for a tool
   * that writes each small record with its own write(2): restic (Go's unbuffered os.Stdout)
   * writes ~2 per node. Read directly, Node's child stdout is a socketpair: every write wakes
   * the reader and costs a socket buffer of its own (a listing of 100k nodes came to ~50k
   * reads, and ~1.8× the time restic takes to print it to /dev/null). The relay lets the writes
   * pile up in the pipe instead (see RELAY_PERL). Not used for borg: it writes one line per item
   * too, but is CPU-bound itself (python), and a relay made no measurable difference.
   */
  relay?: boolean;
  /**
   * Pipes stdout, as bytes and with backpressure, into this stream instead of onStdout (member
   * data: a tar of `borg export-tar`, the bytes of `restic dump`). It is ended with stdout.
   */
  stdout?: NodeJS.WritableStream;
}

/**
 * The relay's reader: the pipe grown to 1 MiB (F_SETPIPE_SZ, 1031; the default 64 KiB where
 * the system refuses), then reads of whatever is there, and a 20 ms sleep after a read that
 * found less than a quarter of the pipe: while it sleeps no write of the tool wakes anyone, and
 * at restic's ~10 MB/s the pipe never fills (a fuller pipe skips the sleep, so a faster tool is
 * never held back). Measured on a 107k-node snapshot, median of 7 paired rounds against
 * `restic ls --json`: reading restic's pipe took 1.14× with this relay, 1.48× through `cat`
 * (woken for every write), 1.83× with no relay — `restic find` itself is 1.09×. perl is part
 * of every Debian system (perl-base is Essential); without it the relay is `cat`.
 */
export const RELAY_PERL = [
  'my $size = fcntl(STDIN, 1031, 1048576) || fcntl(STDIN, 1032, 0) || 65536;',
  'my $buf;',
  'while (1) {',
  '  my $n = sysread(STDIN, $buf, 1048576);',
  '  last if !$n;',
  '  my $off = 0;',
  '  while ($off < $n) {',
  '    my $w = syswrite(STDOUT, $buf, $n - $off, $off);',
  '    exit 1 if !defined $w;',
  '    $off += $w;',
  '  }',
  '  select(undef, undef, undef, 0.02) if $n < $size / 4;',
  '}',
].join('\n');

/**
 * The relay: the tool's exit status comes back on fd 3 (a pipeline's status is the relay's).
 * `$1` is the relay's perl program, the rest (`$@` after shift) the command and its arguments,
 * never interpolated into the script.
 */
const RELAY_SCRIPT =
  'p=$1; shift; { "$@" 3>&-; echo "$?" >&3; } | { if command -v perl >/dev/null 2>&1; then exec perl -e "$p"; else exec cat; fi; } 3>&-';
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
      ? spawn('sh', ['-c', RELAY_SCRIPT, 'sh', RELAY_PERL, command, ...args], {
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
  // Up to the last '@' of the word: a password the user did not percent-encode may hold a '/'
  // or an '@' itself (rest:http://u:Pa/ss@h/). Blanking a path's '@' too is the safe mistake.
  line = line.trim().replace(/:\/\/[^\s"'<>]*@/g, '://***@');
  for (const name of SECRET_VARIABLES) {
    const value = env[name];
    if (value && value.length >= 4) line = line.split(value).join('***');
  }
  return line.length > 160 ? `${line.slice(0, 157)}...` : line;
}
