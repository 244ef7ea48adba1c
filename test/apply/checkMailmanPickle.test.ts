import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { checkMailmanPickle } from '../../src/apply/checkMailmanPickle.js';
import { run } from '../helpers/env.js';

const dump = (expr: string, protocol = 1): Buffer =>
  Buffer.from(
    run('python3', [
      '-c',
      `import pickle,sys; sys.stdout.buffer.write(pickle.dumps(${expr}, protocol=${protocol}).hex().encode())`,
    ]),
    'hex',
  );

test('configs must be complete dict pickles (what Mailman 2.1 loads)', () => {
  const good = dump("{'real_name': 'x'}");
  assert.is(checkMailmanPickle('/v/lists/x/config.pck', good), null);
  assert.is(checkMailmanPickle('/v/lists/x/pending.pck', dump("{'v': 1}", 0)), null);
  assert.match(
    checkMailmanPickle('/v/lists/x/config.pck', good.subarray(0, good.length - 3)) ?? '',
    /truncated/,
  );
  assert.match(
    checkMailmanPickle('/v/lists/x/config.pck.last', Buffer.alloc(good.length)) ?? '',
    /not a loadable dict/,
  );
  assert.match(
    checkMailmanPickle('/v/lists/x/config.pck', dump('[1, 2]')) ?? '',
    /not a loadable dict/,
  );
  assert.match(checkMailmanPickle('/v/lists/x/config.pck', Buffer.alloc(0)) ?? '', /empty/);
});

test('queue pickles need only be complete; other files are not checked', () => {
  assert.is(
    checkMailmanPickle('/v/qfiles/in/1.pck', Buffer.concat([dump("'msg'"), dump('{}')])),
    null,
  );
  assert.match(
    checkMailmanPickle('/v/qfiles/in/1.pck', Buffer.from('garbage')) ?? '',
    /not a complete pickle/,
  );
  assert.is(checkMailmanPickle('/v/archives/private/x/index.html', Buffer.from('garbage')), null);
});

test.run();
