/**
 * The type conflicts a restore meets, as check and plan report them: the first few by path,
 * then one line for the rest — saying only what there is ("0 more type conflicts; 1 members
 * beneath …" read as a count of conflicts that are not there).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { createConflictLog } from '../../src/plan/createConflictLog.js';
import { MAX_LISTED_PROBLEMS } from '../../src/plan/createMemberFilter.js';

test('one conflict with members beneath it: the path, then only the members beneath', () => {
  const log = createConflictLog();
  log.record('/var/lib/mailman/lists/board');
  assert.equal(
    log.problems(3).map((p) => p.message),
    [
      '/var/lib/mailman/lists/board: a path of another type is in the way; what the archive has there is not restored',
      '3 members beneath a path of another type are not restored',
    ],
  );
  assert.equal(
    log.problems(1).map((p) => p.message)[1],
    '1 member beneath a path of another type is not restored',
  );
  assert.is(log.problems(0).length, 1, 'nothing more to say');
});

test('more conflicts than are listed: counted, with or without members beneath', () => {
  const log = createConflictLog();
  for (let i = 0; i <= MAX_LISTED_PROBLEMS; i += 1) log.record(`/t/${i}`);
  const rest = log.problems(0).map((p) => p.message);
  assert.is(rest.length, MAX_LISTED_PROBLEMS + 1);
  assert.is(rest.at(-1), '1 more type conflict');
  assert.is(
    log.problems(2).at(-1)?.message,
    '1 more type conflict; 2 members beneath a path of another type are not restored',
  );
});

test.run();
