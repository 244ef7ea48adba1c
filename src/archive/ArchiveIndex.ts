/**
 * The archive index (docs/archive-index.md): what one walk of an archive file learned, kept so
 * the next command answers without walking it again. Every member occurrence in archive order
 * (not only the last of each path: superseded copies of a Mailman config are candidates too,
 * and a replay must report exactly what a walk reports), the walk's own findings (formats,
 * warnings, where the tar stream ends), notes on member data (a Mailman config's validity), and
 * for a compressed archive the access points where decompression can resume.
 */
import type { ArchiveWarningCode } from './ArchiveWarningCode.js';
import type { AccessPoint } from './AccessPoint.js';
import type { TarFormat, Warning } from '../types.js';

/** Bumped whenever the layout or the meaning of a field changes: an older file is ignored. */
export const INDEX_FORMAT_VERSION = 1;
/**
 * The revision of what a walk reports (the tar parser's reading of names, sizes, types and
 * warnings). An index replays what the walk that built it reported, so an index from a walk that
 * read archives differently is not used: bump this with every change to what a walk reports,
 * as the notes' and summaries' kinds are bumped with theirs.
 */
export const WALK_REVISION = 'walk-2026-12-01';
/** First bytes of an index file. */
export const INDEX_MAGIC = 'RPLANIDX';
/** Last 4 bytes of an index file, after the CRC-32 of everything before it. */
export const INDEX_TRAILER = 'IEND';

/**
 * Notes on member data, taken during the walk that builds the index: the walk reads the data of
 * every member `wants` accepts and keeps `judge`'s verdict, so later commands need not read it.
 * `kind` names the judge and its version: an index noted by another judge has no notes for this
 * one (the data is then read from the archive).
 */
export interface DataNotes {
  kind: string;
  wants(memberPath: string, type: string, dataLength: number): boolean;
  judge(data: Buffer): string;
}

/** The walk's own results, as walkArchive reports them for a complete walk. */
export interface IndexedWalk {
  formats: TarFormat[];
  members: number;
  streamBytes: number;
  /** Each warning with the number of members reported before it was raised. */
  warnings: Array<{ warning: Warning; afterMembers: number }>;
  warningCounts: Partial<Record<ArchiveWarningCode, number>>;
}

/** The header of an index file (JSON after the magic). */
export interface IndexHeader {
  version: number;
  /** WALK_REVISION of the walk that built it. */
  walkRevision: string;
  /** The archive's identity (indexKey): fingerprint, device, inode, ctime. */
  key: string;
  createdAt: string;
  /** Bytes of the body after the header. */
  bodyBytes: number;
  walk: IndexedWalk;
  notesKind: string | null;
  notes: Array<[number, string]>;
  summaryKind: string | null;
  summary: string | null;
  accessPoints: Array<{
    outputOffset: number;
    inputOffset: number;
    bits: number;
    /** Window bytes in the body: [offset, length], or null. */
    window: [number, number] | null;
  }>;
  /** Columns in the body, by name: encoding and [offset, length] in bytes. */
  columns: Record<string, { encoding: ColumnEncoding; at: [number, number] }>;
  /** Rare per-member values, by member index. */
  rawPaths: Array<[number, string]>;
  linkPaths: Array<[number, string]>;
  sparse: Array<[number, Array<[number, number]>]>;
  littleEndian: boolean;
}

/**
 * A summary of every member path (which Mailman var dir the archive holds), taken by the walk
 * that builds the index and kept in it: a replay that skips the members a caller has no use for
 * (WalkOptions.only) still has it. `kind` names it and its version, like DataNotes.
 */
export interface PathSummary {
  kind: string;
  create(): { observe(memberPath: string): void; result(): string };
}

export type ColumnEncoding = 'u8' | 'u16' | 'u32' | 'f64' | 'bytes';

/** A decoded index, ready to replay. */
export interface ArchiveIndex {
  header: IndexHeader;
  accessPoints: AccessPoint[];
  /** The note for the member at `index`, or undefined. */
  note(index: number): string | undefined;
  readonly members: number;
  /** Moves to member `index`: must be called with 0, 1, 2, … (paths are front-coded). */
  advance(index: number): void;
  /** Whether the current member's path starts with one of these (UTF-8) prefixes. */
  startsWithAny(prefixes: readonly Buffer[]): boolean;
  /** Fills `entry` with the current member (the last one `advance` moved to). */
  fill(entry: import('./ArchiveEntry.js').ArchiveEntry, index: number): void;
}
