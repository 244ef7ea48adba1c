/**
 * The members of a plan read in one pass, held in memory until their steps are written: what
 * apply does for a plan made from a pipe (readStreamOnce) and from a backup tool's run
 * (openBackupMembers). Neither can read a member again, so a member two steps write is kept
 * until the last of them released it.
 */
import { RestoreplanError } from '../errors.js';
import type { FileStep, PlanDocument } from '../types.js';
import type { MemberReader } from './openMemberReader.js';
import { expandStoredData, type MemberChunk } from './readMemberChunks.js';

export interface HeldMembers {
  /** The file steps' members by header offset, with how many steps write each. */
  readonly wanted: ReadonlyMap<number, { step: FileStep; uses: number }>;
  /** Bytes the pass would hold (sizeOf each member once), and the largest member's. */
  readonly total: number;
  readonly largest: number;
  /** Keeps a member's data as read (stored form: expanded by its step's sparse map). */
  keep(offset: number, data: Buffer): void;
  has(offset: number): boolean;
  /**
   * The reader over what was kept. `from` names the source in the INTERNAL error of a step
   * whose member was not kept; `collect` false: nothing was read (a dry run), nothing checked.
   */
  reader(options: { from: string; collect: boolean; close?: () => Promise<void> }): MemberReader;
}

export function holdPlannedMembers(
  plan: Pick<PlanDocument, 'stages'>,
  sizeOf: (step: FileStep) => number,
): HeldMembers {
  const wanted = new Map<number, { step: FileStep; uses: number }>();
  let total = 0;
  let largest = 0;
  for (const stage of plan.stages) {
    for (const step of stage.steps) {
      if (step.type !== 'file') continue;
      const known = wanted.get(step.source.headerOffset);
      if (known) {
        known.uses += 1;
        continue;
      }
      wanted.set(step.source.headerOffset, { step, uses: 1 });
      total += sizeOf(step);
      largest = Math.max(largest, sizeOf(step));
    }
  }
  const store = new Map<number, MemberChunk[]>();
  return {
    wanted,
    total,
    largest,
    keep(offset, data) {
      const planned = wanted.get(offset);
      if (!planned) return;
      const { step } = planned;
      store.set(offset, expandStoredData(data, step.source, step.size, step.memberPath));
    },
    has: (offset) => store.has(offset),
    reader: ({ from, collect, close }) => ({
      seekable: false,
      prepare: async (batch) => {
        if (!collect) return;
        for (const step of batch) {
          if (step.type === 'file' && !store.has(step.source.headerOffset))
            throw new RestoreplanError('INTERNAL', `${step.memberPath} was not read from ${from}`);
        }
      },
      read(step) {
        const chunks = store.get(step.source.headerOffset);
        if (!chunks) throw new RestoreplanError('INTERNAL', `${step.memberPath} was not prepared`);
        return chunks;
      },
      release(step) {
        const kept = wanted.get(step.source.headerOffset);
        if (!kept) return;
        kept.uses -= 1;
        if (kept.uses <= 0) store.delete(step.source.headerOffset);
      },
      close: async () => {
        store.clear();
        await close?.();
      },
    }),
  };
}
