/**
 * Progress is owned by the core and reported through a callback with a no-op default; front
 * ends decide how (and whether) to show it. Events are throttled by the producer (at most a
 * few per second), so a callback may do real work.
 */
import type { IndexOutcome } from './archive/archiveIndexStore.js';
import type { Compression } from './types.js';

export type ProgressPhase = 'scan' | 'probe' | 'diagnose' | 'plan' | 'apply' | 'verify';

export interface ProgressEvent {
  phase: ProgressPhase;
  /**
   * Bytes of the (uncompressed) archive stream processed so far, when walking an archive;
   * bytes restored, when applying.
   */
  bytes?: number;
  /**
   * Size of the archive file on disk, when known: what the percentage is of. For compressed
   * input that is `inputBytes` of it (the compressed bytes read), never `bytes`.
   */
  totalBytes?: number;
  /** Compressed bytes read so far (set exactly when the input is compressed). */
  inputBytes?: number;
  /** The input's compression, beside `inputBytes`. */
  compression?: Exclude<Compression, 'none'>;
  /** Members, lists or steps done so far and, when known, in all. */
  done?: number;
  total?: number;
  /** A short label for the current item (a memberPath, a list name). */
  item?: string;
  /** Milliseconds since the phase started. */
  elapsedMs?: number;
}

export type ProgressCallback = (event: ProgressEvent) => void;

export const ignoreProgress: ProgressCallback = () => {};

/** Options every API function takes. */
export interface CommonOptions {
  signal?: AbortSignal;
  onProgress?: ProgressCallback;
  /**
   * The archive index (docs/archive-index.md): by default read from and left in the cache
   * directory (`$XDG_CACHE_HOME/restoreplan`, else `~/.cache/restoreplan`), never on a
   * filesystem the restore writes to; `{ dir }` chooses the directory (and is used even there:
   * the caller asked); `false` neither reads nor writes one.
   */
  index?: ArchiveIndexSetting;
}

export type ArchiveIndexSetting =
  | false
  | {
      dir?: string;
      /** Told whether an index was used or saved, or why not. */
      onOutcome?: (outcome: IndexOutcome) => void;
    };

/**
 * Returns a function that calls `report` at most every `intervalMs`, plus on `force`. The event
 * may be given as a function: it is then built only when it is reported, so a hot loop (the
 * archive walk, once per chunk) pays one clock read per call, not an object.
 */
export function throttleProgress(
  report: ProgressCallback,
  intervalMs = 200,
): (event: ProgressEvent | (() => ProgressEvent), force?: boolean) => void {
  let last = 0;
  return (event, force = false) => {
    const now = Date.now();
    if (!force && now - last < intervalMs) return;
    last = now;
    report(typeof event === 'function' ? event() : event);
  };
}
