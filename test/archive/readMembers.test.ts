import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { readMembers } from '../../src/archive/readMembers.js';
import { makeScratch, missingNeeds, run } from '../helpers/env.js';
import { buildSourceTree } from './fixtures/buildSourceTree.js';

const why = missingNeeds({ tools: ['tar', 'zstd', 'gzip', 'truncate'] });

if (why) {
  test.skip('one pass over a compressed archive');
  console.log(`skipped: ${why}`);
} else {
  test('one pass over a compressed archive returns the wanted members; limit stops early', async () => {
    const { dir, cleanup } = makeScratch();
    try {
      const src = path.join(dir, 'src');
      run('mkdir', [src]);
      const top = buildSourceTree(src, { sparse: true });
      const plain = path.join(dir, 'a.tar');
      run('tar', ['--format=posix', '--sparse', '-C', src, '-cf', plain, ...top]);
      for (const [ext, command] of [
        ['zst', ['zstd', '-q', '-c']],
        ['gz', ['gzip', '-c']],
      ] as const) {
        const archive = `${plain}.${ext}`;
        writeFileSync(archive, execFileSync(command[0], [...command.slice(1), plain]));
        const wanted = new Set([
          'docs/readme.txt',
          'sparse.img',
          'docs/empty.txt',
          'docs/nested/deeper/deepest/file.bin',
        ]);
        const all = await readMembers(archive, (entry) => wanted.has(entry.memberPath));
        assert.equal(new Set(all.members.map((m) => m.entry.memberPath)), wanted);
        for (const member of all.members) {
          assert.ok(
            member.data.equals(readFileSync(path.join(src, member.entry.memberPath))),
            member.entry.memberPath,
          );
        }
        assert.is(all.walk.stopped, false);
        const first = await readMembers(archive, (entry) => entry.type === 'file', { limit: 1 });
        assert.is(first.members.length, 1);
        assert.is(first.walk.stopped, true);
        assert.ok(first.walk.members < all.walk.members, 'the walk ended early');
      }
    } finally {
      cleanup();
    }
  });
}

test.run();
