/**
 * The cases of the bench, per archive shape. Every restoreplan command names its index: cold
 * runs pass `--no-index` (neither read nor written; it excludes `--index-dir`), warm and build
 * runs an `--index-dir` inside .bench-work, so the user's cache is never read or written.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Archives } from './archives.js';
import { benchConfigPickle } from './benchConfigPickle.js';
import { rp, sh, work, type Case } from './measure.js';
import { archiveOf, countIndexFiles, type Compression, type WarmIndex } from './warmIndex.js';

/** Every case key, in the order the table lists them (`--only` takes these). */
export const CASE_KEYS = [
  'tar',
  'gzip',
  'zstd',
  'stdin',
  'build-tar',
  'build-gzip',
  'warm-check',
  'warm-tar',
  'warm-gzip',
  'warm-zstd',
  'apply',
  'plan+apply',
  'restic-check',
  'restic-apply',
  'index-size',
] as const;
export type CaseKey = (typeof CASE_KEYS)[number];

const COLD = '--no-index';
const LABEL: Record<Compression, string> = { none: 'uncompressed', gzip: 'gzip', zstd: 'zstd' };

/** Cold scans against GNU tar (and gzip, whose decompression alone is the gzip baseline). */
export function coldScanCases(archives: Archives): Case[] {
  const scan = (file: string): string => rp(`scan --json ${COLD} '${file}'`);
  const scanCase = (
    key: CaseKey,
    file: string,
    baseline: string,
    theirs: string,
    goal: number,
  ) => ({
    key,
    name: `cold scan, ${key === 'tar' ? 'uncompressed' : key}`,
    ours: { command: scan(file) },
    theirs: { command: theirs },
    baseline,
    goal,
  });
  return [
    scanCase('tar', archives.tar, 'tar -tvf', `tar -tvf '${archives.tar}'`, 0.5),
    scanCase('gzip', archives.gz, 'gzip -dc', `gzip -dc '${archives.gz}'`, 1.1),
    scanCase('zstd', archives.zst, 'tar --zstd -tvf', `tar --zstd -tvf '${archives.zst}'`, 0.5),
    {
      key: 'stdin',
      name: 'cold scan, uncompressed on stdin',
      ours: { command: `${rp(`scan --json ${COLD} -`)} < '${archives.tar}'` },
      theirs: { command: `tar -tvf - < '${archives.tar}'` },
      baseline: 'tar -tvf -',
      goal: 1.0,
    },
  ];
}

/**
 * What leaving an index adds to a walk: restoreplan against itself, a scan into an index dir
 * emptied before every run (untimed) against the same scan with --no-index.
 */
export function buildCases(archives: Archives): Case[] {
  const one = (key: CaseKey, compression: Compression): Case => {
    const file = archiveOf(archives, compression);
    const dir = path.join(work, `index-build-${archives.shape}`);
    return {
      key,
      name: `index build, ${LABEL[compression]}`,
      ours: {
        prepare: `rm -rf '${dir}'`,
        command: rp(`scan --json --index-dir '${dir}' '${file}'`),
        check: () => {
          if (countIndexFiles(dir) !== 1) throw new Error(`scan left no index in ${dir}`);
        },
      },
      theirs: { command: rp(`scan --json ${COLD} '${file}'`) },
      baseline: 'scan --no-index',
      goal: 1.1,
    };
  };
  return [one('build-tar', 'none'), one('build-gzip', 'gzip')];
}

interface PlanDocument {
  lists?: Array<{ name: string; action: string }>;
  stages?: Array<{ steps?: Array<{ memberPath?: string }> }>;
}

/** What a plan document restores: the lists it marks for restore and the members it writes. */
function planned(planFile: string): { lists: string[]; members: string[] } {
  const plan = JSON.parse(readFileSync(planFile, 'utf8')) as PlanDocument;
  const lists = (plan.lists ?? []).filter((l) => l.action === 'restore').map((l) => l.name);
  const members = (plan.stages ?? []).flatMap((stage) =>
    (stage.steps ?? []).map((step) => step.memberPath ?? ''),
  );
  return { lists: lists.sort(), members: members.sort() };
}

/**
 * The restore of issue 6, the same on both shapes: a live var dir (.bench-work/live-SHAPE)
 * with every list of the archive holding a valid config.pck and config.pck.last, of which the
 * first 4 lists are broken (both files zeroed) before every run of restoreplan, so each run
 * really restores (apply is idempotent otherwise). GNU tar extracts the same 4 members into
 * .bench-work/tar-out-SHAPE.
 */
export interface Live {
  shape: string;
  dir: string;
  out: string;
  memberPaths: string[];
  /** Shell that zeroes the 4 broken lists' config.pck and config.pck.last. */
  breakAll: string;
  /** Throws unless `planFile` restores exactly the 4 broken configs. */
  checkPlan: (planFile: string) => void;
  /** Throws unless restoreplan restored the 4 configs into the live dir. */
  checkRestored: () => void;
  /** Throws unless GNU tar extracted the 4 configs; then zeroes them for the next case's check. */
  checkExtracted: () => void;
}

export function setUpLive(archives: Archives): Live {
  const dir = path.join(work, `live-${archives.shape}`);
  const out = path.join(work, `tar-out-${archives.shape}`);
  const broken = archives.lists.slice(0, 4);
  if (broken.length < 4) throw new Error('the apply cases need at least 4 lists');
  rmSync(dir, { recursive: true, force: true });
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  for (const name of archives.lists) {
    const listDir = path.join(dir, 'lists', name);
    mkdirSync(listDir, { recursive: true });
    writeFileSync(path.join(listDir, 'config.pck'), benchConfigPickle(name));
    writeFileSync(path.join(listDir, 'config.pck.last'), benchConfigPickle(name));
  }
  for (const sub of ['archives/private', 'archives/public', 'qfiles/in', 'data', 'locks', 'logs'])
    mkdirSync(path.join(dir, sub), { recursive: true });
  const memberPaths = broken.map((name) => `var/lib/mailman/lists/${name}/config.pck`);
  const configs = broken.map((name) => path.join(dir, 'lists', name, 'config.pck'));
  const zeroed = path.join(work, 'zeroed.pck');
  writeFileSync(zeroed, Buffer.alloc(benchConfigPickle(broken[0] ?? 'x').length));
  const restored = (label: string, files: string[]): void => {
    for (const [i, name] of broken.entries()) {
      const file = files[i] ?? '';
      if (!readFileSync(file).equals(benchConfigPickle(name)))
        throw new Error(`${label}: ${file} was not restored`);
    }
  };
  const outFiles = memberPaths.map((m) => path.join(out, m));
  return {
    shape: archives.shape,
    dir,
    out,
    memberPaths,
    breakAll: `for f in ${configs.map((c) => `'${c}'`).join(' ')}; do cp '${zeroed}' "$f"; cp '${zeroed}' "$f.last"; done`,
    checkPlan: (planFile) => {
      const plan = planned(planFile);
      if (
        JSON.stringify(plan.lists) !== JSON.stringify([...broken].sort()) ||
        JSON.stringify(plan.members) !== JSON.stringify([...memberPaths].sort())
      )
        throw new Error(
          `${planFile} restores lists ${plan.lists.join(', ')} (${plan.members.join(', ')}), not the 4 broken configs`,
        );
    },
    checkRestored: () => restored('restoreplan apply', configs),
    checkExtracted: () => {
      restored('tar -x', outFiles);
      for (const file of outFiles) writeFileSync(file, readFileSync(zeroed));
    },
  };
}

/** GNU tar extracting the 4 members, the baseline of every apply case. */
function tarExtract(live: Live, archive: string, flags: string): string {
  return `tar ${flags} '${archive}' -C '${live.out}' ${live.memberPaths.map((m) => `'${m}'`).join(' ')}`;
}

const TAR_X: Record<Compression, string> = { none: '-xf', gzip: '-xzf', zstd: '--zstd -xf' };

interface PlanApply {
  plan: string;
  apply: string;
  planFile: string;
}

/** plan into a file, then apply it, with the given index flag. */
function planApply(live: Live, archive: string, index: string, tag: string): PlanApply {
  const planFile = path.join(work, `plan-${live.shape}-${tag}.json`);
  return {
    planFile,
    plan: rp(`plan --json ${index} '${archive}' --target '${live.dir}' --out '${planFile}'`),
    apply: rp(`apply --json --yes ${index} '${planFile}'`),
  };
}

/** Zero the 4 configs and drop apply's journal (else a second run resumes and does nothing). */
function resetFor(live: Live, planFile: string): string {
  return `${live.breakAll}; rm -f '${planFile}.journal'`;
}

/** Cold apply alone (its plan made beforehand) and cold plan + apply, against `tar -xf`. */
export function coldApplyCases(archives: Archives, live: Live): Case[] {
  const theirs = {
    command: tarExtract(live, archives.tar, TAR_X.none),
    check: live.checkExtracted,
  };
  const cold = planApply(live, archives.tar, COLD, 'cold');
  return [
    {
      key: 'apply',
      name: 'cold apply: restore 4 configs',
      setup: () => {
        sh(`${live.breakAll}; ${cold.plan}`);
        live.checkPlan(cold.planFile);
      },
      ours: {
        prepare: resetFor(live, cold.planFile),
        command: cold.apply,
        check: live.checkRestored,
      },
      theirs,
      baseline: 'tar -xf 4 members',
      goal: 0.2,
    },
    {
      key: 'plan+apply',
      name: 'cold plan + apply: 4 configs',
      ours: {
        prepare: resetFor(live, cold.planFile),
        command: `${cold.plan} && ${cold.apply}`,
        check: () => {
          live.checkPlan(cold.planFile);
          live.checkRestored();
        },
      },
      theirs,
      baseline: 'tar -xf 4 members',
      goal: 1.0,
    },
  ];
}

/** Warm plan + apply of the 4 configs from each archive, against GNU tar extracting them. */
export function warmApplyCases(archives: Archives, live: Live, warm: WarmIndex): Case[] {
  const one = (key: CaseKey, compression: Compression, goal: number): Case => {
    const archive = archiveOf(archives, compression);
    const run = planApply(live, archive, `--index-dir '${warm.dir}'`, `warm-${compression}`);
    return {
      key,
      name: `warm plan + apply: 4 configs, ${LABEL[compression]}`,
      ours: {
        prepare: resetFor(live, run.planFile),
        command: `${run.plan} && ${run.apply}`,
        check: () => {
          live.checkPlan(run.planFile);
          live.checkRestored();
          warm.assertUntouched();
        },
      },
      theirs: {
        command: tarExtract(live, archive, TAR_X[compression]),
        check: live.checkExtracted,
      },
      baseline: `tar ${TAR_X[compression]} 4 members`,
      goal,
    };
  };
  return [
    one('warm-tar', 'none', 0.4),
    one('warm-gzip', 'gzip', 0.1),
    one('warm-zstd', 'zstd', 0.1),
  ];
}

/**
 * The monitoring check of the runbook, warm, on the .tar.gz, against listing it with GNU tar.
 * Exit 0, 1 and 2 are verdicts (the 4 broken lists make a selection, whatever the free space
 * says), only 3 is a failure; the 4 are broken before each run so the selection is never empty.
 */
export function warmCheckCase(archives: Archives, live: Live, warm: WarmIndex): Case {
  const check = rp(
    `check --profile mailman --nagios --index-dir '${warm.dir}' '${archives.gz}' --target '${live.dir}'`,
  );
  return {
    key: 'warm-check',
    name: 'warm check --nagios, gzip',
    ours: {
      prepare: live.breakAll,
      command: `${check}; test $? -le 2`,
      check: warm.assertUntouched,
    },
    theirs: { command: `tar -tzf '${archives.gz}'` },
    baseline: 'tar -tzf',
    goal: 0.1,
  };
}
