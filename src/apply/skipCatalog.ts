/**
 * Every way apply can leave a step undone, as data: the `kind` of each `skipped[]` item of the
 * apply result. A script branches on the kind; people and runbooks read (and grep) the `reason`
 * next to it, whose wording predates the kinds and is kept. The catalog is typed
 * `satisfies Record<SkipKind, SkipInfo>`, so a kind added to the union without a summary here
 * does not compile; the README's apply section has the same table (test/apply/skipCatalog).
 *
 * THE rule of what "complete" means lives here too, as each kind's `run`: how a skip of that
 * kind leaves the run. `done` — the plan's step is satisfied without this run writing it (an
 * earlier run restored it; or kept by design: the live system changed it since, and apply never
 * reverts newer data). `incomplete` — the plan asked for it and it is not there: the run goes
 * on, but ends `incomplete` (exit 2), naming the steps. `stopped` / `failed` — the run ends so
 * (a list lock; a member that does not verify, a write that fails). A run is `complete` only
 * when every skip it reports is `done` (applyPlan's endOfRun, and the dry run's status, read
 * this and nothing else).
 */
import type { SkipKind } from '../types.js';

/** How a skip of a kind leaves the run (see the comment above). */
export type SkipEffect = 'done' | 'incomplete' | 'stopped' | 'failed';

export interface SkipInfo {
  summary: string;
  run: SkipEffect;
}

export const SKIP_CATALOG = {
  'already-restored': {
    summary: 'An earlier run of this plan restored it and it still reads back as restored.',
    run: 'done',
  },
  unsafe: {
    summary:
      'The member would escape the root (.., absolute name, a symlink in its path, link text or a hard link leaving the root): never written.',
    run: 'incomplete',
  },
  locked: {
    summary:
      'It belongs to a Mailman list whose lock a live process holds: the run ends stopped; re-run when the lock is released.',
    run: 'stopped',
  },
  'changed-since-restored': {
    summary:
      'An earlier run restored it and the live system changed it since (a newer Mailman save): left as it is, never reverted.',
    run: 'done',
  },
  'type-conflict': {
    summary:
      'A path of another type is in the way (a file where a directory belongs, or the reverse): left as it is.',
    run: 'incomplete',
  },
  special: {
    summary: 'A device node (never created) or a fifo (restored only with --allow-special).',
    run: 'incomplete',
  },
  'rewrite-refused': {
    summary:
      'The plan asks for an in-place rewrite, but the target is not an existing regular file (or the member is not a file).',
    run: 'incomplete',
  },
  'verify-failed': {
    summary:
      'The member does not match the plan (size, sha256), is not a loadable Mailman pickle, or did not read back as written: the run ends failed.',
    run: 'failed',
  },
  'not-restored': {
    summary:
      'Writing it failed (WRITE_FAILED, the errno in the reason): the run ends failed there; a re-run resumes.',
    run: 'failed',
  },
  'metadata-not-applied': {
    summary:
      'A directory was restored but its owner, mode or times could not be set: it may be left at mode 0700.',
    run: 'incomplete',
  },
} as const satisfies Record<SkipKind, SkipInfo>;

/** Whether a skip of this kind leaves the plan satisfied (already done, or kept by design). */
export function isSatisfied(kind: SkipKind): boolean {
  return SKIP_CATALOG[kind].run === 'done';
}

/** The skips that leave a step of the plan undone while the run goes on: they make it incomplete. */
export function incompleteSkips<T extends { kind: SkipKind }>(skipped: readonly T[]): T[] {
  return skipped.filter((skip) => SKIP_CATALOG[skip.kind].run === 'incomplete');
}

/**
 * One line naming the steps left undone: how many of each kind, then the first few paths
 * (all of them are in `skipped`).
 */
export function describeUndone(
  skipped: readonly { targetPath: string; kind: SkipKind }[],
  show = 5,
): string {
  const counts = new Map<SkipKind, number>();
  for (const skip of skipped) counts.set(skip.kind, (counts.get(skip.kind) ?? 0) + 1);
  const byKind = [...counts].map(([kind, n]) => `${kind} ${n}`).join(', ');
  const paths = skipped.slice(0, show).map((skip) => skip.targetPath);
  const more = skipped.length > show ? ` and ${skipped.length - show} more` : '';
  const noun = skipped.length === 1 ? 'step' : 'steps';
  return `${skipped.length} ${noun} of the plan not done (${byKind}): ${paths.join(', ')}${more}`;
}
