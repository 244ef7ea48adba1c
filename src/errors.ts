/**
 * Errors with stable codes. The CLI prints `restoreplan: <CODE>: <message>` and exits 3 (or the
 * exit code the code maps to); the API throws the same object. Context goes into `details`,
 * never only into the message, so scripts can act on it.
 */
export const ERROR_CODES = {
  USAGE: 'the command line is not valid',
  ARCHIVE_NOT_FOUND: 'the archive file does not exist or cannot be opened',
  ARCHIVE_READ: 'reading the archive failed (I/O error)',
  ARCHIVE_TRUNCATED: 'the archive ends in the middle of a header or a member',
  ARCHIVE_CHECKSUM: 'a tar header checksum does not match',
  ARCHIVE_HEADER: 'a tar header field is malformed or absurd (size, sparse map, pax record)',
  NOT_A_TAR: 'the input is not a tar archive (after decompression)',
  COMPRESSION_CORRUPT: 'the compressed stream is corrupt or truncated',
  DECOMPRESSOR_MISSING: 'the system decompressor for this compression is not installed',
  BACKUP_TOOL_MISSING:
    'the backup tool a restic: or borg: source needs (restic, borg) is not installed',
  BACKUP_PASSWORD:
    'the backup repository password (restic) or passphrase (borg) is missing or wrong',
  BACKUP_REPOSITORY_NOT_FOUND:
    'the backup repository does not exist, is not a repository, or none was named',
  BACKUP_SNAPSHOT_NOT_FOUND: 'the restic snapshot or borg archive does not exist in the repository',
  BACKUP_REPOSITORY_LOCKED: 'the backup repository is locked by another process',
  BACKUP_TOOL_FAILED: 'restic or borg failed for another reason (its exit code says which)',
  BACKUP_SOURCE_UNSUPPORTED:
    'index of a restic: or borg: source: the tool lists it without data, nothing to index',
  UNSAFE_PATH: 'a path would escape the target root',
  TARGET_MISSING: 'the target directory does not exist',
  TARGET_INVALID: 'the target is not a directory or cannot be read',
  MAILMAN_NOT_FOUND: 'no Mailman 2.1 var dir (a lists/ dir of list configs) was found',
  MTA_NOT_FOUND:
    'the MTA named by --mta is not installed (no exim4/exim, or no postconf, on PATH), and no --mta-spool names its spool',
  MTA_QUERY_FAILED:
    "the MTA's configuration tool (exim4 -bP, postconf -xh) failed, timed out or answered something unexpected",
  MTA_SPOOL_UNREADABLE:
    'the MTA spool (or one of its queue directories) cannot be listed: its queues are readable by root and the MTA only',
  SELECTION_EMPTY:
    'the member root or the --include/--exclude globs select no member of the archive (a typo is never an OK)',
  PLAN_INVALID:
    'the plan file is not a valid restoreplan plan, or does not match the archive (a field out of range, a path outside its root, a step unlike its member)',
  PLAN_STALE:
    'the archive changed since the plan was made, or a step lands on a filesystem the plan has no budget for',
  PLAN_INFEASIBLE: 'the plan does not fit and cannot be applied',
  CONFIRMATION_REQUIRED:
    'apply needs --yes when it cannot ask (stdin is not a TTY, or carries the archive)',
  NOT_INTERACTIVE: 'the wizard needs a terminal',
  UNTRUSTED_FILE:
    'apply runs as root and the plan file or journal (or a directory above it) could have been written by another user',
  LOCK_HELD: 'a Mailman list lock is held by a live process',
  APPLY_RUNNING:
    'another apply of the same plan, or into the same target, is running (it holds the lock)',
  WRITE_FAILED:
    'writing a restored file, a directory, the journal (or the plan file) failed: a filesystem error (EROFS, EIO, ENOSPC...)',
  VERIFY_FAILED: 'a restored file does not match the archive member',
  MEMBER_TOO_LARGE:
    'the members apply would hold in memory are too large (a compressed archive, or a pipe it reads once): decompress, or save the stream, to a file first',
  SYSLOG_UNAVAILABLE:
    'apply --syslog: logger(1) is not installed, or the syslog socket does not take messages (nothing was written)',
  ABORTED: 'the operation was cancelled',
  INTERNAL: 'an internal error (a bug): please report it with --debug output',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class RestoreplanError extends Error {
  readonly code: ErrorCode;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(
    code: ErrorCode,
    message: string,
    details: Record<string, unknown> = {},
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'RestoreplanError';
    this.code = code;
    this.details = details;
  }

  toJSON(): { code: ErrorCode; message: string } & Record<string, unknown> {
    return { code: this.code, message: this.message, ...this.details };
  }
}

export function isRestoreplanError(value: unknown): value is RestoreplanError {
  return value instanceof RestoreplanError;
}

/** Throws ABORTED when the caller's signal fired; call at batch boundaries, not per entry. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new RestoreplanError('ABORTED', 'cancelled');
}
