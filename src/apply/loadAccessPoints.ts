/**
 * `loadAccessPoints`: the access points of a compressed archive file from its index, so apply
 * reads the planned members from the nearest point instead of decompressing the archive from
 * its start. Only a help: no index (or none wanted, or a stream) is an empty list, and apply
 * then reads as before. Whatever a point says is checked by what is read through it: every
 * planned member's header is re-read and compared with its step before anything is written.
 */
import type { AccessPoint } from '../archive/AccessPoint.js';
import { defaultIndexDir, indexKeyOf, loadArchiveIndex } from '../archive/archiveIndexStore.js';
import { fingerprintArchiveFile } from '../archive/fingerprintArchive.js';
import type { ArchiveIndexSetting } from '../progress.js';
import type { ArchiveSource } from './openArchiveSource.js';

export async function loadAccessPoints(
  source: ArchiveSource,
  setting: ArchiveIndexSetting | undefined,
  /** The file's fingerprint when the caller already proved it (a plan made from this file). */
  proven: string | null,
): Promise<AccessPoint[]> {
  if (setting === false || !source.readAt || !source.stats?.isFile()) return [];
  const dir = setting?.dir ?? defaultIndexDir();
  if (dir === null) return [];
  try {
    const stats = source.stats;
    // The index is keyed by the file's own fingerprint: the plan's when it was made from this
    // file (checkArchiveUnchanged just proved it); a plan made from a pipe records the
    // stream's, so a saved copy's own is computed.
    const fingerprint = proven ?? (await fingerprintArchiveFile(source.readAt, stats));
    const key = indexKeyOf({ fingerprint, dev: stats.dev, ino: stats.ino, ctimeNs: stats.ctimeNs });
    const index = await loadArchiveIndex(dir, key, setting?.onOutcome);
    return index?.accessPoints ?? [];
  } catch {
    return [];
  }
}
