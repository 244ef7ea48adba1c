/** How a failure is worded in a stop reason or a skip: its code first, for runbooks to grep. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { describeError, StopRun } from '../../src/apply/StopRun.js';
import { RestoreplanError } from '../../src/errors.js';

test('describeError: the errno or error code, then the message', () => {
  const enospc = Object.assign(new Error('no space left on device, write'), { code: 'ENOSPC' });
  assert.is(describeError(enospc), 'ENOSPC: no space left on device, write');
  assert.is(
    describeError(new RestoreplanError('VERIFY_FAILED', 'a.txt reads back as 0 bytes')),
    'VERIFY_FAILED: a.txt reads back as 0 bytes',
  );
  // Node's own errors already lead with their errno: it is not said twice.
  const erofs = Object.assign(new Error("EROFS: read-only file system, open '/t/a'"), {
    code: 'EROFS',
  });
  assert.is(describeError(erofs), "EROFS: read-only file system, open '/t/a'");
  assert.is(describeError(new Error('plain')), 'plain');
  assert.is(describeError('a string'), 'a string');
});

test('StopRun carries the status and reason the result reports', () => {
  const stop = new StopRun('stopped', 'stage archives does not fit');
  assert.instance(stop, Error);
  assert.is(stop.status, 'stopped');
  assert.is(stop.reason, 'stage archives does not fit');
  assert.is(stop.message, stop.reason);
});

test.run();
