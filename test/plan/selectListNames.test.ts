import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { selectListNames, type ListSelectionOptions } from '../../src/plan/selectListNames.js';
import type { ListStatus } from '../../src/types.js';

const DISK: Array<{ name: string; status: ListStatus }> = [
  { name: 'ok1', status: 'ok' },
  { name: 'down1', status: 'corrupt' },
  { name: 'half1', status: 'degraded' },
  { name: 'down2', status: 'corrupt' },
];

const ROWS: Array<[string, ListSelectionOptions, string[]]> = [
  ['default: the corrupt lists only', {}, ['down1', 'down2']],
  [
    '--include-degraded adds the degraded ones',
    { includeDegraded: true },
    ['down1', 'down2', 'half1'],
  ],
  ['--lists restricts to the named lists', { lists: ['down2'] }, ['down2']],
  ['--lists forces an ok list', { lists: ['ok1'] }, ['ok1']],
  ['--lists names a list that is not on disk (lost)', { lists: ['gone'] }, ['gone']],
  ['--lists wins over --include-degraded', { lists: ['ok1'], includeDegraded: true }, ['ok1']],
  ['an empty --lists is no restriction', { lists: [] }, ['down1', 'down2']],
];

for (const [label, options, expected] of ROWS) {
  test(label, () => {
    assert.equal([...selectListNames(DISK, options)].sort(), expected);
  });
}

test('nothing broken: nothing selected', () => {
  assert.equal(selectListNames([{ name: 'a', status: 'ok' }], { includeDegraded: true }).size, 0);
});

test.run();
