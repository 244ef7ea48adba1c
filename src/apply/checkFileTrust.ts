/**
 * StrictModes for apply: run as root, apply refuses a plan file or a journal that someone other
 * than root could have written, or could replace — as OpenSSH refuses an authorized_keys file
 * and sudo a sudoers file that others may write. The plan says what root writes where (the
 * checks in validatePlan keep it inside its target, but the target is the plan's to name); the
 * journal says which steps are done (a forged line skips a restore). Either, written by the
 * list user or anyone in a group-writable directory, turns a root apply into theirs.
 *
 * The rule, for a regular file and every directory above its real path up to `/`:
 * - the file is owned by root and not writable by group or others;
 * - each directory is owned by root and not writable by group or others — unless its sticky
 *   bit is set (`/tmp`): then others may add names but not rename or remove root's.
 * A file whose path leads through a symlink is judged where it really is. Unprivileged, apply
 * writes only what its user may write anyway, and nothing here applies.
 */
import type { Stats } from 'node:fs';
import { lstat, realpath, stat } from 'node:fs/promises';
import path from 'node:path';

import { RestoreplanError } from '../errors.js';

const GROUP_OR_OTHER_WRITE = 0o022;
const STICKY = 0o1000;

export type TrustedKind = 'plan file' | 'journal';

/** True when apply runs as root (the only case these checks apply). */
export function runsAsRoot(): boolean {
  return typeof process.geteuid === 'function' && process.geteuid() === 0;
}

/** Why root may not trust this file or directory, or null: pure, for the stats given. */
export function judgeTrust(
  stats: Pick<Stats, 'uid' | 'mode'> & { isDirectory(): boolean },
): string | null {
  const mode = stats.mode & 0o7777;
  const bits = `mode 0${mode.toString(8).padStart(3, '0')}`;
  if (stats.uid !== 0) return `owned by uid ${stats.uid}, not root`;
  if ((mode & GROUP_OR_OTHER_WRITE) === 0) return null;
  if (stats.isDirectory() && (mode & STICKY) !== 0) return null;
  const who =
    (mode & 0o020) !== 0 ? ((mode & 0o002) !== 0 ? 'group and others' : 'group') : 'others';
  return stats.isDirectory()
    ? `writable by ${who} without the sticky bit (${bits})`
    : `writable by ${who} (${bits})`;
}

function untrusted(
  kind: TrustedKind,
  file: string,
  what: string,
  why: string,
  hint: string,
): RestoreplanError {
  return new RestoreplanError(
    'UNTRUSTED_FILE',
    `the ${kind} ${file}: ${what} is ${why}; apply runs as root and refuses a ${kind} another user could have written`,
    { path: file, [kind === 'journal' ? 'journal' : 'plan']: file, hint },
  );
}

function fileHint(file: string, kind: TrustedKind): string {
  return `check what it says, then: chown root:root ${file} && chmod go-w ${file}${kind === 'journal' ? ' (or remove it: the next run redoes what it recorded)' : ''}`;
}

function dirHint(dir: string, file: string): string {
  return `keep the file in a directory only root can write (e.g. /root or /var/lib/restoreplan), or: chown root:root ${dir} && chmod go-w ${dir} (or chmod +t ${dir}); then re-check ${path.basename(file)}`;
}

/** Every directory from `dir` up to `/`, owned by root and not writable by others (or sticky). */
async function checkDirectories(kind: TrustedKind, file: string, dir: string): Promise<void> {
  let current = dir;
  for (;;) {
    const stats = await stat(current);
    const why = judgeTrust(stats);
    if (why) throw untrusted(kind, file, `the directory ${current}`, why, dirHint(current, file));
    const parent = path.dirname(current);
    if (parent === current) return;
    current = parent;
  }
}

/**
 * A file apply has opened (its fstat, so what is judged is what is read): refused, when run as
 * root, if it or a directory above it could be written by another user.
 */
export async function checkOpenedFile(
  kind: TrustedKind,
  file: string,
  opened: Stats,
): Promise<void> {
  if (!runsAsRoot()) return;
  const why = judgeTrust(opened);
  if (why) throw untrusted(kind, file, 'it', why, fileHint(file, kind));
  // A pipe (`apply <(…)`) or a terminal has no directory to judge.
  if (!opened.isFile()) return;
  const real = await realpath(file);
  const now = await stat(real);
  // Renamed or swapped between the open and here: what was opened is no longer at that path.
  if (now.ino !== opened.ino || now.dev !== opened.dev) {
    throw untrusted(kind, file, 'it', 'replaced while it was read', fileHint(file, kind));
  }
  await checkDirectories(kind, file, path.dirname(real));
}

/**
 * A file apply will open or create (the journal): refused, when run as root, if it exists and
 * is a symlink or fails the rule, or if a directory above where it is (or will be) fails it.
 */
export async function checkFileLocation(kind: TrustedKind, file: string): Promise<void> {
  if (!runsAsRoot()) return;
  let stats: Stats | null = null;
  try {
    stats = await lstat(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  if (stats?.isSymbolicLink()) {
    throw untrusted(kind, file, 'it', 'a symlink (never followed)', `remove the link: rm ${file}`);
  }
  if (stats) {
    const why = judgeTrust(stats);
    if (why) throw untrusted(kind, file, 'it', why, fileHint(file, kind));
  }
  let dir: string;
  try {
    dir = await realpath(path.dirname(file));
  } catch {
    // A directory that is not there: the journal cannot be made there either, and its own
    // error says so when apply opens it.
    return;
  }
  await checkDirectories(kind, file, dir);
}
