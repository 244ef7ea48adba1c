#!/usr/bin/env node
// Runs the uvu suites under test/ (TypeScript through tsx) and ends with the plain closing
// line CI reads: "tests: N passed, N failed, N skipped". uvu's own summary stays above it.
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
spawnSync('bash', [path.join(root, 'scripts/install-test-tools.sh')], { stdio: 'inherit' });

const pattern = process.argv[2] ?? '\\.test\\.ts$';
// Archive indexes go to a cache of this run's own: the tests never read or fill the user's
// (a warm index from an earlier run would hide a cold-path bug, and the reverse), and every
// archive a test walks twice is answered from an index the second time, as in real use.
const cache = mkdtempSync(path.join(os.tmpdir(), 'restoreplan-test-cache-'));
const child = spawn(
  process.execPath,
  ['--import', 'tsx', path.join(root, 'node_modules/uvu/bin.js'), 'test', pattern],
  {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, FORCE_COLOR: '0', XDG_CACHE_HOME: cache },
  },
);
let out = '';
child.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  out += chunk.toString('utf8');
  if (out.length > 1 << 20) out = out.slice(-65536);
});
child.on('close', (code) => {
  rmSync(cache, { recursive: true, force: true });
  // uvu colours its summary even with FORCE_COLOR=0: strip the escapes before reading it.
  // eslint-disable-next-line no-control-regex -- the colour codes are what is matched
  const plain = out.replace(/\x1b\[[0-9;]*m/g, '');
  const field = (label) => {
    const m = new RegExp(`${label}:\\s+(\\d+)`).exec(plain);
    return m ? Number(m[1]) : 0;
  };
  const total = field('Total');
  const passed = field('Passed');
  const skipped = field('Skipped');
  // uvu counts a suite that throws outside a test as no test at all: a non-zero exit with
  // nothing failed still reports one failure, so the closing line never reads as green.
  let failed = Math.max(0, total - passed - skipped);
  if (code !== 0 && failed === 0) failed = 1;
  console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
  // And the reverse: a test that throws an error uvu cannot format (a RestoreplanError: its
  // `details` is an object) ends its suite early, silently, with exit 0. The exit code is what
  // CI reads, so it follows the count.
  if (failed > 0 && code === 0)
    console.log('(a suite ended early: run its file with `node --import tsx` to see why)');
  process.exit(failed > 0 ? code || 1 : (code ?? 1));
});
