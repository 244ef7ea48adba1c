import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { loadPlan, validatePlan } from '../../src/apply/loadPlan.js';
import type { PlanDocument } from '../../src/types.js';
import { makeScratch } from '../helpers/env.js';

function minimalPlan(): PlanDocument {
  return {
    schemaVersion: 1,
    createdAt: '2024-01-01T00:00:00.000Z',
    feasible: true,
    verdict: 'ok',
    strategy: 'in-place',
    reason: '',
    archive: {
      path: '/a.tar',
      sizeBytes: 10240,
      mtime: null,
      fingerprint: 'f',
      compression: 'none',
      seekable: true,
    },
    target: { path: '/t', device: '1:2' },
    mailman: null,
    lists: [],
    stages: [
      {
        name: 's',
        root: '/t',
        budget: [],
        steps: [
          {
            memberPath: 'a',
            targetPath: '/t/a',
            type: 'file',
            size: 1,
            write: 'create',
            source: { headerOffset: 0, dataOffset: 512, dataLength: 1, sparse: null },
            mode: 0o644,
            owner: null,
            mtime: 0,
            freshMtime: false,
            cost: { mountPoint: '/', inodes: 1, blocks: 1, peakInodes: 0, peakBlocks: 0 },
          },
        ],
      },
    ],
    problems: [],
  };
}

// Each mutation makes the plan invalid at the named field.
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- mutating a valid plan into invalid shapes
type Loose = any;
const BROKEN: Array<[string, (p: Loose) => void]> = [
  ['schemaVersion', (p) => (p.schemaVersion = 2)],
  ['archive.compression', (p) => (p.archive.compression = 'rar')],
  ['stages[0].root', (p) => (p.stages[0].root = 'relative')],
  ['stages[0].steps[0].type', (p) => (p.stages[0].steps[0].type = 'socket')],
  ['stages[0].steps[0].write', (p) => (p.stages[0].steps[0].write = 'append')],
  ['stages[0].steps[0].size', (p) => (p.stages[0].steps[0].size = -1)],
  ['stages[0].steps[0].sha256', (p) => (p.stages[0].steps[0].sha256 = 'abc')],
  ['stages[0].steps[0].source.dataOffset', (p) => (p.stages[0].steps[0].source.dataOffset = '512')],
  ['stages[0].steps[0].source.sparse', (p) => (p.stages[0].steps[0].source.sparse = [[1]])],
  ['stages[0].steps[0].owner.uid', (p) => (p.stages[0].steps[0].owner = { uid: 'root' })],
  [
    'stages[0].steps[0].linkTarget',
    (p) => {
      p.stages[0].steps[0].type = 'symlink';
      p.stages[0].steps[0].size = 0;
    },
  ],
  ['strategy', (p) => (p.feasible = false)],
  ['stages[0].steps[0].cost', (p) => delete p.stages[0].steps[0].cost],
  ['stages[0].steps[0].cost.peakInodes', (p) => (p.stages[0].steps[0].cost.peakInodes = -1)],
  ['stages[0].steps[0].cost.blocks', (p) => (p.stages[0].steps[0].cost.blocks = 1.5)],
  ['stages[0].steps[0].cost.mountPoint', (p) => (p.stages[0].steps[0].cost.mountPoint = 'x')],
  [
    'stages[0].steps[0].write',
    (p) => {
      p.stages[0].steps[0].type = 'dir';
      p.stages[0].steps[0].write = 'replace';
    },
  ],
  [
    'stages[0].steps[0].write',
    (p) => {
      p.stages[0].steps[0].type = 'symlink';
      p.stages[0].steps[0].linkTarget = 'x';
      p.stages[0].steps[0].write = 'rewrite';
    },
  ],
  // What no step can give back: a step frees at most the one inode of the name it replaces (an
  // edited cost below that would blind apply's guard to the reserve).
  ['stages[0].steps[0].cost.inodes', (p) => (p.stages[0].steps[0].cost.inodes = -1000000)],
  ['stages[0].steps[0].cost.inodes', (p) => (p.stages[0].steps[0].cost.inodes = -2)],
  [
    'stages[0].steps[1].targetPath',
    (p) => p.stages[0].steps.push({ ...p.stages[0].steps[0], targetPath: '/t/./a' }),
  ],
];

test('a valid plan passes', () => {
  validatePlan(minimalPlan());
  // A replace gives back what the name it replaces held: one inode, any number of blocks.
  const smaller = minimalPlan();
  const step = smaller.stages[0]!.steps[0]!;
  step.write = 'replace';
  step.cost = { ...step.cost, inodes: -1, blocks: -300 };
  validatePlan(smaller);
});

for (const [where, breakIt] of BROKEN) {
  test(`PLAN_INVALID at ${where}`, () => {
    const plan = minimalPlan();
    breakIt(plan);
    try {
      validatePlan(plan);
      assert.unreachable('accepted');
    } catch (error) {
      assert.is((error as { code?: string }).code, 'PLAN_INVALID');
      assert.is((error as { details: { where: string } }).details.where, where);
    }
  });
}

test('loadPlan reads a file; a truncated file is PLAN_INVALID', async () => {
  const { dir, cleanup } = makeScratch();
  try {
    const file = path.join(dir, 'plan.json');
    writeFileSync(file, JSON.stringify(minimalPlan()));
    assert.is((await loadPlan(file)).planPath, file);
    writeFileSync(file, JSON.stringify(minimalPlan()).slice(0, 50));
    await loadPlan(file).then(
      () => assert.unreachable(),
      (e: { code?: string }) => assert.is(e.code, 'PLAN_INVALID'),
    );
  } finally {
    cleanup();
  }
});

test.run();
