import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { compileGlob, createSelector } from '../../src/plan/matchGlob.js';

const TABLE: [pattern: string, path: string, matches: boolean][] = [
  ['lists/*/config.pck', 'lists/a/config.pck', true],
  ['lists/*/config.pck', 'lists/a/b/config.pck', false],
  ['*.pck', 'config.pck', true],
  ['*.pck', 'lists/config.pck', false],
  ['**/*.pck', 'lists/a/config.pck', true],
  ['**/*.pck', 'config.pck', true],
  ['archives/**', 'archives/private/a/1.html', true],
  ['config.pc?', 'config.pck', true],
  ['config.pc?', 'config.pc', false],
  ['[a-c]*', 'bob', true],
  ['[!a-c]*', 'bob', false],
  ['[^a-c]*', 'dave', true],
  ['a.b', 'axb', false],
  ['a+(b)', 'a+(b)', true],
  ['./lists/', 'lists', true],
];

for (const [pattern, p, expected] of TABLE) {
  test(`${pattern} ${expected ? 'matches' : 'does not match'} ${p}`, () => {
    assert.is(compileGlob(pattern).test(p), expected);
  });
}

test('include selects a directory and what is in it; exclude wins over include', () => {
  const select = createSelector(['lists', 'archives/private/a'], ['lists/b']);
  assert.ok(select('lists/a/config.pck'));
  assert.ok(select('archives/private/a/2024-January/000001.html'));
  assert.not.ok(select('archives/private/b/x'));
  assert.not.ok(select('lists/b/config.pck'));
  assert.ok(createSelector()('anything/at/all'));
});

test.run();
