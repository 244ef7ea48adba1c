import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { classifyConfigFile, formatOfConfigFile } from '../../src/mailman/classifyConfigFile.js';
import { dict, writeCPickle } from '../../samples/writeCPickle.js';

const good = writeCPickle(
  dict([
    ['real_name', 'Test'],
    ['members', dict([['a@b.c', 0]])],
  ]),
  1,
);

test('names every crash shape', () => {
  assert.is(classifyConfigFile(null).state, 'missing');
  assert.is(classifyConfigFile(Buffer.alloc(0)).state, 'empty');
  assert.is(classifyConfigFile(Buffer.alloc(good.length)).state, 'zeroed');
  assert.is(classifyConfigFile(good).state, 'ok');
  for (let n = 1; n < good.length; n++)
    assert.is(classifyConfigFile(good.subarray(0, n)).state, 'truncated', `cut at ${n}`);
  const garbage = Buffer.from(good);
  garbage[0] = 0xff;
  assert.is(classifyConfigFile(garbage).state, 'invalid');
  assert.is(classifyConfigFile(writeCPickle(['a', 'list'], 1)).state, 'not-a-dict');
  assert.is(classifyConfigFile(Buffer.concat([good, Buffer.from('trailing')])).state, 'ok');
  // The tail of a file whose last blocks were never written reads as NUL: truncated, not zeroed.
  assert.is(
    classifyConfigFile(Buffer.concat([good.subarray(0, 20), Buffer.alloc(100)])).state,
    'truncated',
  );
  assert.is(
    classifyConfigFile(Buffer.from('\x80\x03}q\x00.', 'latin1')).state,
    'invalid',
    'protocol 3: Python 2 cannot',
  );
});

test('config.db files are marshal', () => {
  assert.is(formatOfConfigFile('config.db'), 'marshal');
  assert.is(formatOfConfigFile('config.db.last'), 'marshal');
  assert.is(formatOfConfigFile('config.pck.last'), 'pickle');
  assert.is(classifyConfigFile(Buffer.from('{0', 'latin1'), 'marshal').state, 'ok');
  assert.is(classifyConfigFile(good, 'marshal').state, 'invalid', 'a pickle is no marshal dict');
});

test.run();
