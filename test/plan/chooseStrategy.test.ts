import { test } from 'uvu';
import * as assert from 'uvu/assert';

import {
  chooseStrategy,
  layoutsToTry,
  type LayoutFit,
  type StrategyCandidates,
} from '../../src/plan/chooseStrategy.js';
import type { Strategy } from '../../src/types.js';

const FITS: LayoutFit = { fits: true, firstFits: true };
const FIRST: LayoutFit = { fits: false, firstFits: true };
const NONE: LayoutFit = { fits: false, firstFits: false };

type Row = [
  label: string,
  candidates: Omit<StrategyCandidates, 'stagedStages' | 'hasStaging'> &
    Partial<Pick<StrategyCandidates, 'stagedStages' | 'hasStaging'>>,
  strategy: Strategy | null,
  shown: Strategy,
];

const ROWS: Row[] = [
  ['auto, in place fits', { wanted: 'auto', inPlace: FITS, staged: FITS }, 'in-place', 'in-place'],
  [
    'auto: in place preferred even when an alternate root fits too',
    { wanted: 'auto', inPlace: FITS, alternate: FITS, hasStaging: true },
    'in-place',
    'in-place',
  ],
  [
    'auto, bulk does not fit: staged when the first stage fits',
    { wanted: 'auto', inPlace: NONE, staged: FIRST },
    'staged',
    'staged',
  ],
  [
    'auto, a single stage is not worth staging',
    { wanted: 'auto', inPlace: NONE, staged: FIRST, stagedStages: 1 },
    null,
    'in-place',
  ],
  [
    'auto, not even the configs fit, no staging dir: infeasible, explained in place',
    { wanted: 'auto', inPlace: NONE, staged: NONE },
    null,
    'in-place',
  ],
  [
    'auto, not even the configs fit: the alternate root',
    { wanted: 'auto', inPlace: NONE, staged: NONE, alternate: FITS, hasStaging: true },
    'alternate',
    'alternate',
  ],
  [
    'auto: staged is preferred to an alternate root',
    { wanted: 'auto', inPlace: NONE, staged: FIRST, alternate: FITS, hasStaging: true },
    'staged',
    'staged',
  ],
  [
    'auto, the alternate root is full too',
    { wanted: 'auto', inPlace: NONE, staged: NONE, alternate: NONE, hasStaging: true },
    null,
    'in-place',
  ],
  [
    'in-place asked, does not fit: no fallback to staged',
    { wanted: 'in-place', inPlace: NONE, staged: FIRST },
    null,
    'in-place',
  ],
  [
    'staged asked with one stage: still staged',
    { wanted: 'staged', staged: FITS, stagedStages: 1 },
    'staged',
    'staged',
  ],
  [
    'staged asked even though in place would fit',
    { wanted: 'staged', inPlace: FITS, staged: FITS },
    'staged',
    'staged',
  ],
  [
    'staged asked, first stage does not fit: explained staged',
    { wanted: 'staged', staged: NONE, alternate: FITS, hasStaging: true },
    null,
    'staged',
  ],
  [
    'alternate asked',
    { wanted: 'alternate', inPlace: FITS, alternate: FITS, hasStaging: true },
    'alternate',
    'alternate',
  ],
  [
    'alternate asked, does not fit',
    { wanted: 'alternate', alternate: NONE, hasStaging: true },
    null,
    'alternate',
  ],
  [
    'a fit result for a layout that is not tried is ignored (no staging dir)',
    { wanted: 'auto', inPlace: NONE, staged: NONE, alternate: FITS, hasStaging: false },
    null,
    'in-place',
  ],
];

for (const [label, partial, strategy, shown] of ROWS) {
  test(label, () => {
    const candidates: StrategyCandidates = { stagedStages: 3, hasStaging: false, ...partial };
    assert.equal(chooseStrategy(candidates), { strategy, shown });
  });
}

test('layoutsToTry: only what the request can choose is evaluated', () => {
  assert.equal(layoutsToTry('auto', 3, false), {
    'in-place': true,
    staged: true,
    alternate: false,
  });
  assert.equal(layoutsToTry('auto', 1, true), { 'in-place': true, staged: false, alternate: true });
  assert.equal(layoutsToTry('in-place', 3, true), {
    'in-place': true,
    staged: false,
    alternate: false,
  });
  assert.equal(layoutsToTry('staged', 1, true), {
    'in-place': false,
    staged: true,
    alternate: false,
  });
  assert.equal(layoutsToTry('alternate', 3, true), {
    'in-place': false,
    staged: false,
    alternate: true,
  });
});

test.run();
