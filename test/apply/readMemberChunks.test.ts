import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import {
  checkSparseMap,
  collectChunks,
  expandStoredData,
  readMemberChunks,
} from '../../src/apply/readMemberChunks.js';
import { makeScratch, run } from '../helpers/env.js';
import { listTarMembers } from './buildTestPlan.js';

test('reads contiguous and GNU sparse members at the offsets python tarfile reports, as GNU tar extracts them', async () => {
  const { dir, cleanup } = makeScratch();
  try {
    const source = path.join(dir, 'src');
    mkdirSync(source);
    writeFileSync(path.join(source, 'plain.txt'), 'x'.repeat(70_000));
    run('truncate', ['-s', '5M', path.join(source, 'sparse.img')]);
    run('dd', [
      'if=/dev/urandom',
      `of=${path.join(source, 'sparse.img')}`,
      'bs=4096',
      'count=2',
      'seek=300',
      'conv=notrunc',
    ]);
    run('dd', [
      'if=/dev/urandom',
      `of=${path.join(source, 'sparse.img')}`,
      'bs=4096',
      'count=1',
      'seek=1000',
      'conv=notrunc',
    ]);
    const archive = path.join(dir, 'a.tar');
    run('tar', [
      '--format=gnu',
      '--sparse',
      '-cf',
      archive,
      '-C',
      source,
      'plain.txt',
      'sparse.img',
    ]);
    const handle = await open(archive);
    try {
      for (const member of listTarMembers(archive)) {
        const stored = member.sparse ? member.sparse.reduce((s, [, n]) => s + n, 0) : member.size;
        const source = {
          headerOffset: member.offset,
          dataOffset: member.offsetData,
          dataLength: stored,
          sparse: member.sparse,
        };
        const data = await collectChunks(
          readMemberChunks(handle, source, member.size, member.name),
        );
        assert.ok(data.equals(readFileSync(path.join(dir, 'src', member.name))), member.name);
      }
    } finally {
      await handle.close();
    }
  } finally {
    cleanup();
  }
});

test('a truncated archive and an absurd sparse map are errors, not garbage', async () => {
  const { dir, cleanup } = makeScratch();
  try {
    const archive = path.join(dir, 'short');
    writeFileSync(archive, Buffer.alloc(100));
    const handle = await open(archive);
    try {
      const source = { headerOffset: 0, dataOffset: 50, dataLength: 100, sparse: null };
      await collectChunks(readMemberChunks(handle, source, 100, 'm')).then(
        () => assert.unreachable(),
        (e: { code?: string }) => assert.is(e.code, 'ARCHIVE_TRUNCATED'),
      );
    } finally {
      await handle.close();
    }
    assert.throws(
      () =>
        checkSparseMap(
          { headerOffset: 0, dataOffset: 0, dataLength: 10, sparse: [[5, 10]] },
          8,
          'm',
        ),
      /exceeds/,
    );
    assert.throws(
      () =>
        checkSparseMap(
          {
            headerOffset: 0,
            dataOffset: 0,
            dataLength: 4,
            sparse: [
              [4, 2],
              [0, 2],
            ],
          },
          8,
          'm',
        ),
      /ordered/,
    );
    assert.throws(
      () => checkSparseMap({ headerOffset: 0, dataOffset: 0, dataLength: 9, sparse: null }, 8, 'm'),
      /differs/,
    );
    const chunks = expandStoredData(
      Buffer.from('abcd'),
      {
        headerOffset: 0,
        dataOffset: 0,
        dataLength: 4,
        sparse: [
          [2, 2],
          [6, 2],
          [8, 0],
        ],
      },
      8,
      'm',
    );
    assert.equal(await collectChunks(chunks), Buffer.from('\0\0ab\0\0cd'));
  } finally {
    cleanup();
  }
});

test.run();
