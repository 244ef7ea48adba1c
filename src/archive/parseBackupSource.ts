/**
 * `parseBackupSource`: what an archive argument names. `restic:SNAPSHOT` is a restic snapshot
 * (the repository and password the restic way: RESTIC_REPOSITORY or RESTIC_REPOSITORY_FILE,
 * RESTIC_PASSWORD_FILE or RESTIC_PASSWORD_COMMAND), `borg:REPO::ARCHIVE` a borg archive in
 * borg's own syntax (`borg:::ARCHIVE` takes the repository from BORG_REPO); anything else is a
 * tar file or `-`. A tar file literally named `restic:x` is given as `./restic:x`.
 */
import { RestoreplanError } from '../errors.js';

export type BackupSource =
  | { kind: 'file'; path: string }
  | {
      kind: 'restic';
      /** The argument as given: the walk's path. */
      spec: string;
      /** `latest`, or a (short) snapshot id. */
      snapshot: string;
      /** restic's snapshot filters (`?host=…&path=…&tag=…`), which choose what `latest` is. */
      filters?: ResticFilters;
    }
  | {
      kind: 'borg';
      spec: string;
      /** '' when BORG_REPO names it. */
      repository: string;
      archive: string;
    };

export type ToolSource = Exclude<BackupSource, { kind: 'file' }>;
export type ResticSource = Extract<BackupSource, { kind: 'restic' }>;

/** restic's --host, --path and --tag snapshot filters, each as often as given. */
export interface ResticFilters {
  hosts: string[];
  paths: string[];
  tags: string[];
}

const RESTIC_SNAPSHOT = /^(latest|[0-9a-f]{1,64})$/;
const RESTIC_FILTER_KEYS = { host: 'hosts', path: 'paths', tag: 'tags' } as const;

export function parseBackupSource(spec: string): BackupSource {
  if (spec.startsWith('restic:')) {
    const [snapshot = '', query] = splitOnce(spec.slice('restic:'.length), '?');
    // Only what restic takes as a snapshot: nothing that could read as one of its options.
    if (!RESTIC_SNAPSHOT.test(snapshot)) {
      throw new RestoreplanError(
        'USAGE',
        `${JSON.stringify(spec)}: a restic source is restic:latest or restic:ID (a snapshot id or its hex prefix), optionally with ?host=H&path=P&tag=T; a file of that name is ./${spec}`,
        { source: spec },
      );
    }
    if (query === undefined) return { kind: 'restic', spec, snapshot };
    return { kind: 'restic', spec, snapshot, filters: parseResticFilters(spec, query) };
  }
  if (spec.startsWith('borg:')) {
    const location = spec.slice('borg:'.length);
    const split = location.lastIndexOf('::');
    const repository = split === -1 ? '' : location.slice(0, split);
    const archive = split === -1 ? '' : location.slice(split + 2);
    if (split === -1 || archive === '' || archive.startsWith('-') || repository.startsWith('-')) {
      throw new RestoreplanError(
        'USAGE',
        `${JSON.stringify(redactSource(spec))}: a borg source is borg:REPO::ARCHIVE (borg:::ARCHIVE with BORG_REPO set); a file of that name is ./${redactSource(spec)}`,
        { source: redactSource(spec) },
      );
    }
    return { kind: 'borg', spec, repository, archive };
  }
  return { kind: 'file', path: spec };
}

function splitOnce(text: string, separator: string): [string, string | undefined] {
  const at = text.indexOf(separator);
  return at === -1 ? [text, undefined] : [text.slice(0, at), text.slice(at + 1)];
}

/**
 * `host=H&path=P&tag=T` (each repeatable, values percent-decoded, `+` kept as it is: it is a
 * path's character, not a space): restic's own filters for choosing `latest` — the newest
 * snapshot of that host, of that backed-up path. A path must be absolute, as restic matches it.
 */
function parseResticFilters(spec: string, query: string): ResticFilters {
  const filters: ResticFilters = { hosts: [], paths: [], tags: [] };
  const bad = (why: string): RestoreplanError =>
    new RestoreplanError('USAGE', `${JSON.stringify(spec)}: ${why}`, { source: spec });
  for (const pair of query.split('&')) {
    const [key = '', raw] = splitOnce(pair, '=');
    const field = RESTIC_FILTER_KEYS[key as keyof typeof RESTIC_FILTER_KEYS];
    if (field === undefined || raw === undefined)
      throw bad(
        `${JSON.stringify(pair)} is not a restic filter (host=H, path=/P or tag=T, joined by &)`,
      );
    let value: string;
    try {
      value = decodeURIComponent(raw);
    } catch {
      throw bad(`${JSON.stringify(raw)} is not percent-encoded correctly`);
    }
    if (value === '' || /[\0\n]/.test(value)) throw bad(`${key}= needs a value on one line`);
    if (key === 'path' && !value.startsWith('/')) throw bad(`path=${value} is not absolute`);
    filters[field].push(value);
  }
  return filters;
}

/** The restic options that apply a source's filters (`--host=H`: never read as another option). */
export function resticFilterArgs(filters: ResticFilters | undefined): string[] {
  if (!filters) return [];
  return [
    ...filters.hosts.map((host) => `--host=${host}`),
    ...filters.paths.map((p) => `--path=${p}`),
    ...filters.tags.map((tag) => `--tag=${tag}`),
  ];
}

/** The backup-tool source an archive argument names, or null for a tar file, `-` or a stream. */
export function toolSourceOf(archive: string | NodeJS.ReadableStream): ToolSource | null {
  if (typeof archive !== 'string') return null;
  const source = parseBackupSource(archive);
  return source.kind === 'file' ? null : source;
}

/**
 * The source as it may be written down (a plan, a journal, a log, an error line): a password
 * in a repository URL (`borg:ssh://user:secret@host/repo::a`, `sftp://u:p@h/r`) becomes
 * `user@`; everything else stays, so the operator still sees which repository it is. Apply of a
 * plan whose repository needs that password is given the full source again (--archive).
 */
export function redactSource(spec: string): string {
  // Up to the last '@' before the path: an '@' the user did not percent-encode is the password's.
  return spec.replace(/(\/\/[^/@\s:]*):[^/\s]*@/g, '$1@');
}

/**
 * BACKUP_SOURCE_UNSUPPORTED for a command that has nothing to do with a restic:/borg: source:
 * `index`, whose index saves a later walk the decompression and parsing of a tar — a tool's
 * listing has neither to save (every command lists the snapshot directly).
 */
export function refuseToolSource(archive: string | NodeJS.ReadableStream, command: string): void {
  const source = toolSourceOf(archive);
  if (!source) return;
  throw new RestoreplanError(
    'BACKUP_SOURCE_UNSUPPORTED',
    `${command} has nothing to do for a ${source.kind} source (${redactSource(source.spec)}): ${source.kind} lists it without reading any file data, which is what an archive index saves; scan, check, plan and apply read it directly`,
    { source: redactSource(source.spec), tool: source.kind, command },
  );
}
