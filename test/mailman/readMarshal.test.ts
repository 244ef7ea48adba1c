import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { readMarshal } from '../../src/mailman/readMarshal.js';
import { missingNeeds } from '../helpers/env.js';
import { findPython2, runPython } from '../helpers/pythonPickle.js';

function blobs(out: Buffer): Array<{ kind: string; data: Buffer }> {
  const result: Array<{ kind: string; data: Buffer }> = [];
  for (let pos = 0; pos < out.length;) {
    const n = out.readUInt32LE(pos);
    const kind = out[pos + 4] === 0x64 ? 'dict' : 'other';
    result.push({ kind, data: out.subarray(pos + 5, pos + 5 + n) });
    pos += 5 + n;
  }
  return result;
}

// python3's marshal at version 2 writes the Python 2 format (no refs, no short ASCII codes).
const PY3 = String.raw`
import marshal, struct, sys
objs = [{'real_name': 'x', 'members': {'a@b': 0, 'c@d': 1}, 'n': 2**70, 'f': 1.5, 'l': [1, (2, 3)], 'u': 'h\xe9',
         'b': b'raw', 'none': None, 't': True, 's': {1, 2}, 'fs': frozenset([3]), 'neg': -2**40, 'c': 1j}, [1, 2], 'str', 5, {}]
for o in objs:
    b = marshal.dumps(o, 2)
    sys.stdout.buffer.write(struct.pack('<I', len(b)) + (b'd' if type(o) is dict else b'o') + b)
`;

const why = missingNeeds({ tools: ['python3'] });
(why ? test.skip : test)(
  'reads what marshal writes: dicts, other objects, every prefix truncated',
  () => {
    const items = blobs(runPython(PY3));
    assert.is(items.length, 5);
    for (const item of items) {
      const verdict = readMarshal(item.data);
      assert.is(verdict.kind, item.kind, verdict.detail);
      assert.is(verdict.offset, item.data.length);
      for (let n = 0; n < item.data.length; n++) {
        assert.is(readMarshal(item.data.subarray(0, n)).kind, 'truncated', `prefix ${n}`);
      }
      const trailing = Buffer.concat([item.data, Buffer.from('junk')]);
      assert.is(readMarshal(trailing).kind, item.kind, 'trailing bytes are ignored');
    }
  },
);
if (why) console.log(`skipped: marshal oracle ${why}`);

const py2 = findPython2();
(py2 ? test : test.skip)(
  "reads Python 2's own marshal: interned strings, string refs, 64-bit ints",
  () => {
    const out = runPython(
      String.raw`
import marshal, struct, sys
for o in [dict((intern('key%d' % i), [intern('key%d' % i), 2**40]) for i in range(50)), [intern('a'), intern('a')]]:
    b = marshal.dumps(o)
    sys.stdout.write(struct.pack('<I', len(b)) + ('d' if type(o) is dict else 'o') + b)
`,
      { python: py2?.python ?? '', env: py2?.env ?? {} },
    );
    const items = blobs(out);
    assert.ok(items[0]?.data.includes(0x52), 'has a string ref');
    for (const item of items) assert.is(readMarshal(item.data).kind, item.kind);
  },
);
if (!py2) console.log('skipped: Python 2 marshal needs python2.7');

test('unknown type codes, NUL bytes and bad refs are invalid', () => {
  assert.is(readMarshal(Buffer.from([0x00, 0x00])).kind, 'invalid');
  assert.is(readMarshal(Buffer.from('Z')).kind, 'invalid');
  assert.is(readMarshal(Buffer.from('R\x05\x00\x00\x00', 'latin1')).kind, 'invalid');
  assert.is(readMarshal(Buffer.alloc(0)).kind, 'truncated');
  assert.is(readMarshal(Buffer.from('{0', 'latin1')).kind, 'dict');
});

test.run();
