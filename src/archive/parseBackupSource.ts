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
    }
  | {
      kind: 'borg';
      spec: string;
      /** '' when BORG_REPO names it. */
      repository: string;
      archive: string;
    };

export type ToolSource = Exclude<BackupSource, { kind: 'file' }>;

const RESTIC_SNAPSHOT = /^(latest|[0-9a-f]{1,64})$/;

export function parseBackupSource(spec: string): BackupSource {
  if (spec.startsWith('restic:')) {
    const snapshot = spec.slice('restic:'.length);
    // Only what restic takes as a snapshot: nothing that could read as one of its options.
    if (!RESTIC_SNAPSHOT.test(snapshot)) {
      throw new RestoreplanError(
        'USAGE',
        `${JSON.stringify(spec)}: a restic source is restic:latest or restic:ID (a snapshot id or its hex prefix); a file of that name is ./${spec}`,
        { source: spec },
      );
    }
    return { kind: 'restic', spec, snapshot };
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
  return spec.replace(/(\/\/[^/@\s:]*):[^/@\s]*@/g, '$1@');
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
