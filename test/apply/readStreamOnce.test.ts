/**
 * A plan made from a stream, applied from a stream (the API side of `borg export-tar … - |
 * restoreplan apply PLAN --yes`): the one pass keeps the planned members and proves the stream
 * by its whole-stream fingerprint before anything — not even the journal — is written.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { applyPlan } from '../../src/apply/applyPlan.js';
import { STREAM_BATCH_BYTES } from '../../src/apply/openMemberReader.js';
import { walkArchive } from '../../src/archive/walkArchive.js';
import { RestoreplanError } from '../../src/errors.js';
import { planRestore } from '../../src/plan/planRestore.js';
import type { PlanDocument } from '../../src/types.js';
import { makeScratch, missingNeeds, run } from '../helpers/env.js';

const why = missingNeeds({ tools: ['tar'] });
const scratch = makeScratch('restoreplan-stream-once-');
let bytes: Buffer;

test.before(() => {
  if (why) return;
  const tree = path.join(scratch.dir, 'tree');
  mkdirSync(path.join(tree, 'd'), { recursive: true });
  writeFileSync(path.join(tree, 'd/a.txt'), 'alpha\n');
  // Over one block: the fingerprint is then hashed on its worker thread.
  const big = Buffer.alloc(3 * 1024 * 1024 + 17);
  for (let i = 0; i < big.length; i += 1) big[i] = (i * 131 + (i >> 9)) & 0xff;
  writeFileSync(path.join(tree, 'd/b.bin'), big);
  writeFileSync(path.join(tree, 'd/c.txt'), 'gamma\n');
  const archive = path.join(scratch.dir, 'a.tar');
  run('tar', ['--format=gnu', '-cf', archive, '-C', tree, 'd']);
  bytes = readFileSync(archive);
});
test.after(() => scratch.cleanup());

/** The bytes as a pipe delivers them: in 64 KiB chunks. */
function pipeOf(data: Buffer): Readable {
  const chunks: Buffer[] = [];
  for (let at = 0; at < data.length; at += 65536) chunks.push(data.subarray(at, at + 65536));
  return Readable.from(chunks, { objectMode: false });
}

function freshTarget(name: string): string {
  const target = path.join(scratch.dir, name);
  mkdirSync(target);
  return target;
}

async function planFromStream(data: Buffer, target: string): Promise<PlanDocument> {
  return planRestore(pipeOf(data), { target, profile: 'none' });
}

async function codeOf(promise: Promise<unknown>): Promise<RestoreplanError> {
  try {
    await promise;
  } catch (error) {
    assert.instance(error, RestoreplanError, String(error));
    return error as RestoreplanError;
  }
  throw new Error('expected an error');
}

const sha = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

test('the same bytes piped again restore the plan; a dry run proves the stream and writes nothing', async () => {
  if (why) return console.log(`skipped: ${why}`);
  const target = freshTarget('same');
  const plan = await planFromStream(bytes, target);
  assert.is(plan.archive.path, '-');
  assert.is(plan.archive.mtime, null);
  assert.is(plan.archive.sizeBytes, bytes.length);
  assert.is(plan.feasible, true);
  const journalPath = path.join(scratch.dir, 'same.journal');
  const preview = await applyPlan(plan, { archive: pipeOf(bytes), dryRun: true, journalPath });
  assert.is(preview.preview.length, 4);
  assert.equal(readdirSync(target), []);
  assert.not.ok(existsSync(journalPath));
  const result = await applyPlan(plan, { archive: pipeOf(bytes), journalPath });
  assert.is(result.status, 'complete');
  assert.is(result.verified, true);
  assert.is(readFileSync(path.join(target, 'd/a.txt'), 'utf8'), 'alpha\n');
  assert.is(
    sha(readFileSync(path.join(target, 'd/b.bin'))),
    sha(readFileSync(path.join(scratch.dir, 'tree/d/b.bin'))),
  );
  assert.is(readFileSync(path.join(target, 'd/c.txt'), 'utf8'), 'gamma\n');
});

test('another stream of the same length (one file changed in place) is PLAN_STALE before anything is written, the journal included', async () => {
  if (why) return console.log(`skipped: ${why}`);
  const target = freshTarget('other');
  const plan = await planFromStream(bytes, target);
  // Tonight's backup: c.txt says "gamma!" instead of "gamma\n" — same size, same first 64 KiB.
  const other = Buffer.from(bytes);
  const at = other.lastIndexOf('gamma\n');
  other.write('gamma!', at);
  const journalPath = path.join(scratch.dir, 'other.journal');
  const error = await codeOf(applyPlan(plan, { archive: pipeOf(other), journalPath }));
  assert.is(error.code, 'PLAN_STALE', error.message);
  assert.match(error.message, /is not the stream the plan was made from/);
  assert.match(String(error.details.hint), /same backup/);
  assert.equal(readdirSync(target), []);
  assert.not.ok(existsSync(journalPath));
  // A shorter one (another backup with a file less) says so too.
  const shorter = bytes.subarray(0, bytes.length - 512);
  const short = await codeOf(applyPlan(plan, { archive: pipeOf(shorter), journalPath }));
  assert.is(short.code, 'PLAN_STALE');
  assert.equal(readdirSync(target), []);
});

test('a stream cut short, or empty: ARCHIVE_TRUNCATED / NOT_A_TAR with a hint, nothing written', async () => {
  if (why) return console.log(`skipped: ${why}`);
  const target = freshTarget('cut');
  const plan = await planFromStream(bytes, target);
  const journalPath = path.join(scratch.dir, 'cut.journal');
  // Inside b.bin's data.
  const inside = await codeOf(
    applyPlan(plan, { archive: pipeOf(bytes.subarray(0, 2 * 1024 * 1024)), journalPath }),
  );
  assert.is(inside.code, 'ARCHIVE_TRUNCATED', inside.message);
  assert.match(String(inside.details.hint), /cut short/);
  // At a member boundary, before the end-of-archive marker: every planned member is there,
  // but the stream is not all there.
  const walked = await walkArchive(pipeOf(bytes), { onEntry: () => undefined });
  const boundary = walked.streamBytes - 1024;
  const atBoundary = await codeOf(
    applyPlan(plan, { archive: pipeOf(bytes.subarray(0, boundary)), journalPath }),
  );
  assert.is(atBoundary.code, 'ARCHIVE_TRUNCATED', atBoundary.message);
  assert.match(atBoundary.message, /without an end-of-archive marker/);
  const empty = await codeOf(applyPlan(plan, { archive: pipeOf(Buffer.alloc(0)), journalPath }));
  assert.is(empty.code, 'NOT_A_TAR');
  assert.match(empty.message, /is empty/);
  assert.equal(readdirSync(target), []);
  assert.not.ok(existsSync(journalPath));
});

test('a plan whose members one pass cannot hold is refused before a byte is read, naming --archive FILE', async () => {
  if (why) return console.log(`skipped: ${why}`);
  const target = freshTarget('large');
  const plan = await planFromStream(bytes, target);
  // As if a.txt and c.txt were huge: together more than one pass may hold.
  const huge = STREAM_BATCH_BYTES / 2 + 1;
  // (A stream that long: apply refuses a member that lies beyond the end of its archive.)
  plan.archive.sizeBytes = 4 * huge;
  for (const step of plan.stages.flatMap((s) => s.steps)) {
    if (step.type !== 'file' || step.memberPath === 'd/b.bin') continue;
    step.size = huge;
    step.source.dataLength = huge;
  }
  let touched = false;
  const stream = new Readable({
    read() {
      touched = true;
      this.push(null);
    },
  });
  const error = await codeOf(applyPlan(plan, { archive: stream }));
  assert.is(error.code, 'MEMBER_TOO_LARGE', error.message);
  assert.match(String(error.details.hint), /--archive/);
  assert.not.ok(touched, 'the stream was not read');
  assert.equal(readdirSync(target), []);
});

test('--archive FILE: a saved copy of the stream, plain or compressed, is proven by the same fingerprint', async () => {
  if (why) return console.log(`skipped: ${why}`);
  const saved = path.join(scratch.dir, 'saved.tar');
  writeFileSync(saved, bytes);
  const plain = freshTarget('saved-plain');
  const plan = await planFromStream(bytes, plain);
  const result = await applyPlan(plan, {
    archive: saved,
    journalPath: path.join(scratch.dir, 'p.journal'),
  });
  assert.is(result.status, 'complete');
  assert.is(readFileSync(path.join(plain, 'd/c.txt'), 'utf8'), 'gamma\n');

  const gzipped = gzipSync(bytes);
  const savedGz = path.join(scratch.dir, 'saved.tar.gz');
  writeFileSync(savedGz, gzipped);
  const compressed = freshTarget('saved-gz');
  const gzPlan = await planFromStream(gzipped, compressed);
  assert.is(gzPlan.archive.compression, 'gzip');
  assert.is(gzPlan.archive.sizeBytes, gzipped.length);
  const gzResult = await applyPlan(gzPlan, {
    archive: savedGz,
    journalPath: path.join(scratch.dir, 'gz.journal'),
  });
  assert.is(gzResult.status, 'complete');
  assert.is(readFileSync(path.join(compressed, 'd/a.txt'), 'utf8'), 'alpha\n');

  // The same size, other bytes: not that stream.
  const untouched = freshTarget('saved-other');
  const otherPlan = await planFromStream(bytes, untouched);
  const other = Buffer.from(bytes);
  other.write('gamma!', other.lastIndexOf('gamma\n'));
  const otherFile = path.join(scratch.dir, 'other.tar');
  writeFileSync(otherFile, other);
  const stale = await codeOf(applyPlan(otherPlan, { archive: otherFile }));
  assert.is(stale.code, 'PLAN_STALE', stale.message);
  assert.match(stale.message, /same size, other bytes/);
  // Decompressed, a saved compressed stream is other bytes too: the plan read the gzip.
  const stillGz = await codeOf(applyPlan(gzPlan, { archive: saved }));
  assert.is(stillGz.code, 'PLAN_STALE');
  assert.equal(readdirSync(untouched), []);
});

test.run();
