import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { forecastExhaustion } from '../../src/mailman/forecastExhaustion.js';

const base = {
  inodesFree: 1000,
  limitedInodes: true,
  bytesAvailable: 4096 * 1000,
  inflowFilesPerHour: 300,
  inflowBytesPerHour: 300 * 4096,
};

test('hours = free / inflow, per resource', () => {
  const f = forecastExhaustion(base);
  assert.equal(f.inodes, { free: 1000, inflowPerHour: 300, hours: 3.333333 });
  assert.equal(f.bytes, { free: 4096000, inflowPerHour: 1228800, hours: 3.333333 });
});

test("Mailman's backlog, released to an MTA spool on this filesystem, goes first: hours count from free less it; all of it taken is 0 hours whatever the inflow", () => {
  const f = forecastExhaustion({ ...base, backlog: { inodes: 400, bytes: 4096 * 100 } });
  assert.equal(f.inodes, { free: 1000, inflowPerHour: 300, hours: 2, backlog: 400 });
  assert.equal(f.bytes, { free: 4096000, inflowPerHour: 1228800, hours: 3, backlog: 409600 });
  const taken = forecastExhaustion({
    ...base,
    inflowFilesPerHour: 0,
    backlog: { inodes: 1000, bytes: 0 },
  });
  assert.equal(taken.inodes, { free: 1000, inflowPerHour: 0, hours: 0, backlog: 1000 });
  assert.is(taken.bytes.hours, 3.333333);
});

test('no inflow: null with a reason, never Infinity (JSON has none)', () => {
  const f = forecastExhaustion({ ...base, inflowFilesPerHour: 0, inflowBytesPerHour: 0 });
  assert.equal(f.inodes, { free: 1000, inflowPerHour: 0, hours: null, reason: 'no-inflow' });
  assert.is(f.bytes.reason, 'no-inflow');
  assert.ok(!JSON.stringify(f).includes('Infinity'));
});

test('nothing free is 0 hours, with or without inflow', () => {
  assert.is(forecastExhaustion({ ...base, inodesFree: 0 }).inodes.hours, 0);
  assert.is(forecastExhaustion({ ...base, inodesFree: 0, inflowFilesPerHour: 0 }).inodes.hours, 0);
  assert.is(forecastExhaustion({ ...base, bytesAvailable: -5 }).bytes.hours, 0);
});

test('a filesystem without an inode limit (btrfs): no inode forecast, the space one stays', () => {
  const f = forecastExhaustion({ ...base, limitedInodes: false, inodesFree: 0 });
  assert.equal(f.inodes, { free: 0, inflowPerHour: 300, hours: null, reason: 'no-inode-limit' });
  assert.is(f.bytes.hours, 3.333333);
});

test.run();
