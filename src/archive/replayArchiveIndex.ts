/**
 * `replayArchiveIndex`: a walk answered from the index: every member reported to `onEntry`
 * exactly as the walk that built the index reported it (same reused-object contract, same order,
 * same fields), then the walk's own results. No archive byte is read unless a caller asks for a
 * member's data that the index has no note for: then that data is read by offset (through the
 * nearest access point of a compressed archive).
 */
import { RestoreplanError, throwIfAborted } from '../errors.js';
import type { ProgressEvent } from '../progress.js';
import type { Warning } from '../types.js';
import { blankEntry, copyEntry, type ArchiveEntry } from './ArchiveEntry.js';
import type { ArchiveIndex, DataNotes } from './ArchiveIndex.js';
import type { ArchiveWarningCode } from './ArchiveWarningCode.js';
import type { EntryAction } from './TarParser.js';
import type { TarReader } from './openTarReader.js';

export interface ReplayHooks {
  onEntry: (entry: ArchiveEntry) => EntryAction;
  onData?: ((entry: ArchiveEntry, data: Buffer) => void | 'stop') | undefined;
  onNote?: ((entry: ArchiveEntry, note: string) => void | 'stop') | undefined;
  notes?: DataNotes | undefined;
  /** UTF-8 path prefixes: members under none of them are skipped (null: report all). */
  only: readonly Buffer[] | null;
  /** Observes every member path when the index holds no summary of the kind wanted. */
  observe: ((memberPath: string) => void) | null;
  maxDataBytes: number;
  /** Opened on the first data read. */
  openReader: () => TarReader;
  signal?: AbortSignal | undefined;
  report: (event: () => ProgressEvent, force: boolean) => void;
}

export interface ReplayResult {
  members: number;
  streamBytes: number;
  stopped: boolean;
  warnings: Warning[];
  warningCounts: Partial<Record<ArchiveWarningCode, number>>;
}

/** Members between abort checks and progress reports. */
const CHECK_EVERY = 4096;

export async function replayArchiveIndex(
  index: ArchiveIndex,
  hooks: ReplayHooks,
): Promise<ReplayResult> {
  const walk = index.header.walk;
  const notes = hooks.notes && index.header.notesKind === hooks.notes.kind ? hooks.notes : null;
  const entry = blankEntry();
  let reader: TarReader | null = null;
  let stoppedAt = -1;
  let stopOffset = 0;
  try {
    for (let i = 0; i < index.members; i += 1) {
      if (i % CHECK_EVERY === 0) {
        throwIfAborted(hooks.signal);
        const done = i;
        const bytes = entry.headerOffset;
        // Of the index's members: no archive byte is read, so a byte percentage would not move.
        hooks.report(() => ({ phase: 'scan', bytes, done, total: index.members }), false);
      }
      index.advance(i);
      if (hooks.only && !index.startsWithAny(hooks.only)) continue;
      index.fill(entry, i);
      hooks.observe?.(entry.memberPath);
      const action = hooks.onEntry(entry);
      if (action === 'stop') {
        stoppedAt = i;
        stopOffset = entry.dataOffset;
        break;
      }
      if (action !== 'data') continue;
      const noted = hooks.onNote && notes ? index.note(i) : undefined;
      let after: void | 'stop';
      if (noted !== undefined) {
        after = hooks.onNote!(copyEntry(entry), noted);
      } else {
        if (entry.dataLength > hooks.maxDataBytes) {
          throw new RestoreplanError(
            'ARCHIVE_HEADER',
            `${entry.memberPath} stores ${entry.dataLength} bytes, more than the ${hooks.maxDataBytes} a caller may collect`,
            { offset: entry.headerOffset, memberPath: entry.memberPath, field: 'size' },
          );
        }
        reader ??= hooks.openReader();
        const data = Buffer.allocUnsafe(entry.dataLength);
        const got = await reader.readAt(data, data.length, entry.dataOffset);
        if (got !== data.length) {
          throw new RestoreplanError(
            'ARCHIVE_TRUNCATED',
            `the archive ends inside ${entry.memberPath}, which its index says it holds`,
            { memberPath: entry.memberPath },
          );
        }
        const wantsNote =
          hooks.onNote !== undefined &&
          hooks.notes !== undefined &&
          hooks.notes.wants(entry.memberPath, entry.type, entry.dataLength);
        after = wantsNote
          ? hooks.onNote!(copyEntry(entry), hooks.notes!.judge(data))
          : hooks.onData?.(copyEntry(entry), data);
      }
      if (after === 'stop') {
        stoppedAt = i;
        stopOffset = entry.dataOffset + Math.ceil(entry.dataLength / 512) * 512;
        break;
      }
    }
  } finally {
    await reader?.close();
  }
  if (stoppedAt < 0) {
    hooks.report(
      () => ({ phase: 'scan', bytes: walk.streamBytes, done: walk.members, total: walk.members }),
      true,
    );
    return {
      members: walk.members,
      streamBytes: walk.streamBytes,
      stopped: false,
      warnings: walk.warnings.map((w) => w.warning),
      warningCounts: walk.warningCounts,
    };
  }
  // A caller that stops sees what a walk that stopped there saw (warnings raised so far).
  const members = stoppedAt + 1;
  const warnings = walk.warnings.filter((w) => w.afterMembers < members).map((w) => w.warning);
  const warningCounts: Partial<Record<ArchiveWarningCode, number>> = {};
  for (const warning of warnings) {
    const code = warning.code as ArchiveWarningCode;
    warningCounts[code] = (warningCounts[code] ?? 0) + 1;
  }
  return { members, streamBytes: stopOffset, stopped: true, warnings, warningCounts };
}
