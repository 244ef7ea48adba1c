import { test } from 'uvu';
import * as assert from 'uvu/assert';

import {
  formatG17,
  PyObjectOut,
  PyStrObject,
  PyTupleOut,
  float,
  u,
  writeCPickle,
  type PyOut,
} from '../../samples/writeCPickle.js';
import { readPickle } from '../../src/mailman/readPickle.js';
import { missingNeeds } from '../helpers/env.js';
import { classifyWithPython, findPython2, runPython } from '../helpers/pythonPickle.js';

/**
 * Python 2 builds a Mailman-like dict, keeps a second reference to every object (as a live
 * MailList does, so cPickle memoizes them), makes every string a distinct object, and prints
 * cPickle's bytes for protocols 0 and 1 plus a description of the object in its own dict order.
 */
const PY2 = String.raw`
import cPickle, json, struct, sys, types
mailman = types.ModuleType('Mailman'); bouncer = types.ModuleType('Mailman.Bouncer')
sys.modules['Mailman'] = mailman; sys.modules['Mailman.Bouncer'] = bouncer
class _BounceInfo: pass
_BounceInfo.__module__ = 'Mailman.Bouncer'; bouncer._BounceInfo = _BounceInfo
keep = []
def fresh(s):
    return s[:1] + s[1:] if len(s) > 1 else s
def bi(member, i):
    b = _BounceInfo()
    b.member = fresh(member); b.score = 1.0 + i; b.date = (2024, 6, i + 1); b.noticesleft = 3
    b.lastnotice = (1970, 1, 2); b.cookie = None
    return b
members = dict((fresh('user%d@example.org' % i), 0) for i in range(2500))
shared = [fresh('shared'), 1]
d = {fresh('real_name'): fresh('Users'), fresh('members'): members, fresh('digest_members'): {},
     fresh('usernames'): {fresh('a@b'): u'N\xfamero \u20ac', fresh('c@d'): u'x', fresh('e@f'): u''},
     fresh('bounce_info'): dict((fresh('b%d@x' % i), bi('b%d@x' % i, i)) for i in range(4)),
     fresh('owner'): [fresh('owner@example.org')], fresh('moderator'): [], fresh('topics'): [(fresh('rel'), fresh('release|version'), fresh(''), False)],
     fresh('big'): 2**70, fresh('int64'): 2**40, fresh('neg'): -70000, fresh('small'): 200, fresh('mid'): 60000,
     fresh('t'): True, fresh('f'): False, fresh('none'): None, fresh('float'): 1718452800.123, fresh('tiny'): 1e-05,
     fresh('long_text'): fresh('x' * 300 + "quote' \"both\" \\ \n\t\x00\xff"), fresh('a'): fresh('b'), fresh('empty'): (),
     fresh('shared1'): shared, fresh('shared2'): shared, fresh('list2000'): range(2001)}
ids = {}
def walk(o):
    keep.append(o)
    if isinstance(o, (list, tuple)):
        for x in o: walk(x)
    elif isinstance(o, dict):
        for k, v in o.items(): walk(k); walk(v)
    elif isinstance(o, _BounceInfo):
        walk(o.__dict__)
walk(d)
def desc(o):
    if o is None: return None
    if type(o) in (list, dict, tuple, _BounceInfo) or (type(o) in (str, unicode) and len(o) > 1):
        if id(o) in ids: return {'ref': ids[id(o)]}
        ids[id(o)] = len(ids)
    n = ids.get(id(o))
    if type(o) is bool: return {'b': o}
    if type(o) is int: return {'i': str(o)}
    if type(o) is long: return {'L': str(o)}
    if type(o) is float: return {'f': repr(o)}
    if type(o) is str: return {'s': o.decode('latin1'), 'id': n}
    if type(o) is unicode: return {'u': o, 'id': n}
    if type(o) is list: return {'l': [desc(x) for x in o], 'id': n}
    if type(o) is tuple: return {'t': [desc(x) for x in o], 'id': n}
    if type(o) is dict: return {'d': [[desc(k), desc(v)] for k, v in o.items()], 'id': n}
    return {'o': ['Mailman.Bouncer', '_BounceInfo', desc(o.__dict__)], 'id': n}
description = json.dumps(desc(d))
for proto in (0, 1):
    blob = cPickle.dumps(d, proto)
    sys.stdout.write(struct.pack('<I', len(blob)) + blob)
sys.stdout.write(description)
`;

type Desc = null | { [k: string]: unknown };

function fromDesc(desc: Desc, seen = new Map<number, PyOut>()): PyOut {
  if (desc === null) return null;
  if ('ref' in desc) {
    assert.ok(seen.has(desc.ref as number), `reference ${String(desc.ref)} resolved`);
    return seen.get(desc.ref as number) as PyOut;
  }
  const remember = (value: PyOut): PyOut => {
    if (typeof desc.id === 'number' && value !== null && typeof value === 'object')
      seen.set(desc.id, value);
    return value;
  };
  if ('b' in desc) return desc.b as boolean;
  if ('i' in desc) {
    const n = Number(desc.i);
    return Number.isSafeInteger(n) ? n : BigInt(desc.i as string);
  }
  if ('L' in desc) return BigInt(desc.L as string);
  if ('f' in desc) return float(Number(desc.f));
  if ('s' in desc)
    return typeof desc.id === 'number'
      ? remember(new PyStrObject(desc.s as string))
      : (desc.s as string);
  if ('u' in desc) return u(desc.u as string);
  if ('l' in desc) {
    const list: PyOut[] = [];
    remember(list);
    for (const item of desc.l as Desc[]) list.push(fromDesc(item, seen));
    return list;
  }
  if ('t' in desc)
    return remember(new PyTupleOut((desc.t as Desc[]).map((item) => fromDesc(item, seen))));
  if ('d' in desc) {
    const map = new Map<PyOut, PyOut>();
    remember(map);
    for (const [k, v] of desc.d as Array<[Desc, Desc]>)
      map.set(fromDesc(k, seen), fromDesc(v, seen));
    return map;
  }
  const [module, name, state] = desc.o as [string, string, Desc];
  const placeholder = new Map<PyOut, PyOut>();
  const instance = new PyObjectOut(module, name, placeholder);
  remember(instance);
  for (const [k, v] of fromDesc(state, seen) as Map<PyOut, PyOut>) placeholder.set(k, v);
  return instance;
}

const py2 = findPython2();
(py2 ? test : test.skip)(
  "writes exactly the bytes of Python 2's cPickle.dumps(d, 0) and (d, 1)",
  () => {
    const out = runPython(PY2, { python: py2?.python ?? '', env: py2?.env ?? {} });
    const blobs: Buffer[] = [];
    let pos = 0;
    for (let i = 0; i < 2; i++) {
      const n = out.readUInt32LE(pos);
      blobs.push(out.subarray(pos + 4, pos + 4 + n));
      pos += 4 + n;
    }
    const value = fromDesc(JSON.parse(out.subarray(pos).toString('utf8')) as Desc);
    for (const protocol of [0, 1] as const) {
      const ours = writeCPickle(value, protocol);
      const theirs = blobs[protocol] as Buffer;
      const first = ours.findIndex((byte, i) => byte !== theirs[i]);
      assert.ok(
        ours.equals(theirs),
        `protocol ${protocol}: ${ours.length} vs ${theirs.length} bytes, first difference at ${first}: ` +
          `${JSON.stringify(ours.subarray(Math.max(0, first - 20), first + 20).toString('latin1'))} vs ${JSON.stringify(theirs.subarray(Math.max(0, first - 20), first + 20).toString('latin1'))}`,
      );
      assert.is(readPickle(ours).kind, 'dict');
    }
  },
);
if (!py2) console.log('skipped: byte-for-byte cPickle comparison needs python2.7');

const why = missingNeeds({ tools: ['python3'] });
(why ? test.skip : test)(
  'python3 loads what we write (protocols 0 and 1) to the same structure',
  () => {
    const value = new Map<PyOut, PyOut>([
      ['s', 'it\'s "q" \\ \n\x00\xff'],
      ['u', u('\u20ac\\\n\u{1f600}')],
      ['f', [float(0.1), float(1e16), float(-0), float(1.5e300), float(1e-5)]],
      ['n', [0, 255, 256, 65535, 65536, -1, 2 ** 31, -(2 ** 31), 2n ** 64n, true, false, null]],
      ['t', new PyTupleOut([])],
    ]);
    const script = String.raw`
import pickle, sys, json, math
data = sys.stdin.buffer.read()
a = pickle.loads(data[4:4 + int.from_bytes(data[:4], 'little')], encoding='latin1')
def norm(o):
    if isinstance(o, dict): return {k: norm(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)): return [norm(x) for x in o]
    if isinstance(o, float): return repr(o)
    if isinstance(o, int) and not isinstance(o, bool) and abs(o) > 2**53: return str(o)
    return o
print(json.dumps(norm(a)))
`;
    for (const protocol of [0, 1] as const) {
      const blob = writeCPickle(value, protocol);
      const header = Buffer.alloc(4);
      header.writeUInt32LE(blob.length);
      const loaded = JSON.parse(
        runPython(script, { input: Buffer.concat([header, blob]) }).toString(),
      );
      assert.equal(loaded, {
        s: 'it\'s "q" \\ \n\x00\xff',
        u: '\u20ac\\\n\u{1f600}',
        f: ['0.1', '1e+16', '-0.0', '1.5e+300', '1e-05'],
        n: [
          0,
          255,
          256,
          65535,
          65536,
          -1,
          2 ** 31,
          -(2 ** 31),
          '18446744073709551616',
          true,
          false,
          null,
        ],
        t: [],
      });
      assert.is(classifyWithPython([blob])[0]?.kind, 'dict');
    }
  },
);
if (why) console.log(`skipped: python3 load check ${why}`);

test('%.17g as C formats it', () => {
  assert.is(formatG17(2.5), '2.5');
  assert.is(formatG17(0.1), '0.10000000000000001');
  assert.is(formatG17(1e16), '10000000000000000');
  assert.is(formatG17(1e17), '1e+17');
  assert.is(formatG17(1e-5), '1.0000000000000001e-05');
});

test.run();
