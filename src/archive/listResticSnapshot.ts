/**
 * A restic snapshot as a stream of ArchiveEntry, from restic's listing (no file data is read).
 *
 * The listing is `restic find --json --snapshot ID '*'`, not `restic ls --json`: restic 0.14
 * (Debian 12) gives neither inode nor link count in `ls`, so a hard-linked pair would count as
 * two inodes where a restore makes one; `find` gives each file's `links` and `device_id` (and
 * its ctime, like ls). It costs about 45 % more time than ls (docs: issue 15 research), and it
 * is one JSON document, printed as it goes: createMatchSplitter cuts it into its match objects
 * as they arrive, so memory stays bounded.
 *
 * Hard links: files with links > 1 whose (device_id, link count, ctime to the nanosecond,
 * mtime, size, mode, uid, gid) agree are taken as one inode — ctime belongs to the inode, and requiring
 * links > 1 keeps two unrelated files that merely share a coarse ctime tick apart. Its limit:
 * two different hard-linked inodes with all of these equal (made in the same clock tick, same
 * size and mtime) would be merged into one (under-counting one inode per such pair). A restic
 * that gives `inode` (0.17 and later) is keyed by (device_id, inode) instead, which is exact.
 * Names of the same inode whose other links are outside the snapshot are one file, as a
 * restore makes them.
 *
 * `--no-lock`, as restic's own `ls` takes none: a listing only reads, it works on a repository
 * the user may not write (append-only, read-only mounts), and a run ended early (onEntry's
 * 'stop', Ctrl-C) cannot leave a stale lock behind — restic 0.14 killed by SIGTERM does.
 *
 * Paths are absolute and every leading directory of the backed-up path is listed (`/var`,
 * `/var/lib`, ...): the listing is what `restic restore` creates under its target. Sockets are
 * not listed as members: restic does not restore them.
 */
import { RestoreplanError } from '../errors.js';
import type { ArchiveEntry, EntryType } from './ArchiveEntry.js';
import { createLossyNameResolver } from './disambiguateLossyNames.js';
import { findUnsafeReason, normalizeMemberPath } from './normalizeMemberPath.js';
import { resticFilterArgs, type ResticSource } from './parseBackupSource.js';
import { runBackupTool, safeExcerpt, type ToolExit } from './runBackupTool.js';

/** One node of `restic find --json` (and `ls --json`), the fields used. */
export interface ResticNode {
  path: string;
  type: string;
  mode?: number;
  mtime?: string;
  ctime?: string;
  uid?: number;
  gid?: number;
  size?: number;
  links?: number;
  device_id?: number;
  inode?: number;
  linktarget?: string;
}

const RESTIC_TYPES: Record<string, EntryType | undefined> = {
  file: 'file',
  dir: 'dir',
  symlink: 'symlink',
  fifo: 'fifo',
  chardev: 'chardev',
  dev: 'blockdev',
};

/** Go os.FileMode's set-id and sticky bits, and the POSIX bits they stand for. */
const GO_SETUID = 1 << 23;
const GO_SETGID = 1 << 22;
const GO_STICKY = 1 << 20;

/** POSIX permission bits (with set-id and sticky) of a Go os.FileMode. */
export function posixModeOf(goMode: number): number {
  let mode = goMode & 0o777;
  if (goMode & GO_SETUID) mode |= 0o4000;
  if (goMode & GO_SETGID) mode |= 0o2000;
  if (goMode & GO_STICKY) mode |= 0o1000;
  return mode;
}

/**
 * Fills `entry` from one node; false for a node a restore does not create (a socket, a type
 * restic may add later). `inodes` maps a hard-linked file's identity to the memberPath of its
 * first name: a later name becomes a hard link to it. `resolve` gives a lossy name a path of its
 * own (createLossyNameResolver).
 */
export function resticNodeToEntry(
  node: ResticNode,
  entry: ArchiveEntry,
  inodes: Map<string, string>,
  resolve: (memberPath: string, isDir: boolean) => string = (p) => p,
): boolean {
  const type = RESTIC_TYPES[node.type];
  if (type === undefined || typeof node.path !== 'string') return false;
  const memberPath = resolve(normalizeMemberPath(node.path), type === 'dir');
  entry.memberPath = memberPath;
  entry.rawPath = node.path;
  entry.type = type;
  entry.size = type === 'file' ? (node.size ?? 0) : 0;
  entry.storedSize = entry.size;
  entry.linkPath = type === 'symlink' ? (node.linktarget ?? '') : '';
  entry.mode = posixModeOf(node.mode ?? 0);
  entry.uid = node.uid ?? 0;
  entry.gid = node.gid ?? 0;
  entry.mtime = node.mtime ? Date.parse(node.mtime) / 1000 : 0;
  entry.headerOffset = 0;
  entry.dataOffset = 0;
  entry.dataLength = 0;
  entry.sparse = null;
  entry.unsafe = findUnsafeReason(node.path);
  if (type === 'file' && (node.links ?? 1) > 1) {
    const key =
      node.inode !== undefined
        ? `${node.device_id ?? ''}:${node.inode}`
        : `${node.device_id ?? ''}|${node.links}|${node.ctime ?? ''}|${node.mtime ?? ''}|${node.size ?? 0}|${node.mode ?? 0}|${node.uid ?? 0}|${node.gid ?? 0}`;
    const first = inodes.get(key);
    if (first === undefined) inodes.set(key, memberPath);
    else {
      entry.type = 'hardlink';
      entry.linkPath = first;
      entry.size = 0;
      entry.storedSize = 0;
    }
  }
  return true;
}

/** How restic 0.14 (Go's encoding/json, compact) begins and separates the match objects. */
const FIND_HEAD = '[{"matches":[';
const FIRST_MATCH = `${FIND_HEAD}{"path":"`;
const MATCH_BOUNDARY = '},{"path":"';
const MATCHES_END = '}],"hits":';

/**
 * Cuts `restic find --json` output, `[{"matches":[{...},{...}],"hits":N,"snapshot":"..."}]`
 * (one line, printed as restic walks), into its match objects as they complete.
 *
 * Fast path, when the document begins as restic 0.14 writes it (each match opening with its
 * `path`): every complete match of a chunk is found with native substring searches and parsed
 * with ONE JSON.parse. A character loop over the whole listing (the general path) was the
 * largest single cost of a scan (~25 % of its CPU on 100k nodes). The searches are exact, not
 * heuristic: inside a JSON string every `"` is escaped, so `},{"path":"` — a quote right after
 * `{` that is followed by `path` — can only be the structural boundary (a string ending in
 * `},{` closes with `"` followed by `,` or `}`, never by `path`); likewise `}],"hits":`. Any
 * cut in the wrong place would leave an unbalanced array, which JSON.parse rejects: a
 * listing is never miscounted silently, it fails as BACKUP_TOOL_FAILED.
 *
 * Any other document (an empty snapshot, another restic's field order) takes the general
 * path: a character scanner that tracks strings and nesting.
 */
export function createMatchSplitter(onMatch: (node: ResticNode) => void | 'stop'): {
  push(text: string): void | 'stop';
} {
  let mode: 'undecided' | 'fast' | 'general' | 'done' = 'undecided';
  let buffer = '';
  const general = createGeneralMatchSplitter((json) => onMatch(parseListing(json) as ResticNode));
  return {
    push(text) {
      if (mode === 'general') return general.push(text);
      if (mode === 'done') return;
      buffer += text;
      if (mode === 'undecided') {
        if (buffer.length < FIRST_MATCH.length && FIRST_MATCH.startsWith(buffer)) return;
        if (!buffer.startsWith(FIRST_MATCH)) {
          mode = 'general';
          const held = buffer;
          buffer = '';
          return general.push(held);
        }
        mode = 'fast';
        buffer = buffer.slice(FIND_HEAD.length);
      }
      // buffer begins at the `{` of a match object.
      const end = buffer.indexOf(MATCHES_END);
      const last = end !== -1 ? end : buffer.lastIndexOf(MATCH_BOUNDARY);
      if (last === -1) return;
      const nodes = parseListing(`[${buffer.slice(0, last + 1)}]`) as ResticNode[];
      if (end !== -1) {
        mode = 'done';
        buffer = '';
      } else buffer = buffer.slice(last + 2);
      for (const node of nodes) if (onMatch(node) === 'stop') return 'stop';
    },
  };
}

function parseListing(json: string): unknown {
  try {
    return JSON.parse(json);
  } catch {
    throw new RestoreplanError(
      'BACKUP_TOOL_FAILED',
      'restic find --json printed a listing that is not valid JSON',
      { tool: 'restic' },
    );
  }
}

/**
 * The general path of createMatchSplitter: the text of each match object, found by a scanner
 * that follows strings, escapes and nesting (a match object opens at depth 4:
 * `[ { "matches": [ {`).
 */
function createGeneralMatchSplitter(onMatch: (json: string) => void | 'stop'): {
  push(text: string): void | 'stop';
} {
  let depth = 0;
  let inString = false;
  let escaped = false;
  let pending: string[] | null = null;
  return {
    push(text) {
      let start = pending !== null ? 0 : -1;
      for (let i = 0; i < text.length; i += 1) {
        const c = text.charCodeAt(i);
        if (inString) {
          if (escaped) escaped = false;
          else if (c === 0x5c) escaped = true;
          else if (c === 0x22) inString = false;
          continue;
        }
        if (c === 0x22) inString = true;
        else if (c === 0x7b || c === 0x5b) {
          depth += 1;
          if (c === 0x7b && depth === 4) {
            pending = [];
            start = i;
          }
        } else if (c === 0x7d || c === 0x5d) {
          if (c === 0x7d && depth === 4 && pending !== null) {
            pending.push(text.slice(start, i + 1));
            const json = pending.join('');
            pending = null;
            start = -1;
            depth -= 1;
            if (onMatch(json) === 'stop') return 'stop';
            continue;
          }
          depth -= 1;
        }
      }
      if (pending !== null && start !== -1) pending.push(text.slice(start));
    },
  };
}

/** The snapshot `restic snapshots --json SNAPSHOT` resolves to. */
export interface ResticSnapshot {
  id: string;
  time: string | null;
}

/**
 * The stable error for a failed restic run, from its exit code and stderr (restic 0.14's
 * texts; every failure exits 1). The message quotes nothing but a safe excerpt.
 */
export function classifyResticFailure(run: Pick<ToolExit, 'code' | 'stderr'>, what: string) {
  const { stderr } = run;
  const details = { tool: 'restic', exitCode: run.code };
  if (
    /wrong password or no key found|an empty password is not a password|Resolving password failed|reading repository password/.test(
      stderr,
    )
  ) {
    return new RestoreplanError(
      'BACKUP_PASSWORD',
      `restic could not open the repository: the password is missing or wrong (set RESTIC_PASSWORD_FILE or RESTIC_PASSWORD_COMMAND)`,
      details,
    );
  }
  if (
    /unable to open config file|Is there a repository at the following location|Please specify repository location|repository does not exist/.test(
      stderr,
    )
  ) {
    return new RestoreplanError(
      'BACKUP_REPOSITORY_NOT_FOUND',
      `restic found no repository (set RESTIC_REPOSITORY or RESTIC_REPOSITORY_FILE to it)`,
      details,
    );
  }
  if (/parsing repository location failed/.test(stderr)) {
    // Nothing of it quoted: Go's url.Parse error repeats the location and may name a piece of
    // a password that is not percent-encoded as the "port" (`invalid port ":Hunt" after host`).
    return new RestoreplanError(
      'BACKUP_REPOSITORY_NOT_FOUND',
      `restic cannot parse the repository location (check RESTIC_REPOSITORY or RESTIC_REPOSITORY_FILE; a password in a URL is percent-encoded)`,
      details,
    );
  }
  if (/unable to create lock in backend|repository is already locked/.test(stderr)) {
    return new RestoreplanError(
      'BACKUP_REPOSITORY_LOCKED',
      `the restic repository is locked by another process (when it is stale: restic unlock)`,
      details,
    );
  }
  if (
    /no matching ID found|latest snapshot for criteria not found|could not find snapshot/.test(
      stderr,
    )
  ) {
    return new RestoreplanError(
      'BACKUP_SNAPSHOT_NOT_FOUND',
      `restic: no snapshot ${what}`,
      details,
    );
  }
  const excerpt = safeExcerpt(stderr);
  return new RestoreplanError(
    'BACKUP_TOOL_FAILED',
    `restic failed (exit ${run.code ?? 'by a signal'})${excerpt ? `: ${excerpt}` : ''}`,
    details,
  );
}

export interface ListOptions {
  signal?: AbortSignal | undefined;
  /** Instead of `restic` / `borg` on PATH (a test seam). */
  command?: string;
}

/**
 * The snapshot as the operator asked for it, for an error line: `latest (host="h1")` with the
 * source's filters (a filtered `latest` that matches nothing must not read as "no snapshot at
 * all"); values quoted as JSON, so no control character reaches the terminal.
 */
export function describeSnapshot(source: Pick<ResticSource, 'snapshot' | 'filters'>): string {
  const f = source.filters;
  const parts = f
    ? [
        ...f.hosts.map((v) => `host=${JSON.stringify(v)}`),
        ...f.paths.map((v) => `path=${JSON.stringify(v)}`),
        ...f.tags.map((v) => `tag=${JSON.stringify(v)}`),
      ]
    : [];
  return parts.length > 0 ? `${source.snapshot} (${parts.join(', ')})` : source.snapshot;
}

/** Resolves `latest` or a short id to the snapshot (restic prints [] and exits 0 for none). */
export async function resolveResticSnapshot(
  source: Pick<ResticSource, 'snapshot' | 'filters'>,
  options: ListOptions = {},
): Promise<ResticSnapshot> {
  const { snapshot } = source;
  let text = '';
  const args = ['--no-lock', 'snapshots', '--json', ...resticFilterArgs(source.filters), snapshot];
  const run = await runBackupTool('restic', args, {
    signal: options.signal,
    ...(options.command ? { command: options.command } : {}),
    onStdout: (chunk) => {
      text += chunk;
    },
  });
  if (run.code !== 0) throw classifyResticFailure(run, describeSnapshot(source));
  let found: Array<{ id?: unknown; time?: unknown }>;
  try {
    found = JSON.parse(text) as typeof found;
  } catch {
    throw new RestoreplanError('BACKUP_TOOL_FAILED', 'restic snapshots --json printed no JSON', {
      tool: 'restic',
    });
  }
  const snapshots = (Array.isArray(found) ? found : [])
    .filter((s): s is { id: string; time?: unknown } => typeof s?.id === 'string')
    .sort((a, b) => String(b.time ?? '').localeCompare(String(a.time ?? '')));
  const newest = snapshots[0];
  if (!newest) {
    throw new RestoreplanError(
      'BACKUP_SNAPSHOT_NOT_FOUND',
      `restic: no snapshot ${describeSnapshot(source)} in the repository`,
      { tool: 'restic', snapshot },
    );
  }
  return { id: newest.id, time: typeof newest.time === 'string' ? newest.time : null };
}

/**
 * Lists SNAPSHOT (`latest`, an id or its prefix) into `onEntry`, one reused entry, in ONE run
 * of restic: the snapshot's full id is read from the end of find's document, so no separate
 * `restic snapshots` call (a repository open, ~0.6 s) is needed. `id` is null only when
 * onEntry stopped the run before restic printed it. An unknown snapshot is not an error to
 * restic (it prints `[]` and "Ignoring ..." and exits 0): it is BACKUP_SNAPSHOT_NOT_FOUND here.
 */
export async function listResticSnapshot(
  source: Pick<ResticSource, 'snapshot' | 'filters'>,
  entry: ArchiveEntry,
  onEntry: (entry: ArchiveEntry) => void | 'stop',
  options: ListOptions = {},
): Promise<{ stopped: boolean; id: string | null }> {
  const { snapshot } = source;
  const inodes = new Map<string, string>();
  const resolve = createLossyNameResolver('\ufffd');
  let stopped = false;
  let tail = '';
  const splitter = createMatchSplitter((node) => {
    if (!resticNodeToEntry(node, entry, inodes, resolve)) return;
    if (onEntry(entry) === 'stop') {
      stopped = true;
      return 'stop';
    }
  });
  const run = await runBackupTool(
    'restic',
    [
      '--no-lock',
      'find',
      '--json',
      ...resticFilterArgs(source.filters),
      '--snapshot',
      snapshot,
      '*',
    ],
    {
      relay: true,
      signal: options.signal,
      ...(options.command ? { command: options.command } : {}),
      onStdout: (text) => {
        tail = (tail + text).slice(-512);
        return splitter.push(text);
      },
    },
  );
  const id = /"snapshot":"([0-9a-f]{64})"\}\]\s*$/.exec(tail)?.[1] ?? null;
  if (stopped) return { stopped, id };
  if (run.code !== 0) throw classifyResticFailure(run, describeSnapshot(source));
  if (id === null) {
    throw new RestoreplanError(
      'BACKUP_SNAPSHOT_NOT_FOUND',
      `restic: no snapshot ${describeSnapshot(source)} in the repository`,
      { tool: 'restic', snapshot },
    );
  }
  return { stopped, id };
}
