/**
 * Which copy of a list's config the plan restores. A backup can hold a config that was already
 * corrupt when it was taken (the crash happened before the backup, or the file was caught
 * mid-save), and an archive appended to (`tar -r`) holds several occurrences of one path:
 * the newest occurrence that loads wins, and `config.pck.last` (the save before) stands in
 * when no `config.pck` loads — Mailman's own loader would fall back to it the same way.
 */
import type { CandidateCopy, ListFileName } from './collectMailmanMembers.js';

export interface ConfigSource {
  copy: CandidateCopy;
  /** false: taken from config.pck.last because no copy of config.pck loads. */
  fromPck: boolean;
}

/** The last valid occurrence, in archive order (the one extraction would leave, if valid). */
export function lastValidCopy(copies: readonly CandidateCopy[] | undefined): CandidateCopy | null {
  if (!copies) return null;
  for (let i = copies.length - 1; i >= 0; i -= 1) {
    const copy = copies[i];
    if (copy?.valid) return copy;
  }
  return null;
}

export function chooseConfigSource(
  files: ReadonlyMap<ListFileName, readonly CandidateCopy[]> | undefined,
): ConfigSource | null {
  const fromPck = lastValidCopy(files?.get('config.pck'));
  if (fromPck) return { copy: fromPck, fromPck: true };
  const fromLast = lastValidCopy(files?.get('config.pck.last'));
  return fromLast ? { copy: fromLast, fromPck: false } : null;
}
