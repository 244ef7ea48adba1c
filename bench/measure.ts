/**
 * Timing one case of the bench: one warm-up of each side, then rounds timing both sides back to
 * back in alternating order; each round gives one ratio and the case reports their median
 * (see bench/README.md, Method).
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
export const work = path.join(root, '.bench-work');
export const bin = path.join(root, 'dist/cli/bin.js');

/** A restoreplan command line (no progress display: stderr is for the timing). */
export function rp(args: string): string {
  return `node '${bin}' ${args} --no-progress`;
}

/** One side of a case: the command timed, and what must happen around it untimed. */
export interface Side {
  command: string;
  /**
   * Shell run before every run of this side (warm-up and rounds) outside the timing: resetting
   * state (zeroing the broken configs, removing a journal or an index dir) is not the work
   * measured, and would weigh on a ratio whose restoreplan side takes tens of milliseconds.
   */
  prepare?: string;
  /** Throws unless the warm-up really did the work (apply: the 4 configs restored). */
  check?: () => void;
}

export interface Case {
  key: string;
  name: string;
  ours: Side;
  theirs: Side;
  /** The baseline as the table names it. */
  baseline: string;
  goal: number;
  /** Run once before the warm-ups, untimed (apply alone: its plan, made and checked). */
  setup?: () => void;
  /**
   * restoreplan's side runs a tool whose own process is the largest (restic: its repository
   * index): GNU time's %M is then that tool's peak, not restoreplan's, and is reported beside the
   * baseline's (the same tool) instead of against the RSS goal.
   */
  rssOfTool?: string;
}

export interface Measured {
  ratio: number;
  ratioMin: number;
  ratioMax: number;
  ours: number;
  theirs: number;
  maxRssKiB: number;
  theirsMaxRssKiB: number;
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

/** Runs a shell command untimed; stdout discarded, stderr shown. */
export function sh(command: string): void {
  const result = spawnSync('bash', ['-c', command], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (result.status !== 0) throw new Error(`${command} failed`);
}

function runSide(side: Side): Timing {
  if (side.prepare) sh(side.prepare);
  return timeOnce(side.command);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] ?? NaN)
    : ((sorted[mid - 1] ?? NaN) + (sorted[mid] ?? NaN)) / 2;
}

/** One warm-up of each side, then `runs` rounds alternating which side goes first. */
export function measure(c: Case, runs: number): Measured {
  c.setup?.();
  runSide(c.ours);
  c.ours.check?.();
  runSide(c.theirs);
  c.theirs.check?.();
  const ratios: number[] = [];
  const ours: number[] = [];
  const theirs: number[] = [];
  let maxRssKiB = 0;
  let theirsMaxRssKiB = 0;
  for (let round = 0; round < runs; round += 1) {
    let a: Timing;
    let b: Timing;
    if (round % 2 === 0) {
      a = runSide(c.ours);
      b = runSide(c.theirs);
    } else {
      b = runSide(c.theirs);
      a = runSide(c.ours);
    }
    ratios.push(a.seconds / b.seconds);
    ours.push(a.seconds);
    theirs.push(b.seconds);
    maxRssKiB = Math.max(maxRssKiB, a.maxRssKiB);
    theirsMaxRssKiB = Math.max(theirsMaxRssKiB, b.maxRssKiB);
  }
  return {
    ratio: median(ratios),
    ratioMin: Math.min(...ratios),
    ratioMax: Math.max(...ratios),
    ours: median(ours),
    theirs: median(theirs),
    maxRssKiB,
    theirsMaxRssKiB,
  };
}
