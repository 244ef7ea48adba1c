/**
 * The warm state of a shape: an index of each of its archives (tar, gz, zst), built once by
 * `restoreplan index` outside any timing into .bench-work/index-warm-SHAPE (never the user's
 * cache), and the index sizes the index-size table reports.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Archives } from './archives.js';
import { bin, rp, work } from './measure.js';

export type Compression = 'none' | 'gzip' | 'zstd';

export interface IndexSize {
  compression: Compression;
  members: number;
  accessPoints: number;
  bytes: number;
  /** Bytes of the uncompressed archive: the goal is a share of it, whatever was indexed. */
  archiveBytes: number;
}

export interface WarmIndex {
  dir: string;
  sizes: IndexSize[];
  /**
   * Throws if an index file was replaced or a new one appeared since the build: a warm run
   * that found its index stale or unreadable walks the archive and leaves a new one, which
   * would silently turn a warm figure into a cold one.
   */
  assertUntouched: () => void;
}

export function archiveOf(archives: Archives, compression: Compression): string {
  return compression === 'none'
    ? archives.tar
    : compression === 'gzip'
      ? archives.gz
      : archives.zst;
}

/** The index files of `dir` and their inodes (a rebuild renames a new file into place). */
function indexInodes(dir: string): Map<string, number> {
  const inodes = new Map<string, number>();
  for (const name of readdirSync(dir))
    if (name.endsWith('.rpidx')) inodes.set(name, statSync(path.join(dir, name)).ino);
  return inodes;
}

interface IndexDocument {
  index: { file: string; bytes: number; built: boolean; members: number; accessPoints: number };
}

function buildOne(dir: string, archive: string): IndexDocument['index'] {
  const result = spawnSync(
    'node',
    [bin, 'index', '--json', '--no-progress', '--force', '--index-dir', dir, archive],
    { encoding: 'utf8' },
  );
  if (result.status !== 0) throw new Error(`restoreplan index ${archive} failed: ${result.stderr}`);
  const { index } = JSON.parse(result.stdout) as IndexDocument;
  if (!index.built) throw new Error(`restoreplan index ${archive}: --force did not rebuild`);
  return index;
}

/** Throws unless a command reading `archive` is answered from the index (--debug says so). */
function probeHit(dir: string, archive: string): void {
  const result = spawnSync(
    'bash',
    ['-c', `${rp(`scan --json --debug --index-dir '${dir}' '${archive}'`)} > /dev/null`],
    { encoding: 'utf8' },
  );
  if (result.status !== 0 || !result.stderr.includes('index: answered from'))
    throw new Error(`scan of ${archive} was not answered from its index: ${result.stderr}`);
}

export function buildWarmIndex(archives: Archives): WarmIndex {
  const dir = path.join(work, `index-warm-${archives.shape}`);
  rmSync(dir, { recursive: true, force: true });
  const archiveBytes = statSync(archives.tar).size;
  const sizes: IndexSize[] = [];
  for (const compression of ['none', 'gzip', 'zstd'] as const) {
    const archive = archiveOf(archives, compression);
    process.stderr.write(`bench: ${archives.shape}: indexing ${archive}\n`);
    const index = buildOne(dir, archive);
    probeHit(dir, archive);
    sizes.push({ compression, archiveBytes, ...index });
  }
  const built = indexInodes(dir);
  const assertUntouched = (): void => {
    const now = indexInodes(dir);
    const same =
      now.size === built.size && [...now].every(([name, ino]) => built.get(name) === ino);
    if (!same) throw new Error(`the warm index in ${dir} was rebuilt: a warm case ran cold`);
  };
  return { dir, sizes, assertUntouched };
}

/** Index files in `dir` (the build case checks that its warm-up left one). */
export function countIndexFiles(dir: string): number {
  return indexInodes(dir).size;
}
