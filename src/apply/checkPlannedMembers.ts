/**
 * Each step against the member it names, as the archive really holds it. A plan records where
 * each member sits (its header and data offsets), its name, type, size and sparse map; apply
 * reads data at those offsets. An edited plan could claim a 2-byte extent at the end of a 30 GB
 * hole (apply would hash 30 GB of zeros), point one member's name at another's bytes, or turn a
 * file into a link: so before anything is written the archive is asked what is at each offset,
 * and a step that does not match is PLAN_INVALID, naming the step and the field.
 *
 * - An uncompressed archive on disk: each planned member's header is read again at its
 *   recorded offset (a few hundred bytes per step, in offset order: no scan).
 * - A compressed archive, or a stream: the walk that collects the data compares each planned
 *   member's header as it passes (openPlannedArchive runs one pass over a compressed file up
 *   to the last planned member first; a pipe's one pass is readStreamOnce's).
 *
 * A member is compared by what apply relies on: its name, type, size, where its data lies and
 * how long it is, its sparse map, and a link's target. The mode, owner and times come from the
 * plan (the planner takes them from what the member replaces), and are range-checked there.
 */
import type { ArchiveEntry } from '../archive/ArchiveEntry.js';
import { copyEntry } from '../archive/ArchiveEntry.js';
import type { ReadAt } from '../archive/openArchive.js';
import { TarParser } from '../archive/TarParser.js';
import { isRestoreplanError, RestoreplanError, throwIfAborted } from '../errors.js';
import path from 'node:path';
import type { PlanDocument, PlanStep } from '../types.js';

const HINT =
  'make a new plan with `restoreplan plan ARCHIVE --target DIR --out FILE` from the archive as it is; a plan file is not meant to be edited';

/** How far past a member's first header its own header may lie (pax and GNU long names, a pax 1.0 sparse map). */
const MAX_HEADER_BYTES = 64 * 1024 * 1024;
const WINDOW_BYTES = 64 * 1024;

export interface PlannedMember {
  /** `stages[s].steps[i]`: where the step is in the plan. */
  where: string;
  step: PlanStep;
  /** The stage's root (a hard link's target is mapped under it). */
  root: string;
}

function mismatch(
  planned: PlannedMember,
  field: string,
  said: unknown,
  found: unknown,
  entry: ArchiveEntry,
): RestoreplanError {
  const where = `${planned.where}.${field}`;
  return new RestoreplanError(
    'PLAN_INVALID',
    `${where}: the plan says ${JSON.stringify(said)}, the archive's member at offset ${entry.headerOffset} (${entry.memberPath}) has ${JSON.stringify(found)}: the plan was edited (or the archive changed in place); nothing was written`,
    {
      where,
      memberPath: planned.step.memberPath,
      targetPath: planned.step.targetPath,
      offset: entry.headerOffset,
      planned: said ?? null,
      archive: found ?? null,
      hint: HINT,
    },
  );
}

export function notFound(planned: PlannedMember, why: string): RestoreplanError {
  const where = `${planned.where}.source.headerOffset`;
  return new RestoreplanError(
    'PLAN_INVALID',
    `${where}: no member of the archive starts at offset ${planned.step.source.headerOffset} (${why}), where the plan has ${planned.step.memberPath}: the plan was edited (or the archive changed in place); nothing was written`,
    {
      where,
      memberPath: planned.step.memberPath,
      targetPath: planned.step.targetPath,
      offset: planned.step.source.headerOffset,
      hint: HINT,
    },
  );
}

/**
 * The data extents of a sparse map: an empty extent carries no data (GNU maps end with one at
 * the real size, and some writers pad with [0, 0]), and apply's reader skips it too.
 */
function extents(map: ReadonlyArray<readonly [number, number]>): Array<readonly [number, number]> {
  return map.filter(([, length]) => length > 0);
}

function sameSparse(a: PlanStep['source']['sparse'], b: ArchiveEntry['sparse']): boolean {
  if (a === null || b === null) return a === b;
  const x = extents(a);
  const y = extents(b);
  return x.length === y.length && x.every(([o, l], i) => o === y[i]?.[0] && l === y[i]?.[1]);
}

/**
 * The targetPath a hard link's member target maps to: the member's own name maps onto the
 * step's targetPath, so the root of the member names is what is left of it.
 */
function expectedLinkTarget(planned: PlannedMember, entry: ArchiveEntry): string | null {
  const { step, root } = planned;
  const rel = path.relative(root, step.targetPath);
  let memberRoot: string;
  if (step.memberPath === rel) memberRoot = '';
  else if (step.memberPath.endsWith(`/${rel}`))
    memberRoot = step.memberPath.slice(0, -rel.length - 1);
  else return null;
  if (memberRoot === '') return path.join(root, entry.linkPath);
  if (!entry.linkPath.startsWith(`${memberRoot}/`)) return null;
  return path.join(root, entry.linkPath.slice(memberRoot.length + 1));
}

/** Why the member does not match the step, or null when it does. */
export function compareMember(
  planned: PlannedMember,
  entry: ArchiveEntry,
): RestoreplanError | null {
  const { step } = planned;
  if (entry.headerOffset !== step.source.headerOffset)
    return notFound(planned, `the member there starts at ${entry.headerOffset}`);
  // The planner gives a list directory the archive lacks (only its config.pck is there) the
  // metadata of that config's member: a directory step may name a member below it.
  const implied =
    step.type === 'dir' &&
    entry.type !== 'dir' &&
    (entry.memberPath === step.memberPath || entry.memberPath.startsWith(`${step.memberPath}/`));
  if (!implied) {
    if (entry.memberPath !== step.memberPath)
      return mismatch(planned, 'memberPath', step.memberPath, entry.memberPath, entry);
    if (entry.type !== step.type) return mismatch(planned, 'type', step.type, entry.type, entry);
    const size = entry.type === 'file' ? entry.size : 0;
    if (step.size !== size) return mismatch(planned, 'size', step.size, size, entry);
  }
  if (entry.unsafe !== null)
    return mismatch(
      planned,
      'memberPath',
      step.memberPath,
      `${entry.rawPath} (unsafe: ${entry.unsafe})`,
      entry,
    );
  const { source } = step;
  if (source.dataOffset !== entry.dataOffset)
    return mismatch(planned, 'source.dataOffset', source.dataOffset, entry.dataOffset, entry);
  if (source.dataLength !== entry.dataLength)
    return mismatch(planned, 'source.dataLength', source.dataLength, entry.dataLength, entry);
  if (!sameSparse(source.sparse, entry.sparse))
    return mismatch(planned, 'source.sparse', source.sparse, entry.sparse, entry);
  if (step.type === 'symlink' && step.linkTarget !== entry.linkPath)
    return mismatch(planned, 'linkTarget', step.linkTarget, entry.linkPath, entry);
  if (step.type === 'hardlink') {
    const expected = expectedLinkTarget(planned, entry);
    if (expected !== step.linkTarget)
      return mismatch(planned, 'linkTarget', step.linkTarget, expected ?? entry.linkPath, entry);
  }
  return null;
}

/** The planned members of a plan by header offset (several steps may write one member). */
export class MemberCheck {
  readonly byOffset = new Map<number, PlannedMember[]>();
  /** The highest planned header offset (-1 for none): a walk may stop after it. */
  readonly last: number;
  private readonly seen = new Set<number>();
  /** The first mismatch seen (a pass over a stream goes on to its end, for the fingerprint). */
  firstError: RestoreplanError | null = null;

  constructor(plan: Pick<PlanDocument, 'stages'>) {
    let last = -1;
    for (const [s, stage] of plan.stages.entries()) {
      for (const [i, step] of stage.steps.entries()) {
        const offset = step.source.headerOffset;
        const list = this.byOffset.get(offset) ?? [];
        list.push({ where: `stages[${s}].steps[${i}]`, step, root: stage.root });
        this.byOffset.set(offset, list);
        last = Math.max(last, offset);
      }
    }
    this.last = last;
  }

  get size(): number {
    return this.byOffset.size;
  }

  /**
   * Compares the member a walk passes with the steps planned at its offset: true when it is
   * planned and matches (its data may be collected), false when it is not planned or does not
   * match (the first mismatch is kept in firstError).
   */
  see(entry: ArchiveEntry): boolean {
    const planned = this.byOffset.get(entry.headerOffset);
    if (!planned) return false;
    this.seen.add(entry.headerOffset);
    for (const member of planned) {
      const error = compareMember(member, entry);
      if (error) {
        this.firstError ??= error;
        return false;
      }
    }
    return true;
  }

  /** Throws the first mismatch, or PLAN_INVALID for a planned offset no member started at. */
  finish(why = 'the archive has no member there'): void {
    if (this.firstError) throw this.firstError;
    for (const [offset, planned] of this.byOffset) {
      const first = planned[0];
      if (!this.seen.has(offset) && first) throw notFound(first, why);
    }
  }
}

/** A cache of one window of the archive: headers of neighbouring members share a read. */
function windowedReader(
  readAt: ReadAt,
): (position: number) => Promise<{ chunk: Buffer; at: number }> {
  let window = Buffer.alloc(0);
  let start = -1;
  return async (position) => {
    if (start >= 0 && position >= start && position < start + window.length) {
      return { chunk: window.subarray(position - start), at: position };
    }
    const buffer = Buffer.allocUnsafe(WINDOW_BYTES);
    const got = await readAt(buffer, WINDOW_BYTES, position);
    window = buffer.subarray(0, got);
    start = position;
    return { chunk: window, at: position };
  };
}

/** The member whose first header is at `offset`, parsed as the walk parses it; null when none. */
async function readEntryAt(
  read: (position: number) => Promise<{ chunk: Buffer; at: number }>,
  offset: number,
): Promise<{ entry: ArchiveEntry | null; why: string }> {
  let found: ArchiveEntry | null = null;
  const parser = new TarParser({
    maxDataBytes: 0,
    onEntry: (entry) => {
      found = copyEntry(entry);
      return 'stop';
    },
  });
  parser.need = offset;
  try {
    while (found === null && !parser.done) {
      if (parser.need - offset > MAX_HEADER_BYTES) return { entry: null, why: 'no header there' };
      const { chunk, at } = await read(parser.need);
      if (chunk.length === 0) {
        parser.end(parser.need);
        break;
      }
      parser.push(chunk, at);
    }
  } catch (error) {
    if (!isRestoreplanError(error)) throw error;
    // A checksum, a truncation or a malformed field where the plan says a member starts: no
    // member starts there (the walk read a valid one there when the plan was made).
    return { entry: null, why: `${error.code}: ${error.message}` };
  }
  return { entry: found, why: 'the archive ends there' };
}

/**
 * An uncompressed archive read by offset: the header of every planned member is read again at
 * its recorded offset and compared. Throws PLAN_INVALID at the first step that differs.
 */
export async function checkMembersByOffset(
  readAt: ReadAt,
  check: MemberCheck,
  signal?: AbortSignal,
): Promise<void> {
  const read = windowedReader(readAt);
  const offsets = [...check.byOffset.keys()].sort((a, b) => a - b);
  for (const [n, offset] of offsets.entries()) {
    if (n % 1024 === 0) throwIfAborted(signal);
    const { entry, why } = await readEntryAt(read, offset);
    const planned = check.byOffset.get(offset) ?? [];
    for (const member of planned) {
      if (!entry) throw notFound(member, why);
      const error = compareMember(member, entry);
      if (error) throw error;
    }
  }
}
