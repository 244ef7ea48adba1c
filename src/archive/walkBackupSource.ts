/**
 * `walkBackupSource`: the walk of a restic snapshot or a borg archive (walkArchive hands
 * `restic:...` and `borg:...` here), from the tool's listing: the same ArchiveEntry stream a
 * tar of the same backup would give, without reading any file data. The fingerprint is the
 * snapshot's or archive's id (`restic:<id>`, `borg:<id>`).
 *
 * Member data (onEntry's 'data': the Mailman profile judging config.pck copies) is read after
 * the listing, for all the members asked for at once, through the tool (readBackupMembers: one
 * run), and handed to onNote (when the notes want it) or onData in listing order — each with a
 * copy of its entry, as a tar walk does.
 *
 * Each entry gets a position of its own in the listing, written as a tar's offsets would be
 * (headerOffset = 512 × its index, dataOffset 512 after, dataLength its size): a plan's steps
 * name their members by it, as they do a tar's. The listing of one snapshot id or archive id is
 * always the same, in the same order.
 */
import { RestoreplanError, throwIfAborted } from '../errors.js';
import { throttleProgress, type ProgressEvent } from '../progress.js';
import { blankEntry, copyEntry, type ArchiveEntry } from './ArchiveEntry.js';
import { findBorgArchive, listBorgArchive } from './listBorgArchive.js';
import { listResticSnapshot, resolveResticSnapshot } from './listResticSnapshot.js';
import { redactSource, type ToolSource } from './parseBackupSource.js';
import { readBackupMembers } from './readBackupMembers.js';
import { DEFAULT_MAX_DATA_BYTES, type WalkOptions, type WalkResult } from './walkArchive.js';

const PROGRESS_INTERVAL_MS = 200;
const TAR_BLOCK = 512;

export interface BackupWalkOptions extends WalkOptions {
  /** Instead of `restic` / `borg` on PATH (a test seam). */
  command?: string;
}

export async function walkBackupSource(
  source: ToolSource,
  options: BackupWalkOptions,
): Promise<WalkResult> {
  throwIfAborted(options.signal);
  const started = Date.now();
  const phase = options.progressPhase ?? 'scan';
  const throttled = options.onProgress
    ? throttleProgress(options.onProgress, PROGRESS_INTERVAL_MS)
    : null;
  const summary = options.summary ? options.summary.create() : null;
  const list = { signal: options.signal, ...(options.command ? { command: options.command } : {}) };
  let members = 0;
  let item = '';
  const event = (): ProgressEvent => ({
    phase,
    done: members,
    item,
    elapsedMs: Date.now() - started,
  });
  const entry = blankEntry();
  const maxDataBytes = options.maxDataBytes ?? DEFAULT_MAX_DATA_BYTES;
  /** The members whose data onEntry asked for (copies), in listing order. */
  const asked: ArchiveEntry[] = [];
  const onEntry = (current: ArchiveEntry): void | 'stop' => {
    current.index = members;
    current.headerOffset = members * TAR_BLOCK;
    current.dataOffset = current.headerOffset + TAR_BLOCK;
    current.dataLength = current.type === 'file' ? current.size : 0;
    members += 1;
    summary?.observe(current.memberPath);
    const action = options.onEntry(current);
    if (action === 'stop') return 'stop';
    if (action === 'data' && current.type === 'file') {
      if (current.size > maxDataBytes) {
        throw new RestoreplanError(
          'MEMBER_TOO_LARGE',
          `${current.memberPath} is ${current.size} bytes, more than the ${maxDataBytes} a walk reads into memory`,
          { memberPath: current.memberPath, bytes: current.size },
        );
      }
      asked.push(copyEntry(current));
    }
    if (throttled) {
      item = current.memberPath;
      throttled(event, false);
    }
  };
  let fingerprint: string;
  let mtime: string | null;
  let stopped: boolean;
  if (source.kind === 'restic') {
    const listed = await listResticSnapshot(source, entry, onEntry, list);
    stopped = listed.stopped;
    const id = listed.id ?? (await resolveResticSnapshot(source, list)).id;
    fingerprint = `restic:${id}`;
    mtime = null;
  } else {
    // The archive's id (from the manifest) and its listing: two runs of borg, side by side
    // (each opens the repository, ~0.6 s, under a shared lock).
    const [found, listed] = await Promise.allSettled([
      findBorgArchive(source.repository, source.archive, list),
      listBorgArchive(source.repository, source.archive, entry, onEntry, list),
    ]);
    if (listed.status === 'rejected') throw listed.reason;
    if (found.status === 'rejected') throw found.reason;
    fingerprint = `borg:${found.value.id}`;
    mtime = isoOrNull(found.value.time);
    stopped = listed.value;
  }
  throwIfAborted(options.signal);
  if (asked.length > 0) await deliverData(source, fingerprint, asked, options);
  throwIfAborted(options.signal);
  throttled?.(event, true);
  return {
    // As it may be written down: no password of a repository URL (a plan, a report).
    path: redactSource(source.spec),
    source: source.kind,
    sizeBytes: null,
    mtime,
    // The repository's own compression is the tool's business: nothing is decompressed here.
    compression: 'none',
    formats: [],
    fingerprint,
    members,
    streamBytes: 0,
    seekable: false,
    stopped,
    warnings: [],
    warningCounts: {},
    fromIndex: false,
    summary: summary ? summary.result() : null,
  };
}

/** The members' data, read in one run of the tool, to onNote or onData, in listing order. */
async function deliverData(
  source: ToolSource,
  fingerprint: string,
  asked: readonly ArchiveEntry[],
  options: BackupWalkOptions,
): Promise<void> {
  const notes = options.notes && options.onNote ? options.notes : null;
  const byPath = new Map(asked.map((e) => [e.memberPath, e]));
  let stopped = false;
  await readBackupMembers(
    source,
    fingerprint.slice(fingerprint.indexOf(':') + 1),
    asked.map((e) => ({ memberPath: e.memberPath, rawPath: e.rawPath, size: e.size })),
    (member, data) => {
      const entry = byPath.get(member.memberPath);
      if (!entry || stopped) return;
      if (notes?.wants(entry.memberPath, entry.type, entry.dataLength)) {
        if (options.onNote!(entry, notes.judge(data)) === 'stop') stopped = true;
      } else if (options.onData?.(entry, data) === 'stop') stopped = true;
    },
    {
      signal: options.signal,
      ...(options.command ? { command: options.command } : {}),
      avoidDevices: options.avoidDevices ?? options.useIndex?.avoidDevices,
    },
  );
}

function isoOrNull(time: string | null): string | null {
  if (time === null) return null;
  const ms = Date.parse(time);
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
}
