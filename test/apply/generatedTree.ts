/**
 * Test support (not a test) for apply's acceptance tests: a seeded tree of directories (modes
 * 0755, 0750, 2775), files, symlinks and hard links, owned by one uid:gid with old mtimes; its
 * archive made by GNU tar; a plan made by the real planner (`restoreplan plan --profile none`,
 * the built CLI); the oracle, `tar -xpf` of the same archive; and a comparison of two trees by
 * content, type, mode, owner, mtime and hard-link grouping.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  lchownSync,
  linkSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';

import type { PlanDocument } from '../../src/types.js';
import { run } from '../helpers/env.js';
import { repo } from '../helpers/runCli.js';

export const bin = path.join(repo, 'dist/cli/bin.js');

/** mulberry32: a small seeded PRNG, so a failing case can be replayed by its seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface TreeSpec {
  seed: number;
  dirs: number;
  files: number;
  symlinks: number;
  hardlinks: number;
  /** Owner of everything (applied when root). */
  owner: { uid: number; gid: number };
}

export const DIR_MODES = [0o755, 0o750, 0o2775] as const;
const FILE_MODES = [0o644, 0o640, 0o600, 0o664, 0o755];

/** Builds the tree under `<dir>/src` and archives it with GNU tar; returns the archive path. */
export function generateTree(dir: string, spec: TreeSpec): { source: string; archive: string } {
  const random = seededRandom(spec.seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const when = (): number => 1_000_000_000 + Math.floor(random() * 600_000_000);
  const source = path.join(dir, 'src');
  mkdirSync(source);
  const dirs: string[] = [];
  for (let i = 0; i < spec.dirs; i += 1) {
    // A parent among the first dirs: a few deep chains, many siblings.
    const parent = dirs.length === 0 || random() < 0.15 ? '' : pick(dirs);
    const rel = path.join(parent, `d${i}`);
    mkdirSync(path.join(source, rel));
    dirs.push(rel);
  }
  const inDir = (): string => (random() < 0.05 ? '' : pick(dirs));
  const files: string[] = [];
  for (let i = 0; i < spec.files; i += 1) {
    const rel = path.join(inDir(), `f${i}.txt`);
    const size = random() < 0.1 ? 0 : Math.floor(random() * 3000);
    const data = Buffer.alloc(size);
    for (let b = 0; b < size; b += 1) data[b] = Math.floor(random() * 256);
    const full = path.join(source, rel);
    writeFileSync(full, data);
    chmodSync(full, pick(FILE_MODES));
    chownSync(full, spec.owner.uid, spec.owner.gid);
    utimesSync(full, when(), when());
    files.push(rel);
  }
  for (let i = 0; i < spec.hardlinks; i += 1)
    linkSync(path.join(source, pick(files)), path.join(source, inDir(), `h${i}`));
  for (let i = 0; i < spec.symlinks; i += 1) {
    const full = path.join(source, inDir(), `l${i}`);
    symlinkSync(random() < 0.5 ? `f${i}.txt` : `missing-${i}`, full);
    lchownSync(full, spec.owner.uid, spec.owner.gid);
    const t = when();
    lutimesSync(full, t, t);
  }
  // Directory metadata last, deepest first, as tar -x does it.
  for (const rel of [...dirs].sort((a, b) => b.split('/').length - a.split('/').length)) {
    const full = path.join(source, rel);
    chownSync(full, spec.owner.uid, spec.owner.gid);
    chmodSync(full, pick(DIR_MODES));
    const t = when();
    utimesSync(full, t, t);
  }
  const archive = path.join(dir, 'backup.tar');
  run('tar', [
    '--format=gnu',
    '--numeric-owner',
    '-cf',
    archive,
    '-C',
    source,
    ...readdirSync(source).sort(),
  ]);
  return { source, archive };
}

/** The plan the real planner makes (`--profile none`), written to `planPath`. */
export function planWithCli(archive: string, target: string, planPath: string): PlanDocument {
  const result = spawnSync(
    process.execPath,
    [bin, 'plan', archive, '--target', target, '--profile', 'none', '--out', planPath, '--json'],
    { encoding: 'utf8', input: '', maxBuffer: 1 << 28 },
  );
  // Exit 1: the plan runs with warnings (the generated symlinks dangle, on purpose).
  if (result.status !== 0 && result.status !== 1)
    throw new Error(`plan exited ${String(result.status)}: ${result.stderr}`);
  return JSON.parse(readFileSync(planPath, 'utf8')) as PlanDocument;
}

/** `tar -xpf` of the archive into `dest` (as root: owners too), the oracle. */
export function extractOracle(archive: string, dest: string): void {
  mkdirSync(dest, { recursive: true });
  run('tar', ['--numeric-owner', '-xpf', archive, '-C', dest]);
}

/** Every path below `root`: type, content or link text, mode, owner, mtime, hard-link group. */
export function describeTree(root: string): Map<string, string> {
  const out = new Map<string, string>();
  const byInode = new Map<number, string[]>();
  const walk = (current: string): void => {
    for (const name of readdirSync(current).sort()) {
      const full = path.join(current, name);
      const rel = path.relative(root, full);
      const s = lstatSync(full);
      const meta = `${(s.mode & 0o7777).toString(8)} ${s.uid}:${s.gid} ${s.mtimeMs}`;
      if (s.isSymbolicLink()) out.set(rel, `symlink ${readlinkSync(full)} ${meta}`);
      else if (s.isDirectory()) {
        out.set(rel, `dir ${meta}`);
        walk(full);
      } else if (s.isFile()) {
        const sha = createHash('sha256').update(readFileSync(full)).digest('hex').slice(0, 16);
        out.set(rel, `file ${sha} ${meta}`);
        byInode.set(s.ino, [...(byInode.get(s.ino) ?? []), rel]);
      } else out.set(rel, `other ${meta}`);
    }
  };
  walk(root);
  for (const names of byInode.values())
    if (names.length > 1)
      for (const rel of names)
        out.set(rel, `${out.get(rel) ?? ''} links=${names.sort().join(',')}`);
  return out;
}

/** Where two trees differ (first `limit` paths, with both descriptions). */
export function treeDiff(
  actual: ReadonlyMap<string, string>,
  expected: ReadonlyMap<string, string>,
  limit = 10,
): string[] {
  const out: string[] = [];
  for (const rel of new Set([...actual.keys(), ...expected.keys()])) {
    const [a, e] = [actual.get(rel), expected.get(rel)];
    if (a !== e) out.push(`${rel}: ${a ?? 'absent'} != ${e ?? 'absent'}`);
    if (out.length >= limit) break;
  }
  return out;
}

/** Temp files apply left (its temp names hold `.restoreplan-`). */
export function leftoverTemps(root: string): string[] {
  return [...describeTree(root).keys()].filter((rel) => rel.includes('.restoreplan-'));
}

/** The journal's records (torn lines skipped) as [targetPath] in order. */
export function journalTargets(journalPath: string): string[] {
  const out: string[] = [];
  for (const line of readFileSync(journalPath, 'utf8').split('\n')) {
    try {
      out.push((JSON.parse(line) as { targetPath: string }).targetPath);
    } catch {
      // a torn last line of a killed run
    }
  }
  return out;
}

/** Number of steps of a plan. */
export function stepCount(plan: PlanDocument): number {
  return plan.stages.reduce((n, stage) => n + stage.steps.length, 0);
}
