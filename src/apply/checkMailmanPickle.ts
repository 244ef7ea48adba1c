/**
 * Mailman pickles are checked before they are written and re-read after: restoring a config
 * that Mailman cannot load would turn a degraded list into a down one, and the whole point of
 * the run is lists that load. A list's config.pck / config.pck.last / request.pck /
 * pending.pck must be a complete pickle of a dict (what Mailman's loader accepts); any other
 * `.pck` (queue files: two pickles back to back) must at least be a complete pickle.
 */
import path from 'node:path';

import { readPickle } from '../mailman/readPickle.js';

const DICT_PICKLES = new Set(['config.pck', 'config.pck.last', 'request.pck', 'pending.pck']);

export function isMailmanPickle(targetPath: string): boolean {
  const name = path.basename(targetPath);
  return DICT_PICKLES.has(name) || name.endsWith('.pck');
}

/** Why `data` would not load as the Mailman file `targetPath`, or null when it would. */
export function checkMailmanPickle(targetPath: string, data: Buffer): string | null {
  const name = path.basename(targetPath);
  if (!isMailmanPickle(targetPath)) return null;
  if (data.length === 0) return `${name} is empty`;
  const verdict = readPickle(data);
  if (DICT_PICKLES.has(name)) {
    return verdict.kind === 'dict'
      ? null
      : `${name} is not a loadable dict pickle (${verdict.kind}: ${verdict.detail})`;
  }
  return verdict.kind === 'dict' || verdict.kind === 'other'
    ? null
    : `${name} is not a complete pickle (${verdict.kind}: ${verdict.detail})`;
}
