/**
 * `scanArchive`: one walk of the archive, counted the way extraction would leave it
 * (CONTRACT.md `scan`). Composes the archive walk, the inventory and Mailman detection; never
 * writes anything.
 */
import { describeArchive, walkArchive } from './archive/walkArchive.js';
import { buildInventory } from './inventory/buildInventory.js';
import { createWarningList } from './inventory/createWarningList.js';
import { archiveIndexOptions } from './plan/archiveIndexOptions.js';
import { readMailmanSummary } from './mailman/findMailmanRoot.js';
import type { CommonOptions } from './progress.js';
import { SCHEMA_VERSION, type ScanResult } from './types.js';

export interface ScanOptions extends CommonOptions {
  /** Tree rollup depth (default 3). */
  depth?: number;
  /** Directories a restore will write to: the default index directory is not used on their filesystems. */
  targets?: readonly string[];
}

export async function scanArchive(
  archive: string | NodeJS.ReadableStream,
  options: ScanOptions = {},
): Promise<ScanResult> {
  const inventory = buildInventory(options.depth === undefined ? {} : { depth: options.depth });
  const warnings = createWarningList();
  const walk = await walkArchive(archive, {
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    ...(await archiveIndexOptions(options, options.targets)),
    onEntry(entry) {
      inventory.add(entry);
      if (entry.unsafe !== null) {
        warnings.add({
          code: 'UNSAFE_PATH',
          message: `member name ${JSON.stringify(entry.rawPath)} contains '..' and is never restored`,
          memberPath: entry.memberPath,
        });
      }
    },
  });
  for (const warning of walk.warnings) warnings.add(warning);
  return {
    schemaVersion: SCHEMA_VERSION,
    archive: describeArchive(walk),
    totals: inventory.totals(),
    tree: inventory.tree(),
    mailman: summarizeMailman(readMailmanSummary(walk.summary)),
    warnings: warnings.list(),
  };
}

function summarizeMailman(found: { root: string; lists: string[] } | null): ScanResult['mailman'] {
  return found ? { root: found.root, lists: found.lists.length } : null;
}
