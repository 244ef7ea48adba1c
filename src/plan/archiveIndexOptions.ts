/**
 * `archiveIndexOptions`: the index and notes options of every walk that may use or leave an
 * archive index, decided here once (the walks of scan, check, plan and the wizard all spread it
 * into walkArchive's options). Every such walk notes the same data (Mailman list files) and the
 * same summary (the archive's Mailman var dir): an index left by `scan` serves `plan` as well.
 */
import type { WalkOptions } from '../archive/walkArchive.js';
import { defaultIndexDir } from '../archive/archiveIndexStore.js';
import { findDevices } from '../filesystems/findDevices.js';
import { MAILMAN_ROOT_SUMMARY } from '../mailman/findMailmanRoot.js';
import { LIST_FILE_NOTES } from '../mailman/noteListFile.js';
import type { CommonOptions } from '../progress.js';

export async function archiveIndexOptions(
  options: CommonOptions,
  /** Directories the restore writes to: the default index directory is not used on their filesystems. */
  targets: readonly string[] = [],
): Promise<Pick<WalkOptions, 'useIndex' | 'notes' | 'summary' | 'avoidDevices'>> {
  const setting = options.index ?? {};
  // Where a restic source's config copies must not be restored to (readBackupMembers).
  const avoidDevices = targets.length > 0 ? await findDevices(targets) : null;
  const base = {
    notes: LIST_FILE_NOTES,
    summary: MAILMAN_ROOT_SUMMARY,
    ...(avoidDevices ? { avoidDevices } : {}),
  };
  if (setting === false) return { ...base, useIndex: null };
  const dir = setting.dir ?? defaultIndexDir();
  if (dir === null) return { ...base, useIndex: null };
  return {
    ...base,
    useIndex: {
      dir,
      ...(setting.dir === undefined && avoidDevices ? { avoidDevices } : {}),
      ...(setting.onOutcome ? { onOutcome: setting.onOutcome } : {}),
    },
  };
}
