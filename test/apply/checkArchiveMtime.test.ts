/**
 * apply's staleness check compares an archive's mtime with the plan's (whole milliseconds)
 * in exact nanoseconds: a file modified in the last 256 ns of a
 * millisecond came out a millisecond later through Number(mtimeNs) / 1e6, and an untouched
 * archive was PLAN_STALE (seen once in the differential suite: "modified (…23.662Z) since the
 * plan was made (…23.662Z)").
 */
import { statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { checkArchiveUnchanged } from '../../src/apply/checkArchiveUnchanged.js';
import type { PlanDocument } from '../../src/types.js';
import { makeScratch, rejectionCode, run } from '../helpers/env.js';

const scratch = makeScratch('restoreplan-mtime-');
test.after(() => scratch.cleanup());

async function check(file: string, planned: string): Promise<void> {
  const stats = statSync(file, { bigint: true });
  const archive = {
    path: file,
    sizeBytes: Number(stats.size),
    mtime: planned,
    fingerprint: 'not read',
    compression: 'none',
    seekable: true,
  } as PlanDocument['archive'];
  await checkArchiveUnchanged(archive, {
    label: file,
    input: file,
    stdin: false,
    stats,
    readAt: null,
    close: async () => {},
  });
}

test('an untouched archive is never stale, whatever its nanoseconds; a millisecond later is', async () => {
  const file = path.join(scratch.dir, 'a.tar');
  writeFileSync(file, 'x');
  for (const fraction of ['000000000', '123999999', '999744000', '999999999']) {
    run('touch', ['-d', `@1767225600.${fraction}`, file]);
    // As the plan records it (openArchive): whole milliseconds, truncated.
    const planned = new Date(
      Number(statSync(file, { bigint: true }).mtimeNs / 1_000_000n),
    ).toISOString();
    await check(file, planned);
    run('touch', ['-d', `@1767225600.${fraction}`, file]);
    const later = new Date(Date.parse(planned) - 1).toISOString();
    assert.is(await rejectionCode(check(file, later)), 'PLAN_STALE', fraction);
  }
});

test.run();
