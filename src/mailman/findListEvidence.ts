/**
 * Which lists Mailman's own files still name, whatever `lists/` holds. A list whose directory
 * is gone is invisible to Mailman (`Utils.list_exists`), but the rest of the var dir remembers
 * it: the alias stanzas Mailman writes for Postfix (`data/aliases`, `data/virtual-mailman`,
 * `# STANZA START: name` … `# STANZA END: name`), its pipermail archives
 * (`archives/private/<name>`, `<name>.mbox`), and the mail the qrunners shunted because the
 * list would not load (`qfiles/shunt/*.pck`, whose metadata dict names the list).
 *
 * `rmlist` removes the list directory and its stanza but keeps the archives unless given `-a`,
 * so archives alone only suggest a lost list where Mailman keeps no alias files to consult
 * (Exim and other MTAs that look at `lists/` directly); `judgeEvidence` decides.
 * Read-only, bounded: an alias file is scanned a chunk at a time (a line longer than
 * MAX_ALIAS_LINE is no stanza line), a shunt file is read whole only up to
 * MAX_SHUNT_FILE_BYTES. A name these files give is a list's only when it could be one
 * (`isPossibleListName`): the files are edited by hand and shunted mail comes from outside.
 */
import { constants } from 'node:fs';
import { lstat, open, readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { StringDecoder } from 'node:string_decoder';

import { isRestoreplanError, throwIfAborted } from '../errors.js';
import type { ListEvidence } from '../types.js';
import { readPickle } from './readPickle.js';

/** The alias files Mailman's Postfix module maintains, relative to the var dir. */
export const ALIAS_FILES = ['data/aliases', 'data/virtual-mailman'] as const;

/** Shunted messages larger than this are not read for their list name (a bounded read). */
export const MAX_SHUNT_FILE_BYTES = 8 * 1024 * 1024;
/** Shunt files read at once. */
const BATCH = 64;

/** Alias file lines longer than this are skipped unread: a stanza line is a few dozen bytes. */
export const MAX_ALIAS_LINE = 64 * 1024;

const STANZA_START = /^# STANZA START: (\S+)\s*$/gm;

/**
 * Whether a name from Mailman's files could name a list, whose home is `lists/<name>/`: one
 * path component that is not hidden (no `/`, no `.` or `..`: `lists/../../etc` is no list, and
 * a name that is no component would point the report, and a restore, elsewhere), nothing a
 * terminal acts on and no blank (Mailman's names are `[-+_.=a-z0-9]` unless a site widens
 * them; a name with a newline would forge lines of the report). Pure.
 */
export function isPossibleListName(name: string): boolean {
  return /^[^./\s\p{C}\p{Z}\uFFFD][^/\s\p{C}\p{Z}\uFFFD]*$/u.test(name);
}

/**
 * The list names of the `# STANZA START:` lines of an alias file's text, as Mailman names
 * lists: in lower case (its MTA modules write `internal_name()`, which `newlist` lowercased),
 * and only names that could be a list's. Pure.
 */
export function parseAliasStanzas(text: string): string[] {
  const names = new Set<string>();
  for (const match of text.matchAll(STANZA_START)) {
    const name = (match[1] as string).toLowerCase();
    if (isPossibleListName(name)) names.add(name);
  }
  return [...names];
}

/** The list a queue file is for: its second pickle is the metadata dict with `listname`. Pure. */
export function listNameOfQueueFile(data: Uint8Array): string | null {
  const message = readPickle(data);
  if (message.kind === 'truncated' || message.kind === 'invalid' || message.kind === 'unsupported')
    return null;
  const meta = readPickle(data, { start: message.offset, decode: true });
  const value = meta.value;
  if (!(value instanceof Map)) return null;
  const name = value.get('listname');
  if (typeof name !== 'string') return null;
  // The qrunners lowercase it too (Switchboard keys lists by internal_name()).
  const lower = name.toLowerCase();
  return isPossibleListName(lower) ? lower : null;
}

export interface EvidenceCensus {
  /** Evidence per list name, in the order found. */
  byList: Map<string, ListEvidence[]>;
  /**
   * The alias files Mailman keeps here (then their stanzas are authoritative), including one
   * that is there but could not be read: see `unreadable`.
   */
  aliasFiles: string[];
  /** Alias files that are there but could not be read, and why: their stanzas are unknown. */
  unreadable: { path: string; reason: string }[];
}

type AliasFileScan =
  | { state: 'absent' }
  | { state: 'read'; names: string[] }
  | { state: 'unreadable'; reason: string };

/**
 * The stanza names of one alias file, a chunk at a time (a file of any size costs a chunk and
 * a line of memory). It is opened as Mailman's MTA module would open it, through a symlink
 * (sites keep it under /etc and link it into data/), but only a regular file is read: opened
 * O_NONBLOCK, a fifo cannot hang the doctor, and /dev/zero is never read. A file that is there
 * but cannot be read is `unreadable`, never taken for no alias file at all.
 */
async function scanAliasFile(file: string, signal?: AbortSignal): Promise<AliasFileScan> {
  const notRegular = (stats: import('node:fs').Stats): AliasFileScan | null => {
    if (stats.isFile()) return null;
    const kind = stats.isDirectory() ? 'a directory' : stats.isFIFO() ? 'a fifo' : 'a special file';
    return { state: 'unreadable', reason: `not a regular file (${kind})` };
  };
  let handle: import('node:fs/promises').FileHandle;
  try {
    // Judged before it is opened: even a non-blocking open of a fifo wakes its writer.
    const refused = notRegular(await stat(file));
    if (refused) return refused;
    handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // ENOENT also for a symlink to nothing: no alias file. ENOTDIR: data/ is no directory.
    if (code === 'ENOENT' || code === 'ENOTDIR') return { state: 'absent' };
    return { state: 'unreadable', reason: code ?? (error as Error).message };
  }
  try {
    // And again once open, in case it was swapped in between.
    const refused = notRegular(await handle.stat());
    if (refused) return refused;
    const names = new Set<string>();
    const decoder = new StringDecoder('utf8');
    const chunk = Buffer.alloc(1 << 16);
    let carry = '';
    let overlong = false;
    const scan = (text: string): void => {
      for (const name of parseAliasStanzas(text)) names.add(name);
    };
    for (;;) {
      throwIfAborted(signal);
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
      const text =
        bytesRead === 0
          ? carry + decoder.end()
          : carry + decoder.write(chunk.subarray(0, bytesRead));
      const end = bytesRead === 0 ? text.length : text.lastIndexOf('\n') + 1;
      let lines = text.slice(0, end);
      carry = text.slice(end);
      if (overlong) {
        // The rest of an overlong line, up to its newline, is no stanza line either.
        const newline = lines.indexOf('\n');
        lines = newline === -1 ? '' : lines.slice(newline + 1);
        overlong = newline === -1;
      }
      scan(lines);
      if (carry.length > MAX_ALIAS_LINE) {
        carry = '';
        overlong = true;
      }
      if (bytesRead === 0) break;
    }
    return { state: 'read', names: [...names] };
  } catch (error) {
    if (isRestoreplanError(error)) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    return { state: 'unreadable', reason: code ?? (error as Error).message };
  } finally {
    await handle.close();
  }
}

async function dirNames(dir: string): Promise<import('node:fs').Dirent[]> {
  try {
    return await readdir(dir, { withFileTypes: true });
  } catch {
    return [];
  }
}

/** Collects the evidence for every list the var dir's own files name. */
export async function findListEvidence(
  varDir: string,
  options: { signal?: AbortSignal } = {},
): Promise<EvidenceCensus> {
  const byList = new Map<string, ListEvidence[]>();
  const add = (name: string, evidence: ListEvidence): void => {
    let items = byList.get(name);
    if (!items) byList.set(name, (items = []));
    items.push(evidence);
  };

  const aliasFiles: string[] = [];
  const unreadable: EvidenceCensus['unreadable'] = [];
  for (const rel of ALIAS_FILES) {
    const scan = await scanAliasFile(path.join(varDir, rel), options.signal);
    if (scan.state === 'absent') continue;
    // Unreadable, it still says Mailman keeps alias files here: archives alone are then no
    // lost list (a list removed with rmlist must not come back because data/aliases was 0600).
    aliasFiles.push(rel);
    if (scan.state === 'unreadable') {
      unreadable.push({ path: rel, reason: scan.reason });
      continue;
    }
    for (const name of scan.names)
      add(name, { kind: 'alias-stanza', path: rel, detail: `${rel} has its stanza` });
  }

  for (const entry of await dirNames(path.join(varDir, 'archives', 'private'))) {
    if (!entry.isDirectory()) continue;
    const name = entry.name.endsWith('.mbox') ? entry.name.slice(0, -'.mbox'.length) : entry.name;
    if (name === '' || name.startsWith('.')) continue;
    const rel = `archives/private/${entry.name}`;
    // One piece of evidence per list: the directory or, without it, the mbox directory.
    if (byList.get(name)?.some((e) => e.kind === 'archives')) continue;
    add(name, { kind: 'archives', path: rel, detail: `${rel} remains` });
  }

  const shunt = path.join(varDir, 'qfiles', 'shunt');
  const names = (await dirNames(shunt)).filter((e) => e.isFile() && e.name.endsWith('.pck'));
  const shunted = new Map<string, number>();
  for (let i = 0; i < names.length; i += BATCH) {
    throwIfAborted(options.signal);
    const found = await Promise.all(
      names.slice(i, i + BATCH).map(async (entry) => {
        const file = path.join(shunt, entry.name);
        try {
          const stats = await lstat(file);
          if (!stats.isFile() || stats.size > MAX_SHUNT_FILE_BYTES) return null;
          return listNameOfQueueFile(await readFile(file));
        } catch {
          return null;
        }
      }),
    );
    for (const name of found) if (name !== null) shunted.set(name, (shunted.get(name) ?? 0) + 1);
  }
  for (const [name, count] of shunted)
    add(name, {
      kind: 'shunted-mail',
      path: 'qfiles/shunt',
      count,
      detail: `${count} shunted message${count === 1 ? '' : 's'} in qfiles/shunt`,
    });
  return { byList, aliasFiles, unreadable };
}

/**
 * Whether the evidence says a list whose directory is gone was lost rather than removed on
 * purpose. An alias stanza or shunted mail is enough. Archives alone are enough only where
 * Mailman keeps no alias files: where it does, `rmlist` removed the stanza and left the
 * archives (it keeps them unless given `-a`), so the list was most likely removed. Pure.
 */
export function judgeEvidence(
  evidence: readonly ListEvidence[],
  aliasFiles: readonly string[],
): 'lost' | 'removed' | 'none' {
  if (evidence.length === 0) return 'none';
  if (evidence.some((e) => e.kind === 'alias-stanza' || e.kind === 'shunted-mail')) return 'lost';
  return aliasFiles.length === 0 ? 'lost' : 'removed';
}
