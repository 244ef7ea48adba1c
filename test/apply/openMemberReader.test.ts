import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { MAX_COMPRESSED_MEMBER_BYTES, openMemberReader } from '../../src/apply/openMemberReader.js';
import { RestoreplanError } from '../../src/errors.js';
import type { PlanDocument, PlanStep } from '../../src/types.js';

const archive: PlanDocument['archive'] = {
  path: '/nonexistent/backup.tar.gz',
  sizeBytes: 1,
  mtime: null,
  fingerprint: 'sha256:x',
  compression: 'gzip',
  seekable: false,
};

function step(size: number): PlanStep {
  return {
    memberPath: 'var/lib/mailman/archives/private/big.mbox/big.mbox',
    targetPath: '/srv/x/big.mbox',
    type: 'file',
    size,
    write: 'create',
    source: { headerOffset: 512, dataOffset: 1024, dataLength: size, sparse: null },
    mode: 0o644,
    owner: null,
    mtime: 0,
    freshMtime: false,
    cost: { mountPoint: '/', inodes: 1, blocks: 1, peakInodes: 0, peakBlocks: 0 },
  };
}

test('a member too large to hold in memory from a compressed archive is refused before any read, with the way out', async () => {
  const reader = await openMemberReader(archive);
  try {
    await reader.prepare([step(MAX_COMPRESSED_MEMBER_BYTES + 1)]);
    assert.unreachable('prepared');
  } catch (error) {
    assert.instance(error, RestoreplanError);
    assert.is((error as RestoreplanError).code, 'MEMBER_TOO_LARGE');
    assert.match((error as RestoreplanError).message, /decompress/);
  } finally {
    await reader.close();
  }
});

test('at the limit the member is read (the missing archive then says so)', async () => {
  const reader = await openMemberReader(archive);
  try {
    await reader.prepare([step(MAX_COMPRESSED_MEMBER_BYTES)]);
    assert.unreachable('prepared');
  } catch (error) {
    assert.instance(error, RestoreplanError);
    assert.is((error as RestoreplanError).code, 'ARCHIVE_NOT_FOUND');
  } finally {
    await reader.close();
  }
});

test.run();
