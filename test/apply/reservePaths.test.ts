import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { createPathReservations } from '../../src/apply/reservePaths.js';

test('race on one path: a second reservation of the same path, a parent or a child waits; others do not', async () => {
  const reservations = createPathReservations();
  const order: string[] = [];
  const releaseA = await reservations.reserve(['/r/a']);
  const same = reservations.reserve(['/r/a']).then((release) => (order.push('same'), release));
  const child = reservations.reserve(['/r/a/b']).then((release) => (order.push('child'), release));
  const sibling = reservations
    .reserve(['/r/ab'])
    .then((release) => (order.push('sibling'), release));
  (await sibling)();
  assert.equal(order, ['sibling'], 'a sibling whose name has the path as prefix does not wait');
  order.push('release-a');
  releaseA();
  const first = await Promise.race([same, child]);
  first();
  (await same)();
  (await child)();
  assert.is(order[1], 'release-a');
  assert.equal(order.slice(2).sort(), ['child', 'same']);
  assert.equal(reservations.held(), []);
});

test.run();
