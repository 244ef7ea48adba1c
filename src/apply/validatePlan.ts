/**
 * The plan document, checked as untrusted input. apply executes data it did not make — possibly
 * edited by hand, truncated by a full disk, or written by another version — and often as root,
 * from a runbook, long after the plan was made. So every field is checked here, with its range,
 * before anything is read from the archive or written to the target, and anything off is
 * PLAN_INVALID naming the field (`stages[0].steps[12].mode`).
 *
 * What is checked is what `schemas/plan.schema.json` says (types, enums, required fields; a
 * test holds the two together: whatever the schema refuses, this refuses) plus what a schema
 * cannot say:
 * - ranges the kernel enforces late and badly: times within what utimes accepts, ids that
 *   chown takes (-1 means "unchanged" there), modes within 07777, sizes and offsets that are
 *   safe integers;
 * - paths: no NUL anywhere; targetPaths absolute, normalized and strictly inside their stage's
 *   root; stage roots only the plan's target or the staging root it records; `mailman.root`
 *   only the target; hard-link targets inside the root; symlink text that stays inside the root
 *   by the rule the planner applied (judgeSymlinkText, over the plan's own symlinks — the disk
 *   is judged again, step by step, when the step runs);
 * - consistency: one step per targetPath, sizes and sparse maps that add up, the step types
 *   each write mode allows;
 * - setuid/setgid bits and special files only in a plan made with --allow-special.
 *
 * That the steps match the archive's members is checked next, against the archive itself
 * (checkPlannedMembers); the files the plan and journal are read from, when apply runs as root,
 * by checkFileTrust.
 *
 * Hand-written rather than run through a JSON Schema validator at run time: ajv costs about
 * 150 ms to load and compile this schema (more than node's own startup), on every apply, and
 * its errors for a union of step types name every branch but the one meant.
 */
import path from 'node:path';

import { findSparseMapError } from '../archive/findSparseMapError.js';
import { parseBackupSource } from '../archive/parseBackupSource.js';
import { findUnsafeReason, normalizeMemberPath } from '../archive/normalizeMemberPath.js';
import { RestoreplanError } from '../errors.js';
import { isInside, judgeSymlinkText } from '../filesystems/judgeSymlinkText.js';
import { MAX_PLAN_TIME, specialOf } from '../plan/specialSteps.js';
import { PROBLEM_CATALOG } from '../problems.js';
import { SCHEMA_VERSION, type PlanDocument, type PlanStep } from '../types.js';

/** Linux PATH_MAX: the longest symlink text the kernel stores. */
const PATH_MAX = 4095;
/** The largest uid or gid chown(2) sets: (uid_t)-1 means "leave unchanged". */
export const MAX_ID = 0xffff_fffe;
/** Permission bits, setuid/setgid and sticky included; the file type is the step's `type`. */
export const MAX_MODE = 0o7777;
/** The largest |mtime| in seconds apply passes to utimes (see MAX_PLAN_TIME). */
export const MAX_TIME = MAX_PLAN_TIME;

const BLOCK = 512;
const STEP_TYPES = new Set(['file', 'dir', 'symlink', 'hardlink', 'fifo', 'chardev', 'blockdev']);
const WRITE_MODES = new Set(['create', 'replace', 'rewrite']);
const COMPRESSIONS = new Set(['none', 'gzip', 'bzip2', 'xz', 'zstd']);
const VERDICTS = new Set(['ok', 'warning', 'critical']);
const STRATEGIES = new Set(['in-place', 'staged', 'alternate']);
const SEVERITIES = new Set(['info', 'warning', 'critical']);
const LIST_STATUSES = new Set(['ok', 'degraded', 'corrupt', 'lost', 'missing', 'removed']);
const LIST_ACTIONS = new Set(['restore', 'skip']);
const EVIDENCE_KINDS = new Set(['alias-stanza', 'archives', 'shunted-mail']);

const HINT =
  'make a new plan with `restoreplan plan ARCHIVE --target DIR --out FILE`; a plan file is not meant to be edited';

function invalid(where: string, message: string): RestoreplanError {
  return new RestoreplanError('PLAN_INVALID', `${where}: ${message}`, { where, hint: HINT });
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
 * Shown in a message: a value as JSON, cut short. An array or object is only described: an
 * edited plan may put a 200,000-deep `[[[…]]]` where a number belongs (JSON.parse takes it,
 * JSON.stringify overflows the stack: the refusal became INTERNAL), or a 100 MB array (turned
 * whole into a string only to be cut to 80 characters).
 */
function show(value: unknown): string {
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'object' && value !== null) return 'an object';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function requireRecord(where: string, value: unknown): Record<string, unknown> {
  if (!isRecord(value)) throw invalid(where, `not an object (${show(value)})`);
  return value;
}

function requireBoolean(where: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw invalid(where, `not a boolean (${show(value)})`);
  return value;
}

function requireCount(where: string, value: unknown): number {
  if (!isCount(value)) throw invalid(where, `not a count (a safe integer >= 0): ${show(value)}`);
  return value;
}

function requireInteger(where: string, value: unknown): number {
  if (!isInteger(value)) throw invalid(where, `not an integer: ${show(value)}`);
  return value;
}

function requireEnum(where: string, value: unknown, allowed: ReadonlySet<string>): string {
  if (typeof value !== 'string' || !allowed.has(value))
    throw invalid(where, `${show(value)} is not one of ${[...allowed].join(', ')}`);
  return value;
}

/** Free text (reasons, notes, messages): any string. */
function requireText(where: string, value: unknown): string {
  if (typeof value !== 'string') throw invalid(where, `not a string (${show(value)})`);
  return value;
}

/** A name or a path: a string without NUL (no system call takes one past it). */
function requireName(where: string, value: unknown, options: { empty?: boolean } = {}): string {
  if (typeof value !== 'string') throw invalid(where, `not a string (${show(value)})`);
  if (value.includes('\0')) throw invalid(where, `contains a NUL byte: ${show(value)}`);
  if (!options.empty && value === '') throw invalid(where, 'empty');
  return value;
}

/** An absolute, normalized path (as `path.resolve` gives it): no `..`, `.`, `//` or trailing `/`. */
function requireAbsolute(where: string, value: unknown): string {
  const text = requireName(where, value);
  if (!path.isAbsolute(text)) throw invalid(where, `not an absolute path: ${show(text)}`);
  if (text.split('/').includes('..')) throw invalid(where, `has a '..' component: ${show(text)}`);
  if (path.resolve(text) !== text)
    throw invalid(
      where,
      `not a normalized path (${show(text)}; normalized: ${path.resolve(text)})`,
    );
  return text;
}

function requireDateTime(where: string, value: unknown): string {
  const text = requireName(where, value);
  if (
    !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(text) ||
    !Number.isFinite(Date.parse(text))
  )
    throw invalid(where, `not an ISO-8601 date-time: ${show(text)}`);
  return text;
}

function optional<T>(value: unknown, check: (value: unknown) => T): T | undefined {
  return value === undefined ? undefined : check(value);
}

/**
 * A step's cost, as the planner priced it: apply's budget guard sums these for the steps it has
 * left, so a plan without them (made by 0.1.0) or with absurd ones is not carried out.
 */
function validateCost(where: string, cost: unknown): void {
  if (!isRecord(cost))
    throw invalid(where, 'missing (a plan made by restoreplan 0.1.0: make a new plan)');
  requireAbsolute(`${where}.mountPoint`, cost.mountPoint);
  // Net inodes and blocks go down when a name is replaced by a link to another file, or a file
  // by a smaller one; what a step holds while it runs never does.
  for (const key of ['inodes', 'blocks']) requireInteger(`${where}.${key}`, cost[key]);
  // But no step gives back more than the name it replaces held: one inode (its blocks are the
  // disk's to know). A cost below that is an edit that would blind the guard to the reserve.
  if ((cost.inodes as number) < -1)
    throw invalid(`${where}.inodes`, 'a step frees at most the one inode of the name it replaces');
  for (const key of ['peakInodes', 'peakBlocks']) requireCount(`${where}.${key}`, cost[key]);
}

function validateGrowth(where: string, value: unknown): void {
  const growth = requireRecord(where, value);
  if (growth.inflowPerHour !== null) requireCount(`${where}.inflowPerHour`, growth.inflowPerHour);
  if (growth.windowHours !== null) {
    const hours = growth.windowHours;
    if (typeof hours !== 'number' || !Number.isFinite(hours) || hours < 0)
      throw invalid(`${where}.windowHours`, `not a number of hours: ${show(hours)}`);
  }
  requireCount(`${where}.measured`, growth.measured);
  requireCount(`${where}.allowance`, growth.allowance);
  requireBoolean(`${where}.counted`, growth.counted);
  requireText(`${where}.note`, growth.note);
}

function validateBudget(where: string, value: unknown): void {
  if (!Array.isArray(value)) throw invalid(where, 'not an array');
  for (const [b, row] of value.entries()) {
    const at = `${where}[${b}]`;
    const budget = requireRecord(at, row);
    requireAbsolute(`${at}.mountPoint`, budget.mountPoint);
    // Net demand goes down when files are replaced by smaller ones, and what is available
    // above the blocks kept for creates can be below zero; reserves never are.
    for (const key of [
      'inodesNeeded',
      'inodesPeak',
      'inodesFree',
      'blocksNeeded',
      'blocksPeak',
      'blocksAvailable',
    ])
      requireInteger(`${at}.${key}`, budget[key]);
    for (const key of ['inodesReserve', 'blocksReserve']) requireCount(`${at}.${key}`, budget[key]);
    optional(budget.inodesGrowth, (g) => validateGrowth(`${at}.inodesGrowth`, g));
  }
}

function validateArchive(value: unknown): void {
  const archive = requireRecord('archive', value);
  const archivePath = requireName('archive.path', archive.path);
  const tool = archivePath.startsWith('restic:') || archivePath.startsWith('borg:');
  if (tool) {
    // A restic:/borg: source as parseBackupSource takes it (a bad one is USAGE there).
    try {
      parseBackupSource(archivePath);
    } catch {
      throw invalid(
        'archive.path',
        `not a restic:SNAPSHOT or borg:REPO::ARCHIVE source: ${show(archivePath)}`,
      );
    }
    const fingerprint = String(archive.fingerprint);
    if (
      !/^(restic|borg):[0-9a-f]{64}$/.test(fingerprint) ||
      !archivePath.startsWith(fingerprint.slice(0, fingerprint.indexOf(':') + 1))
    )
      throw invalid(
        'archive.fingerprint',
        `not the id of the ${archivePath.slice(0, archivePath.indexOf(':'))} snapshot or archive: ${show(fingerprint)}`,
      );
  } else if (archivePath !== '-' && !path.isAbsolute(archivePath))
    throw invalid(
      'archive.path',
      `neither - (stdin), an absolute path nor a restic:/borg: source: ${show(archivePath)}`,
    );
  if (archive.sizeBytes !== null) requireCount('archive.sizeBytes', archive.sizeBytes);
  if (archive.mtime !== null) requireDateTime('archive.mtime', archive.mtime);
  requireName('archive.fingerprint', archive.fingerprint);
  const compression = requireEnum('archive.compression', archive.compression, COMPRESSIONS);
  const seekable = requireBoolean('archive.seekable', archive.seekable);
  if (seekable && compression !== 'none')
    throw invalid('archive.seekable', `a ${compression} archive is not read by offset`);
}

function validateLists(value: unknown): void {
  if (!Array.isArray(value)) throw invalid('lists', 'not an array');
  for (const [l, item] of value.entries()) {
    const at = `lists[${l}]`;
    const list = requireRecord(at, item);
    const name = requireName(`${at}.name`, list.name);
    if (name.includes('/') || name === '.' || name === '..')
      throw invalid(`${at}.name`, `not a list name: ${show(name)}`);
    requireEnum(`${at}.status`, list.status, LIST_STATUSES);
    requireEnum(`${at}.action`, list.action, LIST_ACTIONS);
    optional(list.source, (s) => requireName(`${at}.source`, s));
    requireText(`${at}.reason`, list.reason);
    optional(list.evidence, (e) => {
      if (!Array.isArray(e)) throw invalid(`${at}.evidence`, 'not an array');
      for (const [i, piece] of e.entries()) {
        const where = `${at}.evidence[${i}]`;
        const evidence = requireRecord(where, piece);
        requireEnum(`${where}.kind`, evidence.kind, EVIDENCE_KINDS);
        requireName(`${where}.path`, evidence.path);
        optional(evidence.count, (c) => requireCount(`${where}.count`, c));
        requireText(`${where}.detail`, evidence.detail);
      }
    });
  }
}

function validateProblems(value: unknown): void {
  if (!Array.isArray(value)) throw invalid('problems', 'not an array');
  for (const [p, item] of value.entries()) {
    const at = `problems[${p}]`;
    const problem = requireRecord(at, item);
    requireEnum(`${at}.kind`, problem.kind, new Set(Object.keys(PROBLEM_CATALOG)));
    requireEnum(`${at}.severity`, problem.severity, SEVERITIES);
    requireText(`${at}.message`, problem.message);
    for (const key of ['targetPath', 'memberPath', 'mountPoint', 'list'])
      optional(problem[key], (v) => requireText(`${at}.${key}`, v));
  }
}

/** The steps of a plan that need --allow-special, by kind (for the confirmation). */
export function countSpecialSteps(plan: PlanDocument): {
  setid: number;
  fifos: number;
  devices: number;
} {
  const counts = { setid: 0, fifos: 0, devices: 0 };
  for (const stage of plan.stages) {
    for (const step of stage.steps) {
      const special = specialOf(step);
      if (special === 'mode') counts.setid += 1;
      else if (special === 'type') {
        if (step.type === 'fifo') counts.fifos += 1;
        else counts.devices += 1;
      }
    }
  }
  return counts;
}

interface StageContext {
  root: string;
  allowSpecial: boolean;
  archive: { compression: string; sizeBytes: number | null };
  targets: Set<string>;
}

function validateStep(where: string, value: unknown, context: StageContext): PlanStep {
  const step = requireRecord(where, value);
  const { root } = context;
  const memberPath = requireName(`${where}.memberPath`, step.memberPath);
  if (findUnsafeReason(memberPath) !== null || path.isAbsolute(memberPath))
    throw invalid(
      `${where}.memberPath`,
      `not a safe member path (absolute, or a '..'): ${show(memberPath)}`,
    );
  if (normalizeMemberPath(memberPath) !== memberPath)
    throw invalid(`${where}.memberPath`, `not a normalized member path: ${show(memberPath)}`);

  const targetPath = requireAbsolute(`${where}.targetPath`, step.targetPath);
  if (targetPath === root || !isInside(root, targetPath))
    throw invalid(`${where}.targetPath`, `${targetPath} is not inside the stage root ${root}`);
  // One step per targetPath: the planner's selection already let the last occurrence win, so a
  // repeat is an edit (a second write over a path apply would have to arbitrate).
  if (context.targets.has(targetPath))
    throw invalid(`${where}.targetPath`, `${targetPath} has more than one step`);
  context.targets.add(targetPath);

  const type = requireEnum(`${where}.type`, step.type, STEP_TYPES);
  const write = requireEnum(`${where}.write`, step.write, WRITE_MODES);
  if (type === 'dir' && write !== 'create')
    throw invalid(`${where}.write`, 'a directory step only creates');
  if (write === 'rewrite' && type !== 'file')
    throw invalid(`${where}.write`, 'only a regular file is rewritten in place');

  validateCost(`${where}.cost`, step.cost);

  const size = requireCount(`${where}.size`, step.size);
  if (type !== 'file' && size !== 0)
    throw invalid(`${where}.size`, `a ${type} step has no size (0), not ${size}`);

  const mode = step.mode;
  if (!isInteger(mode) || mode < 0 || mode > MAX_MODE)
    throw invalid(`${where}.mode`, `not a mode (an integer 0..0o7777): ${show(mode)}`);
  const mtime = step.mtime;
  if (typeof mtime !== 'number' || !Number.isFinite(mtime) || Math.abs(mtime) > MAX_TIME)
    throw invalid(
      `${where}.mtime`,
      `not a time utimes accepts (seconds since the epoch, |t| <= 2^53-1): ${show(mtime)}`,
    );
  requireBoolean(`${where}.freshMtime`, step.freshMtime);
  if (step.owner !== null) {
    const owner = requireRecord(`${where}.owner`, step.owner);
    for (const key of ['uid', 'gid']) {
      const id = owner[key];
      if (!isInteger(id) || id < 0 || id > MAX_ID)
        throw invalid(`${where}.owner.${key}`, `not a ${key} (0..${MAX_ID}): ${show(id)}`);
    }
  }
  if (
    step.sha256 !== undefined &&
    !(typeof step.sha256 === 'string' && /^[0-9a-f]{64}$/.test(step.sha256))
  )
    throw invalid(`${where}.sha256`, 'not a sha256 hex digest');

  validateLinkTarget(where, step, type, targetPath, context);
  validateSource(where, step.source, type, size, context);

  const special = specialOf({ type: type as PlanStep['type'], mode });
  if (special && !context.allowSpecial) {
    throw invalid(
      `${where}.${special}`,
      special === 'type'
        ? `a ${type} step in a plan not made with --allow-special`
        : `setuid/setgid bits (0${mode.toString(8)}) on a ${type} in a plan not made with --allow-special`,
    );
  }
  return step as unknown as PlanStep;
}

function validateLinkTarget(
  where: string,
  step: Record<string, unknown>,
  type: string,
  targetPath: string,
  context: StageContext,
): void {
  const at = `${where}.linkTarget`;
  if (type === 'symlink') {
    const text = requireName(at, step.linkTarget);
    if (Buffer.byteLength(text) > PATH_MAX) throw invalid(at, 'longer than PATH_MAX');
    // The symlink text itself is judged once all steps are known (validateSymlinks).
  } else if (type === 'hardlink') {
    const linkTarget = requireAbsolute(at, step.linkTarget);
    if (linkTarget === context.root || !isInside(context.root, linkTarget))
      throw invalid(at, `${linkTarget} is not inside the stage root ${context.root}`);
    if (linkTarget === targetPath) throw invalid(at, 'a hard link to itself');
  } else if (step.linkTarget !== undefined) {
    throw invalid(at, `a ${type} step has no link target`);
  }
}

function validateSource(
  where: string,
  value: unknown,
  type: string,
  size: number,
  context: StageContext,
): void {
  const at = `${where}.source`;
  const source = requireRecord(at, value);
  const headerOffset = requireCount(`${at}.headerOffset`, source.headerOffset);
  const dataOffset = requireCount(`${at}.dataOffset`, source.dataOffset);
  const dataLength = requireCount(`${at}.dataLength`, source.dataLength);
  if (headerOffset % BLOCK !== 0)
    throw invalid(`${at}.headerOffset`, `${headerOffset} is not on a 512-byte tar block`);
  if (dataOffset < headerOffset + BLOCK)
    throw invalid(`${at}.dataOffset`, `${dataOffset} is not after the header at ${headerOffset}`);
  const { compression, sizeBytes } = context.archive;
  if (
    compression === 'none' &&
    sizeBytes !== null &&
    (dataOffset > sizeBytes || dataLength > sizeBytes - dataOffset)
  )
    throw invalid(
      `${at}.dataLength`,
      `the member's data (${dataLength} bytes at ${dataOffset}) lies beyond the end of the ${sizeBytes}-byte archive`,
    );
  if (source.sparse === null) {
    if (type === 'file' && dataLength !== size)
      throw invalid(`${at}.dataLength`, `stored length ${dataLength} differs from size ${size}`);
    return;
  }
  if (!Array.isArray(source.sparse)) throw invalid(`${at}.sparse`, 'not an array or null');
  if (type !== 'file') throw invalid(`${at}.sparse`, `a ${type} step has no sparse map`);
  for (const pair of source.sparse as unknown[]) {
    if (!Array.isArray(pair) || pair.length !== 2 || !isCount(pair[0]) || !isCount(pair[1]))
      throw invalid(`${at}.sparse`, 'not [offset, length] pairs of counts');
  }
  const error = findSparseMapError(source.sparse as Array<[number, number]>, size, dataLength);
  if (error) throw invalid(`${at}.sparse`, error);
}

/**
 * Each symlink's text by the planner's rule, over the symlinks the plan itself makes: a link
 * leaving the root, or going on through another planned link, was never planned. The disk (a
 * link planted since) is judged when the step runs (classifyStage), where it is a refusal of
 * that step rather than of the plan.
 */
function validateSymlinks(stages: readonly { root: string; steps: readonly PlanStep[] }[]): void {
  const planned = new Set<string>();
  for (const stage of stages)
    for (const step of stage.steps) if (step.type === 'symlink') planned.add(step.targetPath);
  for (const [s, stage] of stages.entries()) {
    for (const [i, step] of stage.steps.entries()) {
      if (step.type !== 'symlink') continue;
      const refusal = judgeSymlinkText(stage.root, step.targetPath, step.linkTarget, (candidate) =>
        planned.has(candidate),
      );
      if (refusal)
        throw invalid(
          `stages[${s}].steps[${i}].linkTarget`,
          `${refusal.reason}: ${refusal.message}`,
        );
    }
  }
}

/**
 * Each step's targetPath is its member's name under the stage root, after one member root the
 * whole plan shares (`var/lib/mailman/` for a backup of `/`; none for a backup of the var dir
 * itself): the planner maps every member so (relativeToRoot). checkPlannedMembers proves the
 * member at each offset is the one the step names, but not where it goes: an edited
 * targetPath restored, for instance, a list's pipermail attachment (bytes any poster chose) as
 * `lists/board/config.pck` — a pickle Mailman loads — or a queue file over another list's
 * config, each "verified" against the archive. The member root is taken from the first step.
 */
function validateMemberMapping(stages: readonly { root: string; steps: readonly PlanStep[] }[]) {
  let memberRoot: string | null = null;
  for (const [s, stage] of stages.entries()) {
    for (const [i, step] of stage.steps.entries()) {
      const rel = path.relative(stage.root, step.targetPath);
      // The one rename the planner makes: a list whose config.pck has no copy that loads gets
      // the backup's config.pck.last as its config.pck (chooseConfigSource).
      const memberPath =
        step.type === 'file' &&
        step.memberPath.endsWith('/config.pck.last') &&
        rel.endsWith('/config.pck')
          ? step.memberPath.slice(0, -'.last'.length)
          : step.memberPath;
      let prefix =
        memberPath === rel
          ? ''
          : memberPath.endsWith(`/${rel}`)
            ? memberPath.slice(0, -rel.length)
            : null;
      // And a list directory the archive has no member for is planned from its config's member
      // (a dir step whose member lies beneath its own name).
      const below = step.type === 'dir' ? memberPath.lastIndexOf(`${rel}/`) : -1;
      if (prefix === null && below >= 0 && (below === 0 || memberPath[below - 1] === '/'))
        prefix = memberPath.slice(0, below);
      if (prefix === null || (memberRoot !== null && prefix !== memberRoot)) {
        throw invalid(
          `stages[${s}].steps[${i}].targetPath`,
          `${step.targetPath} is not where the member ${show(step.memberPath)} goes${memberRoot === null ? '' : ` (the plan maps members under ${memberRoot === '' ? 'the archive root' : show(memberRoot)} to ${stage.root})`}`,
        );
      }
      memberRoot ??= prefix;
    }
  }
}

/** Throws PLAN_INVALID unless `value` is a plan document apply may carry out as it says. */
export function validatePlan(value: unknown): PlanDocument {
  if (!isRecord(value)) throw invalid('plan', 'not a JSON object');
  if (value.schemaVersion !== SCHEMA_VERSION)
    throw invalid('schemaVersion', `expected ${SCHEMA_VERSION}, got ${show(value.schemaVersion)}`);
  requireDateTime('createdAt', value.createdAt);
  requireText('reason', value.reason);
  const feasible = requireBoolean('feasible', value.feasible);
  requireEnum('verdict', value.verdict, VERDICTS);
  if (value.strategy !== null) requireEnum('strategy', value.strategy, STRATEGIES);
  if (!feasible && value.strategy !== null)
    throw invalid('strategy', 'an infeasible plan has no strategy');
  validateArchive(value.archive);
  const archive = value.archive as PlanDocument['archive'];

  const target = requireRecord('target', value.target);
  const targetPath = requireAbsolute('target.path', target.path);
  requireText('target.device', target.device);
  // Plans made before the staging root was recorded have none: their stages are the target's.
  const staging =
    value.staging === undefined || value.staging === null
      ? null
      : requireAbsolute('staging', value.staging);
  const allowSpecial =
    value.allowSpecial === undefined ? false : requireBoolean('allowSpecial', value.allowSpecial);

  if (value.mailman !== null && value.mailman !== undefined) {
    const mailman = requireRecord('mailman', value.mailman);
    const root = requireAbsolute('mailman.root', mailman.root);
    // apply reads the list locks under it and judges configs by it: it is the target, always.
    if (root !== targetPath)
      throw invalid('mailman.root', `${root} is not the plan's target ${targetPath}`);
    for (const key of ['running', 'freshMtime', 'restartAdvised'])
      requireBoolean(`mailman.${key}`, mailman[key]);
    requireText('mailman.note', mailman.note);
  }
  validateLists(value.lists);
  validateProblems(value.problems);

  if (!Array.isArray(value.stages)) throw invalid('stages', 'not an array');
  const roots = staging === null ? [targetPath] : [targetPath, staging];
  const targets = new Set<string>();
  for (const [s, item] of (value.stages as unknown[]).entries()) {
    const at = `stages[${s}]`;
    const stage = requireRecord(at, item);
    requireName(`${at}.name`, stage.name);
    const root = requireAbsolute(`${at}.root`, stage.root);
    if (!roots.includes(root)) {
      throw invalid(
        `${at}.root`,
        `${root} is neither the plan's target (${targetPath}) nor its staging root${staging === null ? ' (it has none)' : ` (${staging})`}`,
      );
    }
    validateBudget(`${at}.budget`, stage.budget);
    if (!Array.isArray(stage.steps)) throw invalid(`${at}.steps`, 'not an array');
    const context: StageContext = { root, allowSpecial, archive, targets };
    for (const [i, step] of (stage.steps as unknown[]).entries())
      validateStep(`${at}.steps[${i}]`, step, context);
  }
  validateSymlinks(value.stages as PlanDocument['stages']);
  validateMemberMapping(value.stages as PlanDocument['stages']);
  return value as unknown as PlanDocument;
}
