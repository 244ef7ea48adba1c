import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { chooseConfigSource, lastValidCopy } from '../../src/plan/chooseConfigSource.js';
import type { CandidateCopy, ListFileName } from '../../src/plan/collectMailmanMembers.js';
import { makeEntry } from '../helpers/makeEntry.js';

/** `v` a copy that loads, `x` one that does not; the number is its archive index. */
type Spec = `${'v' | 'x'}${number}`;

function copies(file: ListFileName, specs: readonly Spec[]): CandidateCopy[] {
  return specs.map((spec) => ({
    entry: makeEntry(`var/lib/mailman/lists/a/${file}`, 'file', { index: Number(spec.slice(1)) }),
    valid: spec.startsWith('v'),
    detail: spec.startsWith('v') ? 'loads as a dict' : 'truncated',
    sha256: spec,
  }));
}

type Row = [
  label: string,
  pck: Spec[],
  last: Spec[],
  expected: `${'pck' | 'last'}:${number}` | null,
];

const ROWS: Row[] = [
  ['one valid config.pck', ['v1'], [], 'pck:1'],
  ['the newest valid occurrence wins (tar -r appended a newer one)', ['v1', 'v5'], ['v2'], 'pck:5'],
  ['a corrupt newest occurrence is passed over for an older valid one', ['v1', 'x5'], [], 'pck:1'],
  ['the backup caught config.pck corrupt: config.pck.last stands in', ['x1'], ['v2'], 'last:2'],
  [
    'config.pck.last: newest valid of its own occurrences',
    ['x1', 'x7'],
    ['v2', 'v6', 'x9'],
    'last:6',
  ],
  ['a valid config.pck beats a newer valid config.pck.last', ['v1'], ['v9'], 'pck:1'],
  ['nothing loads', ['x1', 'x2'], ['x3'], null],
  ['the archive has neither file', [], [], null],
];

for (const [label, pck, last, expected] of ROWS) {
  test(label, () => {
    const files = new Map<ListFileName, CandidateCopy[]>([
      ['config.pck', copies('config.pck', pck)],
      ['config.pck.last', copies('config.pck.last', last)],
    ]);
    const source = chooseConfigSource(files);
    const got = source ? `${source.fromPck ? 'pck' : 'last'}:${source.copy.entry.index}` : null;
    assert.is(got, expected);
    if (source) assert.ok(source.copy.valid);
  });
}

test('no collection at all (the list is not in the archive)', () => {
  assert.is(chooseConfigSource(undefined), null);
  assert.is(lastValidCopy(undefined), null);
  assert.is(lastValidCopy([]), null);
});

test.run();
