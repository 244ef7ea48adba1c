import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { isSeekableArchive } from '../../src/archive/isSeekableArchive.js';
import { RestoreplanError } from '../../src/errors.js';
import { makeScratch, missingNeeds, run } from '../helpers/env.js';

const why = missingNeeds({ tools: ['tar', 'gzip', 'mkfifo'] });

if (why) {
  test.skip('only an uncompressed regular file is seekable');
  console.log(`skipped: ${why}`);
} else {
  test('only an uncompressed regular file is seekable; a FIFO is not read from', async () => {
    const { dir, cleanup } = makeScratch();
    try {
      const tar = path.join(dir, 'a.tar');
      run('tar', ['-C', dir, '-cf', tar, '--files-from=/dev/null']);
      const gz = path.join(dir, 'a.tar.gz');
      writeFileSync(gz, execFileSync('gzip', ['-c', tar]));
      const fifo = path.join(dir, 'fifo');
      run('mkfifo', [fifo]);
      assert.is(await isSeekableArchive(tar), true);
      assert.is(await isSeekableArchive(gz), false);
      assert.is(await isSeekableArchive(fifo), false);
      assert.is(await isSeekableArchive('-'), false);
      assert.is(await isSeekableArchive(Readable.from([])), false);
      try {
        await isSeekableArchive(path.join(dir, 'missing'));
        assert.unreachable();
      } catch (error) {
        assert.is((error as RestoreplanError).code, 'ARCHIVE_NOT_FOUND');
      }
    } finally {
      cleanup();
    }
  });
}

test.run();
