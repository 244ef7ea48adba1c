/**
 * restic:SNAPSHOT and borg:REPO::ARCHIVE sources with the real tools (issue 15, first part): a
 * Mailman-shaped tree (with list locks hard-linked to their claim files, one more hard-linked
 * pair, a symlink, a FIFO, an empty directory) backed up by restic and by borg in the test,
 * then, through the built CLI:
 *   - `scan --json` counts what a real `restic restore` / `borg extract` creates, as `find` sees
 *     it (files by inode, hard links as extra names, dirs with the leading ones, symlinks, FIFO,
 *     bytes);
 *   - `check --json` on a loop-mounted ext4 (4 KiB blocks) predicts exactly the inodes `df -i`
 *     shows used after the real restore into it;
 *   - wrong password, no such snapshot, no tool on PATH: each its code, exit 3, and no secret in
 *     stdout or stderr.
 * Secrets are only in the children's environment (RESTIC_PASSWORD_FILE, BORG_PASSPHRASE); the
 * tools' caches and keys stay in the scratch dir. Skipped, saying why, without root or a tool.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import {
  existsSync,
  linkSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statfsSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { generateMailmanTree } from '../../samples/generateMailmanTree.js';
import { resolveResticSnapshot } from '../../src/archive/listResticSnapshot.js';
import type { ToolSource } from '../../src/archive/parseBackupSource.js';
import { readBackupMembers } from '../../src/archive/readBackupMembers.js';
import { walkArchive } from '../../src/archive/walkArchive.js';
import { findDevices } from '../../src/filesystems/findDevices.js';
import { scanArchive } from '../../src/scanArchive.js';
import type { CheckResult, ScanResult } from '../../src/types.js';
import { assertMatchesSchema } from '../helpers/assertSchema.js';
import { makeBackupToolEnv, runBackupTool } from '../helpers/backupToolEnv.js';
import { makeScratch, missingNeeds, rejectionCode, run } from '../helpers/env.js';
import { withMountedFs } from '../helpers/mountFs.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const bin = path.join(repo, 'dist/cli/bin.js');
const why =
  missingNeeds({ root: true, tools: ['find', 'mkfifo', 'mkfs.ext4', 'losetup'] }) ??
  (existsSync(bin) ? null : 'needs dist/ (npm run build)');

const scratch = makeScratch('restoreplan-sources-');
const varDir = path.join(scratch.dir, 'root/var/lib/mailman');
const SECRET = 'rp-test-secret-7Qz';
const WRONG = 'rp-wrong-secret-3Kx';
const wrongFile = path.join(scratch.dir, 'restic-wrong');
const { env, passwordFile, resticRepo, borgRepo } = makeBackupToolEnv(scratch.dir, SECRET);
let resticId = '';

test.before(async () => {
  if (why) return;
  await generateMailmanTree(varDir, {
    lists: ['mailman', 'announce', 'users'],
    members: 20,
    postsPerList: 6,
    queueFiles: 4,
    locks: [{ list: 'users', pid: 4242 }],
    now: new Date(Date.now() - 86400_000),
  });
  writeFileSync(path.join(varDir, 'data/hl1'), 'hard-linked content\n');
  linkSync(path.join(varDir, 'data/hl1'), path.join(varDir, 'data/hl2'));
  symlinkSync('../lists/users/config.pck', path.join(varDir, 'data/sym'));
  run('mkfifo', [path.join(varDir, 'data/fifo')]);
  mkdirSync(path.join(varDir, 'archives/private/empty'), { recursive: true });
  // A sparse file: 8 MiB with 4 KiB of data; neither tool restores the hole (by default).
  run('truncate', ['-s', '8M', path.join(varDir, 'data/sparse')]);
  run('dd', [
    'if=/dev/urandom',
    `of=${path.join(varDir, 'data/sparse')}`,
    'bs=4096',
    'count=1',
    'seek=100',
    'conv=notrunc',
    'status=none',
  ]);
  // Names that are not UTF-8, listed lossy by both tools (restic \ufffd, borg ?): two files and
  // two directories (each with a file of the same name) that list as one path.
  const raw = (name: string, ...bytes: number[]): Buffer =>
    Buffer.concat([
      Buffer.from(path.join(varDir, 'data') + '/'),
      Buffer.from(name),
      Buffer.from(bytes),
    ]);
  writeFileSync(raw('bad', 0xff), 'a\n');
  writeFileSync(raw('bad', 0xfe), 'bb\n');
  for (const byte of [0xff, 0xfe]) {
    const dir = raw('dir', byte);
    mkdirSync(dir);
    writeFileSync(Buffer.concat([dir, Buffer.from('/f')]), 'c\n');
  }
  writeFileSync(passwordFile, `${SECRET}\n`);
  writeFileSync(wrongFile, `${WRONG}\n`);
});
test.after(() => scratch.cleanup());

const tool = (
  cmd: string,
  args: string[],
  cwd = scratch.dir,
  extra: NodeJS.ProcessEnv = {},
): string => runBackupTool(env, cmd, args, cwd, extra);

function cli(
  args: string[],
  extra: NodeJS.ProcessEnv = {},
): { code: number | null; stdout: string; stderr: string; ms: number } {
  const started = process.hrtime.bigint();
  const result = spawnSync(process.execPath, [bin, ...args], {
    env: { ...env, ...extra },
    stdio: ['ignore', 'pipe', 'pipe'],
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  return { code: result.status, stdout: result.stdout, stderr: result.stderr, ms };
}

/** What a restore made under `dir`, as `find` sees it (an oracle apart from our listing). */
function countTree(dir: string): {
  files: number;
  hardlinks: number;
  dirs: number;
  symlinks: number;
  other: number;
  bytes: number;
} {
  const out = execFileSync('find', [dir, '-mindepth', '1', '-printf', '%y %i %s\\n'], {
    maxBuffer: 1 << 28,
  }).toString();
  const counts = { files: 0, hardlinks: 0, dirs: 0, symlinks: 0, other: 0, bytes: 0 };
  const inodes = new Set<string>();
  for (const line of out.split('\n')) {
    if (line === '') continue;
    const [type, inode, size] = line.split(' ') as [string, string, string];
    if (type === 'f') {
      if (inodes.has(inode)) counts.hardlinks += 1;
      else {
        inodes.add(inode);
        counts.files += 1;
        counts.bytes += Number(size);
      }
    } else if (type === 'd') counts.dirs += 1;
    else if (type === 'l') counts.symlinks += 1;
    else counts.other += 1;
  }
  return counts;
}

function usage(mountPoint: string): { inodes: number; blocks: number } {
  execFileSync('sync', ['-f', mountPoint]);
  const s = statfsSync(mountPoint);
  return { inodes: s.files - s.ffree, blocks: s.blocks - s.bfree };
}

interface Flavour {
  name: 'restic' | 'borg';
  backup(): void;
  source(): string;
  restore(into: string): void;
}

const FLAVOURS: Flavour[] = [
  {
    name: 'restic',
    backup() {
      tool('restic', ['init', '--quiet']);
      const out = tool('restic', ['backup', '--json', '--host', 'h1', varDir]);
      const summary = out
        .split('\n')
        .filter((line) => line.includes('"snapshot_id"'))
        .map((line) => JSON.parse(line) as { snapshot_id: string })
        .at(-1);
      assert.ok(summary, out);
      resticId = summary.snapshot_id;
    },
    source: () => `restic:${resticId.slice(0, 8)}`,
    restore(into) {
      tool('restic', ['restore', '--quiet', resticId, '--target', into]);
    },
  },
  {
    name: 'borg',
    backup() {
      tool('borg', ['init', '--encryption=repokey', borgRepo]);
      tool('borg', ['create', `${borgRepo}::a1`, varDir]);
    },
    source: () => `borg:${borgRepo}::a1`,
    restore(into) {
      tool('borg', ['extract', `${borgRepo}::a1`], into);
    },
  },
];

for (const flavour of FLAVOURS) {
  test(`${flavour.name}: scan counts what a real restore creates; check predicts its df -i on ext4 exactly`, async () => {
    const skip = why ?? missingNeeds({ tools: [flavour.name] });
    if (skip) return void console.log(`skipped: ${skip}`);
    flavour.backup();
    const scanned = cli(['scan', flavour.source(), '--json', '--no-progress']);
    assert.is(scanned.code, 0, scanned.stderr);
    const scan = JSON.parse(scanned.stdout) as ScanResult;
    assertMatchesSchema(scan, 'scan', `${flavour.name} scan`);
    assert.is(scan.archive.source, flavour.name);
    assert.match(scan.archive.fingerprint, new RegExp(`^${flavour.name}:[0-9a-f]{64}$`));
    if (flavour.name === 'restic')
      assert.ok(scan.archive.fingerprint.startsWith(`restic:${resticId}`));
    assert.is(scan.mailman?.lists, 3, 'the Mailman var dir is found under its full path');

    const restored = path.join(scratch.dir, `${flavour.name}-restored`);
    mkdirSync(restored);
    flavour.restore(restored);
    const real = countTree(restored);
    const { totals } = scan;
    console.log(
      `  ${flavour.name}: find ${JSON.stringify(real)}; scan files ${totals.files} hardlinks ${totals.hardlinks} dirs ${totals.dirs}+${totals.impliedDirs} implied symlinks ${totals.symlinks} other ${totals.other} bytes ${totals.bytes}`,
    );
    assert.ok(real.hardlinks >= 2, 'the tree has hard links (lock, hl2)');
    assert.is(totals.files, real.files, 'files (by inode)');
    assert.is(totals.hardlinks, real.hardlinks, 'hard links (extra names)');
    assert.is(totals.dirs + totals.impliedDirs, real.dirs, 'directories, the leading ones too');
    assert.is(totals.symlinks, real.symlinks, 'symlinks');
    assert.is(totals.other, real.other, 'the FIFO');
    assert.is(totals.bytes, real.bytes, 'bytes');
    assert.is(totals.duplicates, 0);

    await withMountedFs({ type: 'ext4', sizeMiB: 64, inodes: 4096 }, async (mnt) => {
      const target = path.join(mnt, 'restore');
      mkdirSync(target);
      const checked = cli([
        'check',
        flavour.source(),
        '--target',
        target,
        '--allow-special',
        '--json',
        '--no-progress',
      ]);
      assert.ok(checked.code !== null && checked.code <= 2, checked.stderr);
      const check = JSON.parse(checked.stdout) as CheckResult;
      assertMatchesSchema(check, 'check', `${flavour.name} check`);
      const fs = check.filesystems.find((f) => f.mountPoint === mnt);
      assert.ok(fs, JSON.stringify(check.filesystems));
      const before = usage(mnt);
      flavour.restore(target);
      const after = usage(mnt);
      const blocks = after.blocks - before.blocks;
      console.log(
        `  ${flavour.name} on ext4: inodes predicted ${fs.inodes.needed}, df -i delta ${after.inodes - before.inodes}; blocks predicted ${fs.blocks.needed}, used ${blocks}`,
      );
      assert.is(fs.inodes.needed, after.inodes - before.inodes);
      // Blocks as the tar realfs tests judge them: within 2 % (the sparse file at full size).
      assert.ok(
        Math.abs(fs.blocks.needed - blocks) <= 0.02 * Math.max(blocks, 1),
        `blocks predicted ${fs.blocks.needed}, used ${blocks}`,
      );
    });
  });
}

test('restic: time of restic ls --json against scan restic:ID (the listing is the floor)', () => {
  const skip = why ?? missingNeeds({ tools: ['restic'] });
  if (skip || resticId === '') return void console.log(`skipped: ${skip ?? 'no snapshot'}`);
  const started = process.hrtime.bigint();
  tool('restic', ['ls', '--json', resticId]);
  const lsMs = Number(process.hrtime.bigint() - started) / 1e6;
  const scanned = cli(['scan', `restic:${resticId}`, '--json', '--no-progress']);
  assert.is(scanned.code, 0, scanned.stderr);
  console.log(
    `  restic ls --json ${lsMs.toFixed(0)} ms; scan restic:ID ${scanned.ms.toFixed(0)} ms`,
  );
});

/** Runs `body` with the test's tool environment in process.env (the API spawns with it). */
async function withToolEnv<T>(body: () => Promise<T>): Promise<T> {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    return await body();
  } finally {
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
    Object.assign(process.env, saved);
  }
}

test('API: a walk stopped early ends the tool and still names the snapshot; the data asked for comes through the tool', async () => {
  const skip = why ?? missingNeeds({ tools: ['restic', 'borg'] });
  if (skip || resticId === '' || !existsSync(borgRepo))
    return void console.log(`skipped: ${skip ?? 'no backups'}`);
  await withToolEnv(async () => {
    for (const source of ['restic:latest', `borg:${borgRepo}::a1`]) {
      let seen = 0;
      const walk = await walkArchive(source, {
        onEntry: () => (++seen === 3 ? 'stop' : undefined),
      });
      assert.equal([walk.stopped, walk.members, seen], [true, 3, 3], source);
      assert.match(walk.fingerprint, /^(restic|borg):[0-9a-f]{64}$/);
      // Ending the tool early leaves no lock behind (restic 0.14 killed by SIGTERM would).
      assert.equal(readdirSync(path.join(resticRepo, 'locks')), [], `${source}: restic locks`);
      assert.not.ok(existsSync(path.join(borgRepo, 'lock.exclusive')), `${source}: borg lock`);
      // Data: the configs asked for, their bytes as on disk, each with its own entry.
      const got = new Map<string, Buffer>();
      const asked = await walkArchive(source, {
        onEntry: (entry) =>
          entry.type === 'file' && entry.memberPath.endsWith('/config.pck') ? 'data' : undefined,
        onData: (entry, data) => void got.set(entry.memberPath, data),
      });
      assert.is(asked.stopped, false);
      assert.equal(
        [...got.keys()].map((p) => p.split('/').at(-2)).sort(),
        ['announce', 'mailman', 'users'],
        source,
      );
      for (const [memberPath, data] of got) {
        const list = memberPath.split('/').at(-2)!;
        assert.ok(
          data.equals(readFileSync(path.join(varDir, `lists/${list}/config.pck`))),
          memberPath,
        );
      }
    }
    const scan = await scanArchive(`restic:${resticId}`);
    assert.is(scan.archive.source, 'restic');
    assert.is(scan.mailman?.lists, 3);
  });
});

test('API: readBackupMembers — restic restores into a private scratch dir off the targets (one run), else dumps each; borg one export-tar', async () => {
  const skip = why ?? missingNeeds({ tools: ['restic', 'borg'] });
  if (skip || resticId === '' || !existsSync(borgRepo))
    return void console.log(`skipped: ${skip ?? 'no backups'}`);
  const lists = ['announce', 'users'];
  const configs = lists.map((list) => path.join(varDir, `lists/${list}/config.pck`));
  const members = (absolute: boolean) =>
    configs.map((file) => ({
      memberPath: file.slice(1),
      rawPath: absolute ? file : file.slice(1),
      size: readFileSync(file).length,
    }));
  const scratchDirs = [path.join(scratch.dir, 'members-scratch')];
  mkdirSync(scratchDirs[0]!);
  await withToolEnv(async () => {
    const full = (await resolveResticSnapshot({ snapshot: resticId })).id;
    const cases: Array<[string, ToolSource, Parameters<typeof readBackupMembers>[4], string]> = [
      [
        'restic, scratch usable',
        { kind: 'restic', spec: 'restic:latest', snapshot: 'latest' },
        { scratchDirs },
        'restore 1',
      ],
      [
        'restic, scratch on a target',
        { kind: 'restic', spec: 'restic:latest', snapshot: 'latest' },
        { scratchDirs, avoidDevices: await findDevices(scratchDirs) },
        'dump 2',
      ],
      [
        'borg',
        { kind: 'borg', spec: `borg:${borgRepo}::a1`, repository: borgRepo, archive: 'a1' },
        {},
        'export-tar 1',
      ],
    ];
    for (const [name, source, options, how] of cases) {
      const got: Buffer[] = [];
      let ran = '';
      await readBackupMembers(
        source,
        full,
        members(source.kind === 'restic'),
        (_, data) => void got.push(data),
        { ...options, onRuns: (runs, mode) => void (ran = `${mode} ${runs}`) },
      );
      assert.is(ran, how, name);
      assert.equal(
        got,
        configs.map((file) => readFileSync(file)),
        name,
      );
      // The scratch copies are gone, and nothing else is left there.
      assert.equal(readdirSync(scratchDirs[0]!), [], `${name}: scratch left empty`);
    }
    // A member the snapshot lacks is an error, not silence.
    const missing = [{ memberPath: 'nope/x', rawPath: '/nope/x', size: 1 }];
    const restic: ToolSource = { kind: 'restic', spec: 'restic:latest', snapshot: 'latest' };
    assert.is(
      await rejectionCode(readBackupMembers(restic, full, missing, () => {}, { scratchDirs })),
      'BACKUP_TOOL_FAILED',
    );
  });
});

/** An error run: exit 3, the code on stderr's one line, no secret anywhere. */
function assertError(
  result: { code: number | null; stdout: string; stderr: string },
  code: string,
): void {
  assert.is(result.code, 3, result.stderr);
  assert.match(result.stderr, new RegExp(`^restoreplan: ${code}: `));
  for (const secret of [SECRET, WRONG]) {
    assert.not.ok(result.stdout.includes(secret), 'no secret on stdout');
    assert.not.ok(result.stderr.includes(secret), 'no secret on stderr');
  }
}

test('restic errors: wrong password, no such snapshot, no restic on PATH', () => {
  const skip = why ?? missingNeeds({ tools: ['restic'] });
  if (skip || resticId === '') return void console.log(`skipped: ${skip ?? 'no snapshot'}`);
  assertError(
    cli(['scan', 'restic:latest'], { RESTIC_PASSWORD_FILE: wrongFile }),
    'BACKUP_PASSWORD',
  );
  assertError(cli(['scan', 'restic:latest'], { RESTIC_PASSWORD_FILE: '' }), 'BACKUP_PASSWORD');
  assertError(cli(['scan', 'restic:deadbeef']), 'BACKUP_SNAPSHOT_NOT_FOUND');
  assertError(
    cli(['scan', 'restic:latest'], { RESTIC_REPOSITORY: path.join(scratch.dir, 'nope') }),
    'BACKUP_REPOSITORY_NOT_FOUND',
  );
  assertError(cli(['scan', 'restic:latest'], { PATH: '/nonexistent' }), 'BACKUP_TOOL_MISSING');
  const json = cli(['check', 'restic:latest', '--target', scratch.dir, '--json'], {
    RESTIC_PASSWORD_FILE: wrongFile,
  });
  assert.is(json.code, 3);
  assert.is((JSON.parse(json.stdout) as { error: { code: string } }).error.code, 'BACKUP_PASSWORD');
  assert.not.ok(json.stdout.includes(WRONG));
  // The Mailman profile (a var dir as target) reads the configs through restic now.
  const profiled = cli(['check', 'restic:latest', '--target', varDir, '--json']);
  assert.ok(profiled.code !== null && profiled.code <= 2, profiled.stderr);
  const none = cli(['check', 'restic:latest', '--target', varDir, '--profile', 'none', '--json']);
  assert.ok(none.code !== null && none.code <= 2, none.stderr);
});

test('restic:latest?host=…&path=…&tag=…: the filters of restic itself choose the snapshot, in the listing and in the staleness check of apply', async () => {
  const skip = why ?? missingNeeds({ tools: ['restic'] });
  if (skip) return void console.log(`skipped: ${skip}`);
  // A repository of its own: the other tests' restic:latest stays theirs.
  const own = { ...env, RESTIC_REPOSITORY: path.join(scratch.dir, 'restic-filters') };
  const backup = (host: string, dir: string, tag: string): string => {
    const out = runBackupTool(
      own,
      'restic',
      ['backup', '--json', '--host', host, '--tag', tag, dir],
      scratch.dir,
    );
    return (JSON.parse(out.trim().split('\n').at(-1)!) as { snapshot_id: string }).snapshot_id;
  };
  runBackupTool(own, 'restic', ['init', '--quiet'], scratch.dir);
  const shortWhole = backup('h1', varDir, 'nightly');
  const shortLists = backup('h2', path.join(varDir, 'lists'), 'hourly');
  // restic 0.14's backup summary gives the short id: the full ones from the repository.
  const ids = (
    JSON.parse(runBackupTool(own, 'restic', ['snapshots', '--json'], scratch.dir)) as Array<{
      id: string;
    }>
  ).map((s) => s.id);
  const whole = ids.find((id) => id.startsWith(shortWhole)) ?? '';
  const listsOnly = ids.find((id) => id.startsWith(shortLists)) ?? '';
  const scanOf = (source: string): ScanResult => {
    const result = spawnSync(process.execPath, [bin, 'scan', source, '--json', '--no-progress'], {
      env: own,
      encoding: 'utf8',
    });
    assert.is(result.status, 0, `${source}: ${result.stderr}`);
    return JSON.parse(result.stdout) as ScanResult;
  };
  assert.is(scanOf('restic:latest').archive.fingerprint, `restic:${listsOnly}`);
  const full = scanOf(`restic:${whole}`);
  for (const source of [
    'restic:latest?host=h1',
    `restic:latest?path=${varDir}`,
    'restic:latest?tag=nightly',
    `restic:latest?host=h1&path=${encodeURI(varDir)}&tag=nightly`,
  ]) {
    const scan = scanOf(source);
    assert.is(scan.archive.fingerprint, `restic:${whole}`, source);
    assert.equal(scan.totals, full.totals, source);
  }
  const none = spawnSync(process.execPath, [bin, 'scan', 'restic:latest?host=nope', '--json'], {
    env: own,
    encoding: 'utf8',
  });
  assert.is(none.status, 3);
  // The filter is named: a filtered latest that matches nothing is not "no snapshot at all".
  assert.match(
    (JSON.parse(none.stdout) as { error: { message: string } }).error.message,
    'no snapshot latest (host="nope")',
  );
  assert.is(
    (JSON.parse(none.stdout) as { error: { code: string } }).error.code,
    'BACKUP_SNAPSHOT_NOT_FOUND',
  );
  // What apply resolves the planned source with: the same filters.
  const saved = process.env.RESTIC_REPOSITORY;
  Object.assign(process.env, own);
  try {
    const resolved = await resolveResticSnapshot({
      snapshot: 'latest',
      filters: { hosts: ['h1'], paths: [], tags: [] },
    });
    assert.is(resolved.id, whole);
  } finally {
    process.env.RESTIC_REPOSITORY = saved;
  }
});

test('borg errors: wrong passphrase, none, no such archive, no repository, no borg on PATH', () => {
  const skip = why ?? missingNeeds({ tools: ['borg'] });
  if (skip || !existsSync(borgRepo)) return void console.log(`skipped: ${skip ?? 'no repository'}`);
  const source = `borg:${borgRepo}::a1`;
  assertError(cli(['scan', source], { BORG_PASSPHRASE: WRONG }), 'BACKUP_PASSWORD');
  assertError(cli(['scan', source], { BORG_PASSPHRASE: '' }), 'BACKUP_PASSWORD');
  assertError(cli(['scan', `borg:${borgRepo}::nope`]), 'BACKUP_SNAPSHOT_NOT_FOUND');
  assertError(
    cli(['scan', `borg:${path.join(scratch.dir, 'nope')}::a1`]),
    'BACKUP_REPOSITORY_NOT_FOUND',
  );
  assertError(cli(['scan', source], { PATH: '/nonexistent' }), 'BACKUP_TOOL_MISSING');
});

test.run();
