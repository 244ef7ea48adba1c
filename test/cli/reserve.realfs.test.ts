/**
 * Acceptance of issue 11's reserve, on a real filesystem through the CLI: a small ext4 (8,192
 * inodes) holding a Mailman var dir whose queue just took 3,000 messages (fresh .pck files in
 * qfiles/in: 3,000/h × 12 h = 36,000 inodes of growth, more than the filesystem has), and one
 * lost list to restore (its directory and config.pck: 2 inodes) with 510 inodes free.
 *
 * The default reserve (5% = 410, plus the allowance capped at the 510 free) leaves no room for
 * any restore that adds an inode: check and plan refuse it and say so, naming the allowance and
 * the flags that change it. `--reserve-inodes 0` (the whole reserve) and `--growth-window 0` (no
 * allowance) make it fit; the plan made with the latter is applied, and `df -i` moves by exactly
 * the 2 inodes predicted.
 */
import { closeSync, openSync, utimesSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import type { IncidentSandbox } from '../../samples/buildIncidentSandbox.js';
import type { CheckResult, PlanDocument } from '../../src/types.js';
import { assertMatchesSchema } from '../helpers/assertSchema.js';
import { makeScratch, missingNeeds } from '../helpers/env.js';
import {
  buildBackup,
  copyLive,
  defaultReserve,
  eatInodesTo,
  freeInodes,
  loseList,
  repairCorruptByHand,
  totalInodes,
} from '../helpers/liveMailman.js';
import { withMountedFs } from '../helpers/mountFs.js';
import { cli, jsonOf } from '../helpers/runCli.js';

const why = missingNeeds({ root: true, tools: ['tar', 'python3', 'mkfs.ext4', 'losetup'] });
const scratch = makeScratch('restoreplan-reserve-realfs-');
let sandbox: IncidentSandbox;

const LOST = 'board';
/** Queue files that arrived within the last hour. */
const FRESH = 3000;
/** Free inodes above the 5% base reserve when the plan is made. */
const ABOVE_BASE = 100;

// What the CLI says is tested here, not its layout: sentences on one line (the CLI wraps its
// screens at $COLUMNS, else 80; test/cli/narrowTerminal.test.ts tests the layout).
const columns = process.env.COLUMNS;
test.before(async () => {
  process.env.COLUMNS = '1000';
  if (why) return;
  sandbox = await buildBackup(path.join(scratch.dir, 'sandbox'));
  assert.is(sandbox.lists[4], LOST);
});
test.after(() => {
  if (columns === undefined) delete process.env.COLUMNS;
  else process.env.COLUMNS = columns;
  scratch.cleanup();
});

/** `count` queue files arrived in the last half hour, named as Mailman names them. */
function receiveMail(live: string, count: number): void {
  const now = Date.now() / 1000;
  for (let i = 0; i < count; i += 1) {
    const when = now - 60 - (i / count) * 1800;
    const file = path.join(live, 'qfiles', 'in', `${when.toFixed(6)}+fresh${i}.pck`);
    closeSync(openSync(file, 'wx'));
    utimesSync(file, when, when);
  }
}

test('a busy queue on a small ext4: the default reserve refuses a 4-inode restore (one list, whole) and says why; --reserve-inodes 0 and --growth-window 0 make it fit; apply moves df -i by exactly 4', async () => {
  if (why) return void console.log(`skipped: ${why}`);
  await withMountedFs({ type: 'ext4', sizeMiB: 32, inodes: 8192 }, async (mnt) => {
    const live = copyLive(sandbox, mnt);
    // Only the lost list is down (see repairCorruptByHand).
    repairCorruptByHand(sandbox, live);
    loseList(live, LOST);
    receiveMail(live, FRESH);
    assert.is(totalInodes(mnt), 8192);
    const base = defaultReserve(mnt);
    assert.is(base, 410);
    const free = base + ABOVE_BASE;
    eatInodesTo(live, mnt, free);
    const args = [sandbox.backup, '--target', live, '--lists', LOST, '--no-progress'];

    // The doctor shows the allowance: capped at what is free, and the window is a flag.
    const doctor = cli(['doctor', live, '--no-progress']);
    assert.match(
      doctor.stdout,
      'Queue inflow 3,000/h: keep 510 inodes free for 12 h of growth (36,000, capped at the inodes free)',
    );
    const doctor2h = cli(['doctor', live, '--growth-window', '0.1', '--no-progress']);
    assert.match(
      doctor2h.stdout,
      'Queue inflow 3,000/h: keep 300 inodes free for 0.1 h of growth\n',
    );

    // Default: refused, plainly, by check and plan alike.
    const refusal = `needs 4 inodes on ${mnt} (ext4); 510 are free and 920 must stay free (5% of 8,192 = 410, plus 510 for 12 h of queue growth): the reserve alone leaves no room for a restore that adds an inode (short by 414); it fits with --growth-window 0 (a reserve of 410) or with --reserve-inodes 506 or less (the whole inode reserve)`;
    const check = cli(['check', ...args]);
    assert.is(check.code, 2, check.stderr);
    assert.match(check.stdout, `critical inodes-short: ${refusal}\n`);
    assert.match(check.stdout, 'Verdict: CRITICAL');
    assert.match(
      check.stdout,
      `info queue-growing: the inode reserve of ${mnt} keeps 510 inodes (queue inflow 3,000/h × 12 h = 36,000, capped at the 510 free) free for the live system's growth`,
    );
    const nagios = cli(['check', ...args, '--nagios']);
    assert.is(nagios.code, 2);
    assert.match(nagios.stdout, `RESTOREPLAN CRITICAL - ${refusal} | `);
    const checkDoc = jsonOf<CheckResult>(cli(['check', ...args, '--json']));
    assertMatchesSchema(checkDoc, 'check', 'check --json, refused by the reserve');
    const fs = checkDoc.filesystems.find((f) => f.mountPoint === mnt)!;
    assert.equal(
      { ...fs.inodes, growth: { ...fs.inodes.growth!, note: '' } },
      {
        total: 8192,
        free,
        needed: 4,
        peak: 4,
        reserve: 920,
        freeAfter: free - 4,
        usable: free,
        dynamic: false,
        growth: {
          inflowPerHour: FRESH,
          windowHours: 12,
          measured: 36000,
          allowance: free,
          counted: true,
          note: '',
        },
      },
    );

    const plan = cli(['plan', ...args]);
    assert.is(plan.code, 2, plan.stderr);
    assert.match(
      plan.stdout,
      `NOT feasible: no strategy fits — does not fit: ${refusal}. Or, keeping the reserve: add --staging DIR`,
    );
    const planDoc = jsonOf<PlanDocument>(cli(['plan', ...args, '--json']));
    assertMatchesSchema(planDoc, 'plan', 'plan --json, refused by the reserve');
    assert.is(planDoc.feasible, false);
    const short = (doc: { problems: Array<{ kind: string; message: string }> }) =>
      doc.problems.filter((p) => p.kind === 'inodes-short').map((p) => p.message);
    assert.equal(short(planDoc), short(checkDoc), 'check and plan say the same');
    assert.is(planDoc.stages[0]?.budget[0]?.inodesGrowth?.allowance, free);

    // --reserve-inodes 0 is the whole reserve: it fits; the allowance is advice, not dropped.
    const given = cli(['check', ...args, '--reserve-inodes', '0']);
    assert.is(given.code, 1, given.stdout); // 506 of 8,192 stay free: under the 10% warning
    assert.not.match(given.stdout, 'inodes-short');
    assert.match(
      given.stdout,
      `info queue-growing: --reserve-inodes is the whole inode reserve of ${mnt}: the growth allowance, 510 inodes (queue inflow 3,000/h × 12 h = 36,000, capped at the 510 free), is not kept free`,
    );
    const givenDoc = jsonOf<CheckResult>(
      cli(['check', ...args, '--reserve-inodes', '0', '--json']),
    );
    const givenFs = givenDoc.filesystems.find((f) => f.mountPoint === mnt)!;
    assert.is(givenFs.inodes.reserve, 0);
    assert.equal([givenFs.inodes.growth?.allowance, givenFs.inodes.growth?.counted], [free, false]);
    const givenPlan = jsonOf<PlanDocument>(
      cli(['plan', ...args, '--reserve-inodes', '0', '--json']),
    );
    assert.is(givenPlan.feasible, true, givenPlan.reason);
    assert.is(givenPlan.stages[0]?.budget[0]?.inodesReserve, 0);

    // --growth-window 0: no allowance, the 5% stays: it fits.
    const windowless = cli(['check', ...args, '--growth-window', '0']);
    assert.is(windowless.code, 1, windowless.stdout);
    assert.not.match(windowless.stdout, 'inodes-short');
    const out = path.join(scratch.dir, 'plan.json');
    const planned = cli(['plan', ...args, '--growth-window', '0', '--out', out]);
    // Feasible, with the low-inodes warning (506 of 8,192 stay free): exit 1, as check.
    assert.is(planned.code, 1, planned.stdout + planned.stderr);
    assert.match(planned.stdout, 'Feasible: in-place');
    assert.match(planned.stdout, `Plan written to ${out}; carry it out with: restoreplan apply`);

    // Bad windows are usage errors, one line.
    for (const bad of ['-1', 'soon']) {
      const r = cli(['plan', ...args, '--growth-window', bad]);
      assert.is(r.code, 3, bad);
      assert.is(
        r.stderr.split('\n')[0],
        `restoreplan: USAGE: --growth-window "${bad}": expected a number of hours, 0 or more (0: no growth allowance)`,
      );
    }

    const before = freeInodes(mnt);
    assert.is(before, free);
    const applied = cli(['apply', out, '--yes', '--json', '--no-progress']);
    assert.is(applied.code, 0, applied.stdout + applied.stderr);
    const result = JSON.parse(applied.stdout) as {
      status: string;
      inodes: Array<{ mountPoint: string; predicted: number; actual: number }>;
    };
    assert.is(result.status, 'complete');
    assert.equal(
      result.inodes.find((r) => r.mountPoint === mnt),
      { mountPoint: mnt, predicted: 4, actual: 4 },
    );
    assert.is(before - freeInodes(mnt), 4, 'df -i moved by exactly the 4 inodes predicted');
    const after = cli(['doctor', live, '--json', '--no-progress']);
    const lists = (JSON.parse(after.stdout) as { lists: Array<{ name: string; status: string }> })
      .lists;
    assert.is(lists.find((l) => l.name === LOST)?.status, 'ok');
  });
});

test.run();
