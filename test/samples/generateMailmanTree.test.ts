import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { generateMailmanTree } from '../../samples/generateMailmanTree.js';
import { makeScratch, missingNeeds } from '../helpers/env.js';
import { runPython } from '../helpers/pythonPickle.js';

const LOAD = String.raw`
import pickle, sys, json, io
class Inert(object):
    def __init__(self, *a): pass
    def __setstate__(self, s): self.state = s
class U(pickle.Unpickler):
    def find_class(self, m, n): return Inert if (m, n) == ('Mailman.Bouncer', '_BounceInfo') else None
d = U(open(sys.argv[1], 'rb'), encoding='latin1').load()
f = open(sys.argv[2], 'rb'); text = U(f, encoding='latin1').load(); meta = U(f, encoding='latin1').load()
print(json.dumps({'type': type(d).__name__, 'members': len(d['members']) + len(d['digest_members']),
  'bounces': [sorted(b.state.keys()) for b in d['bounce_info'].values()][:1], 'nbounces': len(d['bounce_info']),
  'text': isinstance(text, str) and text.startswith('From '), 'meta': sorted(meta.keys()), 'listname': meta['listname']}))
`;

const why = missingNeeds({ tools: ['python3'] });
(why ? test.skip : test)(
  'configs and queue files load in python3; deterministic from the seed; links as Mailman makes them',
  async () => {
    const a = makeScratch();
    const b = makeScratch();
    try {
      const options = {
        lists: [{ name: 'big', members: 2500 }, 'small'],
        postsPerList: 25,
        queueFiles: 8,
        seed: 5,
        locks: [{ list: 'small', pid: 4242 }],
      };
      const tree = await generateMailmanTree(a.dir, options);
      await generateMailmanTree(b.dir, options);
      const config = path.join(a.dir, 'lists', 'big', 'config.pck');
      assert.ok(
        readFileSync(config).equals(readFileSync(path.join(b.dir, 'lists', 'big', 'config.pck'))),
        'same seed, same bytes',
      );
      const queueDir = path.join(a.dir, 'qfiles', 'in');
      const queueFile = path.join(queueDir, readdirSync(queueDir)[0] as string);
      const loaded = JSON.parse(
        runPython(
          LOAD.replace('sys.argv[1]', JSON.stringify(config)).replace(
            'sys.argv[2]',
            JSON.stringify(queueFile),
          ),
        ).toString(),
      );
      assert.is(loaded.type, 'dict');
      assert.is(loaded.members, 2500);
      assert.ok(loaded.nbounces > 100);
      assert.equal(loaded.bounces, [
        ['cookie', 'date', 'lastnotice', 'member', 'noticesleft', 'score'],
      ]);
      assert.is(loaded.text, true);
      assert.equal(loaded.meta, ['_parsemsg', 'listname', 'received_time', 'tolist', 'version']);
      const size = readFileSync(config).length;
      assert.ok(size > 100_000, `a 2500-member config is large (${size} bytes)`);
      assert.is(readlinkSync(path.join(a.dir, 'archives', 'public', 'big')), '../private/big');
      const posts = readdirSync(path.join(a.dir, 'archives', 'private', 'big'), {
        recursive: true,
      }) as string[];
      assert.is(posts.filter((p) => /\/\d{6}\.html$/.test(p)).length, 25, 'one HTML file per post');
      assert.ok(posts.some((p) => p.startsWith('attachments/')));
      assert.is(
        lstatSync(path.join(a.dir, 'locks', 'small.lock')).nlink,
        2,
        'lock hard-linked to its claim file',
      );
      assert.ok(tree.files > 60);
    } finally {
      a.cleanup();
      b.cleanup();
    }
  },
);
if (why) console.log(`skipped: generator checks ${why}`);

test.run();
