import type { CommonOptions } from '../progress.js';
import type { Compression, TarFormat, Warning } from '../types.js';
import type { ArchiveEntry } from './ArchiveEntry.js';
import { RestoreplanError } from '../errors.js';

/** What a consumer wants after seeing a member: nothing more, its data, or the walk to end. */
export type EntryAction = void | 'data' | 'stop';

export interface WalkOptions extends CommonOptions {
  /** Called once per member with a REUSED entry object (copy what you keep). */
  onEntry: (entry: ArchiveEntry) => EntryAction;
  /** Receives the stored data of each member for which onEntry returned 'data' (entry is a copy). */
  onData?: (entry: ArchiveEntry, data: Buffer) => void;
  /** Largest member data onEntry may ask for (default 64 MiB); larger is ARCHIVE_HEADER. */
  maxDataBytes?: number;
}

export interface WalkResult {
  /** The path given, or '-' for stdin / a stream. */
  path: string;
  sizeBytes: number | null;
  mtime: string | null;
  compression: Compression;
  formats: TarFormat[];
  fingerprint: string;
  members: number;
  /** Uncompressed tar stream bytes up to the end-of-archive marker. */
  streamBytes: number;
  /** True when the archive is an uncompressed regular file: members can be read by offset. */
  seekable: boolean;
  /** True when onEntry returned 'stop'. */
  stopped: boolean;
  warnings: Warning[];
}

export async function walkArchive(
  _archive: string | NodeJS.ReadableStream,
  _options: WalkOptions,
): Promise<WalkResult> {
  throw new RestoreplanError('INTERNAL', 'walkArchive is being written');
}
