/**
 * `npx tsx bench/measureStartup.ts [--runs N] [--baseline OTHER/dist/cli/bin.js]`: what a restoreplan process costs before it does
 * any work (issue 13). `plan` + `apply` of 4 configs is two processes, and the goal is a
 * fraction of `tar -xf` on the same archive, so each process's fixed cost counts.
 *
 * Cases: `node -e 0` (Node itself), `--version` and `scan --help` (commander and the command
 * definitions, nothing run), and `scan --json` of the bundled sample archive (a real, small
 * command). Every round runs every case once, in an order rotated each round, so a drift in the
 * machine's load falls on all cases alike; the median over the rounds is reported, and a
 * command's own cost is its median minus the median of `node -e 0`. Times come from bash's
 * `time` around the child, as in bench/run.ts (1 ms resolution, stdout and stderr discarded):
 * wall time, and CPU time (user + system), which a machine shared with other jobs disturbs far
 * less than wall time. Run `npm run -s build` first: this times dist/, as the installed CLI
 * runs.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { buildIncidentSandbox } from '../samples/buildIncidentSandbox.js';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const bin = path.join(root, 'dist/cli/bin.js');
/** The demo's sandbox (npm start) when it is there; built into .bench-work/ otherwise. */
const DEMO_ARCHIVE = path.join(root, 'samples/.sandbox/backup.tar');
const OWN_SAMPLE_DIR = path.join(root, '.bench-work/startup-sample');

interface Case {
  name: string;
  args: string[];
}

interface Args {
  runs: number;
  /** Another build's bin.js, timed in the same rounds: before and after under the same load. */
  baseline: string | null;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { runs: 21, baseline: null };
  for (let i = 0; i < argv.length; i += 1) {
    const value = argv[i + 1];
    if (argv[i] === '--runs') {
      args.runs = Number(value);
      if (!Number.isInteger(args.runs) || args.runs < 1) throw new Error('--runs takes N ≥ 1');
      i += 1;
    } else if (argv[i] === '--baseline' && value !== undefined) {
      args.baseline = path.resolve(value);
      i += 1;
    } else {
      throw new Error(`usage: measureStartup.ts [--runs N] [--baseline OTHER/dist/cli/bin.js]`);
    }
  }
  return args;
}

async function sampleArchive(): Promise<string> {
  if (existsSync(DEMO_ARCHIVE)) return DEMO_ARCHIVE;
  const sandbox = await buildIncidentSandbox(OWN_SAMPLE_DIR);
  return sandbox.backup;
}

interface Timing {
  wallMs: number;
  cpuMs: number;
}

function timeOnce(args: string[]): Timing {
  const script = 'TIMEFORMAT="%3R %3U %3S"; time "$0" "$@" >/dev/null 2>&1';
  const result = spawnSync('bash', ['-c', script, process.execPath, ...args], {
    cwd: root,
    encoding: 'utf8',
  });
  // scan exits 0 on a readable archive; any other code means we timed an error path.
  if (result.status !== 0) throw new Error(`node ${args.join(' ')} exited ${result.status}`);
  const [real, user, sys] = result.stderr.trim().split(/\s+/).slice(-3).map(Number);
  return { wallMs: (real ?? NaN) * 1000, cpuMs: ((user ?? NaN) + (sys ?? NaN)) * 1000 };
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] ?? 0)
    : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
};

async function main(): Promise<void> {
  if (!existsSync(bin)) throw new Error(`${bin} is missing: run npm run -s build first`);
  const { runs, baseline } = parseArgs(process.argv.slice(2));
  const archive = await sampleArchive();
  const commands = (label: string, cli: string): Case[] => [
    { name: `${label} --version`, args: [cli, '--version'] },
    { name: `${label} scan --help`, args: [cli, 'scan', '--help'] },
    {
      name: `${label} scan ${path.relative(root, archive)} --json`,
      args: [cli, 'scan', archive, '--json'],
    },
  ];
  const cases: Case[] = [
    { name: 'node -e 0', args: ['-e', '0'] },
    ...commands('restoreplan', bin),
    ...(baseline ? commands('baseline', baseline) : []),
  ];
  const times: Timing[][] = cases.map(() => []);
  // One warm-up of each: the page cache holds node, dist/ and the archive for every round.
  for (const c of cases) timeOnce(c.args);
  for (let round = 0; round < runs; round += 1) {
    for (let k = 0; k < cases.length; k += 1) {
      const i = (round + k) % cases.length;
      times[i]?.push(timeOnce(cases[i]?.args ?? []));
    }
  }
  const wall = times.map((t) => median(t.map((x) => x.wallMs)));
  const cpu = times.map((t) => median(t.map((x) => x.cpuMs)));
  const width = Math.max(...cases.map((c) => c.name.length));
  const cell = (ms: number): string => ms.toFixed(1).padStart(8);
  process.stdout.write(
    `node ${process.version}, ${runs} rounds, load average ${loadavg()
      .map((n) => n.toFixed(2))
      .join(' ')}; medians in ms, own = minus node -e 0\n`,
  );
  process.stdout.write(`${'case'.padEnd(width)}      wall  own wall       cpu   own cpu\n`);
  cases.forEach((c, i) => {
    const w = wall[i] ?? 0;
    const u = cpu[i] ?? 0;
    const own = (value: number, base: number): string =>
      i === 0 ? ' '.repeat(10) : `  ${cell(value - base)}`;
    process.stdout.write(
      `${c.name.padEnd(width)}  ${cell(w)}${own(w, wall[0] ?? 0)}  ${cell(u)}${own(u, cpu[0] ?? 0)}\n`,
    );
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
