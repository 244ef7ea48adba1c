import { readFileSync, truncateSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { copyEntry, type ArchiveEntry } from '../../src/archive/ArchiveEntry.js';
import { readMemberAt } from '../../src/archive/readMemberAt.js';
import { walkArchive } from '../../src/archive/walkArchive.js';
import { RestoreplanError } from '../../src/errors.js';
import { makeScratch, missingNeeds, run } from '../helpers/env.js';
import { buildSourceTree } from './fixtures/buildSourceTree.js';

const why = missingNeeds({ tools: ['tar', 'mkfifo', 'truncate'] });

if (why) {
  test.skip('reads every file member at its recorded offset');
  console.log(`skipped: ${why}`);
} else {
  test('reads every file member at its recorded offset, sparse ones expanded, in every format', async () => {
    const { dir, cleanup } = makeScratch();
    try {
      const src = path.join(dir, 'src');
      run('mkdir', [src]);
      const top = buildSourceTree(src, { long: true, sparse: true });
      for (const args of [
        ['--format=gnu', '--sparse'],
        ['--format=posix', '--sparse', '--sparse-version=0.0'],
        ['--format=posix', '--sparse', '--sparse-version=1.0'],
        ['--format=ustar'],
      ]) {
        const archive = path.join(dir, 'a.tar');
        const files = args.includes('--format=ustar') ? ['docs', 'sparse.img'] : top;
        run('tar', [...args, '-C', src, '-cf', archive, ...files]);
        const entries: ArchiveEntry[] = [];
        await walkArchive(archive, {
          onEntry: (entry) => {
            if (entry.type === 'file') entries.push(copyEntry(entry));
          },
        });
        assert.ok(entries.length >= 4);
        for (const entry of entries) {
          const data = await readMemberAt(archive, entry, entry.size);
          assert.ok(
            data.equals(readFileSync(path.join(src, entry.memberPath))),
            `${args.join(' ')} ${entry.memberPath}`,
          );
        }
      }
      // A file cut short since the walk: ARCHIVE_TRUNCATED, not short data.
      const archive = path.join(dir, 'a.tar');
      const entries: ArchiveEntry[] = [];
      await walkArchive(archive, {
        onEntry: (entry) => {
          if (entry.memberPath === 'sparse.img') entries.push(copyEntry(entry));
        },
      });
      const sparse = entries[0]!;
      truncateSync(archive, sparse.dataOffset + 10);
      try {
        await readMemberAt(archive, sparse, sparse.size);
        assert.unreachable();
      } catch (error) {
        assert.is((error as RestoreplanError).code, 'ARCHIVE_TRUNCATED');
      }
      try {
        await readMemberAt(path.join(dir, 'missing.tar'), sparse, sparse.size);
        assert.unreachable();
      } catch (error) {
        assert.is((error as RestoreplanError).code, 'ARCHIVE_NOT_FOUND');
      }
    } finally {
      cleanup();
    }
  });
}

test.run();
