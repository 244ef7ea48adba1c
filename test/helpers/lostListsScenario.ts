/**
 * The crash of issue 11 on a var dir that Mailman's Postfix module keeps alias files for:
 * - list005 lost its config files (only request.pck and pending.pck remain): Mailman does not
 *   see it (lost);
 * - list004 lost its whole directory, its alias stanzas and archives remain (missing);
 * - list003 was removed on purpose with `rmlist -a` (no directory, no stanza, no archives);
 * - list006 is corrupt, and so is every copy of it in the backup (taken after it broke).
 * The backup is a GNU tar of the var dir before the crash, off the filesystem under test.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';

import { breakMailmanTree } from '../../samples/breakMailmanTree.js';
import { generateMailmanTree } from '../../samples/generateMailmanTree.js';

export const SCENARIO_ROOT = 'var/lib/mailman';
export const LOST = 'list005';
export const MISSING = 'list004';
export const REMOVED = 'list003';
export const NO_VALID_COPY = 'list006';

export interface LostListsScenario {
  live: string;
  backup: string;
}

export async function buildLostListsScenario(
  liveParent: string,
  backupDir: string,
): Promise<LostListsScenario> {
  const live = path.join(liveParent, 'mailman');
  await generateMailmanTree(live, {
    lists: ['mailman', 'list001', 'list002', REMOVED, MISSING, LOST, NO_VALID_COPY],
    postsPerList: 3,
    queueFiles: 6,
    mta: 'postfix',
    // Two days back: no queue inflow, so the reserve is exactly 5%.
    now: new Date(Date.now() - 2 * 86400_000),
  });
  await breakMailmanTree(live, [
    { list: NO_VALID_COPY, shape: 'truncated' },
    { list: NO_VALID_COPY, shape: 'zeroed', file: 'config.pck.last' },
  ]);
  const backup = path.join(backupDir, 'backup.tar');
  const tar = spawnSync(
    'tar',
    ['-C', liveParent, '--transform', `s,^mailman,${SCENARIO_ROOT},`, '-cf', backup, 'mailman'],
    { encoding: 'utf8' },
  );
  if (tar.status !== 0) throw new Error(`tar failed: ${tar.stderr}`);
  await breakMailmanTree(live, [
    { list: LOST, shape: 'lose-configs' },
    { list: MISSING, shape: 'lose-dir' },
    { list: REMOVED, shape: 'rmlist' },
  ]);
  return { live, backup };
}
