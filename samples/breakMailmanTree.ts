/**
 * Breaks list files the way crashes do, to make fixtures for the doctor and the planner:
 * - empty: the rename reached the disk, the data never did (0 bytes);
 * - zeroed: same size, all NUL (delayed allocation: blocks allocated, never written);
 * - truncated: cut short (default: half) — the pickle ends before STOP;
 * - garbage: the head overwritten with bytes that are no pickle opcode;
 * - not-a-dict: a complete pickle of a list, which Mailman refuses;
 * - tmp-leftover: a half-written config.pck.tmp.<host>.<pid> beside the list (interrupted save);
 * - delete: the file is gone;
 * - lose-configs: every config file (config.pck, .last, config.db, .last) is gone, the rest of
 *   the list dir stays: Mailman no longer sees the list (a lost list);
 * - lose-dir: the list directory is gone, its alias stanzas and archives stay (a lost list);
 * - rmlist: what Mailman's `rmlist -a` does on purpose — the directory, the alias stanzas and
 *   the archives are gone.
 */
import { readFile, rm, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';

import { writeCPickle } from './writeCPickle.js';

export type BreakShape =
  | 'empty'
  | 'zeroed'
  | 'truncated'
  | 'garbage'
  | 'not-a-dict'
  | 'tmp-leftover'
  | 'delete'
  | 'lose-configs'
  | 'lose-dir'
  | 'rmlist';

/** Removes `name`'s `# STANZA START` … `# STANZA END` block from an alias file, if it exists. */
async function removeStanza(file: string, name: string): Promise<void> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return;
  }
  const lines = text.split('\n');
  const out: string[] = [];
  let inside = false;
  for (const line of lines) {
    if (line === `# STANZA START: ${name}`) inside = true;
    if (!inside) out.push(line);
    if (line === `# STANZA END: ${name}`) inside = false;
  }
  await writeFile(file, out.join('\n'));
}

export interface BreakSpec {
  list: string;
  shape: BreakShape;
  /** Default config.pck. */
  file?: string;
  /** truncated: keep this many bytes (default half). */
  keepBytes?: number;
}

export async function breakMailmanTree(
  root: string,
  breaks: readonly BreakSpec[],
): Promise<BreakSpec[]> {
  const done: BreakSpec[] = [];
  for (const spec of breaks) {
    const listDir = path.join(root, 'lists', spec.list);
    const file = path.join(listDir, spec.file ?? 'config.pck');
    switch (spec.shape) {
      case 'empty':
        await truncate(file, 0);
        break;
      case 'zeroed': {
        const size = (await readFile(file)).length;
        await writeFile(file, Buffer.alloc(size));
        break;
      }
      case 'truncated': {
        const size = (await readFile(file)).length;
        await truncate(file, spec.keepBytes ?? Math.floor(size / 2));
        break;
      }
      case 'garbage': {
        const data = await readFile(file);
        Buffer.from('\xff\xfeGARBAGE', 'latin1').copy(data, 0);
        await writeFile(file, data);
        break;
      }
      case 'not-a-dict':
        await writeFile(file, writeCPickle(['not', 'a', 'dict'], 1));
        break;
      case 'tmp-leftover': {
        const data = await readFile(path.join(listDir, 'config.pck'));
        await writeFile(
          path.join(listDir, 'config.pck.tmp.lists.example.org.4242'),
          data.subarray(0, Math.floor(data.length / 3)),
        );
        break;
      }
      case 'delete':
        await rm(file, { force: true });
        break;
      case 'lose-configs':
        for (const name of ['config.pck', 'config.pck.last', 'config.db', 'config.db.last'])
          await rm(path.join(listDir, name), { force: true });
        break;
      case 'lose-dir':
        await rm(listDir, { recursive: true, force: true });
        break;
      case 'rmlist':
        await rm(listDir, { recursive: true, force: true });
        for (const rel of [
          `archives/private/${spec.list}`,
          `archives/private/${spec.list}.mbox`,
          `archives/public/${spec.list}`,
        ])
          await rm(path.join(root, rel), { recursive: true, force: true });
        for (const rel of ['data/aliases', 'data/virtual-mailman'])
          await removeStanza(path.join(root, rel), spec.list);
        break;
    }
    done.push(spec);
  }
  return done;
}
