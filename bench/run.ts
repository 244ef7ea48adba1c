/**
 * `npm run bench`: restoreplan against GNU tar (and gzip) on the same archive in the same run,
 * reporting ratios against the goals of the issues. Wall time is the best of `--runs` runs after
 * one warm-up (the archive is in the page cache for both sides); peak RSS is GNU time's %M.
 * The archive is generated once into .bench-work/ (see bench/README.md).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateBenchArchive } from './generateBenchArchive.js';
import { benchConfigPickle } from './benchConfigPickle.js';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const work = path.join(root, '.bench-work');
const bin = path.join(root, 'dist/cli/bin.js');
const GENERATOR_VERSION = 4;

interface Args {
  runs: number;
  lists: number;
  postsPerList: number;
  only: string[] | null;
  write: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { runs: 3, lists: 60, postsPerList: 11_700, only: null, write: false };
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
    else throw new Error(`unknown argument ${flag}`);
  }
  return args;
}

interface Timing {
  seconds: number;
  maxRssKiB: number;
}

/** Runs a shell command under GNU time; stdout goes to /dev/null unless captured. */
function timeOnce(command: string): Timing {
  const result = spawnSync(
    '/usr/bin/time',
    ['-f', '%e %M', 'bash', '-c', `${command} > /dev/null`],
    { encoding: 'utf8' },
  );
  if (result.status !== 0) throw new Error(`${command} failed: ${result.stderr}`);
  const last = result.stderr.trim().split('\n').pop() ?? '';
  const [seconds, rss] = last.split(' ').map(Number);
  return { seconds: seconds ?? NaN, maxRssKiB: rss ?? NaN };
}

function timeBest(command: string, runs: number): Timing {
  timeOnce(command);
  let best: Timing = { seconds: Infinity, maxRssKiB: 0 };
  for (let i = 0; i < runs; i += 1) {
    const t = timeOnce(command);
    if (t.seconds < best.seconds)
      best = { seconds: t.seconds, maxRssKiB: Math.max(best.maxRssKiB, t.maxRssKiB) };
    else best.maxRssKiB = Math.max(best.maxRssKiB, t.maxRssKiB);
  }
  return best;
}

function ensureArchives(args: Args): {
  tar: string;
  gz: string;
  zst: string;
  members: number;
  lists: string[];
} {
  mkdirSync(work, { recursive: true });
  const tag = `mailman-${args.lists}x${args.postsPerList}-v${GENERATOR_VERSION}`;
  const tar = path.join(work, `${tag}.tar`);
  const meta = path.join(work, `${tag}.json`);
  if (!existsSync(tar) || !existsSync(meta)) {
    process.stderr.write(`bench: generating ${tar}\n`);
    const info = generateBenchArchive(tar, {
      lists: args.lists,
      postsPerList: args.postsPerList,
      seed: 42,
      configFor: benchConfigPickle,
    });
    const listed = spawnSync('bash', ['-c', `tar -tf '${tar}' | wc -l`], { encoding: 'utf8' });
    const counted = Number(listed.stdout.trim());
    if (counted !== info.members)
      throw new Error(`GNU tar lists ${counted} members, the generator wrote ${info.members}`);
    writeFileSync(meta, JSON.stringify(info));
  }
  const info = JSON.parse(readFileSync(meta, 'utf8')) as { members: number; lists: string[] };
  const gz = `${tar}.gz`;
  const zst = `${tar}.zst`;
  if (!existsSync(gz))
    spawnSync('bash', ['-c', `gzip -c '${tar}' > '${gz}'`], { stdio: 'inherit' });
  if (!existsSync(zst))
    spawnSync('zstd', ['-q', '-3', '-T0', '-f', tar, '-o', zst], { stdio: 'inherit' });
  return { tar, gz, zst, members: info.members, lists: info.lists };
}

/**
 * The restore of issue 6: 4 corrupt list configs repaired from the big archive. A live var dir
 * in .bench-work/live has every list, 4 of them zeroed; before every timed run the 4 are zeroed
 * again and the journal removed, so each run really restores (apply is idempotent otherwise).
 * The baseline extracts the same 4 members with GNU tar.
 */
function prepareApply(archives: { tar: string; lists: string[] }): Array<{
  key: string;
  name: string;
  ours: string;
  theirs: string;
  baseline: string;
  goal: number;
}> {
  const live = path.join(work, 'live');
  const out = path.join(work, 'tar-out');
  const broken = archives.lists.slice(0, 4);
  rmSync(live, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  for (const name of archives.lists) {
    const dir = path.join(live, 'lists', name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'config.pck'), benchConfigPickle(name));
    writeFileSync(path.join(dir, 'config.pck.last'), benchConfigPickle(name));
  }
  for (const sub of ['archives/private', 'archives/public', 'qfiles/in', 'data', 'locks', 'logs'])
    mkdirSync(path.join(live, sub), { recursive: true });
  const configs = broken.map((name) => path.join(live, 'lists', name, 'config.pck'));
  const zeroed = path.join(work, 'zeroed.pck');
  writeFileSync(zeroed, Buffer.alloc(benchConfigPickle(broken[0] ?? 'x').length));
  const breakAll = `for f in ${configs.map((c) => `'${c}'`).join(' ')}; do cp '${zeroed}' "$f"; cp '${zeroed}' "$f.last"; done`;
  const planFile = path.join(work, 'plan.json');
  const planCmd = `node '${bin}' plan --json --no-progress '${archives.tar}' --target '${live}' --out '${planFile}'`;
  spawnSync('bash', ['-c', `${breakAll}; ${planCmd}`], { stdio: 'ignore' });
  const apply = `rm -f '${planFile}.journal'; node '${bin}' apply --json --no-progress --yes '${planFile}'`;
  const members = broken.map((name) => `'var/lib/mailman/lists/${name}/config.pck'`).join(' ');
  const tarX = `tar -xf '${archives.tar}' -C '${out}' ${members}`;
  return [
    {
      key: 'apply',
      name: 'apply: restore 4 configs',
      ours: `${breakAll}; ${apply}`,
      theirs: `${breakAll}; ${tarX}`,
      baseline: 'tar -xf 4 members',
      goal: 0.2,
    },
    {
      key: 'plan+apply',
      name: 'plan + apply: 4 configs',
      ours: `${breakAll}; ${planCmd} && ${apply}`,
      theirs: `${breakAll}; ${tarX}`,
      baseline: 'tar -xf 4 members',
      goal: 1.0,
    },
  ];
}

interface Row {
  name: string;
  ours: Timing;
  theirs: Timing;
  baseline: string;
  goal: number;
}

function main(): void {
  const args = parseArgs(process.argv.slice(2));
  const archives = ensureArchives(args);
  const sizeMB = statSync(archives.tar).size / 1e6;
  const scan = (file: string): string => `node '${bin}' scan --json --no-progress '${file}'`;
  const cases: Array<{
    key: string;
    name: string;
    ours: string;
    theirs: string;
    baseline: string;
    goal: number;
  }> = [
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
  const applyCases = prepareApply(archives);
  cases.push(...applyCases);
  const rows: Row[] = [];
  for (const c of cases) {
    if (args.only && !args.only.includes(c.key)) continue;
    process.stderr.write(`bench: ${c.name}\n`);
    rows.push({
      name: c.name,
      ours: timeBest(c.ours, args.runs),
      theirs: timeBest(c.theirs, args.runs),
      baseline: c.baseline,
      goal: c.goal,
    });
  }
  const lines = [
    `Archive: ${archives.members.toLocaleString('en-US')} members, ${sizeMB.toFixed(0)} MB uncompressed; best of ${args.runs} runs after a warm-up; ${new Date().toISOString().slice(0, 10)}, node ${process.version}, ${spawnSync('nproc', { encoding: 'utf8' }).stdout.trim()} cores.`,
    '',
    '| case | restoreplan | baseline | ratio | goal | peak RSS (goal 200 MiB) | met |',
    '| --- | --- | --- | --- | --- | --- | --- |',
  ];
  let failed = 0;
  for (const row of rows) {
    const ratio = row.ours.seconds / row.theirs.seconds;
    const rss = row.ours.maxRssKiB / 1024;
    const ok = ratio <= row.goal && rss <= 200;
    if (!ok) failed += 1;
    lines.push(
      `| ${row.name} | ${row.ours.seconds.toFixed(2)} s | ${row.baseline}: ${row.theirs.seconds.toFixed(2)} s | ${ratio.toFixed(2)}× | ≤ ${row.goal}× | ${rss.toFixed(0)} MiB | ${ok ? 'yes' : 'no'} |`,
    );
  }
  const report = lines.join('\n');
  process.stdout.write(`${report}\n`);
  if (args.write)
    writeFileSync(path.join(root, 'bench/RESULTS.md'), `# Benchmark results\n\n${report}\n`);
  process.exitCode = failed > 0 ? 1 : 0;
}

main();
