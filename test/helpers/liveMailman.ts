/**
 * Test support for the planner and incident tests on real filesystems: the incident sandbox's
 * live var dir copied onto a mount (the backup stays off it, as a real backup would), inodes
 * eaten to an exact level by empty queue files (the incident: mail piling up in qfiles/in),
 * before/after snapshots of a tree, and member bytes read by GNU tar (an oracle independent of
 * our walker).
 */
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import {
  closeSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statfsSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';

import { buildIncidentSandbox, type IncidentSandbox } from '../../samples/buildIncidentSandbox.js';
import { run } from './env.js';

/**
 * The sandbox dated two days back: every queue file is older than an hour, so the measured
 * inflow (and with it the growth part of the default inode reserve) is 0 and the reserve is
 * exactly 5% — numbers a test can derive without racing the clock.
 */
export const SANDBOX_NOW = new Date(Date.now() - 2 * 86400_000);

export async function buildBackup(dir: string): Promise<IncidentSandbox> {
  return buildIncidentSandbox(dir, { now: SANDBOX_NOW, stuffedQueueFiles: 20 });
}

/**
 * Repairs the sandbox's corrupt lists in `live` by hand (their config.pck from the backup), so
 * that only what a test breaks itself is down: a list left down makes every plan critical.
 */
export function repairCorruptByHand(sandbox: IncidentSandbox, live: string): void {
  for (const name of sandbox.expected.corrupt)
    writeFileSync(
      path.join(live, 'lists', name, 'config.pck'),
      memberBytes(sandbox.backup, `${sandbox.memberRoot}/lists/${name}/config.pck`),
    );
}

/** Copies the live var dir onto the mount (cp -a keeps modes, owners, mtimes, symlinks). */
export function copyLive(sandbox: IncidentSandbox, mountPoint: string, name = 'mailman'): string {
  const live = path.join(mountPoint, name);
  run('cp', ['-a', sandbox.live, live]);
  return live;
}

export function freeInodes(mountPoint: string): number {
  execFileSync('sync', ['-f', mountPoint]);
  return statfsSync(mountPoint).ffree;
}

export function totalInodes(mountPoint: string): number {
  return statfsSync(mountPoint).files;
}

/** The default inode reserve with no queue growth: 5% of the filesystem's inodes. */
export function defaultReserve(mountPoint: string): number {
  return Math.ceil((totalInodes(mountPoint) * 5) / 100);
}

const FILL_DIR = 'qfiles/in';
const OLD = (Date.now() - 3 * 86400_000) / 1000;

/**
 * Creates empty queue files under `<live>/qfiles/in` until the filesystem has exactly `free`
 * free inodes. Their mtime is days old: they count as a backlog, not as inflow.
 */
export function eatInodesTo(live: string, mountPoint: string, free: number): string[] {
  const dir = path.join(live, FILL_DIR);
  mkdirSync(dir, { recursive: true });
  const made: string[] = [];
  let current = freeInodes(mountPoint);
  if (current < free) throw new Error(`only ${current} inodes free, wanted ${free}`);
  let serial = 0;
  while (current > free) {
    for (let i = current - free; i > 0; i -= 1) {
      const file = path.join(dir, `${(OLD + serial).toFixed(6)}+fill${String(serial)}.pck`);
      serial += 1;
      closeSync(openSync(file, 'wx'));
      utimesSync(file, OLD, OLD);
      made.push(file);
    }
    current = freeInodes(mountPoint);
  }
  if (current !== free) throw new Error(`${current} inodes free, wanted ${free}`);
  return made;
}

export function removeFiles(files: readonly string[]): void {
  for (const file of files) rmSync(file, { force: true });
}

const sha = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');

/** Every path under `dir` with its type, mode, owner, mtime and content hash. */
export function snapshotTree(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (current: string): void => {
    for (const name of readdirSync(current)) {
      const full = path.join(current, name);
      const rel = path.relative(dir, full);
      const s = lstatSync(full);
      const meta = `${(s.mode & 0o7777).toString(8)}:${s.uid}:${s.gid}:${s.mtimeMs}`;
      if (s.isSymbolicLink()) out.set(rel, `link:${readlinkSync(full)}:${meta}`);
      else if (s.isDirectory()) {
        // A directory's mtime changes when an entry is renamed into it: compared separately.
        out.set(rel, `dir:${(s.mode & 0o7777).toString(8)}:${s.uid}:${s.gid}`);
        walk(full);
      } else out.set(rel, `file:${meta}:${sha(readFileSync(full))}`);
    }
  };
  walk(dir);
  return out;
}

/** Paths whose snapshot differs (added, removed or changed), sorted. */
export function changedPaths(
  before: ReadonlyMap<string, string>,
  after: ReadonlyMap<string, string>,
): string[] {
  const changed = new Set<string>();
  for (const [rel, value] of before) if (after.get(rel) !== value) changed.add(rel);
  for (const rel of after.keys()) if (!before.has(rel)) changed.add(rel);
  return [...changed].sort();
}

/** A member's bytes as GNU tar extracts them (the last occurrence, or the n-th). */
export function memberBytes(archive: string, memberPath: string, occurrence?: number): Buffer {
  const args = ['-xOf', archive];
  if (occurrence !== undefined) args.push(`--occurrence=${occurrence}`);
  return execFileSync('tar', [...args, memberPath], { maxBuffer: 1 << 28 });
}

/** memberPaths of the backup (GNU tar's listing), without a trailing slash. */
export function listMembers(archive: string): string[] {
  return run('tar', ['-tf', archive])
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => line.replace(/\/$/, ''));
}

/** A list lost on the live side: its directory, archives, mbox and public link all gone. */
export function loseList(live: string, name: string): void {
  for (const rel of [
    `lists/${name}`,
    `archives/private/${name}`,
    `archives/private/${name}.mbox`,
    `archives/public/${name}`,
  ])
    rmSync(path.join(live, rel), { recursive: true, force: true });
}

/** memberPaths of a list's pipermail archive, mbox and public symlink (what --with-archives adds). */
export function archiveMembersOf(members: readonly string[], root: string, name: string): string[] {
  const quote = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const [r, n] = [quote(root), quote(name)];
  const pattern = new RegExp(`^${r}/archives/(private/${n}(\\.mbox)?(/.*)?|public/${n})$`);
  return members.filter((m) => pattern.test(m));
}
