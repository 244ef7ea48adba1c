/**
 * Refuses a stale plan. The plan records byte offsets into the archive; if the archive was
 * replaced since (last night's backup rotated over it), those offsets point into other members
 * and apply would restore the wrong bytes under the right names. The fingerprint is recomputed
 * exactly as the walk computed it: for a plan made from a file, its size, mtime in ns, inode,
 * first and last 64 KiB (size and mtime are compared first for a clearer message); for a plan
 * made from a stream (it has no mtime), the hash of all of its bytes — here over a regular file
 * (a saved copy of the stream, `--archive FILE`); a pipe is proven in its one pass instead
 * (readStreamOnce). Content is further guarded by each step's sha256 when the plan carries it.
 */
import { fingerprintArchiveFile, fingerprintAsStream } from '../archive/fingerprintArchive.js';
import { RestoreplanError } from '../errors.js';
import type { PlanDocument } from '../types.js';
import type { ArchiveSource } from './openArchiveSource.js';

/** A plan made from a stream (stdin, a FIFO) identifies it by its bytes; from a file, by the file. */
export function isStreamPlan(archive: PlanDocument['archive']): boolean {
  return archive.mtime === null;
}

/** The hint of every "not the same stream" error. */
export const SAME_STREAM_HINT =
  'pipe the archive the plan was made from (the same backup, e.g. the same borg or restic snapshot), or make a new plan from this one';

export async function checkArchiveUnchanged(
  archive: PlanDocument['archive'],
  source: ArchiveSource,
  signal?: AbortSignal,
): Promise<void> {
  if (isStreamPlan(archive)) {
    await checkStreamCopy(archive, source, signal);
    return;
  }
  const { label, stats } = source;
  if (source.stdin && !stats?.isFile()) {
    throw new RestoreplanError(
      'USAGE',
      'the plan was made from a file redirected to stdin and knows it by its size, mtime and inode, which a pipe does not have',
      {
        path: archive.path,
        hint: 'redirect that file again (restoreplan apply PLAN --yes < FILE) or name it with --archive FILE',
      },
    );
  }
  if (!stats) {
    throw new RestoreplanError(
      'USAGE',
      'the plan was made from an archive file: give apply that file, not a stream',
      { path: archive.path },
    );
  }
  const size = Number(stats.size);
  if (archive.sizeBytes !== null && size !== archive.sizeBytes) {
    throw new RestoreplanError(
      'PLAN_STALE',
      `${label} is ${size} bytes, the plan was made for ${archive.sizeBytes}: make a new plan`,
      { path: label, sizeBytes: size, planned: archive.sizeBytes },
    );
  }
  if (archive.mtime !== null) {
    const planned = Date.parse(archive.mtime);
    // Within a millisecond of the plan's (a copy kept with cp -p may carry coarser times), in
    // exact nanoseconds: Number(mtimeNs) / 1e6 rounds to 256 ns, and an untouched archive
    // modified in a millisecond's last 256 ns read as a millisecond later (a false PLAN_STALE).
    const offNs = Number.isFinite(planned) ? stats.mtimeNs - BigInt(planned) * 1_000_000n : 0n;
    if (offNs >= 1_000_000n || offNs <= -1_000_000n) {
      const mtime = stats.mtime.toISOString();
      throw new RestoreplanError(
        'PLAN_STALE',
        `${label} was modified (${mtime}) since the plan was made (${archive.mtime}): make a new plan`,
        { path: label, mtime, planned: archive.mtime },
      );
    }
  }
  if (!source.readAt) return;
  const fingerprint = await fingerprintArchiveFile(source.readAt, stats);
  if (fingerprint !== archive.fingerprint) {
    throw new RestoreplanError(
      'PLAN_STALE',
      `${label} is not the archive the plan was made from (fingerprint differs): make a new plan`,
      { path: label, fingerprint, planned: archive.fingerprint },
    );
  }
}

/** A plan made from a stream, given a regular file: the file must hold that stream's bytes. */
async function checkStreamCopy(
  archive: PlanDocument['archive'],
  source: ArchiveSource,
  signal: AbortSignal | undefined,
): Promise<void> {
  const { label, stats, readAt } = source;
  if (!readAt || !stats) {
    throw new RestoreplanError('INTERNAL', `${label} is not a file: it is read in one pass`);
  }
  const size = Number(stats.size);
  if (archive.sizeBytes !== null && size !== archive.sizeBytes) {
    throw new RestoreplanError(
      'PLAN_STALE',
      `${label} is ${size} bytes; the stream the plan was made from was ${archive.sizeBytes}: it is not that archive`,
      { path: label, sizeBytes: size, planned: archive.sizeBytes, hint: SAME_STREAM_HINT },
    );
  }
  const { fingerprint } = await fingerprintAsStream(readAt, signal);
  if (fingerprint !== archive.fingerprint) {
    throw new RestoreplanError(
      'PLAN_STALE',
      `${label} is not the stream the plan was made from (same size, other bytes): nothing was written`,
      { path: label, fingerprint, planned: archive.fingerprint, hint: SAME_STREAM_HINT },
    );
  }
}
