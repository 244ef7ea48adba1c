/**
 * The incident, small: a live Mailman var dir broken as the crash left it, plus the backup
 * taken before (a GNU tar of the healthy tree, members under var/lib/mailman/ as a backup of
 * / would hold them). Used by `npm start` (the demo) and by end-to-end tests.
 */
import { spawnSync } from 'node:child_process';
import { mkdir, rm, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';

import { breakMailmanTree, type BreakSpec } from './breakMailmanTree.js';
import { generateMailmanTree, makeRandom, type GenerateOptions } from './generateMailmanTree.js';
import { dict, float, writeCPickle } from './writeCPickle.js';

export interface SandboxOptions extends GenerateOptions {
  /** Files added to qfiles/in after the backup: mail piling up while lists were down. */
  stuffedQueueFiles?: number;
}

export interface IncidentSandbox {
  dir: string;
  /** The live var dir (broken). */
  live: string;
  /** GNU tar of the healthy var dir. */
  backup: string;
  /** The var dir's memberPath inside the backup. */
  memberRoot: string;
  lists: string[];
  broken: BreakSpec[];
  expected: { corrupt: string[]; degraded: string[]; interrupted: string[] };
}

export const SANDBOX_MEMBER_ROOT = 'var/lib/mailman';

export async function buildIncidentSandbox(
  dir: string,
  options: SandboxOptions = {},
): Promise<IncidentSandbox> {
  const live = path.join(dir, 'live');
  await rm(live, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const now = options.now ?? new Date();
  const tree = await generateMailmanTree(live, {
    postsPerList: 50,
    queueFiles: 40,
    ...options,
    now,
  });
  const backup = path.join(dir, 'backup.tar');
  const tar = spawnSync(
    'tar',
    ['-C', dir, '--transform', `s,^live,${SANDBOX_MEMBER_ROOT},`, '-cf', backup, 'live'],
    {
      encoding: 'utf8',
    },
  );
  if (tar.status !== 0) throw new Error(`tar failed: ${tar.stderr}`);

  const [corrupt, degraded, interrupted] = [tree.lists[1], tree.lists[2], tree.lists[3]];
  const broken: BreakSpec[] = [];
  if (corrupt)
    broken.push(
      { list: corrupt, shape: 'truncated' },
      { list: corrupt, shape: 'zeroed', file: 'config.pck.last' },
    );
  if (degraded) broken.push({ list: degraded, shape: 'zeroed' });
  if (interrupted) broken.push({ list: interrupted, shape: 'tmp-leftover' });
  await breakMailmanTree(live, broken);

  // Mail for the broken lists piles up in qfiles/in (one inode per message) after the crash.
  const rng = makeRandom((options.seed ?? 1) + 99);
  const nowSec = now.getTime() / 1000;
  const stuffed = options.stuffedQueueFiles ?? 200;
  for (let i = 0; i < stuffed; i++) {
    const when = nowSec - ((i + 0.5) / stuffed) * 2 * 3600;
    const file = path.join(
      live,
      'qfiles',
      'in',
      `${when.toFixed(6)}+${(rng.int(1 << 30) * 7919 + i).toString(16).padStart(40, '0')}.pck`,
    );
    const meta = dict([
      ['_parsemsg', false],
      ['listname', corrupt ?? 'mailman'],
      ['received_time', float(when)],
      ['version', 3],
    ]);
    await writeFile(
      file,
      Buffer.concat([
        writeCPickle(`Subject: stuck ${i}\n\nqueued while the list was down\n`, 0),
        writeCPickle(meta, 0),
      ]),
    );
    await utimes(file, when, when);
  }
  return {
    dir,
    live,
    backup,
    memberRoot: SANDBOX_MEMBER_ROOT,
    lists: tree.lists,
    broken,
    expected: {
      corrupt: corrupt ? [corrupt] : [],
      degraded: degraded ? [degraded] : [],
      interrupted: interrupted ? [interrupted] : [],
    },
  };
}
