/**
 * The environment the tests give real restic and borg: repositories, caches and keys under a
 * scratch dir, the password the tools' own way (RESTIC_PASSWORD_FILE, BORG_PASSPHRASE) and no
 * other way a secret could come from the caller's environment.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import * as assert from 'uvu/assert';

export interface BackupToolEnv {
  env: NodeJS.ProcessEnv;
  passwordFile: string;
  resticRepo: string;
  borgRepo: string;
}

export function makeBackupToolEnv(
  dir: string,
  secret: string,
  extra: NodeJS.ProcessEnv = {},
): BackupToolEnv {
  const passwordFile = path.join(dir, 'restic-password');
  const resticRepo = path.join(dir, 'restic-repo');
  const borgRepo = path.join(dir, 'borg-repo');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...extra,
    RESTIC_REPOSITORY: resticRepo,
    RESTIC_PASSWORD_FILE: passwordFile,
    RESTIC_CACHE_DIR: path.join(dir, 'restic-cache'),
    BORG_PASSPHRASE: secret,
    BORG_BASE_DIR: path.join(dir, 'borg-home'),
  };
  delete env.RESTIC_PASSWORD;
  delete env.RESTIC_PASSWORD_COMMAND;
  delete env.BORG_PASSCOMMAND;
  return { env, passwordFile, resticRepo, borgRepo };
}

/** Runs a tool (restic, borg, tar…) in that environment; its stdout, asserting exit 0. */
export function runBackupTool(
  env: NodeJS.ProcessEnv,
  cmd: string,
  args: string[],
  cwd: string,
  extra: NodeJS.ProcessEnv = {},
): string {
  const result = spawnSync(cmd, args, {
    cwd,
    env: { ...env, ...extra },
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 1 << 28,
  });
  assert.is(result.status, 0, `${cmd} ${args.join(' ')}: ${result.stderr.toString()}`);
  return result.stdout.toString();
}
