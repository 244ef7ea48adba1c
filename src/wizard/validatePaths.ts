/**
 * Answers are checked while the operator types, so a mistyped path is corrected at the prompt
 * instead of ending the run with an error after the archive was half walked.
 */
import { stat } from 'node:fs/promises';

/** `true`, or why the path cannot be the archive. */
export async function validateArchivePath(value: string): Promise<true | string> {
  const archive = value.trim();
  if (archive === '') return 'the backup archive (a tar file, compressed or not) is needed';
  // The wizard's stdin is the operator's keyboard, not a pipe.
  if (archive === '-')
    return 'stdin is the terminal here: name a file, or use restoreplan plan - ...';
  if (/^(restic|borg):/.test(archive))
    return 'the wizard cannot read a restic: or borg: source yet (scan and check can): name a tar file, or use ./ for a file of that name';
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
