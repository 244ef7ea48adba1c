/**
 * The warnings `scan` reports about an archive (the walk's, and the unsafe names it counts):
 * `{ code, message, memberPath? }` in its `warnings`, with a stable `code`. The set is closed: the catalog below is typed
 * `satisfies Record<ArchiveWarningCode, ArchiveWarningInfo>`, so a code without a summary does
 * not compile, and each has `docs/warnings/<code>.md` for runbooks to link to (checked by
 * test/archive/ArchiveWarningCode.test.ts). Context (offsets, names) goes into the message and
 * `memberPath`, never into the code.
 */
export type ArchiveWarningCode =
  | 'missing-eof'
  | 'lone-zero-block'
  | 'trailing-garbage'
  | 'orphan-metadata'
  | 'skipped-member'
  | 'volume-label'
  | 'continued-member'
  | 'dropped-hardlink'
  | 'unknown-typeflag'
  | 'bad-numeric-field'
  | 'bad-pax-mtime'
  | 'absolute-names-stripped'
  | 'UNSAFE_PATH';

export interface ArchiveWarningInfo {
  /** One sentence: what was found in the archive. */
  summary: string;
}

export const ARCHIVE_WARNING_CATALOG = {
  'missing-eof': {
    summary:
      'The archive ends without its end-of-archive marker: it was probably cut short between two members.',
  },
  'lone-zero-block': {
    summary:
      'A single zero block where the end-of-archive marker (two) should be; like GNU tar, the walk ends there.',
  },
  'trailing-garbage': {
    summary: 'Non-zero bytes follow the end-of-archive marker; like tar, the walk ignores them.',
  },
  'orphan-metadata': {
    summary:
      'A pax or GNU long-name header at the end of the archive describes no member; it is ignored.',
  },
  'skipped-member': {
    summary:
      "A GNU multi-volume continuation ('M') is skipped: it is the tail of a file that began in another volume.",
  },
  'volume-label': {
    summary:
      'The archive carries a GNU volume label (tar --label); GNU tar lists it, but it is no member.',
  },
  'continued-member': {
    summary:
      'A member of a posix multi-volume archive is only part of a file that began in another volume.',
  },
  'dropped-hardlink': {
    summary:
      "A hard link to itself, or to a name ending in '/' or '.', is not counted: extraction never makes it.",
  },
  'unknown-typeflag': {
    summary:
      'A member has a type flag tar does not know; like tar, it is counted as a regular file.',
  },
  'bad-numeric-field': {
    summary:
      "A member header's mode, mtime, uid, gid or device number is not a number (or out of range); 0 is used instead.",
  },
  'bad-pax-mtime': {
    summary: "A pax mtime record is not a number; the member keeps its header's mtime.",
  },
  'absolute-names-stripped': {
    summary:
      "Member names start with '/' (tar -P); like GNU tar, the '/' is removed and they are restored under the target.",
  },
  UNSAFE_PATH: {
    summary:
      "A member name (or a hard link's target) has a '..' component: it is counted, but never restored.",
  },
} as const satisfies Record<ArchiveWarningCode, ArchiveWarningInfo>;
