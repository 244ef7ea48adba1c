/**
 * Plans made from, and applied from, the streams real backup tools write (issue 11): a
 * Mailman var dir backed up with borg and with restic, one list's config.pck broken on a copy,
 * then through the built CLI, stdin a real pipe:
 *   borg export-tar REPO::a - | restoreplan plan - --target T --out p.json
 *   borg export-tar REPO::a - | restoreplan apply p.json --yes
 * (and `restic dump SNAPSHOT /path`, whose tar names members by their full path without the
 * leading `/`, and has no member for the dumped directory itself). The list loads again,
 * byte-identical to the backup; the stream of a second backup taken after a change is
 * PLAN_STALE with the target byte-for-byte unchanged; a saved copy of the first stream works
 * with --archive. Nothing is mocked: when a tool is missing the test says "needs borg" /
 * "needs restic" (scripts/install-test-tools.sh installs both).
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { breakMailmanTree } from '../../samples/breakMailmanTree.js';
import { generateMailmanTree } from '../../samples/generateMailmanTree.js';
import type { DoctorResult, PlanDocument } from '../../src/types.js';
import { makeScratch, missingNeeds, run } from '../helpers/env.js';
import { changedPaths, snapshotTree } from '../helpers/liveMailman.js';
import { unwrapLines } from '../helpers/unwrapLines.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const bin = path.join(repo, 'dist/cli/bin.js');
const why =
  missingNeeds({ tools: ['bash', 'cp'] }) ??
  (existsSync(bin) ? null : 'needs dist/ (npm run build)');

const LISTS = ['mailman', 'announce', 'users'];
const BROKEN = 'announce';

const scratch = makeScratch('restoreplan-peers-');
/** The backed-up var dir sits at <root>/var/lib/mailman, as on a server. */
const root = path.join(scratch.dir, 'root');
const varDir = path.join(root, 'var/lib/mailman');
/** The environment of the backup tools: their state stays in the scratch dir. */
const toolEnv: NodeJS.ProcessEnv = {
  ...process.env,
  BORG_BASE_DIR: path.join(scratch.dir, 'borg-home'),
  BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK: 'yes',
  BORG_RELOCATED_REPO_ACCESS_IS_OK: 'yes',
  // For this test only: restic always wants a password, even for a throw-away repository.
  RESTIC_PASSWORD: 'restoreplan-test-only',
  RESTIC_CACHE_DIR: path.join(scratch.dir, 'restic-cache'),
};

test.before(async () => {
  if (why) return;
  await generateMailmanTree(varDir, {
    lists: LISTS,
    members: 20,
    postsPerList: 6,
    queueFiles: 4,
    now: new Date(Date.now() - 86400_000),
  });
});
test.after(() => scratch.cleanup());

/** Runs a shell pipeline (bash, pipefail: a failing backup tool fails it too). */
function sh(script: string): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync('bash', ['-o', 'pipefail', '-c', script], {
    cwd: scratch.dir,
    env: toolEnv,
    encoding: 'utf8',
    maxBuffer: 1 << 26,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const q = (text: string): string => `'${text.replace(/'/g, `'\\''`)}'`;
const restoreplan = `${q(process.execPath)} ${q(bin)}`;

/** A copy of the var dir with BROKEN down (config.pck truncated, .last zeroed), as a crash leaves it. */
async function brokenCopy(name: string): Promise<string> {
  const target = path.join(scratch.dir, name);
  run('cp', ['-a', varDir, target]);
  // Both copies: with config.pck.last valid Mailman would only fall back (degraded).
  await breakMailmanTree(target, [
    { list: BROKEN, shape: 'truncated' },
    { list: BROKEN, shape: 'zeroed', file: 'config.pck.last' },
  ]);
  return target;
}

function doctor(target: string): { code: number | null; json: DoctorResult } {
  const r = sh(`${restoreplan} doctor ${q(target)} --json`);
  return { code: r.code, json: JSON.parse(r.stdout) as DoctorResult };
}

const configOf = (dir: string): Buffer =>
  readFileSync(path.join(dir, `lists/${BROKEN}/config.pck`));

/**
 * The scenario for one tool: `stream(name)` is the shell command writing backup `name` as a tar
 * on stdout, `save(name, file)` the one saving it to a file.
 */
async function replay(
  tool: string,
  stream: (name: string) => string,
  save: (name: string, file: string) => string,
  backup: (name: string) => void,
): Promise<PlanDocument> {
  backup('first');
  const target = await brokenCopy(`${tool}-target`);
  assert.is(doctor(target).code, 2, `${tool}: the broken list is corrupt before`);
  const planFile = path.join(scratch.dir, `${tool}-plan.json`);

  const planned = sh(
    `${stream('first')} | ${restoreplan} plan - --target ${q(target)} --out ${q(planFile)} --no-progress`,
  );
  assert.is(planned.code, 0, `${tool} plan: ${planned.stderr}`);
  assert.match(
    unwrapLines(planned.stdout),
    /it was made from stdin: carry it out by piping the same archive/,
  );
  const plan = JSON.parse(readFileSync(planFile, 'utf8')) as PlanDocument;
  assert.is(plan.archive.path, '-');
  const steps = plan.stages.flatMap((stage) => stage.steps);
  assert.equal(
    steps.map((step) => step.targetPath),
    [path.join(target, `lists/${BROKEN}/config.pck`)],
    `${tool}: the plan restores the broken config only`,
  );

  // A second backup, after the live system changed a file: another stream.
  appendFileSync(path.join(varDir, 'logs/error'), 'a line written after the first backup\n');
  backup('second');
  const before = snapshotTree(target);
  const stale = sh(`${stream('second')} | ${restoreplan} apply ${q(planFile)} --yes --no-progress`);
  assert.is(stale.code, 3, `${tool}: another stream`);
  assert.match(
    stale.stderr,
    /^restoreplan: PLAN_STALE: stdin is not the stream the plan was made from/,
  );
  assert.equal(changedPaths(before, snapshotTree(target)), [], `${tool}: nothing written`);
  assert.not.ok(existsSync(`${planFile}.journal`), `${tool}: not even the journal`);

  const applied = sh(
    `${stream('first')} | ${restoreplan} apply ${q(planFile)} --yes --no-progress`,
  );
  assert.is(applied.code, 0, `${tool} apply: ${applied.stderr}`);
  assert.match(unwrapLines(applied.stdout), /Apply complete: 1 restored/);
  assert.equal(configOf(target), configOf(varDir), `${tool}: the config is the backup's`);
  const healed = doctor(target);
  assert.is(healed.code, 0, `${tool}: doctor after apply`);
  assert.ok(healed.json.lists.every((list) => list.status === 'ok'));

  // A saved copy of the first stream, given with --archive, is that stream too.
  const again = await brokenCopy(`${tool}-again`);
  const againPlan = path.join(scratch.dir, `${tool}-again.json`);
  const saved = path.join(scratch.dir, `${tool}-first.tar`);
  const savedRun = sh(save('first', saved));
  assert.is(savedRun.code, 0, savedRun.stderr);
  const replanned = sh(
    `${stream('first')} | ${restoreplan} plan - --target ${q(again)} --out ${q(againPlan)} --no-progress`,
  );
  assert.is(replanned.code, 0, replanned.stderr);
  const fromFile = sh(
    `${restoreplan} apply ${q(againPlan)} --yes --archive ${q(saved)} --no-progress < /dev/null`,
  );
  assert.is(fromFile.code, 0, `${tool} --archive: ${fromFile.stderr}`);
  assert.equal(configOf(again), configOf(varDir));
  return plan;
}

test('borg export-tar … - | restoreplan plan -, then | restoreplan apply --yes; another backup is PLAN_STALE; --archive saved.tar', async () => {
  const skip = why ?? missingNeeds({ tools: ['borg'] });
  if (skip) return console.log(`skipped: ${skip}`);
  const borgRepo = path.join(scratch.dir, 'borg-repo');
  const init = sh(`borg init --encryption=none ${q(borgRepo)}`);
  assert.is(init.code, 0, init.stderr);
  const plan = await replay(
    'borg',
    (name) => `borg export-tar ${q(`${borgRepo}::${name}`)} -`,
    (name, file) => `borg export-tar ${q(`${borgRepo}::${name}`)} ${q(file)}`,
    (name) => {
      // Relative to /: members are var/lib/mailman/…, as a backup of a server holds them.
      const created = sh(
        `cd ${q(root)} && borg create ${q(`${borgRepo}::${name}`)} var/lib/mailman`,
      );
      assert.is(created.code, 0, created.stderr);
    },
  );
  const [step] = plan.stages.flatMap((stage) => stage.steps);
  assert.is(step?.memberPath, `var/lib/mailman/lists/${BROKEN}/config.pck`);
  assert.is(plan.archive.compression, 'none');
});

test('restic dump SNAPSHOT /path | restoreplan plan -, then | restoreplan apply --yes; another snapshot is PLAN_STALE; --archive saved.tar', async () => {
  const skip = why ?? missingNeeds({ tools: ['restic'] });
  if (skip) return console.log(`skipped: ${skip}`);
  const resticRepo = path.join(scratch.dir, 'restic-repo');
  const init = sh(`restic init --quiet --repo ${q(resticRepo)}`);
  assert.is(init.code, 0, init.stderr);
  const ids = new Map<string, string>();
  const plan = await replay(
    'restic',
    (name) => `restic dump --quiet --repo ${q(resticRepo)} ${ids.get(name) ?? name} ${q(varDir)}`,
    (name, file) =>
      `restic dump --quiet --repo ${q(resticRepo)} ${ids.get(name) ?? name} ${q(varDir)} > ${q(file)}`,
    (name) => {
      const backedUp = sh(`restic backup --json --repo ${q(resticRepo)} ${q(varDir)}`);
      assert.is(backedUp.code, 0, backedUp.stderr);
      const summary = backedUp.stdout
        .split('\n')
        .filter((line) => line.includes('"snapshot_id"'))
        .map((line) => JSON.parse(line) as { snapshot_id: string })
        .at(-1);
      assert.ok(summary, `restic backup --json printed no summary: ${backedUp.stdout}`);
      ids.set(name, summary.snapshot_id);
    },
  );
  // restic names members by their whole path, without the leading '/': the Mailman var dir is
  // found under it (no --member-root needed).
  const [step] = plan.stages.flatMap((stage) => stage.steps);
  assert.is(step?.memberPath, `${varDir.slice(1)}/lists/${BROKEN}/config.pck`);
});

test.run();
