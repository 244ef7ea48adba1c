/**
 * The exhaustion forecast on a real filesystem: a tmpfs with a few hundred inodes (nr_inodes)
 * holding a Mailman var dir whose qfiles/in took 60 messages of 4 KiB in the last hour (mtimes
 * spread over it, as the inflow measure reads them). The hours until the inodes run out must
 * be the free inodes over 60, and the space's the bytes available over 60 × 4 KiB; doctor
 * --nagios turns CRITICAL once --crit-hours reaches past them, WARNING for --warn-hours.
 */
import { statfsSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { generateMailmanTree } from '../../samples/generateMailmanTree.js';
import type { DoctorResult } from '../../src/types.js';
import { assertMatchesSchema } from '../helpers/assertSchema.js';
import { missingNeeds } from '../helpers/env.js';
import { withMountedFs } from '../helpers/mountFs.js';
import { parsePluginLine } from '../helpers/pluginLine.js';
import { cli } from '../helpers/runCli.js';

const INFLOW = 60;
const MESSAGE = 4096;

test('hours left = free / inflow on a tmpfs with nr_inodes; --crit-hours past it is CRITICAL', async () => {
  const why = missingNeeds({ root: true });
  if (why) return void console.log(`skipped: ${why}`);
  await withMountedFs({ type: 'tmpfs', sizeMiB: 8, inodes: 400 }, async (mnt) => {
    const varDir = path.join(mnt, 'mailman');
    await generateMailmanTree(varDir, {
      lists: ['alpha', 'beta'],
      members: 2,
      postsPerList: 0,
      queueFiles: 0,
    });
    const now = Date.now() / 1000;
    for (let i = 0; i < INFLOW; i += 1) {
      const file = path.join(varDir, 'qfiles', 'in', `${i}.pck`);
      writeFileSync(file, Buffer.alloc(MESSAGE, 1));
      // Spread over the last hour, the oldest 59.5 minutes ago: all within the hour.
      const t = now - ((i + 0.5) * 3600) / INFLOW;
      utimesSync(file, t, t);
    }
    const stat = statfsSync(mnt);
    const free = stat.ffree;
    const avail = stat.bavail * stat.bsize;

    const r = cli(['doctor', varDir, '--json']);
    // About 5 h left: within the default --warn-hours 24, so a warning, whatever the output.
    assert.is(r.code, 1, r.stderr);
    const doc = JSON.parse(r.stdout) as DoctorResult;
    assertMatchesSchema(doc, 'doctor', 'doctor --json with a forecast');
    const { inodes, bytes } = doc.forecast!;
    // Nothing else writes on this tmpfs: doctor's statfs and ours read the same numbers.
    assert.is(inodes.free, free);
    assert.is(inodes.inflowPerHour, INFLOW);
    assert.ok(
      Math.abs(inodes.hours! - free / INFLOW) < 1e-5,
      `${inodes.hours} vs ${free / INFLOW}`,
    );
    assert.is(bytes.free, avail);
    assert.is(bytes.inflowPerHour, INFLOW * MESSAGE);
    assert.ok(Math.abs(bytes.hours! - avail / (INFLOW * MESSAGE)) < 1e-5, String(bytes.hours));
    const hours = free / INFLOW;
    console.log(`  ${free} inodes free at ${INFLOW}/h: ${inodes.hours} h; space ${bytes.hours} h`);

    const human = cli(['doctor', varDir]);
    assert.match(
      human.stdout,
      `Forecast at 60 files (240.0 KiB) an hour: inodes ${(Math.floor(hours * 10) / 10).toFixed(1)} h`,
    );

    const nagios = (flags: string[]) => {
      const run = cli(['doctor', varDir, '--nagios', ...flags]);
      return { code: run.code, ...parsePluginLine(run.stdout, 'RESTOREPLAN-MAILMAN') };
    };
    const crit = nagios(['--crit-hours', String(Math.ceil(hours)), '--warn-hours', '1000']);
    assert.is(crit.code, 2);
    assert.is(crit.status, 'CRITICAL');
    assert.match(crit.text, /^inodes exhausted in \d+\.\d h at 60 files\/h/);
    // The same rule as thresholds on what is free: free < inflow × hours.
    assert.is(
      crit.perf.get('inodes_free'),
      `${free};${INFLOW * 1000}:;${INFLOW * Math.ceil(hours)}:;0;400`,
    );
    assert.is(crit.perf.get('inodes_hours_left'), `${inodes.hours};1000:;${Math.ceil(hours)}:;0;`);

    const warn = nagios([
      '--crit-hours',
      String(Math.floor(hours)),
      '--warn-hours',
      String(Math.ceil(hours)),
    ]);
    assert.is(warn.code, 1, warn.text);
    assert.is(warn.status, 'WARNING');
    const ok = nagios(['--crit-hours', '0.5', '--warn-hours', String(Math.floor(hours))]);
    assert.is(ok.code, 0, ok.text);
    assert.is(ok.status, 'OK');
  });
});

test.run();
