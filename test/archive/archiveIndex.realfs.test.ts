/**
 * The archive index on real filesystems (issue 13): never written onto the filesystem a restore
 * writes to (unless the operator names the directory), never where it would leave the
 * filesystem short of inodes or space, and a full filesystem never fails the command.
 */
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';

import type { IndexOutcome } from '../../src/archive/archiveIndexStore.js';
import { walkArchive } from '../../src/archive/walkArchive.js';
import { indexArchive } from '../../src/indexArchive.js';
import { checkBudget } from '../../src/plan/checkBudget.js';
import { scanArchive } from '../../src/scanArchive.js';
import { makeScratch, missingNeeds, run } from '../helpers/env.js';
import { withMountedFs } from '../helpers/mountFs.js';

const why = missingNeeds({ root: true, tools: ['tar', 'mount'] });
const whyExt4 = missingNeeds({ root: true, tools: ['tar', 'mkfs.ext4', 'losetup'] });
const RealFs = suite('archive index on real filesystems');
const scratch = why ? null : makeScratch('restoreplan-index-fs-');
const root = scratch?.dir ?? '';
RealFs.after(() => scratch?.cleanup());

function makeArchive(): string {
  const src = path.join(root, 'src');
  const archive = path.join(root, 'a.tar');
  if (existsSync(archive)) return archive;
  mkdirSync(path.join(src, 'docs'), { recursive: true });
  for (let i = 0; i < 20; i += 1) writeFileSync(path.join(src, 'docs', `f${i}`), `file ${i}\n`);
  run('tar', ['-C', src, '-cf', archive, 'docs']);
  return archive;
}

if (why) {
  RealFs.skip(`the index keeps off the restore's filesystem and off a full one (${why})`, () => {});
} else {
  RealFs(
    'the default index directory is not used on the filesystem check restores to',
    async () => {
      const archive = makeArchive();
      await withMountedFs({ type: 'tmpfs', sizeMiB: 16, inodes: 4096 }, async (mnt) => {
        const target = path.join(mnt, 'target');
        mkdirSync(target);
        const cache = path.join(mnt, 'cache');
        const saved = process.env.XDG_CACHE_HOME;
        process.env.XDG_CACHE_HOME = cache;
        try {
          const outcomes: IndexOutcome[] = [];
          const result = await checkBudget(archive, {
            target,
            profile: 'none',
            index: { onOutcome: (o) => outcomes.push(o) },
          });
          assert.is(result.verdict, 'ok');
          assert.is(outcomes[0]?.kind, 'not-saved');
          assert.match(
            outcomes[0]?.kind === 'not-saved' ? outcomes[0].reason : '',
            /filesystem the restore writes to/,
          );
          // Not even the directory: it would cost the restore's filesystem inodes too.
          assert.not.ok(existsSync(cache), 'no cache directory created there');
          // Named by the operator: used even there.
          const named = path.join(mnt, 'named');
          const asked: IndexOutcome[] = [];
          await checkBudget(archive, {
            target,
            profile: 'none',
            index: { dir: named, onOutcome: (o) => asked.push(o) },
          });
          assert.is(asked[0]?.kind, 'saved');
        } finally {
          if (saved === undefined) delete process.env.XDG_CACHE_HOME;
          else process.env.XDG_CACHE_HOME = saved;
        }
      });
    },
  );

  RealFs(
    'no index where it would leave the filesystem short of inodes; the scan still answers',
    async () => {
      const archive = makeArchive();
      await withMountedFs({ type: 'tmpfs', sizeMiB: 16, inodes: 200 }, async (mnt) => {
        const dir = path.join(mnt, 'idx');
        mkdirSync(dir);
        // Leave fewer than 10 % of the inodes free.
        const filler = path.join(mnt, 'filler');
        mkdirSync(filler);
        for (let i = 0; ; i += 1) {
          try {
            writeFileSync(path.join(filler, String(i)), '');
          } catch {
            break;
          }
          const out = run('stat', ['-f', '-c', '%d', mnt]);
          if (Number(out.trim()) <= 12) break;
        }
        const outcomes: IndexOutcome[] = [];
        const cold = await scanArchive(archive, { index: false });
        const result = await scanArchive(archive, {
          index: { dir, onOutcome: (o) => outcomes.push(o) },
        });
        assert.equal(result, cold);
        assert.is(outcomes[0]?.kind, 'not-saved');
        assert.match(
          outcomes[0]?.kind === 'not-saved' ? outcomes[0].reason : '',
          /short of inodes/,
        );
        assert.is(readdirSync(dir).length, 0, 'nothing written, not even a temp file');
        // A directory that does not exist yet is not created there either (an inode each).
        const fresh = path.join(mnt, 'fresh', 'idx');
        const more: IndexOutcome[] = [];
        await scanArchive(archive, { index: { dir: fresh, onOutcome: (o) => more.push(o) } });
        assert.is(more[0]?.kind, 'not-saved');
        assert.not.ok(existsSync(path.join(mnt, 'fresh')), 'no directory created');
      });
    },
  );

  RealFs('a full filesystem means no index, never a failed command', async () => {
    const archive = makeArchive();
    await withMountedFs({ type: 'tmpfs', sizeMiB: 1, inodes: 100 }, async (mnt) => {
      // Fill every block (dd stops with ENOSPC).
      spawnSync('dd', ['if=/dev/zero', `of=${path.join(mnt, 'fill')}`, 'bs=64k', 'status=none']);
      const outcomes: IndexOutcome[] = [];
      const result = await scanArchive(archive, {
        index: { dir: path.join(mnt, 'idx'), onOutcome: (o) => outcomes.push(o) },
      });
      assert.is(result.totals.files, 20);
      assert.is(outcomes[0]?.kind, 'not-saved');
    });
  });

  RealFs(
    'whole-second timestamps: an edit in the second the index was built is not answered from it',
    async () => {
      if (whyExt4) return;
      const source = makeArchive();
      // 128-byte inodes keep whole seconds (as ext3, and ext4 made with -I 128, do).
      await withMountedFs(
        { type: 'ext4', sizeMiB: 16, mkfsOptions: ['-I', '128'] },
        async (mnt) => {
          const archive = path.join(mnt, 'a.tar');
          const dir = path.join(mnt, 'idx');
          const names = async (index: boolean, outcomes: IndexOutcome[] = []) => {
            const seen: string[] = [];
            await walkArchive(archive, {
              onEntry: (entry) => {
                seen.push(entry.memberPath);
                return undefined;
              },
              useIndex: index ? { dir, onOutcome: (o) => outcomes.push(o) } : null,
            });
            return seen;
          };
          for (let attempt = 0; attempt < 3; attempt += 1) {
            // Early in a second, so the walk and the edit below fit in it.
            await new Promise((resolve) => setTimeout(resolve, 1020 - (Date.now() % 1000)));
            copyFileSync(source, archive);
            const before = statSync(archive, { bigint: true });
            await names(true);
            // In place: a member renamed (its header checksum fixed), size and mtime kept.
            const bytes = readFileSync(archive);
            const at = bytes.indexOf('docs/f1\0');
            const header = at - (at % 512);
            bytes.write('docs/g1', at, 'latin1');
            bytes.fill(' ', header + 148, header + 156);
            let sum = 0;
            for (let i = header; i < header + 512; i += 1) sum += bytes[i]!;
            bytes.write(`${sum.toString(8).padStart(6, '0')}\0 `, header + 148, 'latin1');
            writeFileSync(archive, bytes);
            utimesSync(archive, Number(before.atimeMs) / 1000, Number(before.mtimeMs) / 1000);
            // The second is over: the ctime tells the edit; try again.
            if (statSync(archive, { bigint: true }).ctimeNs !== before.ctimeNs) continue;
            const outcomes: IndexOutcome[] = [];
            const after = await names(true, outcomes);
            assert.ok(after.includes('docs/g1'), 'the edited archive is what is reported');
            assert.equal(after, await names(false));
            assert.not.ok(outcomes.some((o) => o.kind === 'hit'));
            // `restoreplan index` right after the archive is written still builds one.
            const built = await indexArchive(archive, { index: { dir } });
            assert.ok(built.index.built);
            assert.equal(await names(true), after);
            return;
          }
          assert.unreachable('never walked and edited within one second');
        },
      );
    },
  );
}

RealFs.run();
