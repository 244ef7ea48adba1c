/**
 * Which lists the Mailman profile restores: by default every list that is down — corrupt (no
 * config file loads), lost (no config file at all) or missing (its directory gone while
 * Mailman's own files still name it); degraded lists only on request, since Mailman still
 * loads them from a fallback; `--lists` names the lists outright (also lists the backup holds
 * that nothing on disk names).
 */
import type { ListStatus } from '../types.js';

export interface ListSelectionOptions {
  lists?: readonly string[];
  includeDegraded?: boolean;
}

/** Statuses of a list that is down: Mailman cannot serve it. One definition, used everywhere. */
export const DOWN_STATUSES: ReadonlySet<ListStatus> = new Set(['corrupt', 'lost', 'missing']);

export function isListDown(status: string): boolean {
  return DOWN_STATUSES.has(status as ListStatus);
}

export function selectListNames(
  onDisk: ReadonlyArray<{ name: string; status: ListStatus }>,
  options: ListSelectionOptions,
): Set<string> {
  if (options.lists && options.lists.length > 0) return new Set(options.lists);
  const wanted = new Set<string>();
  for (const list of onDisk) {
    if (isListDown(list.status) || (options.includeDegraded && list.status === 'degraded'))
      wanted.add(list.name);
  }
  return wanted;
}
