/**
 * Answers are checked while the operator types, so a mistyped path is corrected at the prompt
 * instead of ending the run with an error after the archive was half walked.
 */
import { stat } from 'node:fs/promises';

import { parseBackupSource } from '../archive/parseBackupSource.js';

/** `true`, or why the path cannot be the archive. */
export async function validateArchivePath(value: string): Promise<true | string> {
  const archive = value.trim();
  if (archive === '') return 'the backup archive (a tar file, compressed or not) is needed';
  // The wizard's stdin is the operator's keyboard, not a pipe.
  if (archive === '-')
    return 'stdin is the terminal here: name a file, or use restoreplan plan - ...';
  // A restic snapshot or borg archive: read through the tool, like scan and plan do.
  if (/^(restic|borg):/.test(archive)) {
    try {
      parseBackupSource(archive);
      return true;
    } catch (error) {
      return (error as Error).message;
    }
  }
  try {
    const info = await stat(archive);
    return info.isFile() || info.isBlockDevice() ? true : `${archive} is not a file`;
  } catch (error) {
    return `${archive}: ${(error as NodeJS.ErrnoException).code ?? 'cannot be read'}`;
  }
}

/** `true`, or why the path cannot be the restore target. */
export async function validateTargetDir(value: string): Promise<true | string> {
  const target = value.trim();
  if (target === '') return 'the directory to restore into (e.g. /var/lib/mailman) is needed';
  try {
    return (await stat(target)).isDirectory() ? true : `${target} is not a directory`;
  } catch (error) {
    return `${target}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : 'cannot be read'}`;
  }
}
