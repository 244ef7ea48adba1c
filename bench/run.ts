/**
 * `npm run bench`: restoreplan against GNU tar (and gzip) on the same archive in the same run,
 * on two archive shapes (few large lists; many lists with tens of thousands of directories),
 * reporting ratios against the goals of the issues.
 *
 * Method (see bench/README.md): for each case, one warm-up of each side, then `--runs` rounds;
 * a round times restoreplan and the baseline back to back, in alternating order (A,B then B,A,
 * to cancel drift), and yields one ratio. The reported ratio is the median of those ratios;
 * the median seconds of each side are given for context; peak RSS is the largest GNU time %M
 * over the rounds. Wall time is measured by bash's `time` (1 ms resolution) around the command.
 * Archives are generated once per shape into .bench-work/, keyed by the generator's version.
 */
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { loadavg } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as prettier from 'prettier';
import {
  BENCH_SHAPES,
  GENERATOR_VERSION,
  generateBenchArchive,
  type BenchShapeName,
} from './generateBenchArchive.js';
import { benchConfigPickle } from './benchConfigPickle.js';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const work = path.join(root, '.bench-work');
const bin = path.join(root, 'dist/cli/bin.js');
const CASE_KEYS = ['tar', 'gzip', 'zstd', 'stdin', 'apply', 'plan+apply'];
const SHAPE_LABEL: Record<BenchShapeName, string> = { few: 'few lists', many: 'many lists' };
const RSS_GOAL_MIB = 200;

interface Args {
  runs: number;
  shapes: BenchShapeName[];
  lists: number | undefined;
  postsPerList: number | undefined;
  only: string[] | null;
  write: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = {
    runs: 7,
    shapes: ['few', 'many'],
    lists: undefined,
    postsPerList: undefined,
    only: null,
    write: false,
  };
  for (let i = 0; i < argv.length; i += 1) {
    const flag = argv[i];
    if (flag === '--write') {
      args.write = true;
      continue;
    }
    const value = argv[(i += 1)];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    if (flag === '--runs') args.runs = Number(value);
    else if (flag === '--lists') args.lists = Number(value);
    else if (flag === '--posts') args.postsPerList = Number(value);
    else if (flag === '--only') args.only = value.split(',');
    else if (flag === '--shape') {
      if (value === 'both') args.shapes = ['few', 'many'];
      else if (value === 'few' || value === 'many') args.shapes = [value];
      else throw new Error(`--shape is few, many or both, not ${value}`);
    } else throw new Error(`unknown argument ${flag}`);
  }
  if (!Number.isInteger(args.runs) || args.runs < 1) throw new Error('--runs needs a count ≥ 1');
  if (
    args.write &&
    (args.only ||
      args.shapes.length < 2 ||
      args.lists !== undefined ||
      args.postsPerList !== undefined)
  )
    throw new Error('--write records a full run only: no --only, --shape, --lists or --posts');
  for (const key of args.only ?? [])
    if (!CASE_KEYS.includes(key)) throw new Error(`--only: unknown case ${key}`);
  return args;
}

interface Timing {
  seconds: number;
  maxRssKiB: number;
}

/**
 * Runs a shell command once: wall seconds from bash's `time` keyword around it (stdout to
 * /dev/null), peak RSS of the largest process in the tree from GNU time's %M.
 */
function timeOnce(command: string): Timing {
  const script = `TIMEFORMAT=%3R; time { { ${command}; } > /dev/null; }`;
  const result = spawnSync('/usr/bin/time', ['-f', '%M', 'bash', '-c', script], {
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`${command} failed: ${result.stderr}`);
  const lines = result.stderr.trim().split('\n');
  const rss = Number(lines.at(-1));
  const seconds = Number(lines.at(-2));
  if (!Number.isFinite(rss) || !Number.isFinite(seconds))
    throw new Error(`${command}: cannot read the timing from ${result.stderr}`);
  return { seconds, maxRssKiB: rss };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] ?? NaN)
    : ((sorted[mid - 1] ?? NaN) + (sorted[mid] ?? NaN)) / 2;
}

interface Case {
  key: string;
  name: string;
  ours: string;
  theirs: string;
  baseline: string;
  goal: number;
  /** Throw unless that side's warm-up really did the work (apply: the 4 configs restored). */
  checkOurs?: () => void;
  checkTheirs?: () => void;
}

interface Measured {
  ratio: number;
  ratioMin: number;
  ratioMax: number;
  ours: number;
  theirs: number;
  maxRssKiB: number;
}

/** One warm-up of each side, then `runs` rounds alternating which side goes first. */
function measure(c: Case, runs: number): Measured {
  timeOnce(c.ours);
  c.checkOurs?.();
  timeOnce(c.theirs);
  c.checkTheirs?.();
  const ratios: number[] = [];
  const ours: number[] = [];
  const theirs: number[] = [];
  let maxRssKiB = 0;
  for (let round = 0; round < runs; round += 1) {
    let a: Timing;
    let b: Timing;
    if (round % 2 === 0) {
      a = timeOnce(c.ours);
      b = timeOnce(c.theirs);
    } else {
      b = timeOnce(c.theirs);
      a = timeOnce(c.ours);
    }
    ratios.push(a.seconds / b.seconds);
    ours.push(a.seconds);
    theirs.push(b.seconds);
    maxRssKiB = Math.max(maxRssKiB, a.maxRssKiB);
  }
  return {
    ratio: median(ratios),
    ratioMin: Math.min(...ratios),
    ratioMax: Math.max(...ratios),
    ours: median(ours),
    theirs: median(theirs),
    maxRssKiB,
  };
}

function sh(command: string): void {
  const result = spawnSync('bash', ['-c', command], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (result.status !== 0) throw new Error(`${command} failed`);
}

interface Archives {
  shape: BenchShapeName;
  tar: string;
  gz: string;
  zst: string;
  members: number;
  directories: number;
  lists: string[];
}

/** Removes cached archives that an older (or other) generator version wrote. */
function pruneStale(): void {
  for (const name of readdirSync(work))
    if (name.startsWith('mailman-') && !name.includes(`-v${GENERATOR_VERSION}.`))
      rmSync(path.join(work, name), { force: true });
}

function ensureArchives(shape: BenchShapeName, args: Args): Archives {
  mkdirSync(work, { recursive: true });
  pruneStale();
  const lists = args.lists ?? BENCH_SHAPES[shape].lists;
  const posts = args.postsPerList ?? BENCH_SHAPES[shape].postsPerList;
  const tag = `mailman-${shape}-${lists}x${posts}-v${GENERATOR_VERSION}`;
  const tar = path.join(work, `${tag}.tar`);
  const meta = path.join(work, `${tag}.json`);
  const gz = `${tar}.gz`;
  const zst = `${tar}.zst`;
  if (!existsSync(tar) || !existsSync(meta)) {
    process.stderr.write(`bench: generating ${tar}\n`);
    rmSync(meta, { force: true });
    rmSync(gz, { force: true });
    rmSync(zst, { force: true });
    const info = generateBenchArchive(tar, {
      shape,
      lists,
      postsPerList: posts,
      seed: 42,
      configFor: benchConfigPickle,
    });
    const listed = spawnSync('bash', ['-c', `tar -tf '${tar}' | wc -l`], { encoding: 'utf8' });
    const counted = Number(listed.stdout.trim());
    if (counted !== info.members)
      throw new Error(`GNU tar lists ${counted} members, the generator wrote ${info.members}`);
    writeFileSync(meta, JSON.stringify(info));
  }
  const info = JSON.parse(readFileSync(meta, 'utf8')) as {
    members: number;
    directories: number;
    lists: string[];
  };
  // Written to a temporary name first, so an interrupted run leaves no truncated cache.
  if (!existsSync(gz)) {
    process.stderr.write(`bench: compressing ${gz}\n`);
    sh(`gzip -c '${tar}' > '${gz}.tmp'`);
    renameSync(`${gz}.tmp`, gz);
  }
  if (!existsSync(zst)) {
    process.stderr.write(`bench: compressing ${zst}\n`);
    sh(`zstd -q -3 -T0 -f '${tar}' -o '${zst}.tmp'`);
    renameSync(`${zst}.tmp`, zst);
  }
  return { shape, tar, gz, zst, ...info };
}

function scanCases(archives: Archives): Case[] {
  const scan = (file: string): string => `node '${bin}' scan --json --no-progress '${file}'`;
  return [
    {
      key: 'tar',
      name: 'scan, uncompressed',
      ours: scan(archives.tar),
      theirs: `tar -tvf '${archives.tar}'`,
      baseline: 'tar -tvf',
      goal: 0.5,
    },
    {
      key: 'gzip',
      name: 'scan, gzip',
      ours: scan(archives.gz),
      theirs: `gzip -dc '${archives.gz}'`,
      baseline: 'gzip -dc',
      goal: 1.1,
    },
    {
      key: 'zstd',
      name: 'scan, zstd',
      ours: scan(archives.zst),
      theirs: `tar --zstd -tvf '${archives.zst}'`,
      baseline: 'tar --zstd -tvf',
      goal: 0.5,
    },
    {
      key: 'stdin',
      name: 'scan, uncompressed on stdin',
      ours: `node '${bin}' scan --json --no-progress - < '${archives.tar}'`,
      theirs: `tar -tvf - < '${archives.tar}'`,
      baseline: 'tar -tvf -',
      goal: 1.0,
    },
  ];
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
 * The restore of issue 6: 4 corrupt list configs repaired from the big archive, the same on
 * both shapes. A live var dir in .bench-work/live-SHAPE has every list of the archive with a
 * valid config.pck and config.pck.last, and the first 4 lists zeroed (both files); before every
 * timed run the 4 are zeroed again and the journal removed, so each run really restores (apply
 * is idempotent otherwise). The baseline extracts the same 4 members with GNU tar. The plan is
 * checked to restore exactly those 4 config.pck, and each warm-up to have restored them.
 */
function applyCases(archives: Archives): Case[] {
  const live = path.join(work, `live-${archives.shape}`);
  const out = path.join(work, `tar-out-${archives.shape}`);
  const broken = archives.lists.slice(0, 4);
  if (broken.length < 4) throw new Error('the apply cases need at least 4 lists');
  rmSync(live, { recursive: true, force: true });
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  for (const name of archives.lists) {
    const dir = path.join(live, 'lists', name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'config.pck'), benchConfigPickle(name));
    writeFileSync(path.join(dir, 'config.pck.last'), benchConfigPickle(name));
  }
  for (const sub of ['archives/private', 'archives/public', 'qfiles/in', 'data', 'locks', 'logs'])
    mkdirSync(path.join(live, sub), { recursive: true });
  const memberPaths = broken.map((name) => `var/lib/mailman/lists/${name}/config.pck`);
  const configs = broken.map((name) => path.join(live, 'lists', name, 'config.pck'));
  const zeroed = path.join(work, 'zeroed.pck');
  writeFileSync(zeroed, Buffer.alloc(benchConfigPickle(broken[0] ?? 'x').length));
  const breakAll = `for f in ${configs.map((c) => `'${c}'`).join(' ')}; do cp '${zeroed}' "$f"; cp '${zeroed}' "$f.last"; done`;
  const planFile = path.join(work, `plan-${archives.shape}.json`);
  const planCmd = `node '${bin}' plan --json --no-progress '${archives.tar}' --target '${live}' --out '${planFile}'`;
  rmSync(planFile, { force: true });
  sh(`${breakAll}; ${planCmd}`);
  const plan = planned(planFile);
  if (
    JSON.stringify(plan.lists) !== JSON.stringify([...broken].sort()) ||
    JSON.stringify(plan.members) !== JSON.stringify([...memberPaths].sort())
  )
    throw new Error(
      `the plan restores lists ${plan.lists.join(', ')} (${plan.members.join(', ')}), not the 4 broken configs`,
    );
  const outFiles = memberPaths.map((m) => path.join(out, m));
  const restored = (label: string, files: string[]): void => {
    for (const [i, name] of broken.entries()) {
      const file = files[i] ?? '';
      if (!readFileSync(file).equals(benchConfigPickle(name)))
        throw new Error(`${label}: ${file} was not restored`);
    }
  };
  const checkOurs = (): void => restored('restoreplan apply', configs);
  // Zeroed again after the check, so the next case's check sees its own extraction.
  const checkTheirs = (): void => {
    restored('tar -xf', outFiles);
    for (const file of outFiles) writeFileSync(file, readFileSync(zeroed));
  };
  const apply = `rm -f '${planFile}.journal'; node '${bin}' apply --json --no-progress --yes '${planFile}'`;
  const tarX = `tar -xf '${archives.tar}' -C '${out}' ${memberPaths.map((m) => `'${m}'`).join(' ')}`;
  return [
    {
      key: 'apply',
      name: 'apply: restore 4 configs',
      ours: `${breakAll}; ${apply}`,
      theirs: `${breakAll}; ${tarX}`,
      baseline: 'tar -xf 4 members',
      goal: 0.2,
      checkOurs,
      checkTheirs,
    },
    {
      key: 'plan+apply',
      name: 'plan + apply: 4 configs',
      ours: `${breakAll}; ${planCmd} && ${apply}`,
      theirs: `${breakAll}; ${tarX}`,
      baseline: 'tar -xf 4 members',
      goal: 1.0,
      checkOurs,
      checkTheirs,
    },
  ];
}

interface Row {
  shape: BenchShapeName;
  c: Case;
  m: Measured;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const started = Date.now();
  const load = loadavg()[0] ?? 0;
  const wanted = (key: string): boolean => !args.only || args.only.includes(key);
  const rows: Row[] = [];
  const archiveLines: string[] = [];
  let generating = 0;
  for (const shape of args.shapes) {
    const before = Date.now();
    const archives = ensureArchives(shape, args);
    generating += Date.now() - before;
    const sizeMB = statSync(archives.tar).size / 1e6;
    archiveLines.push(
      `- **${SHAPE_LABEL[shape]}** (\`--shape ${shape}\`): ${archives.lists.length} lists, ${archives.members.toLocaleString('en-US')} members, ${archives.directories.toLocaleString('en-US')} directories, ${sizeMB.toFixed(0)} MB uncompressed.`,
    );
    const cases = scanCases(archives).filter((c) => wanted(c.key));
    if (wanted('apply') || wanted('plan+apply'))
      cases.push(...applyCases(archives).filter((c) => wanted(c.key)));
    for (const c of cases) {
      process.stderr.write(`bench: ${shape}: ${c.name}\n`);
      rows.push({ shape, c, m: measure(c, args.runs) });
    }
  }
  const minutes = (Date.now() - started - generating) / 60_000;
  const generated =
    generating > 1000
      ? `, plus ${(generating / 60_000).toFixed(1)} min generating the archives`
      : '';
  const cores = spawnSync('nproc', { encoding: 'utf8' }).stdout.trim();
  const lines = [
    `Measured ${new Date().toISOString().slice(0, 10)}, node ${process.version}, ${cores} cores (load average ${load.toFixed(1)} at the start); the timed cases took ${minutes.toFixed(1)} min${generated}.`,
    '',
    ...archiveLines,
    '',
    `Each case: one warm-up of each side, then ${args.runs} rounds timing restoreplan and the baseline back to back, the order alternated every round; **ratio** is the median of the ${args.runs} per-round ratios (range: smallest–largest), the seconds are each side's median; peak RSS is restoreplan's largest over the rounds.`,
    '',
    `| shape | case | restoreplan | baseline | ratio | range | goal | peak RSS (goal ${RSS_GOAL_MIB} MiB) | met |`,
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  let failed = 0;
  for (const { shape, c, m } of rows) {
    const rss = m.maxRssKiB / 1024;
    const ok = m.ratio <= c.goal && rss <= RSS_GOAL_MIB;
    if (!ok) failed += 1;
    lines.push(
      `| ${shape} | ${c.name} | ${m.ours.toFixed(2)} s | ${c.baseline}: ${m.theirs.toFixed(2)} s | ${m.ratio.toFixed(2)}× | ${m.ratioMin.toFixed(2)}–${m.ratioMax.toFixed(2)} | ≤ ${c.goal}× | ${rss.toFixed(0)} MiB | ${ok ? 'yes' : 'no'} |`,
    );
  }
  const file = path.join(root, 'bench/RESULTS.md');
  const report = await prettier.format(lines.join('\n'), {
    ...(await prettier.resolveConfig(file)),
    parser: 'markdown',
  });
  process.stdout.write(report);
  if (args.write) {
    const config = await prettier.resolveConfig(file);
    const document = `# Benchmark results\n\nWritten by \`npm run bench -- --write\`; the method is in [README.md](README.md).\n\n${report}`;
    writeFileSync(file, await prettier.format(document, { ...config, filepath: file }));
  }
  process.exitCode = failed > 0 ? 1 : 0;
}

await main();
