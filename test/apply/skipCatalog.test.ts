/**
 * Skip kinds are a contract with scripts (the kind) and with runbooks (the reason they grep):
 * the README documents exactly the catalog's kinds with its summaries, and a real run that
 * produces every kind words each reason as the README says it starts.
 */
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { applyPlan } from '../../src/apply/applyPlan.js';
import { defaultFsOps, type FsOps } from '../../src/apply/fsOps.js';
import {
  describeUndone,
  incompleteSkips,
  isSatisfied,
  SKIP_CATALOG,
} from '../../src/apply/skipCatalog.js';
import type { ApplySkip, SkipKind } from '../../src/types.js';
import { makeScratch, run } from '../helpers/env.js';
import { buildTestPlan } from './buildTestPlan.js';

const readme = readFileSync(
  path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../README.md'),
  'utf8',
);

/** The README's skip table: kind -> [reason prefix, run, summary]. */
function documentedKinds(): Map<string, [string, string, string]> {
  const rows = new Map<string, [string, string, string]>();
  for (const match of readme.matchAll(
    /^\| `([a-z-]+)` +\| `([^`]+)` +\| ([a-z]+) +\| (.+?) +\|$/gm,
  )) {
    rows.set(match[1] ?? '', [match[2] ?? '', match[3] ?? '', match[4] ?? '']);
  }
  return rows;
}

test('the README documents exactly the catalog, with its summaries and how each kind ends a run', () => {
  const rows = documentedKinds();
  assert.equal([...rows.keys()].sort(), Object.keys(SKIP_CATALOG).sort());
  for (const [kind, info] of Object.entries(SKIP_CATALOG)) {
    assert.is(rows.get(kind)?.[2], info.summary, kind);
    assert.is(rows.get(kind)?.[1], info.run, kind);
  }
});

test('the rule: only already-restored and changed-since-restored leave a run complete', () => {
  const satisfied = Object.keys(SKIP_CATALOG).filter((kind) => isSatisfied(kind as SkipKind));
  assert.equal(satisfied.sort(), ['already-restored', 'changed-since-restored']);
  const skips = (['unsafe', 'already-restored', 'type-conflict', 'locked'] as const).map(
    (kind, i) => ({ targetPath: `/t/${i}`, kind }),
  );
  assert.equal(
    incompleteSkips(skips).map((s) => s.kind),
    ['unsafe', 'type-conflict'],
  );
  assert.is(
    describeUndone(incompleteSkips(skips)),
    '2 steps of the plan not done (unsafe 1, type-conflict 1): /t/0, /t/2',
  );
  const many = Array.from({ length: 7 }, (_, i) => ({
    targetPath: `/m/${i}`,
    kind: 'unsafe' as const,
  }));
  assert.match(describeUndone(many), /^7 steps .*\(unsafe 7\): \/m\/0, .*\/m\/4 and 2 more$/);
});

const ARCHIVE = `
import io, sys, tarfile
def add(tar, name, data=b'', **kw):
    info = tarfile.TarInfo(name)
    for k, v in kw.items(): setattr(info, k, v)
    if info.type == tarfile.REGTYPE: info.size = len(data)
    tar.addfile(info, io.BytesIO(data) if info.type == tarfile.REGTYPE else None)
with tarfile.open(sys.argv[1], 'w', format=tarfile.PAX_FORMAT) as tar:
    add(tar, 'ok.txt', b'ok\\n')
    add(tar, 'edited.txt', b'as in the backup\\n')
    add(tar, 'via/escape.txt', b'escape\\n')
    add(tar, 'dup.txt', b'second\\n')
    add(tar, 'dev', type=tarfile.CHRTYPE, devmajor=1, devminor=3)
    add(tar, 'clash', b'a file where a directory is\\n')
    add(tar, 'lists/alpha/config.pck', b'}.')
    add(tar, 'bad.txt', b'bad\\n')
    add(tar, 'rewrite.txt', b'not there to rewrite\\n')
    add(tar, 'd', type=tarfile.DIRTYPE, mode=0o755)
    add(tar, 'new.txt', b'new\\n')
`;

test('every kind, produced by real runs, has the reason its README row promises', async () => {
  const { dir, cleanup } = makeScratch();
  try {
    const archive = path.join(dir, 'kinds.tar');
    run('python3', ['-c', ARCHIVE, archive]);
    const root = path.join(dir, 'root');
    mkdirSync(path.join(root, 'clash'), { recursive: true });
    // A symlink planted since planning, where a step writes through a directory: unsafe.
    mkdirSync(path.join(dir, 'outside'));
    symlinkSync(path.join(dir, 'outside'), path.join(root, 'via'));
    const plan = await buildTestPlan(archive, root, {
      mailmanRoot: root,
      write: (m) => (m.name === 'rewrite.txt' ? 'rewrite' : 'create'),
      select: (m) => m.name !== 'new.txt',
    });
    for (const step of plan.stages[0]?.steps ?? [])
      if (step.memberPath === 'bad.txt' && step.type === 'file') step.sha256 = '0'.repeat(64);
    // A device node: only in a plan made with --allow-special, confirmed; still never created.
    plan.allowSpecial = true;
    const journalPath = path.join(dir, 'j.journal');
    const failOn = (op: 'chmod' | 'open', file: string, code: string): FsOps => ({
      ...defaultFsOps,
      [op]: (async (...args: unknown[]) => {
        if (String(args[0]).includes(file)) throw Object.assign(new Error('injected'), { code });
        return (defaultFsOps[op] as (...a: unknown[]) => unknown)(...args);
      }) as unknown,
    });
    const describeListLock = async (_root: string, list: string): Promise<string | null> =>
      list === 'alpha' ? 'locks/alpha.lock is held by pid 1' : null;
    const seen: ApplySkip[] = [];
    const first = await applyPlan(plan, {
      journalPath,
      allowSpecial: true,
      describeListLock,
      fsOps: failOn('chmod', `${root}/d`, 'EPERM'),
    });
    seen.push(...first.skipped);
    // A re-run: what the first run restored is intact, or changed by someone since.
    writeFileSync(path.join(root, 'edited.txt'), 'edited live\n');
    const second = await applyPlan(plan, { journalPath, allowSpecial: true, describeListLock });
    seen.push(...second.skipped);
    // A write that fails: the run ends at that step.
    const withNew = await buildTestPlan(archive, root, { select: (m) => m.name === 'new.txt' });
    rmSync(path.join(root, 'new.txt'), { force: true });
    const third = await applyPlan(withNew, {
      journalPath: path.join(dir, 'k.journal'),
      fsOps: failOn('open', '.new.txt.restoreplan-', 'EACCES'),
    });
    assert.is(third.status, 'failed');
    seen.push(...third.skipped);

    const prefixes = documentedKinds();
    for (const skip of seen) {
      const prefix = prefixes.get(skip.kind)?.[0] ?? '';
      assert.ok(
        skip.reason.startsWith(prefix),
        `${skip.kind}: "${skip.reason}" starts with "${prefix}"`,
      );
    }
    const kinds = new Set<SkipKind>(seen.map((s) => s.kind));
    assert.equal([...kinds].sort(), Object.keys(SKIP_CATALOG).sort(), 'every kind was produced');
    // `kind` is added after the fields the JSON always had; nothing was renamed.
    assert.equal(Object.keys(seen[0] ?? {}), ['targetPath', 'reason', 'kind']);
  } finally {
    cleanup();
  }
});

test.run();
