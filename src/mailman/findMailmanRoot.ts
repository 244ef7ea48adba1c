/**
 * Where the Mailman 2.1 var dir is: a directory whose `lists/<name>/` subdirs hold a config
 * file (config.pck, config.pck.last, config.db, config.db.last — Mailman's own test for "the
 * list exists"), usually beside Mailman's siblings (archives/, qfiles/, data/, locks/, logs/).
 * On disk, and incrementally over an archive's memberPaths during the walk.
 */
import type { PathSummary } from '../archive/ArchiveIndex.js';
import type { Dirent } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';

import { RestoreplanError } from '../errors.js';
import { isListDirEntries } from './diagnoseList.js';

export const MAILMAN_SIBLINGS = ['archives', 'qfiles', 'data', 'locks', 'logs'] as const;

/** Directories searched below the given one for a var dir (var/lib/mailman is three deep). */
const MAX_SEARCH_DEPTH = 4;

async function entriesOf(dir: string): Promise<Dirent[]> {
  try {
    return await readdir(dir, { withFileTypes: true });
  } catch {
    return [];
  }
}

/**
 * Every list directory under `<root>/lists`, whether or not Mailman sees it as a list: a
 * directory whose config files are all gone is a lost list, never skipped. A symlink to a
 * directory is one too: Mailman follows it (`os.path.exists`), so a list moved to another
 * disk and linked back is a list, not one whose directory is gone. Hidden entries and
 * `lost+found` (lists/ as a mount point) are no lists.
 */
export async function listDirNamesAt(root: string): Promise<string[]> {
  const names: string[] = [];
  const dir = path.join(root, 'lists');
  for (const entry of await entriesOf(dir)) {
    if (entry.name.startsWith('.') || entry.name === 'lost+found') continue;
    if (await isDirectoryEntry(dir, entry)) names.push(entry.name);
  }
  return names.sort();
}

/** A directory, or a symlink to one (followed, as Mailman follows it). */
async function isDirectoryEntry(dir: string, entry: Dirent): Promise<boolean> {
  if (entry.isDirectory()) return true;
  if (!entry.isSymbolicLink()) return false;
  return stat(path.join(dir, entry.name)).then(
    (s) => s.isDirectory(),
    () => false,
  );
}

/** The lists under `<root>/lists` that Mailman sees (a config file exists), or []. */
export async function listNamesAt(root: string): Promise<string[]> {
  const names: string[] = [];
  for (const name of await listDirNamesAt(root)) {
    const files = (await entriesOf(path.join(root, 'lists', name))).map((e) => e.name);
    if (isListDirEntries(files)) names.push(name);
  }
  return names;
}

/**
 * Whether `dir` is a Mailman var dir: a list there has a config file, or — when a crash took
 * every list's configs — `lists/` stands beside at least two of Mailman's sibling directories.
 */
export async function isMailmanVarDir(dir: string): Promise<boolean> {
  if ((await listNamesAt(dir)).length > 0) return true;
  // lists/ moved to a roomier filesystem and linked back, Debian's qfiles/, locks/ and logs/
  // links into /var: Mailman follows them, so does this test (a var dir whose lists/ is a link
  // and whose every list is lost was not found, and plan restored the whole archive beneath it).
  const wanted = new Set<string>(['lists', ...MAILMAN_SIBLINGS]);
  const dirs = new Set<string>();
  for (const entry of await entriesOf(dir))
    if (wanted.has(entry.name) && (await isDirectoryEntry(dir, entry))) dirs.add(entry.name);
  if (!dirs.has('lists')) return false;
  return MAILMAN_SIBLINGS.filter((name) => dirs.has(name)).length >= 2;
}

/**
 * The var dir at or below `dir`. `dir` may be the var dir itself or a parent holding exactly
 * one; none or several is MAILMAN_NOT_FOUND.
 */
export async function findMailmanRoot(dir: string): Promise<string> {
  const start = path.resolve(dir);
  if (await isMailmanVarDir(start)) return start;
  const found: string[] = [];
  const visit = async (current: string, depth: number): Promise<void> => {
    if (depth > MAX_SEARCH_DEPTH || found.length > 1) return;
    for (const entry of await entriesOf(current)) {
      if (!entry.isDirectory() || entry.name === 'lists') continue;
      const child = path.join(current, entry.name);
      if (await isMailmanVarDir(child)) found.push(child);
      else await visit(child, depth + 1);
    }
  };
  await visit(start, 1);
  if (found.length === 1) return found[0] as string;
  if (found.length === 0) {
    throw new RestoreplanError(
      'MAILMAN_NOT_FOUND',
      `no Mailman var dir (lists/<name>/config.pck) at or below ${start}`,
      {
        path: start,
        hint: 'give the Mailman var dir, e.g. /var/lib/mailman',
      },
    );
  }
  throw new RestoreplanError(
    'MAILMAN_NOT_FOUND',
    `several Mailman var dirs below ${start}: ${found.join(', ')}`,
    {
      path: start,
      candidates: found,
      hint: 'give one of them',
    },
  );
}

export interface MailmanInArchive {
  /** memberPath of the var dir ('' when the archive root is the var dir). */
  root: string;
  lists: string[];
}

/** `<root>/lists/<name>/config.*`: the last `lists/` component wins, so nested paths work. */
const CONFIG_MEMBER = /^(?:(.*)\/)?lists\/([^/]+)\/config\.(?:pck|db)(?:\.last)?$/;

/** Feeds memberPaths one at a time during the walk; `result()` names the var dir with the most lists. */
export function createMailmanDetector(): {
  add: (memberPath: string) => void;
  result: () => MailmanInArchive | null;
} {
  const roots = new Map<string, Set<string>>();
  return {
    add(memberPath) {
      // Cheap rejects first: this runs once per archive member on the hot path. Every config
      // name ends in k (.pck), b (.db) or t (.last).
      const last = memberPath.charCodeAt(memberPath.length - 1);
      if (last !== 0x6b && last !== 0x62 && last !== 0x74) return;
      if (!memberPath.includes('config.')) return;
      const match = CONFIG_MEMBER.exec(memberPath);
      if (!match) return;
      const root = match[1] ?? '';
      let lists = roots.get(root);
      if (!lists) roots.set(root, (lists = new Set()));
      lists.add(match[2] as string);
    },
    result() {
      let best: MailmanInArchive | null = null;
      for (const [root, lists] of roots) {
        if (
          !best ||
          lists.size > best.lists.length ||
          (lists.size === best.lists.length && root.length < best.root.length)
        ) {
          best = { root, lists: [...lists].sort() };
        }
      }
      return best;
    },
  };
}

export function findMailmanRootInPaths(memberPaths: Iterable<string>): MailmanInArchive | null {
  const detector = createMailmanDetector();
  for (const memberPath of memberPaths) detector.add(memberPath);
  return detector.result();
}

/**
 * The archive's Mailman var dir as a PathSummary (ArchiveIndex.ts): found by the walk that builds
 * an index and kept in it, so a later replay can skip every member outside that var dir.
 */
export const MAILMAN_ROOT_SUMMARY: PathSummary = {
  // Bump the version whenever createMailmanDetector's answer changes.
  kind: 'mailman-root-v1',
  create() {
    const detector = createMailmanDetector();
    return {
      observe: (memberPath) => detector.add(memberPath),
      result: () => JSON.stringify(detector.result()),
    };
  },
};

/** A MAILMAN_ROOT_SUMMARY result read back (null: none, or not one). */
export function readMailmanSummary(summary: string | null): MailmanInArchive | null {
  if (summary === null) return null;
  try {
    const value = JSON.parse(summary) as MailmanInArchive | null;
    if (
      value &&
      typeof value.root === 'string' &&
      Array.isArray(value.lists) &&
      value.lists.every((name) => typeof name === 'string')
    )
      return { root: value.root, lists: value.lists };
  } catch {
    // not JSON: no var dir
  }
  return null;
}
