/**
 * measureDrain: the MTA it measures, and when it gives up quietly (auto, nothing to ask) and
 * when not (the operator named the spool). No MTA tool is on the search path here: the spool
 * given is the only source.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { measureDrain } from '../../src/mailman/measureDrain.js';
import { readDrainFlags } from '../../src/cli/commands/budgetFlags.js';
import { makeScratch, rejectionCode } from '../helpers/env.js';

const scratch = makeScratch('restoreplan-measure-drain-');
const pathBefore = process.env.PATH;
// An MTA tool in the sbin directories searched after PATH would answer for any spool.
const toolInstalled = ['/usr/sbin/exim4', '/usr/sbin/exim', '/usr/sbin/postconf'].some((f) =>
  existsSync(f),
);

test.before(() => {
  process.env.PATH = path.join(scratch.dir, 'empty-bin');
});
test.after(() => {
  process.env.PATH = pathBefore;
  scratch.cleanup();
});

test('--mta-spool given: a directory that is no spool, or a file, is an error, never a quiet "not budgeted"', async () => {
  if (toolInstalled) return void console.log('skipped: an MTA tool is installed in /usr/sbin');
  const varDir = path.join(scratch.dir, 'var');
  mkdirSync(path.join(varDir, 'qfiles', 'out'), { recursive: true });
  const notSpool = path.join(scratch.dir, 'not-a-spool');
  mkdirSync(notSpool, { recursive: true });
  const file = path.join(scratch.dir, 'a-file');
  writeFileSync(file, 'x');
  // auto without a spool and nothing to ask: no drain, nothing said.
  assert.is(await measureDrain(varDir, [], {}), null);
  // A typo in --mta-spool: the operator asked for a drain and must hear it was not measured.
  assert.is(await rejectionCode(measureDrain(varDir, [], { mtaSpool: notSpool })), 'MTA_NOT_FOUND');
  assert.ok(await rejectionCode(measureDrain(varDir, [], { mtaSpool: file })));
  // A file is no spool, even when the MTA is named.
  assert.is(
    await rejectionCode(measureDrain(varDir, [], { mta: 'postfix', mtaSpool: file })),
    'USAGE',
  );
  // A spool not made yet (a fresh install) is still measured, on its parent's filesystem.
  const fresh = await measureDrain(varDir, [], {
    mta: 'postfix',
    mtaSpool: path.join(scratch.dir, 'fresh-spool'),
  });
  assert.ok(fresh && 'mta' in fresh && fresh.mta.kind === 'postfix');
});

test('--mta-spool "" is a usage error, not ignored', () => {
  assert.throws(() => readDrainFlags({ mtaSpool: '' }), /--mta-spool/);
});

test.run();
