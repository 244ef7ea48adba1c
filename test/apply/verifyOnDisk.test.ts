/**
 * Reading back: a member is checked before anything is created for it, what landed on disk is
 * re-read, and a journaled step is judged intact, changed by the live system, or to be redone.
 */
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { lstat } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { defaultFsOps } from '../../src/apply/fsOps.js';
import type { JournalRecord } from '../../src/apply/openJournal.js';
import {
  hashFile,
  journaledState,
  sha256Of,
  verifyMember,
  verifyOnDisk,
} from '../../src/apply/verifyOnDisk.js';
import type { FileStep, PlanStep } from '../../src/types.js';
import { makeScratch, run } from '../helpers/env.js';
import { makeStep } from './makeRunFixture.js';

/** The smallest pickle Mailman loads as a config: an empty dict (EMPTY_DICT, STOP). */
const EMPTY_DICT = Buffer.from('}.', 'latin1');

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (error) {
    return (error as { code?: string }).code;
  }
}

async function asyncCodeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    return (error as { code?: string }).code;
  }
}

test('hashFile: size, sha256 and the data of a small file; a directory is VERIFY_FAILED, a symlink is not followed', async () => {
  const { dir, cleanup } = makeScratch();
  try {
    const file = path.join(dir, 'a.txt');
    writeFileSync(file, 'hello\n');
    const hashed = await hashFile(file, defaultFsOps);
    assert.is(hashed.bytes, 6);
    assert.is(hashed.sha256, sha256Of('hello\n'));
    assert.is(hashed.data?.toString(), 'hello\n');
    assert.is(await asyncCodeOf(hashFile(dir, defaultFsOps)), 'VERIFY_FAILED');
    symlinkSync(file, path.join(dir, 'link'));
    assert.is.not(await asyncCodeOf(hashFile(path.join(dir, 'link'), defaultFsOps)), undefined);
  } finally {
    cleanup();
  }
});

test('verifyMember: the planned size and sha256, and a config that must load as a dict pickle', () => {
  const step = makeStep('/r/lists/a/notes.txt', { size: 5, sha256: sha256Of('hello') });
  assert.is(
    codeOf(() => verifyMember(step as FileStep, step.targetPath, Buffer.from('hello'))),
    undefined,
  );
  assert.is(
    codeOf(() => verifyMember(step as FileStep, step.targetPath, Buffer.from('hell'))),
    'VERIFY_FAILED',
  );
  assert.is(
    codeOf(() => verifyMember(step as FileStep, step.targetPath, Buffer.from('HELLO'))),
    'VERIFY_FAILED',
  );
  const config = makeStep('/r/lists/a/config.pck', { size: EMPTY_DICT.length });
  assert.is(
    codeOf(() => verifyMember(config as FileStep, config.targetPath, EMPTY_DICT)),
    undefined,
  );
  const truncated = makeStep('/r/lists/a/config.pck', { size: 1 });
  assert.is(
    codeOf(() =>
      verifyMember(truncated as FileStep, truncated.targetPath, EMPTY_DICT.subarray(0, 1)),
    ),
    'VERIFY_FAILED',
  );
});

test('verifyOnDisk: what reads back must be what was written, and a config must still load', async () => {
  const { dir, cleanup } = makeScratch();
  try {
    const file = path.join(dir, 'a.txt');
    writeFileSync(file, 'hello');
    const written = { bytes: 5, sha256: sha256Of('hello') };
    await verifyOnDisk('a.txt', file, written, defaultFsOps);
    writeFileSync(file, 'hellO');
    assert.is(
      await asyncCodeOf(verifyOnDisk('a.txt', file, written, defaultFsOps)),
      'VERIFY_FAILED',
    );
    const config = path.join(dir, 'config.pck');
    writeFileSync(config, '}');
    assert.is(
      await asyncCodeOf(
        verifyOnDisk('config.pck', config, { bytes: 1, sha256: sha256Of('}') }, defaultFsOps),
      ),
      'VERIFY_FAILED',
      'a truncated pickle is refused even when it is what was written',
    );
  } finally {
    cleanup();
  }
});

// [case, step type, what is on disk now (relative to the scratch dir), journaled content, state]
type Setup = (target: string) => void;
const STATES: Array<[string, PlanStep['type'], Setup | null, string, string]> = [
  ['a file gone since: redo', 'file', null, 'hello', 'redo'],
  ['a file as restored: intact', 'file', (t) => writeFileSync(t, 'hello'), 'hello', 'intact'],
  ['a file edited since: changed', 'file', (t) => writeFileSync(t, 'edited'), 'hello', 'changed'],
  ['a file replaced by a dir: changed', 'file', (t) => mkdirSync(t), 'hello', 'changed'],
  ['a dir still a dir: intact', 'dir', (t) => mkdirSync(t), '', 'intact'],
  ['a dir replaced by a file: changed', 'dir', (t) => writeFileSync(t, ''), '', 'changed'],
  ['a symlink with its text: intact', 'symlink', (t) => symlinkSync('x', t), 'x', 'intact'],
  ['a symlink with other text: changed', 'symlink', (t) => symlinkSync('y', t), 'x', 'changed'],
  ['a fifo still a fifo: intact', 'fifo', (t) => run('mkfifo', [t]), '', 'intact'],
];

for (const [name, type, setup, content, expected] of STATES) {
  test(`journaledState: ${name}`, async () => {
    const { dir, cleanup } = makeScratch();
    try {
      const target = path.join(dir, 'x');
      setup?.(target);
      const existing = await lstat(target).catch(() => null);
      const record: JournalRecord = {
        stage: 'all',
        memberPath: 'x',
        targetPath: target,
        sha256: content === '' && type !== 'symlink' ? '' : sha256Of(content),
        bytes: Buffer.byteLength(content),
        at: '2024-05-01T00:00:00.000Z',
      };
      const state = await journaledState(
        makeStep(target, { type }),
        { targetPath: target, missingDirs: [], existing },
        record,
        defaultFsOps,
      );
      assert.is(state, expected);
    } finally {
      cleanup();
    }
  });
}

test('journaledState: a config Mailman saved since is left (changed); one that no longer loads is redone', async () => {
  const { dir, cleanup } = makeScratch();
  try {
    const config = path.join(dir, 'config.pck');
    const record: JournalRecord = {
      stage: 'configs',
      memberPath: 'lists/a/config.pck',
      targetPath: config,
      sha256: sha256Of('(dp0\n.'),
      bytes: 6,
      at: '2024-05-01T00:00:00.000Z',
    };
    const stateOf = async (): Promise<string> =>
      journaledState(
        makeStep(config),
        { targetPath: config, missingDirs: [], existing: await lstat(config) },
        record,
        defaultFsOps,
      );
    writeFileSync(config, EMPTY_DICT);
    assert.is(await stateOf(), 'changed', 'a newer valid save is never reverted');
    writeFileSync(config, Buffer.alloc(6));
    assert.is(await stateOf(), 'redo', 'zeroed by a crash again: restored again');
  } finally {
    cleanup();
  }
});

test.run();
