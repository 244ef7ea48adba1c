/**
 * Every way apply can leave a step undone, as data: the `kind` of each `skipped[]` item of the
 * apply result. A script branches on the kind; people and runbooks read (and grep) the `reason`
 * next to it, whose wording predates the kinds and is kept. The catalog is typed
 * `satisfies Record<SkipKind, SkipInfo>`, so a kind added to the union without a summary here
 * does not compile; the README's apply section has the same table (test/apply/skipCatalog).
 */
import type { SkipKind } from '../types.js';

export interface SkipInfo {
  summary: string;
}

export const SKIP_CATALOG = {
  'already-restored': {
    summary: 'An earlier run of this plan restored it and it still reads back as restored.',
  },
  unsafe: {
    summary:
      'The member would escape the root (.., absolute name, a symlink in its path, link text or a hard link leaving the root): never written.',
  },
  locked: {
    summary:
      'It belongs to a Mailman list whose lock a live process holds: the run ends stopped; re-run when the lock is released.',
  },
  'changed-since-restored': {
    summary:
      'An earlier run restored it and the live system changed it since (a newer Mailman save): left as it is, never reverted.',
  },
  'type-conflict': {
    summary:
      'A path of another type is in the way (a file where a directory belongs, or the reverse): left as it is.',
  },
  special: {
    summary: 'A device node (never created) or a fifo (restored only with --allow-special).',
  },
  'rewrite-refused': {
    summary:
      'The plan asks for an in-place rewrite, but the target is not an existing regular file (or the member is not a file).',
  },
  'verify-failed': {
    summary:
      'The member does not match the plan (size, sha256), is not a loadable Mailman pickle, or did not read back as written: the run ends failed.',
  },
  'not-restored': {
    summary:
      'Writing it failed (the errno is in the reason): the run ends there, stopped on a full disk and failed otherwise; a re-run resumes.',
  },
  'metadata-not-applied': {
    summary:
      'A directory was restored but its owner, mode or times could not be set: it may be left at mode 0700.',
  },
} as const satisfies Record<SkipKind, SkipInfo>;
