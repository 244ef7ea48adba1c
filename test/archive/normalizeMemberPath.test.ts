import { spawnSync } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { findUnsafeReason, normalizeMemberPath } from '../../src/archive/normalizeMemberPath.js';
import { missingNeeds } from '../helpers/env.js';

// CONTRACT.md's rules, case by case.
const CASES: Array<[string, string]> = [
  ['a/b/c', 'a/b/c'],
  ['./a/b', 'a/b'],
  ['././a', 'a'],
  ['/abs/x', 'abs/x'],
  ['//abs//x', 'abs/x'],
  ['/./abs', 'abs'],
  ['./', ''],
  ['/', ''],
  ['.', ''],
  ['', ''],
  ['dir/', 'dir'],
  ['dir//', 'dir'],
  ['a//b', 'a/b'],
  ['a/./b/.', 'a/b'],
  ['.hidden/x', '.hidden/x'],
  ['a/.hidden', 'a/.hidden'],
  ['a/..b/c', 'a/..b/c'],
  ['../up', '../up'],
  ['a/../../b', 'a/../../b'],
  ['./../x/', '../x'],
];

test('normalizes as CONTRACT.md says; .. is kept, never resolved', () => {
  for (const [raw, expected] of CASES) assert.is(normalizeMemberPath(raw), expected, raw);
});

test('a normal path comes back as the same string (no work on the hot path)', () => {
  const path = 'var/lib/mailman/lists/test/config.pck';
  assert.is(normalizeMemberPath(path), path);
});

test('unsafe: any .. component is dotdot; ..x is not, nor a leading / (stripped, as GNU tar does)', () => {
  const cases: Array<[string, string | null]> = [
    ['/etc/passwd', null],
    ['//x', null],
    ['/../etc/passwd', 'dotdot'],
    ['/a/../../etc', 'dotdot'],
    ['..', 'dotdot'],
    ['../x', 'dotdot'],
    ['a/..', 'dotdot'],
    ['a/../b', 'dotdot'],
    ['./a/../../b', 'dotdot'],
    ['a/..b', null],
    ['a..', null],
    ['...', null],
    ['a/b', null],
    ['./a', null],
  ];
  for (const [raw, expected] of cases) assert.is(findUnsafeReason(raw), expected, raw);
});

const why = missingNeeds({ tools: ['python3'] });
if (why) {
  test.skip('agrees with posixpath.normpath on paths without ..');
  console.log(`skipped: ${why}`);
} else {
  test('agrees with posixpath.normpath on random paths without .. (python3 as the oracle)', () => {
    const parts = ['a', 'bb', '.', '', '.x', 'x.', 'é'];
    let seed = 7;
    const next = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const paths: string[] = [];
    for (let i = 0; i < 400; i += 1) {
      const count = 1 + next(6);
      const path = Array.from({ length: count }, () => parts[next(parts.length)]!).join('/');
      paths.push(next(4) === 0 ? `/${path}` : path);
    }
    const script = `
import json, posixpath, sys
out = []
for p in json.load(sys.stdin):
    n = posixpath.normpath(p).lstrip('/')
    out.append('' if n == '.' else n)
json.dump(out, sys.stdout)
`;
    const result = spawnSync('python3', ['-c', script], { input: JSON.stringify(paths) });
    const expected = JSON.parse(result.stdout.toString()) as string[];
    paths.forEach((p, i) => assert.is(normalizeMemberPath(p), expected[i], JSON.stringify(p)));
  });
}

test.run();
