/**
 * The notes an archive walk takes on Mailman list files (config.pck, config.pck.last,
 * request.pck, pending.pck): whether the copy loads as Mailman requires (a dict, by the pickle
 * reader), and its sha256. Judged once, when the data passes by, and kept in the archive index,
 * so a later plan chooses the newest valid copy of each config without reading any of them.
 */
import { createHash } from 'node:crypto';

import type { DataNotes } from '../archive/ArchiveIndex.js';
import { readPickle } from './readPickle.js';

export interface ListFileVerdict {
  /** The occurrence loads in Python 2 as a dict (what Mailman requires of these files). */
  valid: boolean;
  detail: string;
  sha256: string;
}

/** A list file in any var dir: `[<prefix>/]lists/<name>/<file>`. */
export const LIST_FILE =
  /^(?:(.*)\/)?lists\/([^/]+)\/(config\.pck(?:\.last)?|request\.pck|pending\.pck)$/;

/** Larger list files are not noted (their data is read when a plan asks for it). */
const MAX_NOTED_BYTES = 64 * 1024 * 1024;

export function judgeListFile(data: Buffer): ListFileVerdict {
  const verdict = readPickle(data);
  return {
    valid: verdict.kind === 'dict',
    detail:
      verdict.kind === 'dict'
        ? 'loads as a dict'
        : data.length === 0
          ? 'empty'
          : `${verdict.kind} at byte ${verdict.offset}${verdict.detail ? `: ${verdict.detail}` : ''}`,
    sha256: createHash('sha256').update(data).digest('hex'),
  };
}

export const LIST_FILE_NOTES: DataNotes = {
  // Bump the version whenever judgeListFile's verdict or detail changes.
  kind: 'mailman-list-file-v1',
  wants(memberPath, type, dataLength) {
    if (type !== 'file' || dataLength > MAX_NOTED_BYTES) return false;
    // Cheap rejects first: this runs once per member. The list files end in k (.pck) or t (.last).
    const last = memberPath.charCodeAt(memberPath.length - 1);
    return (
      (last === 0x6b || last === 0x74) &&
      memberPath.includes('lists/') &&
      LIST_FILE.test(memberPath)
    );
  },
  judge: (data) => JSON.stringify(judgeListFile(data)),
};

/** A note LIST_FILE_NOTES took, read back (null if it is not one). */
export function readListFileNote(note: string): ListFileVerdict | null {
  try {
    const value = JSON.parse(note) as Partial<ListFileVerdict>;
    if (
      typeof value.valid === 'boolean' &&
      typeof value.detail === 'string' &&
      typeof value.sha256 === 'string' &&
      /^[0-9a-f]{64}$/.test(value.sha256)
    )
      return { valid: value.valid, detail: value.detail, sha256: value.sha256 };
  } catch {
    // not JSON
  }
  return null;
}
