/**
 * A borg archive as a stream of ArchiveEntry, from `borg list --json-lines REPO::ARCHIVE` (no
 * file data is read). What borg 1.2 lists, and how it differs from what `borg extract` makes:
 *
 * - Paths are relative (borg strips the leading `/`), in traversal order, each directory before
 *   what is in it.
 * - A hard link's later names are `-` items whose mode starts with `h`, whose `source` is the
 *   first name's path and whose size is 0: they become hard links to it (no inode of their own).
 * - The directories above the backed-up path (`var`, `var/lib` for /var/lib/mailman) are not
 *   listed, yet extract creates them: they are left to the inventory's and the planner's implied
 *   directories, exactly as for the tar of `borg export-tar`, which lacks them too.
 * - Sockets are never archived by borg; an `s` item is skipped all the same.
 */
import { RestoreplanError } from '../errors.js';
import type { ArchiveEntry, EntryType } from './ArchiveEntry.js';
import { createLossyNameResolver } from './disambiguateLossyNames.js';
import { findUnsafeReason, normalizeMemberPath } from './normalizeMemberPath.js';
import { createLineSplitter, runBackupTool, safeExcerpt, type ToolExit } from './runBackupTool.js';
import type { ListOptions } from './listResticSnapshot.js';

/** One item of `borg list --json-lines`, the fields used. */
export interface BorgItem {
  type: string;
  mode?: string;
  path: string;
  uid?: number;
  gid?: number;
  source?: string;
  linktarget?: string;
  mtime?: string;
  size?: number;
}

const BORG_TYPES: Record<string, EntryType | undefined> = {
  '-': 'file',
  d: 'dir',
  l: 'symlink',
  p: 'fifo',
  c: 'chardev',
  b: 'blockdev',
};

/** Permission bits (with set-id and sticky) of an `ls -l` style mode string (`drwxr-sr-t`). */
export function modeOfString(text: string): number {
  if (text.length < 10) return 0;
  let mode = 0;
  const bit = (i: number, value: number): void => {
    if (text[i] !== '-') mode |= value;
  };
  bit(1, 0o400);
  bit(2, 0o200);
  bit(4, 0o040);
  bit(5, 0o020);
  bit(7, 0o004);
  bit(8, 0o002);
  const special = (i: number, exec: number, flag: number): void => {
    const c = text[i];
    if (c === 'x' || c === 's' || c === 't') mode |= exec;
    if (c === 's' || c === 'S' || c === 't' || c === 'T') mode |= flag;
  };
  special(3, 0o100, 0o4000);
  special(6, 0o010, 0o2000);
  special(9, 0o001, 0o1000);
  return mode;
}

/**
 * Fills `entry` from one item; false for an item a restore does not create. `resolve` gives a
 * lossy name (a non-UTF-8 byte listed as `?`) a path of its own (createLossyNameResolver).
 */
export function borgItemToEntry(
  item: BorgItem,
  entry: ArchiveEntry,
  resolve: (memberPath: string, isDir: boolean) => string = (p) => p,
): boolean {
  const type = BORG_TYPES[item.type];
  if (type === undefined || typeof item.path !== 'string') return false;
  const hardlink = type === 'file' && (item.mode?.startsWith('h') === true || !!item.source);
  entry.memberPath = resolve(normalizeMemberPath(item.path), type === 'dir');
  entry.rawPath = item.path;
  entry.type = hardlink ? 'hardlink' : type;
  entry.size = type === 'file' && !hardlink ? (item.size ?? 0) : 0;
  entry.storedSize = entry.size;
  entry.linkPath = hardlink
    ? normalizeMemberPath(item.source || item.linktarget || '')
    : type === 'symlink'
      ? (item.linktarget ?? item.source ?? '')
      : '';
  entry.mode = modeOfString(item.mode ?? '');
  entry.uid = item.uid ?? 0;
  entry.gid = item.gid ?? 0;
  entry.mtime = item.mtime ? Date.parse(item.mtime) / 1000 : 0;
  entry.headerOffset = 0;
  entry.dataOffset = 0;
  entry.dataLength = 0;
  entry.sparse = null;
  entry.unsafe =
    findUnsafeReason(item.path) ?? (hardlink ? findUnsafeReason(entry.linkPath) : null);
  return true;
}

/** The `msgid`s of borg's `--log-json` lines on stderr (stable, unlike its texts). */
export function borgMessageIds(stderr: string): string[] {
  const ids: string[] = [];
  for (const line of stderr.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const parsed = JSON.parse(line) as { msgid?: unknown };
      if (typeof parsed.msgid === 'string') ids.push(parsed.msgid);
    } catch {
      // not a log line
    }
  }
  return ids;
}

/**
 * The stable error for a failed borg run (errors exit 2, warnings 1), by `msgid`, else by
 * borg 1.2's texts. The message quotes nothing of stderr but a msgid or a safe excerpt.
 */
export function classifyBorgFailure(
  run: Pick<ToolExit, 'code' | 'stderr'>,
  archive: string,
): RestoreplanError {
  const ids = borgMessageIds(run.stderr);
  const has = (pattern: RegExp): boolean =>
    ids.some((id) => pattern.test(id)) || pattern.test(run.stderr);
  const details = { tool: 'borg', exitCode: run.code, msgids: ids };
  if (
    has(
      /PassphraseWrong|PasscommandFailure|NoPassphraseFailure|is incorrect|can not acquire a passphrase/,
    )
  ) {
    return new RestoreplanError(
      'BACKUP_PASSWORD',
      'borg could not open the repository: the passphrase is missing or wrong (set BORG_PASSPHRASE or BORG_PASSCOMMAND)',
      details,
    );
  }
  if (has(/Repository\.DoesNotExist|Repository\.InvalidRepository|is not a valid repository/)) {
    return new RestoreplanError(
      'BACKUP_REPOSITORY_NOT_FOUND',
      'borg found no repository there (check the REPO of borg:REPO::ARCHIVE, or BORG_REPO)',
      details,
    );
  }
  if (has(/Archive\.DoesNotExist/)) {
    return new RestoreplanError(
      'BACKUP_SNAPSHOT_NOT_FOUND',
      `borg: no archive ${JSON.stringify(archive)} in the repository`,
      details,
    );
  }
  if (has(/LockTimeout|LockFailed|LockError|Failed to create\/acquire the lock/)) {
    return new RestoreplanError(
      'BACKUP_REPOSITORY_LOCKED',
      'the borg repository is locked by another process (when it is stale: borg break-lock REPO)',
      details,
    );
  }
  if (has(/RepositoryAccessAborted|BORG_RELOCATED_REPO_ACCESS_IS_OK|BORG_UNKNOWN_UNENCRYPTED/)) {
    return new RestoreplanError(
      'BACKUP_TOOL_FAILED',
      'borg asked a yes/no question and nothing can answer it: a moved or unknown unencrypted repository (set BORG_RELOCATED_REPO_ACCESS_IS_OK=yes or BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK=yes if it is the one you mean)',
      details,
    );
  }
  const said = ids.find((id) => !/^(BORG_|borg\.)/.test(id)) ?? null;
  const excerpt = said ?? safeExcerpt(textOfLog(run.stderr));
  return new RestoreplanError(
    'BACKUP_TOOL_FAILED',
    `borg failed (exit ${run.code ?? 'by a signal'})${excerpt ? `: ${excerpt}` : ''}`,
    details,
  );
}

/** The first log message's text (from a --log-json line), or the stderr as it is. */
function textOfLog(stderr: string): string {
  for (const line of stderr.split('\n')) {
    if (!line.startsWith('{')) return line;
    try {
      const parsed = JSON.parse(line) as { message?: unknown };
      if (typeof parsed.message === 'string') return parsed.message;
    } catch {
      return line;
    }
  }
  return '';
}

/** `REPO::ARCHIVE` as borg takes it; with an empty REPO, `::ARCHIVE` (BORG_REPO names it). */
const locationOf = (repository: string, archive: string): string => `${repository}::${archive}`;

/** The archive's id (the source's fingerprint) and start time, from the repository's manifest. */
export async function findBorgArchive(
  repository: string,
  archive: string,
  options: ListOptions = {},
): Promise<{ id: string; time: string | null }> {
  let text = '';
  const run = await runBackupTool(
    'borg',
    ['--log-json', 'list', '--json', ...(repository === '' ? [] : ['--', repository])],
    {
      signal: options.signal,
      ...(options.command ? { command: options.command } : {}),
      onStdout: (chunk) => {
        text += chunk;
      },
    },
  );
  if (run.code !== 0) throw classifyBorgFailure(run, archive);
  let listed: { archives?: Array<{ name?: unknown; id?: unknown; start?: unknown }> };
  try {
    listed = JSON.parse(text) as typeof listed;
  } catch {
    throw new RestoreplanError('BACKUP_TOOL_FAILED', 'borg list --json printed no JSON', {
      tool: 'borg',
    });
  }
  const found = (listed.archives ?? []).find((a) => a.name === archive);
  if (!found || typeof found.id !== 'string') {
    throw new RestoreplanError(
      'BACKUP_SNAPSHOT_NOT_FOUND',
      `borg: no archive ${JSON.stringify(archive)} in the repository`,
      { tool: 'borg', archive },
    );
  }
  return { id: found.id, time: typeof found.start === 'string' ? found.start : null };
}

/** Lists the archive into `onEntry`, one reused entry. Returns true when onEntry stopped it. */
export async function listBorgArchive(
  repository: string,
  archive: string,
  entry: ArchiveEntry,
  onEntry: (entry: ArchiveEntry) => void | 'stop',
  options: ListOptions = {},
): Promise<boolean> {
  let stopped = false;
  const resolve = createLossyNameResolver('?');
  const lines = createLineSplitter((line) => {
    if (!borgItemToEntry(JSON.parse(line) as BorgItem, entry, resolve)) return;
    if (onEntry(entry) === 'stop') {
      stopped = true;
      return 'stop';
    }
  });
  const run = await runBackupTool(
    'borg',
    ['--log-json', 'list', '--json-lines', '--', locationOf(repository, archive)],
    {
      signal: options.signal,
      ...(options.command ? { command: options.command } : {}),
      onStdout: (text) => lines.push(text),
    },
  );
  if (!stopped && run.code === 0) lines.end();
  if (stopped) return true;
  if (run.code !== 0) throw classifyBorgFailure(run, archive);
  return false;
}
