import { execFileSync } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import {
  describeUnsupportedCompression,
  detectCompression,
} from '../../src/archive/detectCompression.js';
import { missingNeeds } from '../helpers/env.js';

const why = missingNeeds({ tools: ['gzip', 'bzip2', 'xz', 'zstd', 'tar'] });
const sample = Buffer.from('some bytes to compress\n'.repeat(50));

if (why) {
  test.skip('recognises what the real compressors write');
  console.log(`skipped: ${why}`);
} else {
  test('recognises what the real compressors write, whatever the level', () => {
    const cases: Array<[string, string[]]> = [
      ['gzip', ['gzip', '-c']],
      ['gzip', ['gzip', '-1', '-c']],
      ['bzip2', ['bzip2', '-c']],
      ['bzip2', ['bzip2', '-1', '-c']],
      ['xz', ['xz', '-c']],
      ['zstd', ['zstd', '-c']],
      ['zstd', ['zstd', '-19', '-c']],
    ];
    for (const [expected, [command, ...args]] of cases) {
      const compressed = execFileSync(command!, args, { input: sample });
      assert.is(detectCompression(compressed), expected, `${command} ${args.join(' ')}`);
    }
  });

  test('a tar archive, and text, are "none"', () => {
    const tar = execFileSync('tar', ['--format=ustar', '-cf', '-', '--files-from=/dev/null']);
    assert.is(detectCompression(tar), 'none');
    assert.is(detectCompression(sample), 'none');
    assert.is(detectCompression(Buffer.alloc(0)), 'none');
    assert.is(detectCompression(Buffer.from([0x1f])), 'none');
  });
}

test('compressions we do not read are named, so the error can say which', () => {
  assert.is(describeUnsupportedCompression(Buffer.from([0x04, 0x22, 0x4d, 0x18, 0x64])), 'lz4');
  assert.is(describeUnsupportedCompression(Buffer.from([0x1f, 0x9d, 0x90])), 'compress (.Z)');
  assert.is(describeUnsupportedCompression(Buffer.from('PK\x03\x04', 'latin1')), 'zip');
  assert.is(describeUnsupportedCompression(sample), null);
});

test.run();
