/**
 * Issue 11's acceptance on a real ext4: a list with no config file, a list directory gone while
 * its Postfix alias stanzas and archives remain, a list removed on purpose, and a corrupt list
 * with no valid copy in the backup — each through doctor, plan, apply and doctor again, with
 * the built CLI and its exit codes, and `df -i` moving by exactly what the plan predicted.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statfsSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import type { DoctorResult, PlanDocument } from '../../src/types.js';
import { assertMatchesSchema } from '../helpers/assertSchema.js';
import { makeScratch, missingNeeds } from '../helpers/env.js';
import {
  buildLostListsScenario,
  LOST,
  MISSING,
  NO_VALID_COPY,
  REMOVED,
  SCENARIO_ROOT,
} from '../helpers/lostListsScenario.js';
import { memberBytes } from '../helpers/liveMailman.js';
import { withMountedFs } from '../helpers/mountFs.js';
import { repo } from '../helpers/runCli.js';

const bin = path.join(repo, 'dist', 'cli', 'bin.js');
const why = missingNeeds({ root: true, tools: ['tar', 'mkfs.ext4', 'losetup'] });
if (why) console.log(`skipped: lost lists on ext4 ${why}`);

function restoreplan(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', input: '' });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function freeInodes(mountPoint: string): number {
  spawnSync('sync', ['-f', mountPoint]);
  return statfsSync(mountPoint).ffree;
}

const statusOf = (doc: DoctorResult): Record<string, string> =>
  Object.fromEntries(doc.lists.map((l) => [l.name, l.status]));

(why ? test.skip : test)(
  'ext4: doctor finds lost and missing lists, plan restores them whole, names the removed one, and exits 2 for the list it cannot restore',
  async () => {
    if (!existsSync(bin)) throw new Error('dist/ is missing: npm run build');
    const { dir, cleanup } = makeScratch('restoreplan-lost-');
    try {
      await withMountedFs({ type: 'ext4', sizeMiB: 64, inodes: 4096 }, async (mnt) => {
        const { live, backup } = await buildLostListsScenario(mnt, dir);

        const doctor = restoreplan('doctor', live, '--json');
        assert.is(doctor.code, 2, doctor.stderr);
        const before = JSON.parse(doctor.stdout) as DoctorResult;
        assertMatchesSchema(before, 'doctor', 'doctor --json');
        assert.equal(statusOf(before), {
          list001: 'ok',
          list002: 'ok',
          [LOST]: 'lost',
          mailman: 'ok',
          [NO_VALID_COPY]: 'corrupt',
          [MISSING]: 'missing',
        });
        const human = restoreplan('doctor', live);
        assert.match(human.stdout, /Lists: 3 ok, 0 degraded, 1 corrupt, 1 lost, 1 missing/);
        assert.match(human.stdout, /data\/aliases has its stanza/);

        const planFile = path.join(dir, 'plan.json');
        const planned = restoreplan('plan', backup, '--target', live, '--out', planFile, '--json');
        // The corrupt list has no valid copy in the backup: it stays down, so exit 2.
        assert.is(planned.code, 2, planned.stderr);
        const plan = JSON.parse(planned.stdout) as PlanDocument;
        assertMatchesSchema(plan, 'plan', 'plan --json');
        assert.is(plan.feasible, true, plan.reason);
        assert.is(plan.verdict, 'critical');
        const lists = Object.fromEntries(plan.lists.map((l) => [l.name, [l.status, l.action]]));
        assert.equal(lists[LOST], ['lost', 'restore']);
        assert.equal(lists[MISSING], ['missing', 'restore']);
        assert.equal(lists[REMOVED], ['removed', 'skip']);
        assert.equal(lists[NO_VALID_COPY], ['corrupt', 'skip']);
        assert.match(
          plan.lists.find((l) => l.name === REMOVED)?.reason ?? '',
          /restore it with --lists list003/,
        );
        assert.ok(
          plan.lists
            .find((l) => l.name === MISSING)
            ?.evidence?.some((e) => e.kind === 'alias-stanza'),
        );
        assert.equal(
          plan.problems.filter((p) => p.severity === 'critical').map((p) => [p.kind, p.list]),
          [['no-valid-copy', NO_VALID_COPY]],
        );
        const steps = plan.stages
          .flatMap((s) => s.steps)
          .map((s) => path.relative(live, s.targetPath));
        // The missing list whole, configs first (then its state in archive order); the lost
        // one's config only: its state files on disk load, and they are newer than the backup.
        assert.is(steps[0], `lists/${MISSING}`);
        assert.equal(steps.slice(1, 3).sort(), [
          `lists/${MISSING}/config.pck`,
          `lists/${LOST}/config.pck`,
        ]);
        assert.equal(steps.slice(3).sort(), [
          `lists/${MISSING}/pending.pck`,
          `lists/${MISSING}/request.pck`,
        ]);
        const human2 = restoreplan('plan', backup, '--target', live);
        assert.is(human2.code, 2);
        assert.match(human2.stdout, /list003 +│ removed/);

        const free = freeInodes(mnt);
        const applied = restoreplan('apply', planFile, '--yes', '--json');
        assert.is(applied.code, 0, applied.stderr);
        const result = JSON.parse(applied.stdout) as {
          status: string;
          inodes: { predicted: number; actual: number }[];
        };
        assert.is(result.status, 'complete');
        assert.equal(
          result.inodes.map((i) => [i.predicted, i.actual]),
          [[5, 5]],
        );
        assert.is(free - freeInodes(mnt), 5);
        for (const rel of [
          `lists/${LOST}/config.pck`,
          `lists/${MISSING}/config.pck`,
          `lists/${MISSING}/request.pck`,
          `lists/${MISSING}/pending.pck`,
        ])
          assert.ok(
            readFileSync(path.join(live, rel)).equals(
              memberBytes(backup, `${SCENARIO_ROOT}/${rel}`),
            ),
            `${rel} is the backup's copy`,
          );

        const again = restoreplan('doctor', live, '--json');
        assert.is(again.code, 2, 'the list without a valid copy is still down');
        const after = JSON.parse(again.stdout) as DoctorResult;
        assert.equal(statusOf(after)[LOST], 'ok');
        assert.equal(statusOf(after)[MISSING], 'ok');
        assert.equal(statusOf(after)[NO_VALID_COPY], 'corrupt');
        assert.not.ok(REMOVED in statusOf(after), 'a removed list is not brought back unasked');

        // Named, the removed list comes back whole.
        const named = path.join(dir, 'named.json');
        const replanned = restoreplan(
          'plan',
          backup,
          '--target',
          live,
          '--lists',
          REMOVED,
          '--out',
          named,
          '--json',
        );
        const second = JSON.parse(replanned.stdout) as PlanDocument;
        assert.equal(
          second.stages
            .flatMap((s) => s.steps)
            .map((s) => path.relative(live, s.targetPath))
            .sort(),
          [
            `lists/${REMOVED}`,
            `lists/${REMOVED}/config.pck`,
            `lists/${REMOVED}/pending.pck`,
            `lists/${REMOVED}/request.pck`,
          ],
        );
        assert.is(restoreplan('apply', named, '--yes').code, 0);
        const last = JSON.parse(restoreplan('doctor', live, '--json').stdout) as DoctorResult;
        assert.is(statusOf(last)[REMOVED], 'ok');

        // check agrees with plan: CRITICAL while a list stays down.
        const nagios = restoreplan('check', backup, '--target', live, '--nagios');
        assert.is(nagios.code, 2, nagios.stdout);
        assert.match(nagios.stdout, /^RESTOREPLAN CRITICAL/);
      });
    } finally {
      cleanup();
    }
  },
);

test.run();
