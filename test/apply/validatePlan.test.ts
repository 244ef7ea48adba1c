/**
 * validatePlan, the plan checked as untrusted input (issue 12): the ranges of every field at
 * their edges, the roots a plan may write under, special files and bits, symlink text — and a
 * seeded differential against the committed JSON Schema: whatever schemas/plan.schema.json
 * refuses, validatePlan refuses too (it is stricter: the schema cannot say "inside the root").
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { MAX_ID, MAX_TIME, validatePlan } from '../../src/apply/validatePlan.js';
import type { PlanDocument } from '../../src/types.js';
import { schemaValidator } from '../helpers/assertSchema.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- plans edited into shapes their type forbids
type Loose = any;

const cost = { mountPoint: '/', inodes: 1, blocks: 1, peakInodes: 0, peakBlocks: 0 };
function step(over: Loose): Loose {
  return {
    memberPath: 'var/a',
    targetPath: '/t/a',
    type: 'file',
    size: 1,
    write: 'create',
    source: { headerOffset: 0, dataOffset: 512, dataLength: 1, sparse: null },
    mode: 0o644,
    owner: { uid: 38, gid: 38 },
    mtime: 1_700_000_000,
    freshMtime: false,
    cost: { ...cost },
    ...over,
  };
}

/** A plan with one step of each kind apply writes, valid as made. */
function validPlan(): Loose {
  const header = (n: number): Loose => ({
    headerOffset: 1024 * n,
    dataOffset: 1024 * n + 512,
    dataLength: 0,
    sparse: null,
  });
  return {
    schemaVersion: 1,
    createdAt: '2024-05-01T12:00:00.000Z',
    feasible: true,
    verdict: 'ok',
    strategy: 'in-place',
    reason: 'test',
    archive: {
      path: '/backups/b.tar',
      sizeBytes: 1 << 20,
      mtime: '2024-05-01T11:00:00.000Z',
      fingerprint: 'sha256:00',
      compression: 'none',
      seekable: true,
    },
    target: { path: '/t', device: '8:1' },
    staging: null,
    allowSpecial: false,
    mailman: { root: '/t', running: false, freshMtime: false, restartAdvised: false, note: '' },
    lists: [
      { name: 'alpha', status: 'corrupt', action: 'restore', reason: 'r', source: 'var/a' },
      {
        name: 'beta',
        status: 'missing',
        action: 'skip',
        reason: 'r',
        evidence: [{ kind: 'alias-stanza', path: 'data/aliases', detail: 'd' }],
      },
    ],
    stages: [
      {
        name: 'configs',
        root: '/t',
        budget: [
          {
            mountPoint: '/',
            inodesNeeded: 4,
            inodesPeak: 5,
            inodesFree: 100,
            inodesReserve: 5,
            blocksNeeded: -3,
            blocksPeak: 2,
            blocksAvailable: -1,
            blocksReserve: 10,
          },
        ],
        steps: [
          step({
            memberPath: 'var/lists',
            targetPath: '/t/lists',
            type: 'dir',
            size: 0,
            mode: 0o2775,
            source: header(1),
          }),
          step({
            memberPath: 'var/lists/alpha/config.pck',
            targetPath: '/t/lists/alpha/config.pck',
            size: 1,
            source: { ...header(2), dataLength: 1 },
            sha256: 'a'.repeat(64),
          }),
          step({
            memberPath: 'var/big.img',
            targetPath: '/t/big.img',
            size: 1 << 30,
            source: {
              ...header(3),
              dataLength: 1024,
              sparse: [
                [4096, 512],
                [1 << 29, 512],
                [1 << 30, 0],
              ],
            },
          }),
          step({
            memberPath: 'var/link',
            targetPath: '/t/link',
            type: 'symlink',
            size: 0,
            mode: 0o777,
            linkTarget: 'lists/alpha',
            source: header(5),
          }),
          step({
            memberPath: 'var/hard',
            targetPath: '/t/hard',
            type: 'hardlink',
            size: 0,
            linkTarget: '/t/big.img',
            source: header(6),
          }),
        ],
      },
    ],
    problems: [{ kind: 'list-corrupt', severity: 'critical', message: 'm', list: 'alpha' }],
  };
}

function refusedAt(plan: Loose): string | null {
  try {
    validatePlan(plan);
    return null;
  } catch (error) {
    const e = error as { code?: string; details?: { where?: string } };
    assert.is(e.code, 'PLAN_INVALID');
    return e.details?.where ?? '?';
  }
}

function withEdit(edit: (p: Loose, s: Loose[]) => void): Loose {
  const plan = validPlan();
  edit(plan, plan.stages[0].steps);
  return plan;
}

test('a valid plan passes validatePlan and the schema', () => {
  const plan = validPlan();
  assert.is(refusedAt(plan), null);
  const validate = schemaValidator('plan');
  assert.ok(validate(plan), JSON.stringify(validate.errors));
  // Plans made before `staging` and `allowSpecial` were recorded: read as null and false.
  const older = validPlan();
  delete older.staging;
  delete older.allowSpecial;
  assert.is(refusedAt(older), null);
});

/** A plan made from a restic snapshot or a borg archive: no size or offsets of a file. */
const fromTool = (path: string, fingerprint: string) => (p: Loose) => {
  p.archive = {
    path,
    sizeBytes: null,
    mtime: null,
    fingerprint,
    compression: 'none',
    seekable: false,
  };
};
const ID = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';

const EDGES: Array<[string, (p: Loose, s: Loose[]) => void, string | null]> = [
  // Sources: a tar file or stdin, or a restic snapshot / borg archive named by its id.
  ['restic:latest', fromTool('restic:latest', `restic:${ID}`), null],
  ['borg:REPO::A', fromTool('borg:ssh://u@h/r::a1', `borg:${ID}`), null],
  ['restic: a tar fingerprint', fromTool('restic:latest', 'sha256:00'), 'archive.fingerprint'],
  ['restic: a borg id', fromTool('restic:latest', `borg:${ID}`), 'archive.fingerprint'],
  ['restic:-r (no snapshot)', fromTool('restic:-r', `restic:${ID}`), 'archive.path'],
  ['borg without ::', fromTool('borg:/r', `borg:${ID}`), 'archive.path'],
  ['a relative path', (p) => (p.archive.path = 'b.tar'), 'archive.path'],
  // Times: what utimes can be given.
  ['mtime 2^53-1', (_, s) => (s[1].mtime = MAX_TIME), null],
  ['mtime -(2^53-1)', (_, s) => (s[1].mtime = -MAX_TIME), null],
  ['mtime fractional', (_, s) => (s[1].mtime = 1.5), null],
  ['mtime 2^53', (_, s) => (s[1].mtime = 2 ** 53), 'stages[0].steps[1].mtime'],
  ['mtime 1e300', (_, s) => (s[1].mtime = 1e300), 'stages[0].steps[1].mtime'],
  ['mtime -1e300', (_, s) => (s[1].mtime = -1e300), 'stages[0].steps[1].mtime'],
  ['mtime null', (_, s) => (s[1].mtime = null), 'stages[0].steps[1].mtime'],
  // Ids: what chown takes (-1 is "unchanged" there).
  ['uid 0', (_, s) => (s[1].owner = { uid: 0, gid: 0 }), null],
  ['uid 2^32-2', (_, s) => (s[1].owner = { uid: MAX_ID, gid: MAX_ID }), null],
  ['uid 2^32-1', (_, s) => (s[1].owner.uid = 2 ** 32 - 1), 'stages[0].steps[1].owner.uid'],
  ['uid 4294967301', (_, s) => (s[1].owner.uid = 4294967301), 'stages[0].steps[1].owner.uid'],
  ['gid -1', (_, s) => (s[1].owner.gid = -1), 'stages[0].steps[1].owner.gid'],
  ['gid 1.5', (_, s) => (s[1].owner.gid = 1.5), 'stages[0].steps[1].owner.gid'],
  ['owner null', (_, s) => (s[1].owner = null), null],
  ['owner missing', (_, s) => delete s[1].owner, 'stages[0].steps[1].owner'],
  // Modes.
  ['mode 0', (_, s) => (s[1].mode = 0), null],
  ['mode 0o1777 (sticky)', (_, s) => (s[0].mode = 0o1777), null],
  ['mode 0o10000', (_, s) => (s[1].mode = 0o10000), 'stages[0].steps[1].mode'],
  ['mode -1', (_, s) => (s[1].mode = -1), 'stages[0].steps[1].mode'],
  ['setgid directory', (_, s) => (s[0].mode = 0o2775), null],
  ['setuid directory', (_, s) => (s[0].mode = 0o4755), 'stages[0].steps[0].mode'],
  ['setgid file', (_, s) => (s[1].mode = 0o2755), 'stages[0].steps[1].mode'],
  ['setuid file', (_, s) => (s[1].mode = 0o4755), 'stages[0].steps[1].mode'],
  [
    'setuid file, made with --allow-special',
    (p, s) => {
      p.allowSpecial = true;
      s[1].mode = 0o6755;
    },
    null,
  ],
  [
    'a fifo',
    (_, s) => {
      s[1].type = 'fifo';
      s[1].size = 0;
    },
    'stages[0].steps[1].type',
  ],
  [
    'a block device, made with --allow-special',
    (p, s) => {
      p.allowSpecial = true;
      s[1].type = 'blockdev';
      s[1].size = 0;
    },
    null,
  ],
  ['allowSpecial a string', (p) => (p.allowSpecial = 'yes'), 'allowSpecial'],
  // Sizes and offsets.
  ['size unsafe', (_, s) => (s[1].size = 2 ** 53), 'stages[0].steps[1].size'],
  ['size of a symlink', (_, s) => (s[3].size = 5), 'stages[0].steps[3].size'],
  [
    'headerOffset unaligned',
    (_, s) => (s[1].source.headerOffset += 1),
    'stages[0].steps[1].source.headerOffset',
  ],
  [
    'dataOffset before its header',
    (_, s) => (s[1].source.dataOffset = 0),
    'stages[0].steps[1].source.dataOffset',
  ],
  [
    'data past the archive',
    (p) => (p.archive.sizeBytes = 2048),
    'stages[0].steps[1].source.dataLength',
  ],
  [
    'sparse out of order',
    (_, s) =>
      (s[2].source.sparse = [
        [1 << 29, 512],
        [4096, 512],
      ]),
    'stages[0].steps[2].source.sparse',
  ],
  [
    'sparse past the size',
    (_, s) => (s[2].source.sparse = [[1 << 30, 1024]]),
    'stages[0].steps[2].source.sparse',
  ],
  ['sparse on a symlink', (_, s) => (s[3].source.sparse = []), 'stages[0].steps[3].source.sparse'],
  ['seekable gzip', (p) => (p.archive.compression = 'gzip'), 'archive.seekable'],
  // Strings.
  [
    'memberPath with NUL',
    (_, s) => (s[1].memberPath = 'var/a\0b'),
    'stages[0].steps[1].memberPath',
  ],
  ['memberPath absolute', (_, s) => (s[1].memberPath = '/var/a'), 'stages[0].steps[1].memberPath'],
  ['memberPath ./', (_, s) => (s[1].memberPath = './var/a'), 'stages[0].steps[1].memberPath'],
  ['stage name with NUL', (p) => (p.stages[0].name = 'a\0'), 'stages[0].name'],
  ['list name with /', (p) => (p.lists[0].name = '../x'), 'lists[0].name'],
  ['list status unknown', (p) => (p.lists[0].status = 'fine'), 'lists[0].status'],
  ['problem kind unknown', (p) => (p.problems[0].kind = 'whatever'), 'problems[0].kind'],
  ['createdAt not a time', (p) => (p.createdAt = 'yesterday'), 'createdAt'],
  ['archive.mtime not a time', (p) => (p.archive.mtime = '2024-13-45T99:00:00Z'), 'archive.mtime'],
  ['archive.path relative', (p) => (p.archive.path = 'b.tar'), 'archive.path'],
  ['verdict unknown', (p) => (p.verdict = 'fine'), 'verdict'],
  [
    'budget row without reserve',
    (p) => delete p.stages[0].budget[0].inodesReserve,
    'stages[0].budget[0].inodesReserve',
  ],
  // Roots and paths.
  ['stage root elsewhere', (p) => (p.stages[0].root = '/etc'), 'stages[0].root'],
  ['stage root /', (p) => (p.stages[0].root = '/'), 'stages[0].root'],
  ['stage root /t/', (p) => (p.stages[0].root = '/t/'), 'stages[0].root'],
  [
    'stage root the recorded staging root',
    (p, s) => {
      p.staging = '/s';
      p.stages[0].root = '/s';
      for (const x of s) x.targetPath = x.targetPath.replace(/^\/t/, '/s');
      s[4].linkTarget = '/s/big.img';
    },
    null,
  ],
  ['staging relative', (p) => (p.staging = 's'), 'staging'],
  ['mailman.root elsewhere', (p) => (p.mailman.root = '/etc'), 'mailman.root'],
  ['target relative', (p) => (p.target.path = 't'), 'target.path'],
  [
    'targetPath /t2/a (a prefix, not inside)',
    (_, s) => (s[1].targetPath = '/t2/a'),
    'stages[0].steps[1].targetPath',
  ],
  [
    'targetPath ..',
    (_, s) => (s[1].targetPath = '/t/../etc/passwd'),
    'stages[0].steps[1].targetPath',
  ],
  ['targetPath trailing /', (_, s) => (s[1].targetPath = '/t/a/'), 'stages[0].steps[1].targetPath'],
  ['targetPath the root', (_, s) => (s[1].targetPath = '/t'), 'stages[0].steps[1].targetPath'],
  [
    'two steps, one path',
    (_, s) => (s[2].targetPath = s[1].targetPath),
    'stages[0].steps[2].targetPath',
  ],
  [
    'hard link outside',
    (_, s) => (s[4].linkTarget = '/etc/shadow'),
    'stages[0].steps[4].linkTarget',
  ],
  ['hard link to itself', (_, s) => (s[4].linkTarget = '/t/hard'), 'stages[0].steps[4].linkTarget'],
  [
    'symlink out of the root',
    (_, s) => (s[3].linkTarget = '../etc'),
    'stages[0].steps[3].linkTarget',
  ],
  [
    'symlink absolute outside',
    (_, s) => (s[3].linkTarget = '/etc/passwd'),
    'stages[0].steps[3].linkTarget',
  ],
  ['symlink absolute inside', (_, s) => (s[3].linkTarget = '/t/lists'), null],
  [
    'symlink on through a planned symlink',
    (_, s) => {
      s[3].linkTarget = 'lists';
      s.push(
        step({
          memberPath: 'var/link2',
          targetPath: '/t/link2',
          type: 'symlink',
          size: 0,
          linkTarget: 'link/../..',
          source: { headerOffset: 8192, dataOffset: 8704, dataLength: 0, sparse: null },
        }),
      );
    },
    'stages[0].steps[5].linkTarget',
  ],
  ['linkTarget on a file', (_, s) => (s[1].linkTarget = 'x'), 'stages[0].steps[1].linkTarget'],
  // A targetPath is its member's name under the root, after the member root the plan shares.
  [
    'targetPath: a member restored under another name',
    (_, s) => (s[2].targetPath = '/t/lists/alpha/config.pck.last'),
    'stages[0].steps[2].targetPath',
  ],
  [
    'targetPath: one step with another member root',
    (_, s) => {
      s[2].memberPath = 'srv/big.img';
    },
    'stages[0].steps[2].targetPath',
  ],
  [
    'targetPath: a member mapped into another directory',
    (_, s) => (s[1].targetPath = '/t/lists/config.pck'),
    'stages[0].steps[1].targetPath',
  ],
  [
    "config.pck.last restored as config.pck (the planner's fallback)",
    (_, s) => (s[1].memberPath = 'var/lists/alpha/config.pck.last'),
    null,
  ],
  [
    'config.pck.last restored as another file',
    (_, s) => {
      s[1].memberPath = 'var/lists/alpha/config.pck.last';
      s[1].targetPath = '/t/lists/alpha/request.pck';
    },
    'stages[0].steps[1].targetPath',
  ],
  [
    "a list directory planned from its config's member",
    (_, s) => (s[0].memberPath = 'var/lists/alpha/config.pck'),
    null,
  ],
  [
    'every member root moved alike',
    (_, s) => {
      for (const one of s) one.memberPath = one.memberPath.replace(/^var\//, 'srv/mailman/');
    },
    null,
  ],
];

for (const [name, edit, where] of EDGES) {
  test(`${name}: ${where === null ? 'accepted' : `PLAN_INVALID at ${where}`}`, () => {
    assert.is(refusedAt(withEdit(edit)), where);
  });
}

/** A seeded PRNG (mulberry32): the same cases every run. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Every [container, key] of a JSON value, depth first. */
function leaves(
  value: Loose,
  out: Array<[Loose, string | number]> = [],
): Array<[Loose, string | number]> {
  if (Array.isArray(value))
    value.forEach((v, i) => {
      out.push([value, i]);
      leaves(v, out);
    });
  else if (value && typeof value === 'object')
    for (const key of Object.keys(value)) {
      out.push([value, key]);
      leaves(value[key], out);
    }
  return out;
}

const ODD_VALUES: unknown[] = [
  null,
  -1,
  0,
  1.5,
  2 ** 53,
  -(2 ** 60),
  4294967301,
  1e300,
  '',
  'x',
  '/t/../etc',
  'a\0b',
  true,
  [],
  [1],
  {},
  { a: 1 },
  '2024-05-01T12:00:00.000Z',
  0o7777 + 1,
];

test('differential, 3,000 seeded edits: whatever the schema refuses, validatePlan refuses', () => {
  const validate = schemaValidator('plan');
  const next = random(12);
  let refusedBySchema = 0;
  for (let n = 0; n < 3000; n += 1) {
    const plan = validPlan();
    const spots = leaves(plan);
    // One to three edits: a value replaced by an odd one, or a field removed.
    const edits = 1 + Math.floor(next() * 3);
    for (let e = 0; e < edits; e += 1) {
      const [container, key] = spots[Math.floor(next() * spots.length)] ?? [plan, 'reason'];
      if (!Array.isArray(container) && next() < 0.2) delete container[key];
      else container[key] = ODD_VALUES[Math.floor(next() * ODD_VALUES.length)];
    }
    const copy = JSON.parse(JSON.stringify(plan));
    const schemaOk = validate(copy);
    let ours = true;
    try {
      validatePlan(plan);
    } catch (error) {
      assert.is((error as { code?: string }).code, 'PLAN_INVALID', String(error));
      ours = false;
    }
    if (!schemaOk) {
      refusedBySchema += 1;
      assert.not.ok(
        ours,
        `case ${n}: the schema refuses (${JSON.stringify(validate.errors?.[0])}) but validatePlan accepts`,
      );
    }
  }
  assert.ok(refusedBySchema > 1000, `${refusedBySchema} cases refused by the schema`);
});

test('a deeply nested or huge value where a field belongs is PLAN_INVALID, not INTERNAL', () => {
  // JSON.parse takes a 200,000-deep array; showing it with JSON.stringify overflowed the stack.
  const deep = JSON.parse(`${'['.repeat(200_000)}${']'.repeat(200_000)}`);
  assert.is(refusedAt(withEdit((_, s) => (s[1].mode = deep))), 'stages[0].steps[1].mode');
  assert.is(refusedAt(withEdit((p) => (p.reason = deep))), 'reason');
  assert.is(refusedAt(withEdit((p) => (p.schemaVersion = deep))), 'schemaVersion');
  try {
    validatePlan(withEdit((_, s) => (s[1].mtime = new Array(1_000_000).fill(0))));
    assert.unreachable('accepted');
  } catch (error) {
    assert.match((error as Error).message, /stages\[0\]\.steps\[1\]\.mtime: .*an array of 1000000/);
  }
});

test('a plan is refused without being changed, and returned as is when valid', () => {
  const plan = validPlan() as PlanDocument;
  const text = JSON.stringify(plan);
  assert.is(validatePlan(plan), plan);
  assert.is(JSON.stringify(plan), text);
});

test.run();
