/**
 * restic:SNAPSHOT and borg:REPO::ARCHIVE as the source of `check --profile mailman`, `plan` and
 * `apply` (issue 15, second part), with the real tools: a Mailman-shaped tree backed up by
 * restic and by borg (encrypted: the secret only in RESTIC_PASSWORD_FILE / BORG_PASSPHRASE), two
 * lists' config.pck (and .last) broken in a copy of it, then through the built CLI:
 *   - `check SOURCE --target COPY` judges the configs through the tool (the Mailman profile);
 *   - `plan SOURCE --target COPY` selects exactly the two broken configs;
 *   - `apply --yes` restores them byte-identical (sha256) to the originals; doctor: all ok;
 *   - a plan made before a new backup (restic: `restic:latest` is another snapshot now; borg:
 *     the archive name re-created) is PLAN_STALE with the copy untouched and no journal; for
 *     restic `--archive restic:<planned id>` then applies it;
 *   - no file written (plans, journals, anything else in the scratch dir but the repositories
 *     and the tools' own state) nor any output holds the secret;
 *   - how many times each command ran the tool (a logging wrapper first on PATH), and the time
 *     of `plan` against `restic dump` of the same two files.
 * Skipped, saying why, without a tool or dist/.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  appendFileSync,
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { breakMailmanTree } from '../../samples/breakMailmanTree.js';
import { generateMailmanTree } from '../../samples/generateMailmanTree.js';
import type { CheckResult, DoctorResult, PlanDocument } from '../../src/types.js';
import { makeBackupToolEnv, runBackupTool } from '../helpers/backupToolEnv.js';
import { makeScratch, missingNeeds, run } from '../helpers/env.js';
import { changedPaths, snapshotTree } from '../helpers/liveMailman.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const bin = path.join(repo, 'dist/cli/bin.js');
const why =
  missingNeeds({ tools: ['cp'] }) ?? (existsSync(bin) ? null : 'needs dist/ (npm run build)');

const LISTS = ['mailman', 'announce', 'users', 'devel'];
const BROKEN = ['announce', 'users'];
const SECRET = 'rp-apply-secret-9Wq';

const scratch = makeScratch('restoreplan-backup-apply-');
const varDir = path.join(scratch.dir, 'root/var/lib/mailman');
const wrappers = path.join(scratch.dir, 'bin');
const runLog = path.join(scratch.dir, 'tool-runs.log');
/** What the tools keep of their own (repositories, caches, keys): not restoreplan's writing. */
const TOOL_STATE = new Set(['restic-repo', 'borg-repo', 'restic-cache', 'borg-home', 'root']);
const { env, passwordFile, borgRepo } = makeBackupToolEnv(scratch.dir, SECRET, {
  PATH: `${wrappers}:${process.env.PATH ?? ''}`,
});

test.before(async () => {
  if (why) return;
  await generateMailmanTree(varDir, {
    lists: LISTS,
    members: 20,
    postsPerList: 6,
    queueFiles: 4,
    now: new Date(Date.now() - 86400_000),
  });
  writeFileSync(passwordFile, `${SECRET}\n`);
  // Each tool behind a wrapper that logs its subcommand: the runs per restoreplan command.
  mkdirSync(wrappers);
  for (const name of ['restic', 'borg']) {
    const real = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).stdout.trim();
    if (real === '') continue;
    const wrapper = path.join(wrappers, name);
    writeFileSync(wrapper, `#!/bin/sh\necho "${name} $*" >> '${runLog}'\nexec '${real}' "$@"\n`);
    chmodSync(wrapper, 0o755);
  }
});
test.after(() => scratch.cleanup());

const tool = (cmd: string, args: string[], cwd = scratch.dir): string =>
  runBackupTool(env, cmd, args, cwd);

const outputs: string[] = [];

function cli(args: string[]): {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
  runs: string[];
} {
  writeFileSync(runLog, '');
  const started = process.hrtime.bigint();
  const result = spawnSync(process.execPath, [bin, ...args], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    encoding: 'utf8',
    maxBuffer: 1 << 26,
  });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  outputs.push(result.stdout, result.stderr);
  const runs = readFileSync(runLog, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => line.split(' ').slice(0, 4).join(' '));
  return { code: result.status, stdout: result.stdout, stderr: result.stderr, ms, runs };
}

const sha256 = (file: string): string =>
  createHash('sha256').update(readFileSync(file)).digest('hex');

/** A copy of the var dir with BROKEN down (config.pck truncated, .last zeroed: no fallback). */
async function brokenCopy(name: string): Promise<string> {
  const target = path.join(scratch.dir, name);
  run('cp', ['-a', varDir, target]);
  await breakMailmanTree(
    target,
    BROKEN.flatMap((list) => [
      { list, shape: 'truncated' as const },
      { list, shape: 'zeroed' as const, file: 'config.pck.last' },
    ]),
  );
  return target;
}

function doctor(target: string): DoctorResult {
  const r = cli(['doctor', target, '--json']);
  return JSON.parse(r.stdout) as DoctorResult;
}

/** Every file under the scratch dir that restoreplan (or the test) wrote, tools' state aside. */
function writtenFiles(dir = scratch.dir, top = true): string[] {
  const found: string[] = [];
  for (const name of readdirSync(dir)) {
    if (top && TOOL_STATE.has(name)) continue;
    const file = path.join(dir, name);
    const stats = statSync(file, { throwIfNoEntry: false });
    if (!stats) continue;
    if (stats.isDirectory()) found.push(...writtenFiles(file, false));
    else if (stats.isFile() && file !== passwordFile) found.push(file);
  }
  return found;
}

interface Flavour {
  name: 'restic' | 'borg';
  backup(): void;
  /** The source a plan is made from (restic: `latest`, so a new snapshot makes it stale). */
  source(): string;
  /** A new backup that the planned source no longer resolves to. */
  rebackup(): void;
}

let resticIds: string[] = [];

const FLAVOURS: Flavour[] = [
  {
    name: 'restic',
    backup() {
      tool('restic', ['init', '--quiet']);
      this.rebackup();
    },
    source: () => 'restic:latest',
    rebackup() {
      const out = tool('restic', ['backup', '--json', '--host', 'h1', varDir]);
      const summary = out
        .split('\n')
        .filter((line) => line.includes('"snapshot_id"'))
        .map((line) => JSON.parse(line) as { snapshot_id: string })
        .at(-1);
      assert.ok(summary, out);
      resticIds.push(summary.snapshot_id);
    },
  },
  {
    name: 'borg',
    backup() {
      tool('borg', ['init', '--encryption=repokey', borgRepo]);
      tool('borg', ['create', `${borgRepo}::a1`, varDir]);
    },
    source: () => `borg:${borgRepo}::a1`,
    rebackup() {
      tool('borg', ['delete', `${borgRepo}::a1`]);
      tool('borg', ['create', `${borgRepo}::a1`, varDir]);
    },
  },
];

for (const flavour of FLAVOURS) {
  test(`${flavour.name}: check --profile mailman, plan and apply read the configs through the tool; a newer backup is PLAN_STALE; no secret written`, async () => {
    const skip = why ?? missingNeeds({ tools: [flavour.name] });
    if (skip) return void console.log(`skipped: ${skip}`);
    resticIds = [];
    flavour.backup();
    const source = flavour.source();
    const target = await brokenCopy(`${flavour.name}-live`);
    const originals = BROKEN.map((list) => sha256(path.join(varDir, `lists/${list}/config.pck`)));

    // check: the Mailman profile (the target is a var dir) judges the configs via the tool.
    const checked = cli(['check', source, '--target', target, '--json', '--no-progress']);
    assert.ok(checked.code !== null && checked.code <= 2, checked.stderr);
    const check = JSON.parse(checked.stdout) as CheckResult;
    assert.is(check.selection.files, BROKEN.length, 'the broken configs, judged from the backup');
    assert.is(check.selection.entries, BROKEN.length);

    // plan: exactly the two broken configs.
    const planFile = path.join(scratch.dir, `${flavour.name}-plan.json`);
    const planned = cli(['plan', source, '--target', target, '--out', planFile, '--no-progress']);
    assert.is(planned.code, 0, planned.stderr);
    const plan = JSON.parse(readFileSync(planFile, 'utf8')) as PlanDocument;
    assert.is(plan.archive.path, source);
    assert.match(plan.archive.fingerprint, new RegExp(`^${flavour.name}:[0-9a-f]{64}$`));
    // restic 0.14's backup --json gives the short id: the plan has the full one.
    if (flavour.name === 'restic')
      assert.ok(plan.archive.fingerprint.startsWith(`restic:${resticIds[0]}`));
    const steps = plan.stages.flatMap((stage) => stage.steps);
    assert.equal(
      steps.map((step) => step.targetPath).sort(),
      BROKEN.map((list) => path.join(target, `lists/${list}/config.pck`)).sort(),
      'the plan restores the broken configs only',
    );

    // apply: byte-identical to the originals, doctor all ok.
    const applied = cli(['apply', planFile, '--yes', '--no-progress']);
    assert.is(applied.code, 0, applied.stderr);
    assert.equal(
      BROKEN.map((list) => sha256(path.join(target, `lists/${list}/config.pck`))),
      originals,
    );
    const healed = doctor(target);
    assert.ok(
      healed.lists.every((list) => list.status === 'ok'),
      JSON.stringify(healed.lists.map((l) => [l.name, l.status])),
    );
    // One run reads the data of every member asked for: restic find + restore (or borg list
    // --json + list --json-lines + export-tar); apply: the id + the data, side by side.
    // (restic: when no scratch dir off the target is found — the temp dir is on it here, so
    // /dev/shm — one dump per file instead.)
    if (flavour.name === 'borg' || existsSync('/dev/shm')) {
      const listing = flavour.name === 'restic' ? 1 : 2;
      assert.is(checked.runs.length, listing + 1, checked.runs.join());
      assert.is(planned.runs.length, listing + 1, planned.runs.join());
      assert.is(applied.runs.length, 2, applied.runs.join());
    }
    console.log(
      `  ${flavour.name}: tool runs: check ${checked.runs.length} (${checked.runs.join(', ')}); plan ${planned.runs.length} (${planned.runs.join(', ')}); apply ${applied.runs.length} (${applied.runs.join(', ')}); plan ${planned.ms.toFixed(0)} ms, apply ${applied.ms.toFixed(0)} ms`,
    );

    // A plan made before a new backup: PLAN_STALE, nothing written, not even the journal.
    const second = await brokenCopy(`${flavour.name}-second`);
    const secondPlan = path.join(scratch.dir, `${flavour.name}-second.json`);
    const replanned = cli([
      'plan',
      source,
      '--target',
      second,
      '--out',
      secondPlan,
      '--no-progress',
    ]);
    assert.is(replanned.code, 0, replanned.stderr);
    appendFileSync(path.join(varDir, 'logs/error'), 'a line written after the plan\n');
    flavour.rebackup();
    const before = snapshotTree(second);
    const stale = cli(['apply', secondPlan, '--yes', '--no-progress']);
    assert.is(stale.code, 3, stale.stderr);
    assert.match(stale.stderr, /^restoreplan: PLAN_STALE: /);
    assert.equal(changedPaths(before, snapshotTree(second)), [], 'nothing written');
    assert.not.ok(existsSync(`${secondPlan}.journal`), 'not even the journal');
    if (flavour.name === 'restic') {
      // The planned snapshot, named by its id: that is the plan's.
      const byId = cli([
        'apply',
        secondPlan,
        '--yes',
        '--archive',
        `restic:${resticIds[0]}`,
        '--no-progress',
      ]);
      assert.is(byId.code, 0, byId.stderr);
      assert.equal(
        BROKEN.map((list) => sha256(path.join(second, `lists/${list}/config.pck`))),
        originals,
      );
      // The floor of apply: restic dump of the same files, one run each.
      const started = process.hrtime.bigint();
      for (const list of BROKEN)
        tool('restic', ['dump', resticIds[0]!, path.join(varDir, `lists/${list}/config.pck`)]);
      const dumpMs = Number(process.hrtime.bigint() - started) / 1e6;
      console.log(
        `  restic: plan ${planned.ms.toFixed(0)} ms, apply ${byId.ms.toFixed(0)} ms; restic dump of the ${BROKEN.length} files ${dumpMs.toFixed(0)} ms`,
      );
    }

    // No secret in anything restoreplan printed or wrote.
    for (const text of outputs) assert.not.ok(text.includes(SECRET), 'no secret in any output');
    const written = writtenFiles();
    assert.ok(
      written.includes(planFile) && written.includes(`${planFile}.journal`),
      written.join(),
    );
    for (const file of written)
      assert.not.ok(readFileSync(file).includes(SECRET), `no secret in ${file}`);
    // No scratch copy of a restic restore is left behind.
    assert.equal(
      readdirSync(process.env.TMPDIR ?? '/tmp').filter((n) => n.startsWith('restoreplan-restic-')),
      [],
    );
  });
}

test.run();
