import { spawnSync } from 'node:child_process';
import path from 'node:path';
import * as assert from 'uvu/assert';
import { fileURLToPath } from 'node:url';

export const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The real CLI entry point (through tsx, so no build is needed), stdin not a TTY. */
export function cli(
  args: string[],
  options: { env?: NodeJS.ProcessEnv } = {},
): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync(
    process.execPath,
    ['--import', 'tsx', path.join(repo, 'src/cli/bin.ts'), ...args],
    {
      cwd: repo,
      encoding: 'utf8',
      input: '',
      ...(options.env ? { env: { ...process.env, ...options.env } } : {}),
    },
  );
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The built CLI run as the unprivileged user `nobody` (needs root and runuser). */
export function cliAsNobody(args: string[]): {
  code: number | null;
  stdout: string;
  stderr: string;
} {
  const result = spawnSync(
    'runuser',
    ['-u', 'nobody', '--', process.execPath, path.join(repo, 'dist/cli/bin.js'), ...args],
    { encoding: 'utf8' },
  );
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The JSON document a command printed (asserting it printed one: the code and stderr say why not). */
export function jsonOf<T>(r: { code: number | null; stdout: string; stderr: string }): T {
  assert.ok(r.stdout.startsWith('{'), `${r.code} ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}
