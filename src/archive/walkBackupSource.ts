/**
 * `walkBackupSource`: the walk of a restic snapshot or a borg archive (walkArchive hands
 * `restic:...` and `borg:...` here), from the tool's listing: the same ArchiveEntry stream a
 * tar of the same backup would give, without reading any file data. The fingerprint is the
 * snapshot's or archive's id (`restic:<id>`, `borg:<id>`).
 *
 * Member data cannot be read from such a source yet: a walk whose onEntry asks for data
 * ('data', e.g. the Mailman profile judging config.pck copies) is BACKUP_SOURCE_UNSUPPORTED.
 */
import { RestoreplanError, throwIfAborted } from '../errors.js';
import { throttleProgress, type ProgressEvent } from '../progress.js';
import { blankEntry, type ArchiveEntry } from './ArchiveEntry.js';
import { findBorgArchive, listBorgArchive } from './listBorgArchive.js';
import { listResticSnapshot, resolveResticSnapshot } from './listResticSnapshot.js';
import type { ToolSource } from './parseBackupSource.js';
import type { WalkOptions, WalkResult } from './walkArchive.js';

const PROGRESS_INTERVAL_MS = 200;

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
  const onEntry = (current: ArchiveEntry): void | 'stop' => {
    current.index = members;
    members += 1;
    summary?.observe(current.memberPath);
    const action = options.onEntry(current);
    if (action === 'stop') return 'stop';
    if (action === 'data') {
      throw new RestoreplanError(
        'BACKUP_SOURCE_UNSUPPORTED',
        `reading file contents from a ${source.kind} source is not supported yet (${current.memberPath} was asked for): this command cannot use ${source.spec}; scan and check (without the Mailman profile: --profile none) can`,
        { source: source.spec, tool: source.kind, memberPath: current.memberPath },
      );
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
    const listed = await listResticSnapshot(source.snapshot, entry, onEntry, list);
    stopped = listed.stopped;
    const id = listed.id ?? (await resolveResticSnapshot(source.snapshot, list)).id;
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
  throttled?.(event, true);
  return {
    path: source.spec,
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

function isoOrNull(time: string | null): string | null {
  if (time === null) return null;
  const ms = Date.parse(time);
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
}
