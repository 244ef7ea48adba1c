/**
 * Breaks list files the way crashes do, to make fixtures for the doctor and the planner:
 * - empty: the rename reached the disk, the data never did (0 bytes);
 * - zeroed: same size, all NUL (delayed allocation: blocks allocated, never written);
 * - truncated: cut short (default: half) — the pickle ends before STOP;
 * - garbage: the head overwritten with bytes that are no pickle opcode;
 * - not-a-dict: a complete pickle of a list, which Mailman refuses;
 * - tmp-leftover: a half-written config.pck.tmp.<host>.<pid> beside the list (interrupted save);
 * - delete: the file is gone.
 */
import { readFile, rm, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';

import { writeCPickle } from './writeCPickle.js';

export type BreakShape =
  'empty' | 'zeroed' | 'truncated' | 'garbage' | 'not-a-dict' | 'tmp-leftover' | 'delete';

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
    }
    done.push(spec);
  }
  return done;
}
