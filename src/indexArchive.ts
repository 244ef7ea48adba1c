/**
 * `indexArchive`: makes sure ARCHIVE has an index (docs/archive-index.md) — the job a backup
 * script runs right after writing the archive, so the first command of an outage is already
 * answered from it. A valid index is kept (`force` rebuilds it); the walk is the one every
 * command makes, so the index is the same whoever built it.
 */
import { refuseToolSource } from './archive/parseBackupSource.js';
import { stat, unlink } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

import {
  indexFileOf,
  indexKeyOf,
  loadArchiveIndex,
  racyWaitMs,
  type ArchiveIdentity,
  type IndexOutcome,
} from './archive/archiveIndexStore.js';
import { openArchive } from './archive/openArchive.js';
import { describeArchive, walkArchive } from './archive/walkArchive.js';
import { RestoreplanError, throwIfAborted } from './errors.js';
import { archiveIndexOptions } from './plan/archiveIndexOptions.js';
import type { CommonOptions } from './progress.js';
import { SCHEMA_VERSION, type IndexResult } from './types.js';

export interface IndexArchiveOptions extends CommonOptions {
  /** Rebuild even when a valid index is there. */
  force?: boolean;
}

export async function indexArchive(
  archive: string,
  options: IndexArchiveOptions = {},
): Promise<IndexResult> {
  refuseToolSource(archive, 'index');
  if (options.index === false) {
    throw new RestoreplanError('USAGE', 'indexing an archive needs an index directory', {
      hint: 'drop --no-index',
    });
  }
  const { useIndex: walkIndex, notes, summary } = await archiveIndexOptions(options);
  if (!walkIndex) {
    throw new RestoreplanError(
      'USAGE',
      'no index directory: neither XDG_CACHE_HOME nor HOME is set',
      { hint: 'name one with --index-dir DIR' },
    );
  }
  const dir = walkIndex.dir;
  let identity = await identityOf(archive);
  // Just written, on a filesystem of whole-second timestamps: no index can be saved before
  // that second is safely over (racyWaitMs), and building one is this command's whole job.
  const wait = identity ? racyWaitMs(identity, Date.now()) : 0;
  if (wait > 0) {
    await sleep(wait, undefined, options.signal ? { signal: options.signal } : {}).catch(() =>
      throwIfAborted(options.signal),
    );
    identity = await identityOf(archive);
  }
  if (identity === null || archive === '-') {
    throw new RestoreplanError(
      'USAGE',
      `${archive} is not a regular file: a stream cannot be indexed`,
      {
        hint: 'save the stream to a file first',
      },
    );
  }
  const key = indexKeyOf(identity);
  if (options.force) await unlink(indexFileOf(dir, key)).catch(() => undefined);
  const outcomes: IndexOutcome[] = [];
  const walk = await walkArchive(archive, {
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    ...(notes ? { notes } : {}),
    ...(summary ? { summary } : {}),
    useIndex: {
      ...walkIndex,
      onOutcome: (outcome) => {
        outcomes.push(outcome);
        walkIndex.onOutcome?.(outcome);
      },
    },
    onEntry: () => undefined,
  });
  const failed = outcomes.find((o) => o.kind === 'not-saved');
  if (failed?.kind === 'not-saved') {
    throw new RestoreplanError(
      'WRITE_FAILED',
      `the index of ${archive} was not written: ${failed.reason}`,
      {
        path: dir,
        hint: 'choose another directory with --index-dir DIR',
      },
    );
  }
  let ignored = '';
  const index = await loadArchiveIndex(dir, key, (outcome) => {
    if (outcome.kind === 'ignored') ignored = `: ${outcome.reason}`;
  });
  if (!index) {
    throw new RestoreplanError(
      'WRITE_FAILED',
      `the index of ${archive} could not be read back from ${dir}${ignored}`,
      {
        path: dir,
      },
    );
  }
  const file = indexFileOf(dir, key);
  const { size } = await stat(file);
  return {
    schemaVersion: SCHEMA_VERSION,
    archive: describeArchive(walk),
    index: {
      file,
      bytes: size,
      built: !walk.fromIndex,
      members: index.members,
      accessPoints: index.accessPoints.length,
    },
  };
}

async function identityOf(archive: string): Promise<ArchiveIdentity | null> {
  const opened = await openArchive(archive);
  await opened.close();
  return opened.identity;
}
