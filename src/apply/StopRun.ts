/**
 * How a run ends before its last step without being an error of apply itself: the budget guard
 * stops it (`stopped`: make room and re-run), a write that fails — a filesystem error, ENOSPC
 * the guard did not foresee included — fails it (`failed`, with WRITE_FAILED, the path and the
 * errno as the result's `error`). The orchestrator turns a StopRun into the result's status,
 * reason and error; any other exception is a real error and propagates with its code.
 */
import { isRestoreplanError } from '../errors.js';
import type { ApplyError } from '../types.js';
import { errnoCode } from './fsOps.js';

export class StopRun extends Error {
  constructor(
    readonly status: 'stopped' | 'failed',
    readonly reason: string,
    /** For `failed`: the error the result carries (WRITE_FAILED with path and errno...). */
    readonly error?: ApplyError,
  ) {
    super(reason);
  }
}

/**
 * The result's `error` for what ended a run at `targetPath`: a filesystem error (an errno) is
 * WRITE_FAILED naming the path, the errno and the call; a coded error keeps its code.
 */
export function applyErrorOf(error: unknown, targetPath: string, note = ''): ApplyError {
  const errno = errnoCode(error);
  const message = error instanceof Error ? error.message : String(error);
  if (errno && !isRestoreplanError(error)) {
    const syscall = (error as NodeJS.ErrnoException).syscall;
    return {
      code: 'WRITE_FAILED',
      message: `${targetPath}: ${message}${note}`,
      path: targetPath,
      errno,
      ...(syscall ? { syscall } : {}),
      hint: WRITE_FAILED_HINT[errno] ?? `fix the cause; ${RESUME}`,
    };
  }
  return {
    code: isRestoreplanError(error) ? error.code : 'INTERNAL',
    message: `${targetPath}: ${message}${note}`,
    path: targetPath,
  };
}

const RESUME =
  'nothing half-written remains and the journal has what was done: run the same apply again';
const WRITE_FAILED_HINT: Record<string, string> = {
  EROFS: `the filesystem went read-only (mount -o remount,rw, after dmesg and fsck if it was an error); ${RESUME}`,
  EIO: `an I/O error: check the disk (dmesg) first; ${RESUME}`,
  ENOSPC: `the filesystem filled up under the budget guard (something else wrote to it): free space; ${RESUME}`,
  EDQUOT: `the quota of the writing user is used up: raise it or free space; ${RESUME}`,
  EACCES: `permissions (ls -ld the directory; run as the owner or root); ${RESUME}`,
  EPERM: `not permitted (immutable attribute? lsattr); ${RESUME}`,
};
/** One line for a reason or a skip: the errno or error code first, so runbooks can grep it. */
export function describeError(error: unknown): string {
  const code = errnoCode(error) ?? (isRestoreplanError(error) ? error.code : undefined);
  const message = error instanceof Error ? error.message : String(error);
  // Node's own messages already start with the errno ("EROFS: read-only file system, …").
  return code && !message.startsWith(`${code}:`) ? `${code}: ${message}` : message;
}
