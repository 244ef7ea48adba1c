/**
 * Acceptance of issue 16 on a real filesystem through the CLI: a small ext4 holding both a
 * Mailman var dir with a backlog (out-queue messages waiting for the lists to load) and the
 * MTA's spool (a Postfix queue directory, named with --mta postfix --mta-spool). The inodes
 * free are set so that the repair of one lost list fits above the reserve while the wave after
 * it — every backlog message queued at once, 2 inodes each in Postfix (queue file and defer
 * log) plus the hash directories — does not: plan exits 1 naming the drain, check --nagios is
 * WARNING. The same repair with the release paced (--drain-batch) fits: exit 0.
 */
import { mkdirSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import type { IncidentSandbox } from '../../samples/buildIncidentSandbox.js';
import { dict, writeCPickle } from '../../samples/writeCPickle.js';
import type { CheckResult, DoctorResult, PlanDocument } from '../../src/types.js';
import { assertMatchesSchema } from '../helpers/assertSchema.js';
import { makeScratch, missingNeeds } from '../helpers/env.js';
import {
  buildBackup,
  copyLive,
  defaultReserve,
  eatInodesTo,
  loseList,
  removeFiles,
  repairCorruptByHand,
} from '../helpers/liveMailman.js';
import { withMountedFs } from '../helpers/mountFs.js';
import { cli, jsonOf } from '../helpers/runCli.js';

const why = missingNeeds({ root: true, tools: ['tar', 'mkfs.ext4', 'losetup'] });
const scratch = makeScratch('restoreplan-drain-realfs-');
let sandbox: IncidentSandbox;
const LOST = 'board';
/** Out-queue messages, one recipient each: one MTA message each. */
const BACKLOG = 300;

const columns = process.env.COLUMNS;
test.before(async () => {
  process.env.COLUMNS = '1000';
  if (why) return;
  sandbox = await buildBackup(path.join(scratch.dir, 'sandbox'));
});
test.after(() => {
  if (columns === undefined) delete process.env.COLUMNS;
  else process.env.COLUMNS = columns;
  scratch.cleanup();
});

test('a repair that fits while its wave does not: plan exit 1 naming the drain, check --nagios WARNING; paced with --drain-batch it fits', async () => {
  if (why) return void console.log(`skipped: ${why}`);
  await withMountedFs({ type: 'ext4', sizeMiB: 64, inodes: 8192 }, async (mnt) => {
    const live = copyLive(sandbox, mnt);
    // Only the lost list is down (see repairCorruptByHand).
    repairCorruptByHand(sandbox, live);
    loseList(live, LOST);
    // The backlog: the sandbox's queues emptied, then BACKLOG addressed messages in out/.
    for (const queue of readdirSync(path.join(live, 'qfiles')))
      for (const file of readdirSync(path.join(live, 'qfiles', queue)))
        rmSync(path.join(live, 'qfiles', queue, file));
    // Queued two days ago (while the lists were down): no inflow in the last hour, so the
    // reserve is exactly 5% and the numbers below do not race the clock.
    const old = Date.now() / 1000 - 2 * 86400;
    for (let i = 0; i < BACKLOG; i += 1) {
      const file = path.join(live, 'qfiles', 'out', `1700000000.${i}+drain.pck`);
      writeFileSync(
        file,
        Buffer.concat([
          writeCPickle(`Subject: post ${i}\n\nhello\n`, 0),
          writeCPickle(
            dict([
              ['listname', 'users'],
              ['recips', [`m${i}@example.org`]],
            ]),
            0,
          ),
        ]),
      );
      utimesSync(file, old, old);
    }
    // A Postfix queue directory on the same filesystem, as `postfix check` leaves it.
    const spool = path.join(mnt, 'postfix');
    for (const dir of ['active', 'bounce', 'corrupt', 'defer', 'deferred', 'flush', 'hold'])
      mkdirSync(path.join(spool, dir), { recursive: true });
    for (const dir of ['incoming', 'maildrop', 'pid', 'private', 'public', 'saved', 'trace'])
      mkdirSync(path.join(spool, dir), { recursive: true });
    const args = [
      sandbox.backup,
      '--target',
      live,
      '--lists',
      LOST,
      '--mta',
      'postfix',
      '--mta-spool',
      spool,
      // What is left after the repair is under the default 10% warning on this small disk:
      // a warning of its own, not what this test is about.
      '--warn-inodes',
      '5%',
      '--no-progress',
    ];
    const first = jsonOf<PlanDocument>(cli(['plan', ...args, '--json']));
    assertMatchesSchema(first, 'plan', 'plan --json with a drain');
    const drain = first.drain!;
    assert.ok(drain, 'the plan has a drain');
    assert.equal(
      [drain.mta, drain.spool, drain.mountPoint, drain.backlog.out, drain.peakMessages],
      ['postfix', spool, mnt, BACKLOG, BACKLOG],
    );
    // 2 inodes a message (queue file, defer log), up to 16 hash dirs each in deferred/ and
    // defer/, and Postfix's 4 lock files in pid/.
    assert.is(drain.inodes, 2 * BACKLOG + 32 + 4);
    const repair = first.stages.flatMap((s) => s.budget).find((b) => b.mountPoint === mnt)!;
    assert.ok(repair.inodesNeeded > 0);
    const reserve = defaultReserve(mnt);
    // Room for the repair and half the wave above the reserve.
    let eaten = eatInodesTo(
      path.join(mnt, 'eaten'),
      mnt,
      reserve + repair.inodesNeeded + drain.inodes / 2,
    );

    const plan = cli(['plan', ...args]);
    assert.is(plan.code, 1, plan.stdout + plan.stderr);
    assert.match(plan.stdout, 'drain-short');
    assert.match(plan.stdout, 'the repair fits, but the wave after it does not');
    const doc = jsonOf<PlanDocument>(cli(['plan', ...args, '--json']));
    assert.is(doc.feasible, true);
    assert.is(doc.drain?.fits, false);
    assert.ok(doc.problems.some((p) => p.kind === 'drain-short' && p.severity === 'warning'));
    const nagios = cli(['check', ...args, '--nagios']);
    assert.is(nagios.code, 1, nagios.stdout);
    assert.match(nagios.stdout, /^RESTOREPLAN WARNING - /);
    const check = jsonOf<CheckResult>(cli(['check', ...args, '--json']));
    assertMatchesSchema(check, 'check', 'check --json with a drain');
    assert.is(check.drain?.fits, false);

    // Paced: 50 messages at a time fit.
    const paced = cli(['plan', ...args, '--drain-batch', '50', '--json']);
    assert.is(paced.code, 0, paced.stdout);
    const pacedDoc = jsonOf<PlanDocument>(paced);
    assert.equal([pacedDoc.drain?.peakMessages, pacedDoc.drain?.fits], [50, true]);
    assert.is(cli(['check', ...args, '--drain-batch', '50', '--nagios']).code, 0);
    // doctor: the backlog in the forecast. With fewer inodes free than it takes, its release
    // exhausts the filesystem: CRITICAL, on every output.
    const spoolArgs = ['--mta', 'postfix', '--mta-spool', spool, '--no-progress'];
    const doctorDoc = jsonOf<DoctorResult>(cli(['doctor', live, ...spoolArgs, '--json']));
    assertMatchesSchema(doctorDoc, 'doctor', 'doctor --json with a backlog');
    assert.equal(
      [doctorDoc.backlog?.counts.messages, doctorDoc.backlog?.inodes, doctorDoc.backlog?.fits],
      [BACKLOG, drain.inodes, true],
    );
    assert.is(doctorDoc.forecast?.inodes.backlog, drain.inodes);
    removeFiles(eaten);
    eaten = eatInodesTo(path.join(mnt, 'eaten'), mnt, drain.inodes - 10);
    const critical = cli(['doctor', live, ...spoolArgs, '--nagios']);
    assert.is(critical.code, 2, critical.stdout);
    assert.match(critical.stdout, "inodes exhausted by Mailman's backlog once it reaches the MTA");
    assert.match(critical.stdout, `'backlog_messages'=${BACKLOG};;;0;`);
    assert.match(critical.stdout, `'backlog_inodes'=${drain.inodes};;;0;`);
    const screen = cli(['doctor', live, ...spoolArgs]);
    assert.is(screen.code, 2);
    assert.match(
      screen.stdout,
      `Backlog for Postfix (${spool}): ${BACKLOG} messages once the lists run`,
    );
    const prom = cli(['doctor', live, ...spoolArgs, '--prometheus', '-']);
    assert.match(
      prom.stdout,
      `restoreplan_mailman_backlog_inodes{mta="postfix",spool="${spool}"} ${drain.inodes}`,
    );
    removeFiles(eaten);
    // --mta none: the restore alone.
    const none = jsonOf<PlanDocument>(
      cli(['plan', sandbox.backup, '--target', live, '--lists', LOST, '--mta', 'none', '--json']),
    );
    assert.is(none.drain, undefined);
  });
});

test('drain flags: refused without the Mailman profile, and malformed', () => {
  const bad = (args: string[]): string => {
    const r = cli(['check', 'x.tar', '--target', scratch.dir, ...args, '--json']);
    assert.is(r.code, 3);
    return (JSON.parse(r.stdout) as { error: { code: string } }).error.code;
  };
  assert.is(bad(['--mta', 'sendmail']), 'USAGE');
  assert.is(bad(['--drain-batch', '0']), 'USAGE');
  assert.is(bad(['--mta', 'none', '--mta-spool', '/x']), 'USAGE');
});

test.run();
