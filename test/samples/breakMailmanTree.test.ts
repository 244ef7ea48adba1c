import { readdirSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { breakMailmanTree, type BreakShape } from '../../samples/breakMailmanTree.js';
import { generateMailmanTree } from '../../samples/generateMailmanTree.js';
import { classifyConfigFile } from '../../src/mailman/classifyConfigFile.js';
import { makeScratch } from '../helpers/env.js';

test('each crash shape leaves the file as a crash would', async () => {
  const { dir, cleanup } = makeScratch();
  try {
    const shapes: BreakShape[] = [
      'empty',
      'zeroed',
      'truncated',
      'garbage',
      'not-a-dict',
      'tmp-leftover',
      'delete',
    ];
    await generateMailmanTree(dir, { lists: shapes, members: 10, postsPerList: 1, queueFiles: 0 });
    const file = (list: string, name = 'config.pck'): string => path.join(dir, 'lists', list, name);
    const sizeBefore = readFileSync(file('zeroed')).length;
    await breakMailmanTree(
      dir,
      shapes.map((shape) => ({ list: shape, shape })),
    );
    const state = (list: string): string =>
      classifyConfigFile(existsSync(file(list)) ? readFileSync(file(list)) : null).state;
    assert.is(state('empty'), 'empty');
    assert.is(state('zeroed'), 'zeroed');
    assert.is(readFileSync(file('zeroed')).length, sizeBefore, 'zeroed keeps the size');
    assert.is(state('truncated'), 'truncated');
    assert.is(state('garbage'), 'invalid');
    assert.is(state('not-a-dict'), 'not-a-dict');
    assert.is(state('delete'), 'missing');
    assert.is(state('tmp-leftover'), 'ok');
    assert.ok(
      readdirSync(path.join(dir, 'lists', 'tmp-leftover')).some((n) =>
        n.startsWith('config.pck.tmp.'),
      ),
    );
    assert.is(
      classifyConfigFile(readFileSync(file('empty', 'config.pck.last'))).state,
      'ok',
      'other files untouched',
    );
  } finally {
    cleanup();
  }
});

test.run();
