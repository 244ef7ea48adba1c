import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { openArchive } from '../../src/archive/openArchive.js';
import { walkArchive } from '../../src/archive/walkArchive.js';
import { RestoreplanError } from '../../src/errors.js';
import { makeScratch, missingNeeds, run } from '../helpers/env.js';

const why = missingNeeds({ tools: ['tar', 'mkfifo', 'gzip'] });

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'no error';
  } catch (error) {
    return (error as RestoreplanError).code;
  }
}

if (why) {
  test.skip('files, FIFOs, streams, missing paths');
  console.log(`skipped: ${why}`);
} else {
  test('a regular file is read by offset; a FIFO path and a stream are read as streams', async () => {
    const { dir, cleanup } = makeScratch();
    try {
      mkdirSync(path.join(dir, 'src/d'), { recursive: true });
      run('sh', ['-c', `cd ${dir}/src && for i in 1 2 3; do echo $i > d/f$i; done`]);
      const archive = path.join(dir, 'a.tar');
      run('tar', ['-C', path.join(dir, 'src'), '-cf', archive, 'd']);
      const file = await openArchive(archive);
      assert.ok(file.readAt !== null);
      assert.is(file.reopenable, true);
      assert.is(file.compression, 'none');
      assert.is(file.sizeBytes, readFileSync(archive).length);
      await file.close();

      const fifo = path.join(dir, 'fifo');
      run('mkfifo', [fifo]);
      const writer = spawn('sh', ['-c', `gzip -c ${archive} > ${fifo}`]);
      const writerDone = new Promise((resolve) => writer.on('close', resolve));
      const walked = await walkArchive(fifo, { onEntry: () => undefined });
      assert.is(walked.compression, 'gzip');
      assert.is(walked.members, 4);
      assert.is(walked.seekable, false);
      assert.is(walked.path, fifo);
      await writerDone;

      const stream = await openArchive(Readable.from([readFileSync(archive)]));
      assert.is(stream.readAt, null);
      assert.is(stream.path, '-');
      let total = 0;
      for await (const chunk of stream.rawChunks()) total += chunk.length;
      assert.is(total, readFileSync(archive).length);
      assert.is(stream.inputBytes, total);
      await stream.close();

      assert.is(await codeOf(openArchive(path.join(dir, 'missing.tar'))), 'ARCHIVE_NOT_FOUND');
      assert.is(await codeOf(openArchive(dir)), 'ARCHIVE_NOT_FOUND');
    } finally {
      cleanup();
    }
  });
}

test('a stream that fails is ARCHIVE_READ', async () => {
  const failing = new Readable({
    read() {
      this.destroy(Object.assign(new Error('boom'), { code: 'EIO' }));
    },
  });
  assert.is(await codeOf(walkArchive(failing, { onEntry: () => undefined })), 'ARCHIVE_READ');
});

test.run();
