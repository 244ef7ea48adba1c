/**
 * `readBackupMembers`: the data of a few members of a restic snapshot or a borg archive, read
 * through the tool in as few runs as it allows (each run costs ~0.6 s of repository open and
 * key derivation, whatever it reads):
 *
 * - borg: ONE `borg export-tar REPO::ARCHIVE - pp:PATH...` — a tar of exactly those paths,
 *   streamed into the tar walker (nothing lands on disk). `pp:` makes each a path prefix, never
 *   a pattern; a path is a whole component path, so `config.pck` does not take
 *   `config.pck.last` along. A later name of a hard link is never asked for: the planner and the
 *   Mailman profile read files, and borg lists a later name as a hard link to the first.
 * - restic 0.14: `dump` gives one file per run (a directory only as a tar of all of it), so ONE
 *   `restic restore ID --target TMP --include PATH...` into a private directory (mode 0700,
 *   removed before this returns) — when that directory is on no filesystem the restore writes
 *   to (`avoidDevices`): it briefly takes an inode per file and leading directory, and those
 *   filesystems are short of them. The system's temp dir, else /dev/shm (RAM: what is read is
 *   what one walk may hold in memory anyway). Neither: one `restic dump ID PATH` per member,
 *   streamed (a run each).
 *
 * Reads by the snapshot's full id (restic) or the archive's name (borg: its id is the caller's
 * to compare, in a run side by side). Sizes are checked against the listing's: a member whose
 * data has another length is BACKUP_TOOL_FAILED (the listing and the data disagree).
 */
import { lstat, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { finished } from 'node:stream/promises';

import { RestoreplanError, throwIfAborted } from '../errors.js';
import { classifyBorgFailure } from './listBorgArchive.js';
import { classifyResticFailure } from './listResticSnapshot.js';
import { normalizeMemberPath } from './normalizeMemberPath.js';
import type { ToolSource } from './parseBackupSource.js';
import { runBackupTool, type BackupTool } from './runBackupTool.js';

export interface BackupMember {
  /** The normalized member path (the walk's and the plan's). */
  memberPath: string;
  /** The path as the tool lists it (restic: absolute; borg: relative). */
  rawPath: string;
  /** The size the listing gave. */
  size: number;
}

export interface ReadMembersOptions {
  signal?: AbortSignal | undefined;
  /** Instead of `restic` / `borg` on PATH (a test seam). */
  command?: string;
  /** Filesystems no scratch copy may be written to (the restore's targets). */
  avoidDevices?: ReadonlySet<bigint> | undefined;
  /** Where the private scratch directory may be made, first usable one (SCRATCH_DIRS). */
  scratchDirs?: readonly string[];
  /** Told how the members were read (the number of tool runs). */
  onRuns?: (runs: number, how: 'export-tar' | 'restore' | 'dump') => void;
}

/**
 * Reads `members` of `source` (restic: the snapshot `snapshotId`, a full id) and hands each
 * one's data to `onMember`, in the order given. Every member asked for is delivered, or this
 * throws.
 */
export async function readBackupMembers(
  source: ToolSource,
  snapshotId: string,
  members: readonly BackupMember[],
  onMember: (member: BackupMember, data: Buffer) => void,
  options: ReadMembersOptions = {},
): Promise<void> {
  throwIfAborted(options.signal);
  if (members.length === 0) return;
  const got = new Map<string, Buffer>();
  if (source.kind === 'borg') {
    await exportBorgMembers(source, members, got, options);
    options.onRuns?.(1, 'export-tar');
  } else {
    const scratch = await findScratch(options.scratchDirs ?? SCRATCH_DIRS(), options.avoidDevices);
    if (scratch !== null) {
      await restoreResticMembers(snapshotId, members, got, scratch, options);
      options.onRuns?.(1, 'restore');
    } else {
      for (const member of members) {
        throwIfAborted(options.signal);
        got.set(member.memberPath, await dumpResticMember(snapshotId, member, options));
      }
      options.onRuns?.(members.length, 'dump');
    }
  }
  for (const member of members) {
    const data = got.get(member.memberPath);
    if (data === undefined) {
      throw new RestoreplanError(
        'BACKUP_TOOL_FAILED',
        `${source.kind} gave no data for ${member.memberPath}, which its listing has`,
        { tool: source.kind, memberPath: member.memberPath },
      );
    }
    if (data.length !== member.size) {
      throw new RestoreplanError(
        'BACKUP_TOOL_FAILED',
        `${source.kind} gave ${data.length} bytes for ${member.memberPath}, whose listing says ${member.size}`,
        { tool: source.kind, memberPath: member.memberPath, bytes: data.length, size: member.size },
      );
    }
    onMember(member, data);
  }
}

/** Where a restic restore of the members may go: the temp dir, else RAM. */
const SCRATCH_DIRS = (): string[] => [os.tmpdir(), '/dev/shm'];

/** The first of `dirs` that is a directory on none of the `avoid` filesystems. */
async function findScratch(
  dirs: readonly string[],
  avoid: ReadonlySet<bigint> | undefined,
): Promise<string | null> {
  for (const dir of dirs) {
    const stats = await stat(dir, { bigint: true }).catch(() => null);
    if (stats?.isDirectory() && !(avoid?.has(stats.dev) ?? false)) return dir;
  }
  return null;
}

const toolOptions = (options: ReadMembersOptions) => ({
  signal: options.signal,
  ...(options.command ? { command: options.command } : {}),
});

/** borg: one export-tar of exactly the members' paths, read by the tar walker as it streams. */
async function exportBorgMembers(
  source: Extract<ToolSource, { kind: 'borg' }>,
  members: readonly BackupMember[],
  got: Map<string, Buffer>,
  options: ReadMembersOptions,
): Promise<void> {
  const wanted = new Map(members.map((m) => [normalizeMemberPath(m.rawPath), m]));
  const largest = Math.max(1, ...members.map((m) => m.size));
  const tar = new PassThrough();
  const stop = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
  const { walkArchive } = await import('./walkArchive.js');
  const walked = walkArchive(tar, {
    ...(options.signal ? { signal: options.signal } : {}),
    maxDataBytes: largest,
    onEntry: (entry) => (wanted.has(entry.memberPath) ? 'data' : undefined),
    onData: (entry, data) => {
      const member = wanted.get(entry.memberPath);
      if (member) got.set(member.memberPath, Buffer.from(data));
    },
  }).catch((error: unknown) => {
    stop.abort();
    throw error;
  });
  const run = runBackupTool(
    'borg',
    [
      '--log-json',
      'export-tar',
      '--',
      `${source.repository}::${source.archive}`,
      '-',
      ...[...wanted.keys()].map((p) => `pp:${p}`),
    ],
    { ...toolOptions(options), signal, stdout: tar },
  );
  const [ran, read] = await Promise.allSettled([run, walked]);
  if (ran.status === 'rejected') {
    if (read.status === 'rejected') throw read.reason;
    throw ran.reason;
  }
  // Exit 1 is a warning (e.g. a path that never matched): what is missing is said below.
  if (ran.value.code !== 0 && ran.value.code !== 1)
    throw classifyBorgFailure(ran.value, source.archive);
  if (read.status === 'rejected') throw read.reason;
}

/** restic's --include takes patterns: a path's glob characters are escaped. */
function literalPattern(rawPath: string): string {
  return rawPath.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}

/** restic: one restore of exactly the members into a private directory, read back, removed. */
async function restoreResticMembers(
  snapshotId: string,
  members: readonly BackupMember[],
  got: Map<string, Buffer>,
  scratch: string,
  options: ReadMembersOptions,
): Promise<void> {
  // mkdtemp makes it 0700: nobody else reads the copies, or swaps a link into them.
  const dir = await mkdtemp(path.join(scratch, 'restoreplan-restic-'));
  try {
    const run = await runBackupTool(
      'restic',
      [
        '--no-lock',
        'restore',
        snapshotId,
        '--target',
        dir,
        ...members.flatMap((m) => ['--include', literalPattern(m.rawPath)]),
      ],
      { ...toolOptions(options), onStdout: () => undefined },
    );
    if (run.code !== 0) throw classifyResticFailure(run, snapshotId);
    for (const member of members) {
      const file = path.join(dir, member.rawPath);
      const stats = await lstat(file).catch(() => null);
      if (stats?.isFile()) got.set(member.memberPath, await readFile(file));
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** restic: one member's bytes by `restic dump` (nothing written anywhere). */
async function dumpResticMember(
  snapshotId: string,
  member: BackupMember,
  options: ReadMembersOptions,
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const out = new PassThrough();
  out.on('data', (chunk: Buffer) => chunks.push(chunk));
  const run = await runBackupTool(
    'restic' satisfies BackupTool,
    ['--no-lock', 'dump', snapshotId, member.rawPath],
    {
      ...toolOptions(options),
      stdout: out,
    },
  );
  if (run.code !== 0) throw classifyResticFailure(run, snapshotId);
  await finished(out);
  return Buffer.concat(chunks);
}
