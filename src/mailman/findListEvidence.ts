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
 * Read-only, bounded: a shunt file is read whole only up to MAX_SHUNT_FILE_BYTES.
 */
import { lstat, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

import { throwIfAborted } from '../errors.js';
import type { ListEvidence } from '../types.js';
import { readPickle } from './readPickle.js';

/** The alias files Mailman's Postfix module maintains, relative to the var dir. */
export const ALIAS_FILES = ['data/aliases', 'data/virtual-mailman'] as const;

/** Shunted messages larger than this are not read for their list name (a bounded read). */
export const MAX_SHUNT_FILE_BYTES = 8 * 1024 * 1024;
/** Shunt files read at once. */
const BATCH = 64;

const STANZA_START = /^# STANZA START: (\S+)\s*$/gm;

/** The list names of the `# STANZA START:` lines of an alias file's text. Pure. */
export function parseAliasStanzas(text: string): string[] {
  const names = new Set<string>();
  for (const match of text.matchAll(STANZA_START)) names.add(match[1] as string);
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
  return typeof name === 'string' && name !== '' ? name.toLowerCase() : null;
}

export interface EvidenceCensus {
  /** Evidence per list name, in the order found. */
  byList: Map<string, ListEvidence[]>;
  /** Whether Mailman keeps alias files here (then their stanzas are authoritative). */
  aliasFiles: string[];
}

async function readText(file: string): Promise<string | null> {
  try {
    const stats = await lstat(file);
    if (!stats.isFile()) return null;
    return await readFile(file, 'latin1');
  } catch {
    return null;
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
  for (const rel of ALIAS_FILES) {
    const text = await readText(path.join(varDir, rel));
    if (text === null) continue;
    aliasFiles.push(rel);
    for (const name of parseAliasStanzas(text))
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
  return { byList, aliasFiles };
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
