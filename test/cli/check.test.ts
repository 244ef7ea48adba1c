import { mkdirSync, statfsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import type { CheckResult } from '../../src/types.js';
import { assertMatchesSchema } from '../helpers/assertSchema.js';
import { makeScratch, missingNeeds, run } from '../helpers/env.js';
import { withMountedFs } from '../helpers/mountFs.js';
import { parsePluginLine, type PluginLine } from '../helpers/pluginLine.js';
import { cli } from '../helpers/runCli.js';

const parseNagios = (stdout: string): PluginLine => parsePluginLine(stdout, 'RESTOREPLAN');

const scratch = makeScratch('restoreplan-cli-check-');
const tree = path.join(scratch.dir, 'tree');
const archive = path.join(scratch.dir, 'a.tar');
let members = 0;

test.before(() => {
  for (let d = 0; d < 5; d += 1) {
    mkdirSync(path.join(tree, 'lists', `l${d}`), { recursive: true });
    for (let f = 0; f < 20; f += 1)
      writeFileSync(path.join(tree, 'lists', `l${d}`, `f${f}`), 'x'.repeat(100 * f));
  }
  run('tar', ['-cf', archive, '-C', tree, '.']);
  // GNU tar's own listing, minus "./" (the archive root is the target itself).
  members = run('tar', ['-tf', archive])
    .split('\n')
    .filter((l) => l !== '' && l !== './').length;
});
test.after(() => scratch.cleanup());

test('fits: exit 0, JSON per the contract', () => {
  const target = path.join(scratch.dir, 'target-ok');
  mkdirSync(target);
  const r = cli(['check', archive, '--target', target, '--json']);
  assert.is(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout) as CheckResult;
  assertMatchesSchema(doc, 'check');
  assert.is(doc.schemaVersion, 1);
  assert.is(doc.verdict, 'ok');
  assert.is(doc.selection.entries, members);
  assert.is(doc.filesystems.length, 1);
  const fs = doc.filesystems[0]!;
  for (const key of ['total', 'free', 'needed', 'peak', 'reserve', 'freeAfter', 'dynamic'])
    assert.ok(key in fs.inodes, key);
  for (const key of ['total', 'free', 'available', 'needed', 'reserve', 'availableAfter'])
    assert.ok(key in fs.blocks, key);
  assert.is(fs.inodes.needed, members);
});

test('human output: a table per filesystem and the verdict', () => {
  const target = path.join(scratch.dir, 'target-human');
  mkdirSync(target);
  const r = cli(['check', archive, '--target', target]);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /inodes/);
  assert.match(r.stdout, /Verdict: OK/);
});

test('--nagios OK line with perfdata by the plugin guidelines', () => {
  const target = path.join(scratch.dir, 'target-nagios');
  mkdirSync(target);
  const r = cli(['check', archive, '--target', target, '--nagios']);
  assert.is(r.code, 0, r.stderr);
  const { status, perf } = parseNagios(r.stdout);
  assert.is(status, 'OK');
  const mount = run('findmnt', ['-n', '-o', 'TARGET', '--target', target]).trim();
  assert.is(perf.get(`inodes_needed_${mount}`)?.split(';')[0], String(members));
  assert.ok(perf.has(`bytes_avail_${mount}`));
});

test('critical on a tmpfs short of inodes: exit 2, CRITICAL with the exact shortfall', async () => {
  const why = missingNeeds({ root: true });
  if (why) return void console.log(`skipped: ${why}`);
  await withMountedFs({ type: 'tmpfs', sizeMiB: 16, inodes: 60 }, async (mnt) => {
    const free = statfsSync(mnt).ffree;
    const r = cli(['check', archive, '--target', mnt, '--nagios', '--reserve-inodes', '3']);
    assert.is(r.code, 2, r.stderr);
    const { status, text, perf } = parseNagios(r.stdout);
    assert.is(status, 'CRITICAL');
    assert.match(text, `short by ${members - (free - 3)}`);
    // Free now and needed apart; what would be left is "after" (negative: short by that many),
    // with the reserve in the critical slot (the restore adds inodes: eating into it is
    // critical) and --warn-inodes' 10% of 60 in the warning slot.
    assert.is(perf.get(`inodes_free_${mnt}`), `${free};;;0;60`);
    assert.is(perf.get(`inodes_needed_${mnt}`), `${members};;;0;`);
    assert.is(perf.get(`inodes_after_${mnt}`), `${free - members};6:;3:;;60`);
  });
});

test('errors: UNKNOWN line with --nagios, exit 3; --json with --nagios is a usage error', () => {
  const r = cli(['check', archive, '--target', path.join(scratch.dir, 'missing'), '--nagios']);
  assert.is(r.code, 3);
  assert.is(
    r.stdout,
    `RESTOREPLAN UNKNOWN - TARGET_MISSING: ${path.join(scratch.dir, 'missing')} does not exist\n`,
  );
  assert.match(r.stderr, /^restoreplan: TARGET_MISSING: /);
  const both = cli(['check', archive, '--target', scratch.dir, '--nagios', '--json']);
  assert.is(both.code, 3);
  // One document on stdout, never a plugin line followed by a JSON document: --json was asked,
  // so the JSON error.
  assert.equal(JSON.parse(both.stdout), {
    schemaVersion: 1,
    error: { code: 'USAGE', message: '--json and --nagios exclude each other' },
  });
  const bad = cli(['check', archive, '--target', scratch.dir, '--reserve-blocks', 'lots']);
  assert.is(bad.code, 3);
  assert.match(bad.stderr, /USAGE/);
  for (const window of ['-1', '12x', '']) {
    const r = cli(['check', archive, '--target', scratch.dir, '--growth-window', window]);
    assert.is(r.code, 3, window);
    assert.is(
      r.stderr,
      `restoreplan: USAGE: --growth-window ${JSON.stringify(window)}: expected a number of hours, 0 or more (0: no growth allowance)\n`,
    );
  }
});

test.run();
