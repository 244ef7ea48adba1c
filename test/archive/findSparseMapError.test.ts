import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { findSparseMapError } from '../../src/archive/findSparseMapError.js';

test('a map that lies is described, one that fits is null', () => {
  assert.is(findSparseMapError([[0, 5]], 10, 5), null);
  assert.is(findSparseMapError([], 10, 0), null);
  assert.match(findSparseMapError([[0, 5]], 10, 4) ?? '', /covers 5 bytes/);
  assert.match(findSparseMapError([[8, 5]], 10, 5) ?? '', /beyond the real size/);
  assert.match(
    findSparseMapError(
      [
        [4, 2],
        [0, 2],
      ],
      10,
      4,
    ) ?? '',
    /overlap or are out of order/,
  );
  assert.match(findSparseMapError([[-1, 2]], 10, 2) ?? '', /not a valid number/);
});

test.run();
