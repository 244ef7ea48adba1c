/**
 * THE reserve rule (DESIGN.md "Reserve"): what must stay free after a restore, on every
 * filesystem it touches. check, plan (its stage budgets, hence apply's guard, which keeps the
 * plan's numbers) and the wizard (through plan) all get it from here.
 *
 * Inodes, by default: 5% of the filesystem's total, plus — on the filesystem where the live
 * system writes (the target's) — a growth allowance: Mailman's queues fill with one file per
 * message while the restore and its aftermath run (that is how the incident ran out of inodes).
 * The allowance is the queue inflow of the last hour times the growth window (12 h unless
 * --growth-window says otherwise; 0 turns it off), never more than the inodes free there
 * (capGrowthAllowance). An explicit --reserve-inodes (N or P%) is the WHOLE inode reserve: no
 * allowance is added to it; the allowance that would have applied is still reported, as advice.
 *
 * Blocks: budgeted against bavail (root's reserved blocks are not ours: Mailman does not run as
 * root), plus 1% of the total unless --reserve-blocks says otherwise.
 */
import { RestoreplanError } from '../errors.js';
import { DEFAULT_GROWTH_WINDOW_HOURS } from '../mailman/censusQueues.js';
import { makeProblem, type Problem } from '../problems.js';

export type ReserveSpec = { kind: 'count'; value: number } | { kind: 'percent'; value: number };

export const DEFAULT_INODE_RESERVE: ReserveSpec = { kind: 'percent', value: 5 };
export const DEFAULT_BLOCK_RESERVE: ReserveSpec = { kind: 'percent', value: 1 };
export const DEFAULT_WARN_INODES_PERCENT = 10;

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  K: 1024,
  M: 1024 ** 2,
  G: 1024 ** 3,
  T: 1024 ** 4,
};

function usage(option: string, spec: string, expected: string): RestoreplanError {
  return new RestoreplanError('USAGE', `${option} ${JSON.stringify(spec)}: expected ${expected}`, {
    option,
    value: spec,
  });
}

function parsePercent(text: string, option: string, spec: string): ReserveSpec {
  const value = Number(text);
  if (text === '' || !Number.isFinite(value) || value < 0 || value > 100) {
    throw usage(option, spec, 'a percentage from 0% to 100%');
  }
  return { kind: 'percent', value };
}

/** `N` (a count) or `P%`: for --reserve-inodes. A number is a count. */
export function parseCountOrPercent(
  spec: string | number,
  option = '--reserve-inodes',
): ReserveSpec {
  if (typeof spec === 'number') {
    if (!Number.isSafeInteger(spec) || spec < 0) throw usage(option, String(spec), 'N or P%');
    return { kind: 'count', value: spec };
  }
  const text = spec.trim();
  if (text.endsWith('%')) return parsePercent(text.slice(0, -1).trim(), option, spec);
  if (!/^\d+$/.test(text)) throw usage(option, spec, 'a whole number N or a percentage P%');
  return { kind: 'count', value: Number(text) };
}

/**
 * `SIZE` (bytes, with an optional K/M/G/T suffix, 1024-based; `KiB`, `KB`, `k` accepted) or
 * `P%`: for --reserve-blocks. A number is bytes.
 */
export function parseSizeOrPercent(
  spec: string | number,
  option = '--reserve-blocks',
): ReserveSpec {
  if (typeof spec === 'number') {
    if (!Number.isSafeInteger(spec) || spec < 0) throw usage(option, String(spec), 'SIZE or P%');
    return { kind: 'count', value: spec };
  }
  const text = spec.trim();
  if (text.endsWith('%')) return parsePercent(text.slice(0, -1).trim(), option, spec);
  const match = /^(\d+(?:\.\d+)?)\s*([kKmMgGtT]?)(?:i?[bB])?$/.exec(text);
  if (!match) throw usage(option, spec, 'a size such as 500M, 2G, 4096 or a percentage P%');
  const unit = SIZE_UNITS[(match[2] ?? '').toUpperCase()] ?? 1;
  return { kind: 'count', value: Math.ceil(Number(match[1]) * unit) };
}

/** `P%` only: for --warn-inodes. A number is a percentage. */
export function parsePercentOnly(spec: string | number, option = '--warn-inodes'): number {
  const text = typeof spec === 'number' ? String(spec) : spec.trim().replace(/%$/, '').trim();
  return parsePercent(text, option, String(spec)).value;
}

/** `HOURS` (a number, 0 or more; a trailing `h` is accepted): for --growth-window. */
export function parseGrowthWindow(spec: string | number, option = '--growth-window'): number {
  const match = typeof spec === 'string' ? /^(\d+(?:\.\d+)?)\s*h?$/i.exec(spec.trim()) : null;
  const value = typeof spec === 'number' ? spec : Number(match?.[1] ?? Number.NaN);
  if (!Number.isFinite(value) || value < 0) {
    throw usage(option, String(spec), 'a number of hours, 0 or more (0: no growth allowance)');
  }
  return value;
}

/**
 * The live system's expected inode growth on the filesystem it writes on (Mailman's queues),
 * as measured when the plan or check was made.
 */
export interface GrowthAllowance {
  /** Queue files that arrived in the last hour; null when the caller gave the growth. */
  inflowPerHour: number | null;
  /** Hours of inflow the allowance covers; null when the caller gave the growth. */
  windowHours: number | null;
  /** Inflow × window (or the caller's number), before the cap. */
  measured: number;
  /** The allowance: `measured`, but never more than the inodes free (capGrowthAllowance). */
  inodes: number;
}

/** An inode reserve, and what it is made of. */
export interface InodeReserve {
  /** Inodes that must stay free. */
  inodes: number;
  /** The part from the count or percentage (--reserve-inodes, default 5%). */
  base: number;
  /** The growth allowance counted in `inodes` (0 when the reserve was given explicitly). */
  growth: number;
}

/**
 * The inode reserve of one filesystem. `given`: --reserve-inodes was given, and is the whole
 * reserve; otherwise the default share plus the growth allowance (when the live system writes
 * on this filesystem: `growth` is null elsewhere).
 */
export function resolveInodeReserve(
  spec: ReserveSpec,
  given: boolean,
  totalInodes: number,
  growth: Pick<GrowthAllowance, 'inodes'> | null,
): InodeReserve {
  const base = spec.kind === 'count' ? spec.value : Math.ceil((totalInodes * spec.value) / 100);
  const counted = given || !growth ? 0 : Math.max(0, Math.ceil(growth.inodes));
  return { inodes: base + counted, base, growth: counted };
}

const fmt = (n: number): string => n.toLocaleString('en-US');

/** How a reserve is made up, for messages: "5% of 8,192 = 410, plus 90 for 12 h of queue growth". */
export function describeInodeReserve(
  spec: ReserveSpec,
  given: boolean,
  totalInodes: number,
  reserve: InodeReserve,
  growth: GrowthAllowance | null,
): string {
  const share =
    spec.kind === 'percent' ? `${spec.value}% of ${fmt(totalInodes)} = ${fmt(reserve.base)}` : '';
  if (given) return `--reserve-inodes ${spec.kind === 'percent' ? share : spec.value}`;
  if (reserve.growth === 0) return share || fmt(reserve.base);
  const window = growth?.windowHours;
  const what = window !== null && window !== undefined ? `${window} h of queue growth` : 'growth';
  return `${share || fmt(reserve.base)}, plus ${fmt(reserve.growth)} for ${what}`;
}

/**
 * When a demand would fit in what is free and only the reserve stands in its way: the flags
 * that make it fit, for the operator to weigh ("--growth-window 0 (a reserve of 410) or
 * --reserve-inodes 498 or less"). null when the demand does not fit in what is free at all.
 */
export function remedyInodeReserve(
  reserve: InodeReserve,
  free: number,
  needed: number,
): string | null {
  if (needed > free) return null;
  const ways: string[] = [];
  if (reserve.growth > 0 && needed <= free - reserve.base)
    ways.push(`--growth-window 0 (a reserve of ${fmt(reserve.base)})`);
  ways.push(`--reserve-inodes ${free - needed} or less (the whole inode reserve)`);
  return `it fits with ${ways.join(' or with ')}`;
}

/** The same for blocks: the largest --reserve-blocks that makes the demand fit. */
export function remedyBlockReserve(free: number, needed: number, blockSize: number): string | null {
  if (needed > free) return null;
  const kib = Math.floor(((free - needed) * blockSize) / 1024);
  return `it fits with --reserve-blocks ${kib > 0 ? `${kib}K` : '0'} or less`;
}

/**
 * What the growth allowance is, and whether the reserve keeps it: the note of a budget and the
 * message of the `queue-growing` problem.
 */
export function describeGrowth(
  growth: GrowthAllowance,
  given: boolean,
  mountPoint: string,
): string {
  const source =
    growth.inflowPerHour !== null && growth.windowHours !== null
      ? `queue inflow ${fmt(growth.inflowPerHour)}/h × ${growth.windowHours} h`
      : 'the growth given';
  const amount =
    growth.measured > growth.inodes
      ? `${fmt(growth.inodes)} inodes (${source} = ${fmt(growth.measured)}, capped at the ${fmt(growth.inodes)} free)`
      : `${fmt(growth.inodes)} inodes (${source})`;
  return given
    ? `--reserve-inodes is the whole inode reserve of ${mountPoint}: the growth allowance, ${amount}, is not kept free; leave room for it, or hold the mail inflow while you restore`
    : `the inode reserve of ${mountPoint} keeps ${amount} free for the live system's growth; --growth-window HOURS changes the window (0: none), --reserve-inodes N sets the whole reserve`;
}

/** The `queue-growing` problem (info), when anything grows: said once per check or plan. */
export function growthProblem(
  growth: GrowthAllowance | null,
  given: boolean,
  mountPoint: string,
): Problem | null {
  if (!growth || growth.measured <= 0) return null;
  return makeProblem('queue-growing', describeGrowth(growth, given, mountPoint), { mountPoint });
}

/** Blocks that must stay available (beyond root's reserve): a byte size or a share of the total. */
export function resolveBlockReserve(
  spec: ReserveSpec,
  totalBlocks: number,
  blockSize: number,
): number {
  if (spec.kind === 'count') return Math.ceil(spec.value / blockSize);
  return Math.ceil((totalBlocks * spec.value) / 100);
}

/** The reserve options every budgeting command takes (CONTRACT.md `check` and `plan`). */
export interface ReserveOptions {
  /** `N` or `P%`: the whole inode reserve (default: 5% plus the growth allowance). */
  reserveInodes?: string | number;
  /** `SIZE` or `P%` (default 1%). */
  reserveBlocks?: string | number;
  /** `P%` (default 10%). */
  warnInodes?: string | number;
  /** Hours of Mailman queue growth the default inode reserve keeps room for (default 12; 0: none). */
  growthWindowHours?: string | number;
}

export interface ResolvedReserveOptions {
  inodeReserve: ReserveSpec;
  /** --reserve-inodes was given: it is the whole inode reserve. */
  inodeReserveGiven: boolean;
  blockReserve: ReserveSpec;
  warnInodesPercent: number;
  growthWindowHours: number;
}

export function resolveReserveOptions(options: ReserveOptions): ResolvedReserveOptions {
  return {
    inodeReserve:
      options.reserveInodes !== undefined
        ? parseCountOrPercent(options.reserveInodes)
        : DEFAULT_INODE_RESERVE,
    inodeReserveGiven: options.reserveInodes !== undefined,
    blockReserve:
      options.reserveBlocks !== undefined
        ? parseSizeOrPercent(options.reserveBlocks)
        : DEFAULT_BLOCK_RESERVE,
    warnInodesPercent:
      options.warnInodes !== undefined
        ? parsePercentOnly(options.warnInodes)
        : DEFAULT_WARN_INODES_PERCENT,
    growthWindowHours:
      options.growthWindowHours !== undefined
        ? parseGrowthWindow(options.growthWindowHours)
        : DEFAULT_GROWTH_WINDOW_HOURS,
  };
}
