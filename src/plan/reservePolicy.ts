/**
 * What must stay free after a restore (DESIGN.md "Reserve"). Inodes: by default 5% of the
 * filesystem's total, plus a growth allowance for the live system (Mailman's queues fill with
 * one file per message while the restore and its aftermath run — that is how the incident ran
 * out of inodes). Blocks: budgeted against bavail (root's reserved blocks are not ours: Mailman
 * does not run as root), plus 1% of the total.
 */
import { RestoreplanError } from '../errors.js';

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

/** Inodes that must stay free: the base reserve plus the growth allowance. */
export function resolveInodeReserve(
  spec: ReserveSpec,
  totalInodes: number,
  growthInodes = 0,
): number {
  const base = spec.kind === 'count' ? spec.value : Math.ceil((totalInodes * spec.value) / 100);
  return base + Math.max(0, Math.ceil(growthInodes));
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
  /** `N` or `P%` (default 5%), plus the growth allowance. */
  reserveInodes?: string | number;
  /** `SIZE` or `P%` (default 1%). */
  reserveBlocks?: string | number;
  /** `P%` (default 10%). */
  warnInodes?: string | number;
}

export function resolveReserveOptions(options: ReserveOptions): {
  inodeReserve: ReserveSpec;
  blockReserve: ReserveSpec;
  warnInodesPercent: number;
} {
  return {
    inodeReserve:
      options.reserveInodes !== undefined
        ? parseCountOrPercent(options.reserveInodes)
        : DEFAULT_INODE_RESERVE,
    blockReserve:
      options.reserveBlocks !== undefined
        ? parseSizeOrPercent(options.reserveBlocks)
        : DEFAULT_BLOCK_RESERVE,
    warnInodesPercent:
      options.warnInodes !== undefined
        ? parsePercentOnly(options.warnInodes)
        : DEFAULT_WARN_INODES_PERCENT,
  };
}
