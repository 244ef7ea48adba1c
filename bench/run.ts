/**
 * `npm run bench`: restoreplan against GNU tar (and gzip) on the same archive in the same run,
 * on two archive shapes (few large lists; many lists with tens of thousands of directories),
 * reporting ratios against the goals of the issues: cold (no index), warm (an index built
 * beforehand), and what building the index adds to a walk; plus the size of each index.
 *
 * Method (see bench/README.md): for each case, one warm-up of each side, then `--runs` rounds;
 * a round times restoreplan and the baseline back to back, in alternating order (A,B then B,A,
 * to cancel drift), and yields one ratio. The reported ratio is the median of those ratios;
 * the median seconds of each side are given for context; peak RSS is the largest GNU time %M
 * over the rounds. Wall time is measured by bash's `time` (1 ms resolution) around the command.
 * Archives are generated once per shape into .bench-work/, keyed by the generator's version.
 */
import { spawnSync } from 'node:child_process';
import { statSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import path from 'node:path';
import * as prettier from 'prettier';
import { ensureArchives } from './archives.js';
import {
  buildCases,
  CASE_KEYS,
  coldApplyCases,
  coldScanCases,
  setUpLive,
  warmApplyCases,
  warmCheckCase,
  type CaseKey,
} from './cases.js';
import type { BenchShapeName } from './generateBenchArchive.js';
import { measure, root, type Case, type Measured } from './measure.js';
import { resticCases } from './resticCases.js';
import { ensureResticRepo } from './resticRepo.js';
import { buildWarmIndex, type IndexSize } from './warmIndex.js';

const SHAPE_LABEL: Record<BenchShapeName, string> = { few: 'few lists', many: 'many lists' };
const RSS_GOAL_MIB = 200;
/** Goal of issue 13: an index at most this share of the uncompressed archive. */
const INDEX_SHARE_GOAL = 0.05;
const WARM_KEYS: readonly CaseKey[] = ['warm-check', 'warm-tar', 'warm-gzip', 'warm-zstd'];
const RESTIC_KEYS: readonly CaseKey[] = ['restic-check', 'restic-apply'];
const LIVE_KEYS: readonly CaseKey[] = [...WARM_KEYS, ...RESTIC_KEYS, 'apply', 'plan+apply'];

interface Args {
  runs: number;
  shapes: BenchShapeName[];
  lists: number | undefined;
  postsPerList: number | undefined;
  only: CaseKey[] | null;
  write: boolean;
}

function isCaseKey(key: string): key is CaseKey {
  return (CASE_KEYS as readonly string[]).includes(key);
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
    else if (flag === '--only') {
      const keys = value.split(',');
      const unknown = keys.filter((key) => !isCaseKey(key));
      if (unknown.length > 0)
        throw new Error(
          `--only: unknown case ${unknown.join(', ')} (cases: ${CASE_KEYS.join(', ')})`,
        );
      args.only = keys.filter(isCaseKey);
    } else if (flag === '--shape') {
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
  return args;
}

interface Row {
  shape: BenchShapeName;
  c: Case;
  m: Measured;
}

interface SizeRow {
  shape: BenchShapeName;
  size: IndexSize;
}

interface ShapeResult {
  rows: Row[];
  sizes: SizeRow[];
  archiveLine: string;
}

/**
 * One shape: its archives, then the state the wanted cases need (the warm index, the live var
 * dir), then every wanted case in the order of CASE_KEYS.
 */
function runShape(
  shape: BenchShapeName,
  args: Args,
  onGenerated: (ms: number) => void,
): ShapeResult {
  const wanted = (key: CaseKey): boolean => !args.only || args.only.includes(key);
  const before = Date.now();
  const archives = ensureArchives(shape, args);
  const restic = RESTIC_KEYS.some(wanted) ? ensureResticRepo(archives) : null;
  onGenerated(Date.now() - before);
  const sizeMB = statSync(archives.tar).size / 1e6;
  const archiveLine = `- **${SHAPE_LABEL[shape]}** (\`--shape ${shape}\`): ${archives.lists.length} lists, ${archives.members.toLocaleString('en-US')} members, ${archives.directories.toLocaleString('en-US')} directories, ${sizeMB.toFixed(0)} MB uncompressed.`;
  const cases: Case[] = [...coldScanCases(archives), ...buildCases(archives)];
  const warm = [...WARM_KEYS, 'index-size' as const].some(wanted) ? buildWarmIndex(archives) : null;
  if (LIVE_KEYS.some(wanted)) {
    const live = setUpLive(archives);
    cases.push(...coldApplyCases(archives, live));
    if (warm)
      cases.push(warmCheckCase(archives, live, warm), ...warmApplyCases(archives, live, warm));
    if (restic) cases.push(...resticCases(live, restic));
  }
  const order = (c: Case): number => (CASE_KEYS as readonly string[]).indexOf(c.key);
  const rows: Row[] = [];
  for (const c of cases
    .filter((c) => isCaseKey(c.key) && wanted(c.key))
    .sort((a, b) => order(a) - order(b))) {
    process.stderr.write(`bench: ${shape}: ${c.name}\n`);
    rows.push({ shape, c, m: measure(c, args.runs) });
  }
  const sizes = warm && wanted('index-size') ? warm.sizes.map((size) => ({ shape, size })) : [];
  return { rows, sizes, archiveLine };
}

function caseTable(rows: Row[]): { lines: string[]; failed: number } {
  const lines = [
    `| shape | case | restoreplan | baseline | ratio | range | goal | peak RSS (goal ${RSS_GOAL_MIB} MiB) | met |`,
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  let failed = 0;
  for (const { shape, c, m } of rows) {
    const rss = m.maxRssKiB / 1024;
    const ok = m.ratio <= c.goal && (c.rssOfTool !== undefined || rss <= RSS_GOAL_MIB);
    if (!ok) failed += 1;
    const rssText = c.rssOfTool
      ? `${rss.toFixed(0)} MiB, ${c.rssOfTool}'s own (baseline ${(m.theirsMaxRssKiB / 1024).toFixed(0)} MiB)`
      : `${rss.toFixed(0)} MiB`;
    lines.push(
      `| ${shape} | ${c.name} | ${m.ours.toFixed(2)} s | ${c.baseline}: ${m.theirs.toFixed(2)} s | ${m.ratio.toFixed(2)}× | ${m.ratioMin.toFixed(2)}–${m.ratioMax.toFixed(2)} | ≤ ${c.goal}× | ${rssText} | ${ok ? 'yes' : 'no'} |`,
    );
  }
  return { lines, failed };
}

function sizeTable(rows: SizeRow[]): { lines: string[]; failed: number } {
  if (rows.length === 0) return { lines: [], failed: 0 };
  const lines = [
    'Index size: the file `restoreplan index` leaves for each archive, as a share of the uncompressed archive (not timed).',
    '',
    `| shape | archive | members | access points | index | share of the uncompressed archive | goal | met |`,
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  let failed = 0;
  for (const { shape, size } of rows) {
    const share = size.bytes / size.archiveBytes;
    const ok = share <= INDEX_SHARE_GOAL;
    if (!ok) failed += 1;
    const archive = { none: '.tar', gzip: '.tar.gz', zstd: '.tar.zst' }[size.compression];
    lines.push(
      `| ${shape} | ${archive} | ${size.members.toLocaleString('en-US')} | ${size.accessPoints} | ${(size.bytes / 1e6).toFixed(1)} MB | ${(share * 100).toFixed(2)} % | ≤ ${INDEX_SHARE_GOAL * 100} % | ${ok ? 'yes' : 'no'} |`,
    );
  }
  return { lines, failed };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const started = Date.now();
  const load = loadavg()[0] ?? 0;
  let generating = 0;
  const results = args.shapes.map((shape) =>
    runShape(shape, args, (ms) => {
      generating += ms;
    }),
  );
  const minutes = (Date.now() - started - generating) / 60_000;
  const generated =
    generating > 1000
      ? `, plus ${(generating / 60_000).toFixed(1)} min generating the archives`
      : '';
  const cores = spawnSync('nproc', { encoding: 'utf8' }).stdout.trim();
  const cases = caseTable(results.flatMap((r) => r.rows));
  const sizes = sizeTable(results.flatMap((r) => r.sizes));
  const lines = [
    `Measured ${new Date().toISOString().slice(0, 10)}, node ${process.version}, ${cores} cores (load average ${load.toFixed(1)} at the start); the cases took ${minutes.toFixed(1)} min${generated}.`,
    '',
    ...results.map((r) => r.archiveLine),
    '',
    `Each case: one warm-up of each side, then ${args.runs} rounds timing restoreplan and the baseline back to back, the order alternated every round; **ratio** is the median of the ${args.runs} per-round ratios (range: smallest–largest), the seconds are each side's median; peak RSS is restoreplan's largest over the rounds. **Cold**: \`--no-index\`; **warm**: an index built beforehand by \`restoreplan index\`; **index build**: a scan into an index dir emptied before every run, against the same scan with \`--no-index\`.`,
    '',
    ...cases.lines,
    '',
    ...sizes.lines,
  ];
  const file = path.join(root, 'bench/RESULTS.md');
  const config = await prettier.resolveConfig(file);
  const report = await prettier.format(lines.join('\n'), { ...config, parser: 'markdown' });
  process.stdout.write(report);
  if (args.write) {
    const document = `# Benchmark results\n\nWritten by \`npm run bench -- --write\`; the method is in [README.md](README.md).\n\n${report}`;
    writeFileSync(file, await prettier.format(document, { ...config, filepath: file }));
  }
  process.exitCode = cases.failed + sizes.failed > 0 ? 1 : 0;
}

await main();
