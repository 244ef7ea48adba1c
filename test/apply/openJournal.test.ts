import { appendFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { openJournal, readJournal, type JournalRecord } from '../../src/apply/openJournal.js';
import { makeScratch } from '../helpers/env.js';

const record = (targetPath: string, sha256: string): JournalRecord => ({
  stage: 's',
  memberPath: 'm',
  targetPath,
  sha256,
  bytes: 1,
  at: '2024-01-01T00:00:00.000Z',
});

test('records are durable only after flush, and are read back on reopen (last wins)', async () => {
  const { dir, cleanup } = makeScratch();
  try {
    const file = path.join(dir, 'plan.json.journal');
    const journal = await openJournal(file);
    journal.append(record('/t/a', '1'));
    assert.is(journal.pending(), 1);
    assert.is(readFileSync(file, 'utf8'), '');
    journal.append(record('/t/a', '2'));
    await journal.flush();
    assert.is(journal.pending(), 0);
    await journal.close();
    const records = await readJournal(file);
    assert.is(records.get('/t/a')?.sha256, '2');
  } finally {
    cleanup();
  }
});

test('a torn last line (crash mid-append) is ignored and does not swallow the next record', async () => {
  const { dir, cleanup } = makeScratch();
  try {
    const file = path.join(dir, 'j');
    appendFileSync(file, JSON.stringify(record('/t/a', '1')) + '\n' + '{"targetPath":"/t/b","sha2');
    const journal = await openJournal(file);
    assert.equal([...journal.records.keys()], ['/t/a']);
    journal.append(record('/t/c', '3'));
    await journal.flush();
    await journal.close();
    assert.equal([...(await readJournal(file)).keys()].sort(), ['/t/a', '/t/c']);
    assert.equal(await readJournal(path.join(dir, 'missing')), new Map());
  } finally {
    cleanup();
  }
});

test.run();
