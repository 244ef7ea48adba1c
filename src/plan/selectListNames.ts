/**
 * Which lists the Mailman profile restores: by default the corrupt ones (down, their mail
 * being shunted); degraded lists only on request, since Mailman still loads them from a
 * fallback; `--lists` names the lists outright (also lists missing on disk).
 */
import type { ListStatus } from '../types.js';

export interface ListSelectionOptions {
  lists?: readonly string[];
  includeDegraded?: boolean;
}

export function selectListNames(
  onDisk: ReadonlyArray<{ name: string; status: ListStatus }>,
  options: ListSelectionOptions,
): Set<string> {
  if (options.lists && options.lists.length > 0) return new Set(options.lists);
  const wanted = new Set<string>();
  for (const list of onDisk) {
    if (list.status === 'corrupt' || (options.includeDegraded && list.status === 'degraded'))
      wanted.add(list.name);
  }
  return wanted;
}
