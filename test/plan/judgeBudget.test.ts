import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { judgeBudget, type Demand, type Supply } from '../../src/plan/judgeBudget.js';

const supply = (s: Partial<Supply> = {}): Supply => ({
  inodesFree: 100,
  limitedInodes: true,
  blocksAvailable: 1000,
  ...s,
});
const demand = (d: Partial<Demand> = {}): Demand => ({
  inodes: 0,
  peakInodes: 0,
  blocks: 0,
  peakBlocks: 0,
  ...d,
});
const reserve = { inodes: 10, blocks: 100 };

// [name, supply, demand, fits, findings as resource:kind:short]
const CASES: [string, Partial<Supply>, Partial<Demand>, boolean, string[]][] = [
  ['nothing needed', {}, {}, true, []],
  ['exactly at the reserve', {}, { inodes: 90, peakInodes: 90 }, true, []],
  ['one over the reserve', {}, { inodes: 91, peakInodes: 91 }, false, ['inodes:short:1']],
  [
    'the incident: 0 free, a replace needs a temp inode',
    { inodesFree: 0 },
    { inodes: 0, peakInodes: 1 },
    false,
    ['inodes:below-reserve:0', 'inodes:peak-short:1'],
  ],
  [
    'the incident repaired by rewriting in place: 0 free, nothing added',
    { inodesFree: 0 },
    { inodes: 0, peakInodes: 0 },
    true,
    ['inodes:below-reserve:0'],
  ],
  [
    'below the reserve, a temp file fits in what is free',
    { inodesFree: 5 },
    { peakInodes: 1 },
    true,
    ['inodes:below-reserve:0'],
  ],
  [
    'no inode limit reported (btrfs): inodes not judged',
    { limitedInodes: false, inodesFree: 0 },
    { inodes: 500, peakInodes: 500 },
    true,
    [],
  ],
  ['blocks short', {}, { blocks: 950, peakBlocks: 950 }, false, ['blocks:short:50']],
  ['blocks peak', {}, { blocks: 0, peakBlocks: 1001 }, false, ['blocks:peak-short:1']],
  [
    'negative net blocks never short',
    { blocksAvailable: 0 },
    { blocks: -4, peakBlocks: 0 },
    true,
    ['blocks:below-reserve:0'],
  ],
];

for (const [name, s, d, fits, expected] of CASES) {
  test(`judgeBudget: ${name}`, () => {
    const judgement = judgeBudget(supply(s), demand(d), reserve);
    assert.is(judgement.fits, fits);
    assert.equal(
      judgement.findings.map((f) => `${f.resource}:${f.kind}:${f.short}`),
      expected,
    );
  });
}

test.run();
