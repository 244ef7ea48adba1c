/**
 * Issue 12: a plan file is untrusted input. A real plan (made by planRestore from a GNU tar
 * archive) is edited by hand the ways an attacker or an unlucky operator would — roots, target
 * paths, sizes, sparse maps, types, times, ids, modes, setuid bits, device nodes, mailman.root,
 * the staging root — and each edit is refused with a stable code naming the field, before
 * anything is written: the digest of the whole scratch tree (the target, a sibling directory an
 * edit aims at, the parent) is the same after as before, and no journal appears.
 */
import { createHash } from 'node:crypto';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { applyPlan } from '../../src/apply/applyPlan.js';
import { fingerprintArchiveFile } from '../../src/archive/fingerprintArchive.js';
import { planRestore } from '../../src/plan/planRestore.js';
import type { PlanDocument, PlanStep } from '../../src/types.js';
import { makeScratch, missingNeeds, run } from '../helpers/env.js';

const why = missingNeeds({ tools: ['tar', 'truncate', 'dd'] });
const scratch = makeScratch('restoreplan-hand-edited-');
const dir = scratch.dir;
const target = path.join(dir, 'target');
const sibling = path.join(dir, 'sibling');
const archive = path.join(dir, 'backup.tar');
let plan: PlanDocument;

test.before(async () => {
  if (why) return;
  const source = path.join(dir, 'src');
  mkdirSync(path.join(source, 'lists/alpha'), { recursive: true });
  writeFileSync(path.join(source, 'lists/alpha/config.txt'), 'alpha\n');
  writeFileSync(path.join(source, 'a.txt'), 'a'.repeat(3000));
  writeFileSync(path.join(source, 'tool'), '#!/bin/sh\n', { mode: 0o4755 });
  symlinkSync('a.txt', path.join(source, 'link'));
  run('ln', [path.join(source, 'a.txt'), path.join(source, 'hard')]);
  run('truncate', ['-s', '2M', path.join(source, 'sparse.img')]);
  run('dd', [
    'if=/dev/urandom',
    `of=${path.join(source, 'sparse.img')}`,
    'bs=4096',
    'count=2',
    'seek=100',
    'conv=notrunc',
    'status=none',
  ]);
  // In this order: a.txt is the file, hard the link to it.
  const names = ['./lists', './a.txt', './tool', './link', './hard', './sparse.img'];
  run('tar', ['--format=gnu', '--sparse', '-cf', archive, '-C', source, ...names]);
  mkdirSync(target);
  mkdirSync(sibling);
  writeFileSync(path.join(sibling, 'passwd'), 'root:x:0:0\n');
  plan = await planRestore(archive, { target, profile: 'none' });
});
test.after(() => scratch.cleanup());

/** Every path under dir: type, mode, owner, size, mtime, content or link text. */
function digest(root: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (current: string): void => {
    for (const name of readdirSync(current).sort()) {
      const full = path.join(current, name);
      const s = lstatSync(full);
      const meta = `${s.mode.toString(8)}:${s.uid}:${s.gid}:${s.size}:${s.mtimeMs}`;
      if (s.isSymbolicLink()) out.set(full, `${meta}:->${readlinkSync(full)}`);
      else if (s.isDirectory()) {
        out.set(full, `${meta}:dir`);
        walk(full);
      } else
        out.set(full, `${meta}:${createHash('sha256').update(readFileSync(full)).digest('hex')}`);
    }
  };
  out.set(root, `${statSync(root).mode.toString(8)}`);
  walk(root);
  return out;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- editing a plan into shapes its type forbids
type Loose = any;

function edited(edit: (p: Loose, step: (name: string) => Loose) => void): PlanDocument {
  const copy = JSON.parse(JSON.stringify(plan)) as Loose;
  const step = (name: string): Loose => {
    const found = copy.stages
      .flatMap((s: Loose) => s.steps)
      .find((s: PlanStep) => s.memberPath === name || s.memberPath.endsWith(`/${name}`));
    if (!found) throw new Error(`no step for ${name}`);
    return found;
  };
  edit(copy, step);
  return copy as PlanDocument;
}

function whereOf(name: string): string {
  for (const [s, stage] of plan.stages.entries()) {
    const i = stage.steps.findIndex((x) => x.memberPath === name);
    if (i >= 0) return `stages[${s}].steps[${i}]`;
  }
  throw new Error(`no step for ${name}`);
}

async function refusal(
  doc: PlanDocument,
  options: Parameters<typeof applyPlan>[1] = {},
): Promise<{ code?: string; message: string; details: Record<string, unknown> }> {
  const journalPath = path.join(dir, 'edited.journal');
  const before = digest(dir);
  const error = await applyPlan(doc, { ...options, journalPath }).then(
    () => null,
    (e: { code?: string; message: string; details: Record<string, unknown> }) => e,
  );
  assert.ok(error, 'refused');
  const after = digest(dir);
  assert.equal([...after], [...before], `nothing changed under ${dir}: ${error?.message}`);
  assert.not.ok(existsSync(journalPath), 'no journal');
  return error as { code?: string; message: string; details: Record<string, unknown> };
}

test('the plan as made is valid and restores; setuid bits are cleared without --allow-special', async () => {
  if (why) return console.log(`skipped: ${why}`);
  assert.is(plan.feasible, true);
  assert.is(plan.staging, null);
  assert.is(plan.allowSpecial, false);
  const tool = plan.stages.flatMap((s) => s.steps).find((s) => s.memberPath === 'tool');
  assert.is(tool?.mode, 0o755);
  assert.ok(plan.problems.some((p) => p.kind === 'special-member' && /setuid/.test(p.message)));
  // A dry run of every variant below goes through the same checks: the plan as made passes.
  const preview = await applyPlan(plan, { dryRun: true, journalPath: path.join(dir, 'x') });
  assert.ok(preview.preview.length > 5);
});

const EDITS: Array<[string, string | RegExp, (p: Loose, step: (n: string) => Loose) => void]> = [
  // Roots.
  ['stage root: a sibling directory', 'stages[0].root', (p) => (p.stages[0].root = sibling)],
  ['stage root: /', 'stages[0].root', (p) => (p.stages[0].root = '/')],
  [
    'stage root and its steps: a sibling',
    'stages[0].root',
    (p) => {
      p.stages[0].root = sibling;
      for (const s of p.stages[0].steps) s.targetPath = s.targetPath.replace(target, sibling);
    },
  ],
  [
    'staging root: not absolute',
    'staging',
    (p) => {
      p.staging = 'sibling';
    },
  ],
  ['mailman.root: /etc', 'mailman.root', (p) => (p.mailman = mailmanOf('/etc'))],
  ['target.path: relative', 'target.path', (p) => (p.target.path = 'target')],
  // Target paths.
  [
    'targetPath: .. out of the root',
    /targetPath$/,
    (_, step) => (step('a.txt').targetPath = `${target}/../sibling/passwd`),
  ],
  [
    'targetPath: absolute elsewhere',
    /targetPath$/,
    (_, step) => (step('a.txt').targetPath = path.join(sibling, 'passwd')),
  ],
  [
    'targetPath: /./ (not normalized)',
    /targetPath$/,
    (_, step) => (step('a.txt').targetPath = `${target}/./a.txt`),
  ],
  [
    'targetPath: a NUL byte',
    /targetPath$/,
    (_, step) => (step('a.txt').targetPath = `${target}/a.txt\0/../../sibling/passwd`),
  ],
  ['targetPath: the root itself', /targetPath$/, (_, step) => (step('a.txt').targetPath = target)],
  // Where a member goes: its name under the root, after the member root all steps share. A
  // member (bytes a list poster chose) restored under another name was "verified" and written.
  [
    'targetPath: the member restored under another name',
    /targetPath$/,
    (_, step) => (step('a.txt').targetPath = path.join(target, 'config.pck')),
  ],
  [
    'targetPath: the member moved into another directory',
    /targetPath$/,
    (_, step) => (step('a.txt').targetPath = path.join(target, 'sub', 'a.txt')),
  ],
  [
    'hard link: to a file outside the root',
    /linkTarget$/,
    (_, step) => (step('hard').linkTarget = path.join(sibling, 'passwd')),
  ],
  [
    'symlink: text leaving the root',
    /linkTarget$/,
    (_, step) => (step('link').linkTarget = '../sibling/passwd'),
  ],
  [
    'memberPath: a ..',
    /memberPath$/,
    (_, step) => (step('a.txt').memberPath = '../sibling/passwd'),
  ],
  // Steps against the archive.
  // Refused as not where that member goes (targetPath) before the archive is read.
  [
    'memberPath: another member',
    /\.(memberPath|targetPath)$/,
    (_, step) => (step('a.txt').memberPath = 'hard'),
  ],
  [
    'size and stored length: bigger',
    /\.size$/,
    (_, step) => {
      step('a.txt').size = 3001;
      step('a.txt').source.dataLength = 3001;
    },
  ],
  ['size alone: stored length differs', /dataLength$/, (_, step) => (step('a.txt').size = 2999)],
  [
    'type: a file made a directory',
    /\.size$/,
    (_, step) => {
      step('a.txt').type = 'dir';
    },
  ],
  [
    'headerOffset: another member',
    /memberPath$/,
    (_, step) => (step('a.txt').source.headerOffset = step('config.txt').source.headerOffset),
  ],
  [
    'headerOffset: inside a member',
    /headerOffset$/,
    (_, step) => {
      step('a.txt').source.headerOffset += 512;
      step('a.txt').source.dataOffset += 512;
    },
  ],
  [
    'sparse map: 30 GB of hole before a 2-byte extent',
    /\.size$/,
    (_, step) => {
      const s = step('sparse.img');
      s.size = 30 * 1024 ** 3;
      s.source.sparse = [[30 * 1024 ** 3 - 2, 2]];
      s.source.dataLength = 2;
    },
  ],
  [
    'sparse map: does not add up',
    /source\.sparse$/,
    (_, step) => (step('sparse.img').source.sparse = [[0, 5]]),
  ],
  [
    'data beyond the end of the archive',
    /dataLength$/,
    (_, step) => {
      step('a.txt').size = 1e12;
      step('a.txt').source.dataLength = 1e12;
    },
  ],
  // Ranges.
  ['mtime: 1e300', /mtime$/, (_, step) => (step('a.txt').mtime = 1e300)],
  ['mtime: a string', /mtime$/, (_, step) => (step('a.txt').mtime = '2024-01-01')],
  [
    'uid: 4294967301',
    /owner\.uid$/,
    (_, step) => (step('a.txt').owner = { uid: 4294967301, gid: 0 }),
  ],
  ['gid: -1', /owner\.gid$/, (_, step) => (step('a.txt').owner = { uid: 0, gid: -1 })],
  ['mode: 0o10644', /mode$/, (_, step) => (step('a.txt').mode = 0o10644)],
  ['mode: 6.5', /mode$/, (_, step) => (step('a.txt').mode = 6.5)],
  ['offset: negative', /headerOffset$/, (_, step) => (step('a.txt').source.headerOffset = -512)],
  ['size: unsafe integer', /\.size$/, (_, step) => (step('a.txt').size = 2 ** 60)],
  // What only --allow-special makes.
  ['setuid bit', /mode$/, (_, step) => (step('tool').mode = 0o4755)],
  ['setgid bit on a file', /mode$/, (_, step) => (step('a.txt').mode = 0o2644)],
  [
    'a device node',
    /type$/,
    (_, step) => {
      step('a.txt').type = 'chardev';
      step('a.txt').size = 0;
    },
  ],
  [
    'a fifo',
    /type$/,
    (_, step) => {
      step('a.txt').type = 'fifo';
      step('a.txt').size = 0;
    },
  ],
];

function mailmanOf(root: string): PlanDocument['mailman'] {
  return { root, running: false, freshMtime: false, restartAdvised: false, note: '' };
}

for (const [name, where, edit] of EDITS) {
  test(`hand-edited plan, ${name}: PLAN_INVALID naming the field, nothing written`, async () => {
    if (why) return console.log(`skipped: ${why}`);
    const error = await refusal(edited(edit));
    assert.is(error.code, 'PLAN_INVALID', error.message);
    const at = String(error.details.where);
    if (typeof where === 'string') assert.is(at, where, error.message);
    else assert.match(at, where, error.message);
    // A --dry-run refuses it the same way.
    const dry = await refusal(edited(edit), { dryRun: true });
    assert.is(dry.code, 'PLAN_INVALID');
  });
}

test('the 30 GB sparse-map edit is refused at once, by the member at its offset', async () => {
  if (why) return console.log(`skipped: ${why}`);
  const started = Date.now();
  const error = await refusal(
    edited((_, step) => {
      const s = step('sparse.img');
      s.size = 30 * 1024 ** 3;
      s.source.sparse = [[30 * 1024 ** 3 - 2, 2]];
      s.source.dataLength = 2;
    }),
  );
  assert.ok(Date.now() - started < 2000, `${Date.now() - started} ms`);
  assert.is(error.details.where, `${whereOf('sparse.img')}.size`);
  assert.match(error.message, /the archive's member at offset \d+ \(sparse\.img\) has 2097152/);
});

test('a consistent edit of the target itself is not an edit apply can see: the dry run names the root', async () => {
  if (why) return console.log(`skipped: ${why}`);
  // Target, stage root and paths all moved to the sibling: the document is consistent, and
  // the plan is the one to name its target. What protects the operator is seeing it: the
  // confirmation and the dry run say where the plan writes (see test/cli/apply.test.ts).
  const moved = edited((p) => {
    p.target.path = sibling;
    p.stages[0].root = sibling;
    for (const s of p.stages[0].steps) {
      s.targetPath = s.targetPath.replace(target, sibling);
      if (s.type === 'hardlink') s.linkTarget = s.linkTarget.replace(target, sibling);
    }
  });
  const preview = await applyPlan(moved, { dryRun: true, journalPath: path.join(dir, 'x') });
  assert.ok(preview.preview.every((s) => s.targetPath.startsWith(`${sibling}/`)));
});

test('a staging root the plan records is a root its stages may write under; another is not', async () => {
  if (why) return console.log(`skipped: ${why}`);
  const staged = edited((p) => {
    p.staging = sibling;
    p.stages[0].root = sibling;
    for (const s of p.stages[0].steps) {
      s.targetPath = s.targetPath.replace(target, sibling);
      if (s.type === 'hardlink') s.linkTarget = s.linkTarget.replace(target, sibling);
    }
  });
  const preview = await applyPlan(staged, { dryRun: true, journalPath: path.join(dir, 'x') });
  assert.ok(preview.preview.length > 0);
  const other = await refusal(
    edited((p) => {
      p.staging = sibling;
      p.stages[0].root = dir;
    }),
  );
  assert.is(other.details.where, 'stages[0].root');
});

test('setuid bits in a plan made with --allow-special: CONFIRMATION_REQUIRED until apply confirms them too', async () => {
  if (why) return console.log(`skipped: ${why}`);
  const special = await planRestore(archive, { target, profile: 'none', allowSpecial: true });
  assert.is(special.allowSpecial, true);
  const tool = special.stages.flatMap((s) => s.steps).find((s) => s.memberPath === 'tool');
  assert.is(tool?.mode, 0o4755);
  const error = await refusal(special);
  assert.is(error.code, 'CONFIRMATION_REQUIRED');
  assert.match(error.message, /1 path with setuid\/setgid bits/);
  // A dry run shows it; confirmed, it is restored with the bit.
  await applyPlan(special, { dryRun: true, journalPath: path.join(dir, 'x') });
  const target2 = path.join(dir, 'target-special');
  mkdirSync(target2);
  const again = await planRestore(archive, {
    target: target2,
    profile: 'none',
    allowSpecial: true,
  });
  const result = await applyPlan(again, {
    allowSpecial: true,
    journalPath: path.join(dir, 'special.journal'),
  });
  assert.is(result.status, 'complete', JSON.stringify(result.skipped));
  assert.is(statSync(path.join(target2, 'tool')).mode & 0o7777, 0o4755);
});

test('compressed and streamed: the 30 GB sparse edit and a size edit are refused in the pass, before anything is written', async () => {
  if (why) return console.log(`skipped: ${why}`);
  const gz = `${archive}.gz`;
  writeFileSync(gz, gzipSync(readFileSync(archive)));
  const gzPlan = await planRestore(gz, { target, profile: 'none' });
  const bytes = readFileSync(archive);
  const streamPlan = await planRestore(Readable.from([bytes]), { target, profile: 'none' });
  const sparseEdit = (p: Loose): void => {
    const s = p.stages[0].steps.find((x: PlanStep) => x.memberPath === 'sparse.img');
    s.size = 30 * 1024 ** 3;
    s.source.sparse = [[30 * 1024 ** 3 - 2, 2]];
    s.source.dataLength = 2;
  };
  const sizeEdit = (p: Loose): void => {
    const s = p.stages[0].steps.find((x: PlanStep) => x.memberPath === 'a.txt');
    s.size = 2000;
    s.source.dataLength = 2000;
  };
  for (const edit of [sparseEdit, sizeEdit]) {
    const onGz = JSON.parse(JSON.stringify(gzPlan));
    edit(onGz);
    const gzError = await refusal(onGz);
    assert.is(gzError.code, 'PLAN_INVALID', gzError.message);
    assert.match(String(gzError.details.where), /\.(size|source\.sparse)$/);
    const onStream = JSON.parse(JSON.stringify(streamPlan));
    edit(onStream);
    const streamError = await refusal(onStream, { archive: Readable.from([bytes]) });
    assert.is(streamError.code, 'PLAN_INVALID', streamError.message);
    assert.match(String(streamError.details.where), /\.(size|source\.sparse)$/);
  }
  // Another stream is still PLAN_STALE (the stream is judged first, then the steps).
  const other = Buffer.concat([bytes, Buffer.alloc(10240)]);
  const stale = await refusal(streamPlan, { archive: Readable.from([other]) });
  assert.is(stale.code, 'PLAN_STALE');
});

test('the fingerprint still comes first: a rotated archive is PLAN_STALE, not a step mismatch', async () => {
  if (why) return console.log(`skipped: ${why}`);
  const copy = path.join(dir, 'rotated.tar');
  writeFileSync(copy, readFileSync(archive));
  const handle = await import('node:fs/promises').then((fs) => fs.open(copy, 'r'));
  const fingerprint = await fingerprintArchiveFile(
    async (b, l, p) => (await handle.read(b, 0, l, p)).bytesRead,
    await handle.stat({ bigint: true }),
  );
  await handle.close();
  assert.is.not(fingerprint, plan.archive.fingerprint);
  const error = await refusal(plan, { archive: copy });
  assert.is(error.code, 'PLAN_STALE');
});

test('an archive with a pax mtime of 10^30: the planner makes a plan apply accepts (the header mtime, as GNU tar: the record is out of range)', async () => {
  if (why) return console.log(`skipped: ${why}`);
  const odd = path.join(dir, 'odd-mtime.tar');
  run('python3', [
    '-c',
    `
import io, sys, tarfile
with tarfile.open(sys.argv[1], 'w', format=tarfile.PAX_FORMAT) as tar:
    i = tarfile.TarInfo('far.txt'); i.size = 2; i.pax_headers = {'mtime': '1' + '0' * 30}
    tar.addfile(i, io.BytesIO(b'hi'))
`,
    odd,
  ]);
  const oddTarget = path.join(dir, 'target-odd');
  mkdirSync(oddTarget);
  const made = await planRestore(odd, { target: oddTarget, profile: 'none' });
  // GNU tar 1.34: "Extended header mtime=1e30 is out of range", and it keeps the header's (0).
  assert.is(made.stages[0]?.steps[0]?.mtime, 0);
  const result = await applyPlan(made, { journalPath: path.join(dir, 'odd.journal') });
  assert.is(result.status, 'complete', JSON.stringify(result.skipped));
  assert.is(readFileSync(path.join(oddTarget, 'far.txt'), 'utf8'), 'hi');
});

test.run();
