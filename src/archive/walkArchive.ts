/**
 * `walkArchive`: one pass over a tar archive (a file, `-`, or a stream; plain or gzip, bzip2,
 * xz, zstd), every member reported to `onEntry` with ONE reused entry object.
 *
 * Why not tar-stream (which the design card first named): it cannot seek, so it reads every
 * data byte of a 900 MB archive to list 700k headers; and it mis-reads GNU sparse members,
 * reporting the `GNUSparseFile.0/...` placeholder name and the stored size instead of the real
 * name and size — exactly the members whose size matters most for a space budget. Here an
 * uncompressed file is walked by positional reads that jump from header to header
 * (`TarParser.need`), and sparse members are reported as GNU tar extracts them.
 */
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import type { Writable } from 'node:stream';

import { RestoreplanError, throwIfAborted } from '../errors.js';
import {
  throttleProgress,
  type CommonOptions,
  type ProgressEvent,
  type ProgressPhase,
} from '../progress.js';
import type { ArchiveInfo, BackupSourceKind, Compression, TarFormat, Warning } from '../types.js';
import type { ArchiveEntry } from './ArchiveEntry.js';
import type { ArchiveWarningCode } from './ArchiveWarningCode.js';
import { describeUnsupportedCompression } from './detectCompression.js';
import { openArchive, type OpenedArchive } from './openArchive.js';
import { openDecompressor, type Decompressor } from './openDecompressor.js';
import { TarParser, type EntryAction } from './TarParser.js';
import type { DataNotes, PathSummary } from './ArchiveIndex.js';
import {
  COARSE_CTIME_MARGIN_MS,
  indexKeyOf,
  loadArchiveIndex,
  racyWaitMs,
  saveArchiveIndex,
  type IndexOutcome,
} from './archiveIndexStore.js';
import { openTarReader } from './openTarReader.js';
import { createIndexRecorder, type IndexRecorder } from './recordArchiveIndex.js';
import { replayArchiveIndex } from './replayArchiveIndex.js';
import { findAccessPoints, resumeDecompression } from './resumeDecompression.js';
import type { AccessPoint } from './AccessPoint.js';
import { createGzipIndexer, type GzipIndexer } from './createGzipIndexer.js';
import { toolSourceOf } from './parseBackupSource.js';
import { walkBackupSource } from './walkBackupSource.js';

export type { EntryAction } from './TarParser.js';

export interface WalkOptions extends Omit<CommonOptions, 'index'> {
  /** Called once per member with a REUSED entry object (copy what you keep). */
  onEntry: (entry: ArchiveEntry) => EntryAction;
  /**
   * Receives the STORED data of each member for which onEntry returned 'data' (entry is a
   * copy): for a sparse member that is its data extents back to back (apply's expandStoredData places them).
   * Returning 'stop' ends the walk there.
   */
  onData?: (entry: ArchiveEntry, data: Buffer) => void | 'stop';
  /** Largest member data onEntry may ask for (default 64 MiB); larger is ARCHIVE_HEADER. */
  maxDataBytes?: number;
  /** The phase progress events carry (default 'scan'). */
  progressPhase?: ProgressPhase;
  /**
   * Notes on member data (a Mailman config's validity): a member they want whose data onEntry
   * asks for goes to `onNote` with the judged note instead of to onData, from the index when it
   * has one, else judged from the data read now. A walk that builds an index notes every member
   * they want, asked for or not.
   */
  notes?: DataNotes;
  onNote?: (entry: ArchiveEntry, note: string) => void | 'stop';
  /** A summary of every member path (WalkResult.summary), kept in the index. */
  summary?: PathSummary;
  /**
   * Given the summary, the member path prefixes the caller has any use for (null: all). A
   * replay from an index with that summary skips every other member; a walk reports them all
   * anyway, so onEntry must still ignore what it has no use for.
   */
  only?: (summary: string | null) => readonly string[] | null;
  /** Use and leave an archive index (archiveIndexStore); absent or null: neither. */
  useIndex?: WalkIndexOptions | null;
  /**
   * Filesystems (st_dev) the restore writes to: a restic source's members asked for are not
   * restored into a scratch directory on them (walkBackupSource). Default: useIndex's.
   */
  avoidDevices?: ReadonlySet<bigint>;
}

export interface WalkIndexOptions {
  dir: string;
  /** Filesystems (st_dev) an index must not be written to (the restore's targets). */
  avoidDevices?: ReadonlySet<bigint>;
  maxBytes?: number;
  /** Output between two gzip access points (default 4 MiB; a test seam for small archives). */
  gzipSpanBytes?: number;
  /** Told whether an index was used, saved, or why not. */
  onOutcome?: (outcome: IndexOutcome) => void;
}

export interface WalkResult {
  /** The path given, or '-' for stdin / a stream; `restic:...` / `borg:...` as given. */
  path: string;
  /** Set when the archive is a restic snapshot or a borg archive (walkBackupSource). */
  source?: BackupSourceKind;
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
  /** At most 100 per code (MAX_WARNINGS_PER_CODE)... */
  warnings: Warning[];
  /** ...but every warning is counted here, by code. */
  warningCounts: Partial<Record<ArchiveWarningCode, number>>;
  /** True when the walk was answered from an archive index. */
  fromIndex: boolean;
  /** The PathSummary's result (null without one). */
  summary: string | null;
}

/** The `archive` part of the scan and index documents: what the walk found the archive to be. */
export function describeArchive(walk: WalkResult): ArchiveInfo {
  return {
    path: walk.path,
    sizeBytes: walk.sizeBytes,
    compression: walk.compression,
    formats: walk.formats,
    fingerprint: walk.fingerprint,
    ...(walk.source ? { source: walk.source } : {}),
  };
}

/** Default cap on the data one member may have collected. */
export const DEFAULT_MAX_DATA_BYTES = 64 * 1024 * 1024;
/** Positional read size where headers are dense. */
const FILE_CHUNK_BYTES = 1024 * 1024;
/** At most this often a progress event (the display redraws on each). */
const PROGRESS_INTERVAL_MS = 200;
/** Read size after a chunk that held few headers (big members): the next header is all we need. */
const FILE_SMALL_CHUNK_BYTES = 64 * 1024;
/** After the end-of-archive marker, how much of the rest is looked at for trailing garbage. */
const TRAILING_CHECK_BYTES = 1024 * 1024;

export async function walkArchive(
  archive: string | NodeJS.ReadableStream,
  options: WalkOptions,
): Promise<WalkResult> {
  throwIfAborted(options.signal);
  // `restic:SNAPSHOT`, `borg:REPO::ARCHIVE`: the tool's listing, not a tar.
  const tool = toolSourceOf(archive);
  if (tool) return walkBackupSource(tool, options);
  const started = Date.now();
  const input = await openArchive(archive);
  try {
    const maxDataBytes = options.maxDataBytes ?? DEFAULT_MAX_DATA_BYTES;
    const onProgress = options.onProgress;
    const phase = options.progressPhase ?? 'scan';
    const indexing = options.useIndex && input.identity ? options.useIndex : null;
    const key = indexing ? indexKeyOf(input.identity!) : '';
    if (indexing) {
      const index = await loadArchiveIndex(indexing.dir, key, indexing.onOutcome);
      if (index) {
        const throttled = onProgress ? throttleProgress(onProgress, PROGRESS_INTERVAL_MS) : null;
        const source = {
          readAt: input.readAt!,
          sizeBytes: input.sizeBytes!,
          compression: input.compression,
        };
        const kept =
          options.summary && index.header.summaryKind === options.summary.kind
            ? index.header.summary
            : null;
        const observer = options.summary && kept === null ? options.summary.create() : null;
        const only = kept !== null ? (options.only?.(kept) ?? null) : null;
        const replayed = await replayArchiveIndex(index, {
          only: only ? only.map((prefix) => Buffer.from(prefix, 'utf8')) : null,
          observe: observer ? (memberPath) => observer.observe(memberPath) : null,
          onEntry: options.onEntry,
          onData: options.onData,
          onNote: options.onNote,
          notes: options.notes,
          maxDataBytes,
          signal: options.signal,
          openReader: () =>
            openTarReader(source, index.accessPoints, resumeDecompression, options.signal),
          report: (event, force) =>
            throttled?.(() => ({ ...event(), phase, elapsedMs: Date.now() - started }), force),
        });
        return {
          path: input.path,
          sizeBytes: input.sizeBytes,
          mtime: input.mtime,
          compression: input.compression,
          formats: index.header.walk.formats,
          fingerprint: input.fingerprint(),
          members: replayed.members,
          streamBytes: replayed.streamBytes,
          seekable: input.compression === 'none' && input.reopenable,
          stopped: replayed.stopped,
          warnings: replayed.warnings,
          warningCounts: replayed.warningCounts,
          fromIndex: true,
          summary: observer ? observer.result() : kept,
        };
      }
    }
    const recorder = indexing ? createIndexRecorder() : null;
    const noted = createNoteTaker(options, recorder, maxDataBytes);
    const parser: TarParser = new TarParser({
      onEntry: noted.onEntry,
      onData: noted.onData,
      maxDataBytes,
    });
    noted.parser = parser;
    // A gzip file's access points are found as it is inflated (xz and zstd: from their own
    // structure, after the walk).
    const gzipIndexer =
      recorder && input.compression === 'gzip' && input.readAt
        ? createGzipIndexer(
            indexing!.gzipSpanBytes !== undefined ? { spanBytes: indexing!.gzipSpanBytes } : {},
          )
        : null;
    // How much compressed input is consumed: counted by the pump, or read off the shared file
    // offset when the decompressor reads the file itself (walkStream replaces it).
    const inputPosition = { read: (): number => input.inputBytes };
    const throttled = onProgress ? throttleProgress(onProgress, PROGRESS_INTERVAL_MS) : null;
    const event = (): ProgressEvent => ({
      phase,
      bytes: parser.need,
      ...(input.sizeBytes !== null ? { totalBytes: input.sizeBytes } : {}),
      ...(input.compression !== 'none'
        ? { inputBytes: inputPosition.read(), compression: input.compression }
        : {}),
      done: parser.members,
      elapsedMs: Date.now() - started,
    });
    const report = (force: boolean): void => throttled?.(event, force);
    const positional = input.readAt !== null && input.compression === 'none';
    let drained = false;
    try {
      if (positional) await walkFile(input, parser, options.signal, report);
      else
        drained = await walkStream(
          input,
          parser,
          options.signal,
          report,
          inputPosition,
          gzipIndexer,
        );
      // A stream's fingerprint is of all of it (StreamFingerprint): when the archive ends
      // early at a lone zero block, the rest is still read (not parsed), or two streams that
      // differ only after it would pass for one. A caller's 'stop' wants no more bytes.
      if (!drained && !parser.stopped && input.readAt === null) {
        await drainInput(input, options.signal);
        drained = true;
      }
    } catch (error) {
      throw refineNotATar(error, input);
    }
    report(true);
    if (recorder && !parser.stopped) {
      const accessPoints = gzipIndexer
        ? gzipIndexer.accessPoints()
        : input.readAt && input.sizeBytes !== null
          ? await findAccessPoints(input.compression, input.readAt, input.sizeBytes)
          : [];
      const outcome: IndexOutcome =
        racyWaitMs(input.identity!, started) > 0
          ? {
              kind: 'not-saved',
              reason: `the archive changed less than ${COARSE_CTIME_MARGIN_MS / 1000} s before it was read, on a filesystem that keeps whole seconds: a change within that second would not show (a later run indexes it)`,
            }
          : await saveIndex(recorder, noted, parser, {
              dir: indexing!.dir,
              key,
              options: indexing!,
              notesKind: options.notes?.kind ?? null,
              summaryKind: options.summary?.kind ?? null,
              accessPoints,
            });
      indexing!.onOutcome?.(outcome);
    }
    return {
      path: input.path,
      sizeBytes: input.sizeBytes ?? (drained ? input.inputBytes : null),
      mtime: input.mtime,
      compression: input.compression,
      formats: parser.formats,
      fingerprint: input.fingerprint(),
      members: parser.members,
      streamBytes: parser.endOffset >= 0 ? parser.endOffset : parser.need,
      seekable: positional && input.reopenable,
      stopped: parser.stopped,
      warnings: parser.warnings,
      warningCounts: parser.warningCounts,
      fromIndex: false,
      summary: noted.summary?.result() ?? null,
    };
  } finally {
    await input.close();
  }
}

/**
 * The parser's hooks around the caller's: every member goes to the index recorder; data the
 * notes want is read (for the index even when the caller did not ask) and judged once; the
 * caller gets the note (onNote) or the data (onData) as it asked.
 */
interface NoteTaker {
  onEntry: (entry: ArchiveEntry) => EntryAction;
  onData: (entry: ArchiveEntry, data: Buffer) => void | 'stop';
  /** Each warning's count of members reported before it (for a replay that stops early). */
  warningsAfter: number[];
  parser: TarParser | null;
  summary: ReturnType<PathSummary['create']> | null;
}

function createNoteTaker(
  options: WalkOptions,
  recorder: IndexRecorder | null,
  maxDataBytes: number,
): NoteTaker {
  const notes = options.notes && (recorder || options.onNote) ? options.notes : null;
  /** Member indexes whose data is read for a note, and whether the caller asked for it. */
  const noting = new Map<number, boolean>();
  const summary = options.summary ? options.summary.create() : null;
  const taker: NoteTaker = {
    warningsAfter: [],
    parser: null,
    summary,
    onEntry(entry) {
      const warnings = taker.parser!.warnings.length;
      while (taker.warningsAfter.length < warnings) taker.warningsAfter.push(entry.index);
      recorder?.add(entry);
      summary?.observe(entry.memberPath);
      const action = options.onEntry(entry);
      if (action === 'stop' || !notes) return action;
      if (
        entry.dataLength <= maxDataBytes &&
        (action === 'data' ? options.onNote !== undefined : recorder !== null) &&
        notes.wants(entry.memberPath, entry.type, entry.dataLength)
      ) {
        noting.set(entry.index, action === 'data');
        return 'data';
      }
      return action;
    },
    onData(entry, data) {
      const asked = noting.get(entry.index);
      if (asked === undefined) return options.onData?.(entry, data);
      noting.delete(entry.index);
      const note = notes!.judge(data);
      recorder?.note(entry.index, note);
      return asked ? options.onNote!(entry, note) : undefined;
    },
  };
  return taker;
}

async function saveIndex(
  recorder: IndexRecorder,
  noted: NoteTaker,
  parser: TarParser,
  target: {
    dir: string;
    key: string;
    options: WalkIndexOptions;
    notesKind: string | null;
    summaryKind: string | null;
    accessPoints: readonly AccessPoint[];
  },
): Promise<IndexOutcome> {
  const warningsAfter = noted.warningsAfter;
  while (warningsAfter.length < parser.warnings.length) warningsAfter.push(parser.members);
  const bytes = recorder.encode({
    key: target.key,
    walk: {
      formats: parser.formats,
      members: parser.members,
      streamBytes: parser.endOffset >= 0 ? parser.endOffset : parser.need,
      warnings: parser.warnings.map((warning, i) => ({
        warning,
        afterMembers: warningsAfter[i]!,
      })),
      warningCounts: parser.warningCounts,
    },
    notesKind: target.notesKind,
    summaryKind: noted.summary ? target.summaryKind : null,
    summary: noted.summary?.result() ?? null,
    accessPoints: target.accessPoints,
  });
  return saveArchiveIndex(target.dir, target.key, bytes, {
    ...(target.options.avoidDevices ? { avoidDevices: target.options.avoidDevices } : {}),
    ...(target.options.maxBytes !== undefined ? { maxBytes: target.options.maxBytes } : {}),
  });
}

/**
 * An uncompressed regular file: read chunks AT the parser's next needed offset, so member data
 * nobody asked for is jumped over, never read. While one chunk is parsed the next one is
 * already being read into a second buffer (the threadpool copies from the page cache while
 * the main thread parses): with small members the next needed offset is nearly always in it;
 * when the parser jumps past it (a big member), that read is dropped.
 */
async function walkFile(
  input: OpenedArchive,
  parser: TarParser,
  signal: AbortSignal | undefined,
  report: (force: boolean) => void,
): Promise<void> {
  const size = input.sizeBytes!;
  let current = Buffer.allocUnsafe(FILE_CHUNK_BYTES);
  let spare = Buffer.allocUnsafe(FILE_CHUNK_BYTES);
  let readSize = FILE_CHUNK_BYTES;
  let ahead: { position: number; length: number; bytes: Promise<number> } | null = null;
  try {
    while (!parser.done) {
      throwIfAborted(signal);
      const position = parser.need;
      if (position >= size) {
        parser.end(size);
        break;
      }
      let chunk: Buffer;
      if (ahead && position >= ahead.position && position < ahead.position + ahead.length) {
        const bytesRead = await ahead.bytes;
        const skip = position - ahead.position;
        [current, spare] = [spare, current];
        ahead = null;
        if (bytesRead <= skip) {
          // The file shrank under us: treat what we saw as all there is.
          parser.end(position);
          break;
        }
        chunk = current.subarray(skip, bytesRead);
      } else {
        if (ahead) await ahead.bytes; // a dropped read still owns `spare` until it lands
        ahead = null;
        const bytesRead = await readAt(
          input,
          current,
          Math.min(readSize, size - position),
          position,
        );
        if (bytesRead === 0) {
          parser.end(position);
          break;
        }
        chunk = current.subarray(0, bytesRead);
      }
      const next = position + chunk.length;
      if (next < size) {
        const length = Math.min(readSize, size - next);
        ahead = { position: next, length, bytes: readAt(input, spare, length, next) };
      }
      const before = parser.members;
      parser.push(chunk, position);
      readSize = parser.members - before >= 4 ? FILE_CHUNK_BYTES : FILE_SMALL_CHUNK_BYTES;
      report(false);
    }
  } finally {
    // Never close the file with a read still in flight.
    if (ahead) await ahead.bytes.catch(() => 0);
  }
  if (parser.reachedEof && parser.need < size) {
    const position = parser.need;
    const bytesRead = await readAt(
      input,
      current,
      Math.min(TRAILING_CHECK_BYTES, size - position),
      position,
    );
    parser.push(current.subarray(0, bytesRead), position);
  }
}

function readAt(
  input: OpenedArchive,
  buffer: Buffer,
  length: number,
  position: number,
): Promise<number> {
  return input.readAt!(buffer, length, position);
}

/**
 * A stream (compressed, stdin, a FIFO): every byte passes by; the parser copies header bytes
 * and skips data by counting. Returns true when the input was read to its end (so its
 * integrity — the decompressor's exit status — was checked).
 */
async function walkStream(
  input: OpenedArchive,
  parser: TarParser,
  signal: AbortSignal | undefined,
  report: (force: boolean) => void,
  inputPosition: { read: () => number },
  gzipIndexer: GzipIndexer | null,
): Promise<boolean> {
  const pumpAbort = new AbortController();
  let decompressor: Decompressor | null = null;
  let pumped: Promise<void> | null = null;
  let direct: FileHandle | null = null;
  let output: AsyncIterable<Buffer>;
  if (input.compression === 'none') {
    output = input.rawChunks();
  } else if (input.compression !== 'gzip' && input.reopenable) {
    // A file: the system decompressor reads it itself. Pumping it through this process made
    // the main thread shuttle the compressed bytes too, and the pair ran at half speed.
    direct = await open(input.path, 'r');
    const fd = direct.fd;
    decompressor = openDecompressor(input.compression, { stdinFd: fd });
    inputPosition.read = () => readFileOffset(fd);
    output = decompressor.output;
  } else {
    decompressor = gzipIndexer ? gzipIndexer.decompressor : openDecompressor(input.compression);
    pumped = pump(input.rawChunks(), decompressor.input!, pumpAbort.signal);
    output = decompressor.output;
  }
  let offset = 0;
  let drained = false;
  try {
    try {
      drained = true;
      for await (const chunk of output) {
        parser.push(chunk, offset);
        offset += chunk.length;
        throwIfAborted(signal);
        // Stopped, or ended at a lone zero block: tar reads no further either. After a proper
        // end-of-archive marker we read on, so a corrupt or truncated compressed tail is seen.
        if (parser.done && !parser.reachedEof) {
          drained = false;
          break;
        }
        report(false);
      }
    } catch (error) {
      drained = false;
      throw decompressor ? decompressor.mapError(error) : error;
    }
    if (drained) {
      // The raw input's own read error explains a decompressor failure better than the
      // decompressor's "unexpected end of input"; and both explain a short tar stream.
      if (pumped) await pumped;
      if (decompressor) await decompressor.finished;
      parser.end(offset);
    }
    return drained;
  } finally {
    pumpAbort.abort();
    decompressor?.kill();
    if (pumped) await pumped.catch(() => undefined);
    if (direct) {
      // The last progress event comes after this: read the offset while the descriptor is
      // still this file's (closed, its number reads as 0 % — or as another file's offset).
      const last = inputPosition.read();
      inputPosition.read = () => last;
      await direct.close();
    }
  }
}

/** Reads the rest of a stream's raw input, so that its fingerprint covers every byte. */
async function drainInput(input: OpenedArchive, signal: AbortSignal | undefined): Promise<void> {
  for await (const chunk of input.rawChunks()) {
    void chunk;
    throwIfAborted(signal);
  }
}

/**
 * Where a file descriptor's offset is: the decompressor shares the open file description, so
 * its reads move it. Linux shows it in /proc/self/fdinfo; elsewhere progress has no percentage.
 */
function readFileOffset(fd: number): number {
  try {
    const match = /^pos:\s+(\d+)/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'));
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}

/** Copies the raw input into the decompressor, with backpressure; stops quietly when aborted. */
async function pump(
  source: AsyncIterable<Buffer>,
  sink: Writable,
  signal: AbortSignal,
): Promise<void> {
  try {
    for await (const chunk of source) {
      if (signal.aborted) return;
      if (!sink.write(chunk)) await once(sink, 'drain', { signal });
    }
    sink.end();
  } catch (error) {
    if (signal.aborted) return;
    if (error instanceof RestoreplanError) {
      // A read error: end the decompressor so the walk sees it instead of waiting forever.
      sink.destroy(error);
      throw error;
    }
    // The sink failed (the decompressor died or rejected the data): its own error or exit
    // status is what the walk reports.
  }
}

/** "Not a tar" for input that is really a compression we do not read says which one. */
function refineNotATar(error: unknown, input: OpenedArchive): unknown {
  if (
    !(error instanceof RestoreplanError) ||
    error.code !== 'NOT_A_TAR' ||
    input.compression !== 'none'
  ) {
    return error;
  }
  const kind = describeUnsupportedCompression(input.head);
  if (kind === null) return error;
  return new RestoreplanError(
    'NOT_A_TAR',
    `the input is ${kind} data, which restoreplan does not read`,
    {
      ...error.details,
      compression: kind,
    },
  );
}
