/**
 * The restic repository of a shape: the shape's tar extracted and backed up once by `restic
 * backup` (its paths `/var/lib/mailman/...`, as a snapshot of the live server's var dir would
 * have them), cached in .bench-work under the archive's name. Everything restic reads or writes
 * — repository, password file, cache — stays inside .bench-work: the user's restic cache and
 * environment are never used.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Archives } from './archives.js';
import { sh } from './measure.js';

export interface ResticRepo {
  /** The snapshot's full id. */
  id: string;
  /** `VAR=... ` assignments that point restic at this repository (a command prefix). */
  env: string;
}

export function ensureResticRepo(archives: Archives): ResticRepo {
  const dir = archives.tar.replace(/\.tar$/, '.restic');
  const repo = path.join(dir, 'repo');
  const password = path.join(dir, 'password');
  const marker = path.join(dir, 'snapshot-id');
  const env = `RESTIC_REPOSITORY='${repo}' RESTIC_PASSWORD_FILE='${password}' RESTIC_CACHE_DIR='${path.join(dir, 'cache')}' RESTIC_PASSWORD= RESTIC_PASSWORD_COMMAND= RESTIC_REPOSITORY_FILE=`;
  if (!existsSync(marker)) {
    process.stderr.write(`bench: backing up ${archives.tar} into ${repo} with restic\n`);
    rmSync(dir, { recursive: true, force: true });
    const source = path.join(dir, 'source');
    mkdirSync(source, { recursive: true });
    writeFileSync(password, 'restoreplan-bench\n', { mode: 0o600 });
    sh(`tar -xf '${archives.tar}' -C '${source}'`);
    sh(`${env} restic init -q`);
    sh(`cd '${source}' && ${env} restic backup -q var`);
    rmSync(source, { recursive: true, force: true });
    const listed = spawnSync('bash', ['-c', `${env} restic --no-lock snapshots --json latest`], {
      encoding: 'utf8',
    });
    const id = (JSON.parse(listed.stdout) as Array<{ id: string }>)[0]?.id;
    if (listed.status !== 0 || !id) throw new Error(`restic snapshots: ${listed.stderr}`);
    writeFileSync(marker, id);
  }
  return { id: readFileSync(marker, 'utf8').trim(), env };
}
