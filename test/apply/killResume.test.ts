/**
 * Acceptance (issue 12): a resumed apply ends in exactly the state an uninterrupted one would.
 * A 5,000-step plan (directories 0755/0750/2775 owned by another user, files, symlinks, hard
 * links; archived by GNU tar, planned by the real planner) is applied by the real CLI and killed
 * with SIGKILL at seeded points — early, part-way by journal progress, and in the directory
 * pass — then run until it completes. The tree must equal `tar -xpf` of the same archive in
 * content, type, mode, owner, mtime and hard-link grouping, with no temp file left and one
 * journal line per step.
 *
 * 20 kill points by default (about 20-30 s on 2 cores); RESTOREPLAN_KILL_POINTS=N for more,
 * RESTOREPLAN_KILL_SEED=N for another series (a failure prints its seed).
 */
import { spawn, spawnSync } from 'node:child_process';
import { chownSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import type { ApplyRunResult } from '../../src/types.js';
import { makeScratch, missingNeeds } from '../helpers/env.js';
import { withMountedFs } from '../helpers/mountFs.js';
import {
  bin,
  describeTree,
  extractOracle,
  generateTree,
  journalTargets,
  leftoverTemps,
  planWithCli,
  seededRandom,
  stepCount,
  treeDiff,
} from './generatedTree.js';

const KILL_POINTS = Number(process.env.RESTOREPLAN_KILL_POINTS ?? 20);
const SEED = Number(process.env.RESTOREPLAN_KILL_SEED ?? 12);
const OWNER = { uid: 4242, gid: 4343 };

const needs = missingNeeds({ root: true, tools: ['tar', 'flock'] });

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function journalLines(journalPath: string): number {
  try {
    const text = readFileSync(journalPath, 'latin1');
    let n = 0;
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) n += 1;
    return n;
  } catch {
    return 0;
  }
}

type Trigger = { after: 'ms'; ms: number } | { after: 'lines'; lines: number; ms: number };

/** Starts an apply and SIGKILLs it at the trigger; says whether it was killed or ended first. */
async function applyAndKill(
  planPath: string,
  journalPath: string,
  trigger: Trigger,
): Promise<'killed' | 'ended'> {
  const child = spawn(process.execPath, [bin, 'apply', planPath, '--yes', '--no-progress'], {
    stdio: 'ignore',
  });
  let ended = false;
  const exit = new Promise<void>((resolve) =>
    child.on('exit', () => {
      ended = true;
      resolve();
    }),
  );
  if (trigger.after === 'lines') {
    while (!ended && journalLines(journalPath) < trigger.lines) await sleep(3);
  }
  if (!ended) await sleep(trigger.ms);
  if (ended) return 'ended';
  child.kill('SIGKILL');
  await exit;
  return 'killed';
}

function applyToEnd(planPath: string): { code: number | null; result: ApplyRunResult } {
  const run = spawnSync(process.execPath, [bin, 'apply', planPath, '--yes', '--json'], {
    encoding: 'utf8',
    input: '',
    maxBuffer: 1 << 28,
  });
  return { code: run.status, result: JSON.parse(run.stdout) as ApplyRunResult };
}

if (needs) {
  test.skip('kill -9 at seeded points, resumed: the tree equals tar -xpf');
  console.log(`skipped: ${needs}`);
} else {
  test(`kill -9 at ${KILL_POINTS} seeded points of a 5,000-step apply, resumed: the tree equals tar -xpf (seed ${SEED})`, async () => {
    const { dir, cleanup } = makeScratch();
    try {
      const { archive } = generateTree(dir, {
        seed: SEED,
        dirs: 400,
        files: 3600,
        symlinks: 500,
        hardlinks: 500,
        owner: OWNER,
      });
      await withMountedFs({ type: 'tmpfs', sizeMiB: 96, inodes: 30_000 }, async (mnt) => {
        const root = path.join(mnt, 'target');
        mkdirSync(root);
        chownSync(root, OWNER.uid, OWNER.gid);
        const planPath = path.join(dir, 'plan.json');
        const journalPath = `${planPath}.journal`;
        const plan = planWithCli(archive, root, planPath);
        const steps = stepCount(plan);
        assert.is(steps, 5000);
        const dirSteps = plan.stages.flatMap((s) => s.steps).filter((s) => s.type === 'dir').length;

        // Seeded kill points: some during start-up, most by journal progress (the runs
        // resume, so their thresholds rise), some once every file is journaled (the directory
        // pass, which journals nothing until it is done).
        const random = seededRandom(SEED);
        const byLines: number[] = [];
        const triggers: Trigger[] = [];
        for (let i = 0; i < KILL_POINTS; i += 1) {
          if (i % 7 === 0) triggers.push({ after: 'ms', ms: 30 + Math.floor(random() * 400) });
          else if (i % 7 === 6) byLines.push(steps - dirSteps);
          else byLines.push(Math.floor(random() * (steps - dirSteps)));
        }
        byLines.sort((a, b) => a - b);
        for (const lines of byLines)
          triggers.push({ after: 'lines', lines, ms: Math.floor(random() * 60) });
        triggers.sort((a, b) => (a.after === 'ms' ? -1 : 0) - (b.after === 'ms' ? -1 : 0));

        const outcomes: string[] = [];
        for (const trigger of triggers) {
          const outcome = await applyAndKill(planPath, journalPath, trigger);
          outcomes.push(
            `${trigger.after === 'ms' ? `${trigger.ms}ms` : `${trigger.lines}+${trigger.ms}ms`}: ${outcome} at ${journalLines(journalPath)}`,
          );
        }
        const killed = outcomes.filter((o) => o.includes('killed')).length;
        assert.ok(killed >= KILL_POINTS / 2, `few runs were killed: ${outcomes.join('; ')}`);

        const last = applyToEnd(planPath);
        assert.is(last.code, 0, JSON.stringify(last.result.reason));
        assert.ok(
          last.result.status === 'complete' || last.result.status === 'nothing-to-do',
          last.result.status,
        );
        assert.equal(
          last.result.skipped.filter((s) => s.kind !== 'already-restored'),
          [],
        );
        const again = applyToEnd(planPath);
        assert.is(again.result.status, 'nothing-to-do', again.result.reason);

        const oracle = path.join(mnt, 'oracle');
        extractOracle(archive, oracle);
        const diff = treeDiff(describeTree(root), describeTree(oracle));
        assert.equal(diff, [], `seed ${SEED}; runs: ${outcomes.join('; ')}`);
        assert.equal(leftoverTemps(root), []);
        assert.is(statSync(root).uid, OWNER.uid);
        // One journal line per step, however many runs it took.
        const journaled = journalTargets(journalPath);
        assert.is(new Set(journaled).size, steps);
        assert.is(journaled.length, steps, 'no step journaled twice');
      });
    } finally {
      cleanup();
    }
  });
}

test.run();
