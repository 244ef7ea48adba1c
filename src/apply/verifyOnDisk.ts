/**
 * Reading back, never writing: what landed on disk is re-read and compared with what was
 * written (a write that "succeeded" into a failing disk or a full page cache is not a restore),
 * a Mailman pickle is re-read through the pickle reader (a config Mailman cannot load would turn
 * a degraded list into a down one), and a step an earlier run journaled is hashed again to tell
 * a file still as restored from one the live system changed since.
 */
import { createHash } from 'node:crypto';
import { constants } from 'node:fs';

import { RestoreplanError } from '../errors.js';
import type { FileStep, PlanStep } from '../types.js';
import { checkMailmanPickle, isMailmanPickle } from './checkMailmanPickle.js';
import type { FsOps } from './fsOps.js';
import type { JournalRecord } from './openJournal.js';
import { openNoFollow } from './openNoFollow.js';
import type { ResolvedTarget } from './resolveInsideRoot.js';

/** Members up to this size are read whole and verified before the temp file is even created. */
export const IN_MEMORY_BYTES = 64 * 1024 * 1024;

export function sha256Of(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Size and sha256 of a regular file (never through a symlink); its data when small enough. */
export async function hashFile(
  targetPath: string,
  fsOps: FsOps,
): Promise<{ bytes: number; sha256: string; data: Buffer | null }> {
  const handle = await openNoFollow(targetPath, constants.O_RDONLY, 0, fsOps);
  try {
    const stats = await handle.stat();
    if (!stats.isFile())
      throw new RestoreplanError('VERIFY_FAILED', `${targetPath} is not a regular file`);
    if (stats.size <= IN_MEMORY_BYTES) {
      const data = await handle.readFile();
      return { bytes: data.length, sha256: sha256Of(data), data };
    }
    const hash = createHash('sha256');
    let bytes = 0;
    for await (const chunk of handle.createReadStream({ autoClose: false })) {
      hash.update(chunk as Buffer);
      bytes += (chunk as Buffer).length;
    }
    return { bytes, sha256: hash.digest('hex'), data: null };
  } finally {
    await handle.close();
  }
}

/**
 * Checks a member read whole from the archive BEFORE anything is created for it, so a bad
 * member never costs an inode: its size and planned sha256, and a Mailman pickle's loadability.
 * Throws VERIFY_FAILED naming the member.
 */
export function verifyMember(step: FileStep, targetPath: string, data: Buffer): void {
  const sha256 = sha256Of(data);
  if (data.length !== step.size || (step.sha256 !== undefined && step.sha256 !== sha256)) {
    throw new RestoreplanError(
      'VERIFY_FAILED',
      `${step.memberPath}: read ${data.length} bytes with sha256 ${sha256.slice(0, 12)}, the plan expects ${step.size} bytes${step.sha256 ? ` with ${step.sha256.slice(0, 12)}` : ''}`,
      { memberPath: step.memberPath },
    );
  }
  const invalid = checkMailmanPickle(targetPath, data);
  if (invalid)
    throw new RestoreplanError('VERIFY_FAILED', `${step.memberPath}: refused: ${invalid}`, {
      memberPath: step.memberPath,
    });
}

/**
 * Re-reads what landed on disk: the bytes, and a Mailman pickle through the pickle reader.
 * Throws VERIFY_FAILED naming the member.
 */
export async function verifyOnDisk(
  memberPath: string,
  targetPath: string,
  written: { bytes: number; sha256: string },
  fsOps: FsOps,
): Promise<void> {
  const onDisk = await hashFile(targetPath, fsOps);
  let problem: string | null = null;
  if (onDisk.bytes !== written.bytes || onDisk.sha256 !== written.sha256) {
    problem = `${targetPath} reads back as ${onDisk.bytes} bytes, sha256 ${onDisk.sha256.slice(0, 12)}`;
  } else if (onDisk.data && isMailmanPickle(targetPath)) {
    problem = checkMailmanPickle(targetPath, onDisk.data);
  }
  if (problem) {
    throw new RestoreplanError('VERIFY_FAILED', `${memberPath}: ${problem}`, {
      targetPath,
    });
  }
}

/**
 * What became of a step an earlier run restored: still `intact` (skipped on resume),
 * `changed` since by someone else (left alone: a re-run must not revert the live system's
 * newer data), or `redo` — gone, or a Mailman file that no longer loads (broken again).
 */
export async function journaledState(
  step: PlanStep,
  resolved: ResolvedTarget,
  record: JournalRecord,
  fsOps: FsOps,
): Promise<'intact' | 'changed' | 'redo'> {
  const existing = resolved.existing;
  if (!existing) return 'redo';
  switch (step.type) {
    case 'dir':
      return existing.isDirectory() ? 'intact' : 'changed';
    case 'file': {
      if (!existing.isFile()) return 'changed';
      if (existing.size === record.bytes) {
        const { sha256 } = await hashFile(resolved.targetPath, fsOps);
        if (sha256 === record.sha256) return 'intact';
      }
      if (!isMailmanPickle(resolved.targetPath)) return 'changed';
      const handle = await openNoFollow(resolved.targetPath, constants.O_RDONLY, 0, fsOps);
      const data = await handle.readFile().finally(() => handle.close());
      return checkMailmanPickle(resolved.targetPath, data) === null ? 'changed' : 'redo';
    }
    case 'symlink':
      return existing.isSymbolicLink() &&
        sha256Of(await fsOps.readlink(resolved.targetPath)) === record.sha256
        ? 'intact'
        : 'changed';
    default:
      return existing.isFIFO() ? 'intact' : 'changed';
  }
}
