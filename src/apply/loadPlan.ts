/**
 * Reads and validates a plan document. apply executes data it did not make — possibly edited by
 * hand, truncated by a full disk, or written by another version — so every field the writer
 * relies on is checked here and anything off is PLAN_INVALID before a single byte is written.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';

import { RestoreplanError } from '../errors.js';
import { SCHEMA_VERSION, type PlanDocument } from '../types.js';

const STEP_TYPES = new Set(['file', 'dir', 'symlink', 'hardlink', 'fifo', 'chardev', 'blockdev']);
const WRITE_MODES = new Set(['create', 'replace', 'rewrite']);
const COMPRESSIONS = new Set(['none', 'gzip', 'bzip2', 'xz', 'zstd']);

function invalid(where: string, message: string): RestoreplanError {
  return new RestoreplanError('PLAN_INVALID', `${where}: ${message}`, { where });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function isInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value);
}

/**
 * A step's cost, as the planner priced it: apply's budget guard sums these for the steps it has
 * left, so a plan without them (made by 0.1.0) or with absurd ones is not carried out.
 */
function validateCost(where: string, cost: unknown): void {
  if (!isRecord(cost))
    throw invalid(where, 'missing (a plan made by restoreplan 0.1.0: make a new plan)');
  if (typeof cost.mountPoint !== 'string' || !path.isAbsolute(cost.mountPoint))
    throw invalid(`${where}.mountPoint`, 'not an absolute path');
  // Net inodes and blocks go down when a name is replaced by a link to another file, or a file
  // by a smaller one; what a step holds while it runs never does.
  for (const key of ['inodes', 'blocks']) {
    if (!isInteger(cost[key])) throw invalid(`${where}.${key}`, 'not an integer');
  }
  // But no step gives back more than the name it replaces held: one inode (its blocks are the
  // disk's to know). A cost below that is an edit that would blind the guard to the reserve.
  if ((cost.inodes as number) < -1)
    throw invalid(`${where}.inodes`, 'a step frees at most the one inode of the name it replaces');
  for (const key of ['peakInodes', 'peakBlocks']) {
    if (!isCount(cost[key])) throw invalid(`${where}.${key}`, 'not a count');
  }
}

/** Throws PLAN_INVALID unless `value` has every field apply needs, with sane values. */
export function validatePlan(value: unknown): PlanDocument {
  if (!isRecord(value)) throw invalid('plan', 'not a JSON object');
  if (value.schemaVersion !== SCHEMA_VERSION)
    throw invalid(
      'schemaVersion',
      `expected ${SCHEMA_VERSION}, got ${JSON.stringify(value.schemaVersion)}`,
    );
  if (typeof value.feasible !== 'boolean') throw invalid('feasible', 'not a boolean');
  if (value.feasible === false && value.strategy !== null)
    throw invalid('strategy', 'an infeasible plan has no strategy');
  const archive = value.archive;
  if (!isRecord(archive)) throw invalid('archive', 'missing');
  if (typeof archive.path !== 'string' || archive.path === '')
    throw invalid('archive.path', 'missing');
  if (typeof archive.fingerprint !== 'string') throw invalid('archive.fingerprint', 'missing');
  if (typeof archive.compression !== 'string' || !COMPRESSIONS.has(archive.compression))
    throw invalid('archive.compression', 'unknown');
  if (typeof archive.seekable !== 'boolean') throw invalid('archive.seekable', 'not a boolean');
  if (!isRecord(value.target) || typeof value.target.path !== 'string')
    throw invalid('target.path', 'missing');
  if (value.mailman !== null && value.mailman !== undefined) {
    if (!isRecord(value.mailman) || typeof value.mailman.root !== 'string')
      throw invalid('mailman.root', 'missing');
  }
  if (!Array.isArray(value.stages)) throw invalid('stages', 'not an array');
  // One step per targetPath: the planner's selection already let the last occurrence win, so
  // a repeat is an edit (a second write over a path apply would have to arbitrate).
  const targets = new Set<string>();
  value.stages.forEach((stage: unknown, s) => {
    const at = `stages[${s}]`;
    if (!isRecord(stage)) throw invalid(at, 'not an object');
    if (typeof stage.name !== 'string') throw invalid(`${at}.name`, 'missing');
    if (typeof stage.root !== 'string' || !path.isAbsolute(stage.root))
      throw invalid(`${at}.root`, 'not an absolute path');
    if (!Array.isArray(stage.budget)) throw invalid(`${at}.budget`, 'not an array');
    for (const [b, budget] of (stage.budget as unknown[]).entries()) {
      if (!isRecord(budget) || typeof budget.mountPoint !== 'string')
        throw invalid(`${at}.budget[${b}]`, 'no mountPoint');
      // Net demand goes down when files are replaced by smaller ones; reserves never do.
      for (const key of ['inodesNeeded', 'blocksNeeded']) {
        if (!isInteger(budget[key])) throw invalid(`${at}.budget[${b}].${key}`, 'not an integer');
      }
      for (const key of ['inodesReserve', 'blocksReserve']) {
        if (!isCount(budget[key])) throw invalid(`${at}.budget[${b}].${key}`, 'not a count');
      }
    }
    if (!Array.isArray(stage.steps)) throw invalid(`${at}.steps`, 'not an array');
    for (const [i, step] of (stage.steps as unknown[]).entries()) {
      const where = `${at}.steps[${i}]`;
      if (!isRecord(step)) throw invalid(where, 'not an object');
      if (typeof step.memberPath !== 'string') throw invalid(`${where}.memberPath`, 'missing');
      if (typeof step.targetPath !== 'string') throw invalid(`${where}.targetPath`, 'missing');
      if (typeof step.type !== 'string' || !STEP_TYPES.has(step.type))
        throw invalid(`${where}.type`, 'unknown');
      if (typeof step.write !== 'string' || !WRITE_MODES.has(step.write))
        throw invalid(`${where}.write`, 'unknown');
      if (step.type === 'dir' && step.write !== 'create')
        throw invalid(`${where}.write`, 'a directory step only creates');
      if (step.write === 'rewrite' && step.type !== 'file')
        throw invalid(`${where}.write`, 'only a regular file is rewritten in place');
      const resolvedTarget = path.resolve(step.targetPath);
      if (targets.has(resolvedTarget))
        throw invalid(`${where}.targetPath`, `${step.targetPath} has more than one step`);
      targets.add(resolvedTarget);
      validateCost(`${where}.cost`, step.cost);
      if (!isCount(step.size)) throw invalid(`${where}.size`, 'not a count');
      if (!isCount(step.mode)) throw invalid(`${where}.mode`, 'not a count');
      if (typeof step.mtime !== 'number' || !Number.isFinite(step.mtime))
        throw invalid(`${where}.mtime`, 'not a number');
      if (typeof step.freshMtime !== 'boolean')
        throw invalid(`${where}.freshMtime`, 'not a boolean');
      if (
        step.owner !== null &&
        !(isRecord(step.owner) && isCount(step.owner.uid) && isCount(step.owner.gid))
      )
        throw invalid(`${where}.owner`, 'not {uid, gid} or null');
      if (step.linkTarget !== undefined && typeof step.linkTarget !== 'string')
        throw invalid(`${where}.linkTarget`, 'not a string');
      if (
        (step.type === 'symlink' || step.type === 'hardlink') &&
        typeof step.linkTarget !== 'string'
      )
        throw invalid(`${where}.linkTarget`, 'missing for a link');
      if (
        step.sha256 !== undefined &&
        !(typeof step.sha256 === 'string' && /^[0-9a-f]{64}$/.test(step.sha256))
      )
        throw invalid(`${where}.sha256`, 'not a sha256 hex digest');
      const source = step.source;
      if (!isRecord(source)) throw invalid(`${where}.source`, 'missing');
      for (const key of ['headerOffset', 'dataOffset', 'dataLength']) {
        if (!isCount(source[key])) throw invalid(`${where}.source.${key}`, 'not a count');
      }
      if (source.sparse !== null) {
        if (!Array.isArray(source.sparse))
          throw invalid(`${where}.source.sparse`, 'not an array or null');
        for (const pair of source.sparse as unknown[]) {
          if (!Array.isArray(pair) || pair.length !== 2 || !isCount(pair[0]) || !isCount(pair[1]))
            throw invalid(`${where}.source.sparse`, 'not [offset, length] pairs');
        }
      }
    }
  });
  return value as unknown as PlanDocument;
}

export interface LoadedPlan {
  plan: PlanDocument;
  /** The file it came from, or null for a plan passed as an object. */
  planPath: string | null;
}

export async function loadPlan(planOrPath: string | PlanDocument): Promise<LoadedPlan> {
  if (typeof planOrPath !== 'string') return { plan: validatePlan(planOrPath), planPath: null };
  const planPath = path.resolve(planOrPath);
  let text: string;
  try {
    text = await readFile(planPath, 'utf8');
  } catch (error) {
    throw new RestoreplanError(
      'PLAN_INVALID',
      `cannot read ${planPath}: ${(error as Error).message}`,
      {
        path: planPath,
      },
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new RestoreplanError(
      'PLAN_INVALID',
      `${planPath} is not JSON: ${(error as Error).message}`,
      {
        path: planPath,
      },
    );
  }
  return { plan: validatePlan(value), planPath };
}
