/** scripts/run-tests.mjs: its exit code agrees with its closing line. */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { repo } from '../helpers/runCli.js';

test('a suite that ends early (a RestoreplanError escaped a test) fails the run, not only the closing line', () => {
  const result = spawnSync(
    process.execPath,
    [path.join(repo, 'scripts/run-tests.mjs'), 'scripts/fixtures/codedError\\.fixture\\.ts$'],
    { cwd: repo, encoding: 'utf8' },
  );
  assert.match(result.stdout, /tests: 1 passed, 2 failed, 0 skipped/);
  assert.is.not(result.status, 0, 'CI reads the exit code');
});

test.run();
