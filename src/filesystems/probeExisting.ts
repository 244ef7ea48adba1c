/**
 * What already exists at the targetPaths of a restore, read by directory rather than by path:
 * one readdir (with file types) per directory, and an lstat only for an entry that exists and
 * is not a directory (a replacement, whose blocks the accounting needs). A selection of a
 * million files in a few thousand directories costs a few thousand syscalls, not a million.
 *
 * Synchronous on purpose: it is called from the archive walk's per-entry callback, which is
 * synchronous so that the hot path has no promise per entry (DESIGN.md "Speed"). Listings are
 * kept in a small LRU: archives are grouped by directory, so the working set is a handful.
 */
import { lstatSync, readdirSync, type Dirent } from 'node:fs';
import path from 'node:path';

import { RestoreplanError } from '../errors.js';
import { formatDevice } from './statFilesystem.js';

export type ExistingKind = 'absent' | 'file' | 'dir' | 'symlink' | 'other';

export interface ExistingEntry {
  kind: ExistingKind;
  /** st_blocks (512-byte units) of what exists; 0 when absent or a directory. */
  blocks512: number;
  /** st_mode, st_uid, st_gid of what exists (not read for a directory: 0). */
  mode: number;
  uid: number;
  gid: number;
  /**
   * st_nlink, and "dev:ino" when it has more than one name: replacing one name of a file with
   * several frees nothing until its last name goes (tmpfs aside, which charges every name).
   */
  links: number;
  id: string;
}

export const ABSENT: ExistingEntry = Object.freeze({
  kind: 'absent',
  blocks512: 0,
  mode: 0,
  uid: 0,
  gid: 0,
  links: 0,
  id: '',
});
const DIRECTORY: ExistingEntry = Object.freeze({ ...ABSENT, kind: 'dir' });

export type ExistingDirectory =
  | { exists: false; /** Something that is not a directory is in the way. */ blocked: boolean }
  | {
      exists: true;
      /** st_dev as "major:minor": the filesystem that new entries of this directory land on. */
      device: string;
      blocks512: number;
      /** Its owner: what a new path beneath it gets (never a uid from the backup's machine). */
      uid: number;
      gid: number;
      /** Names of the entries already there (for the directory's growth). */
      names: readonly string[];
    };

export interface ExistingProbe {
  /** Called once per directory by the accounting. */
  probeDirectory(dirPath: string): ExistingDirectory;
  /** What exists at `name` inside `dirPath`, a directory that exists. */
  probeEntry(dirPath: string, name: string): ExistingEntry;
}

export interface ProbeStats {
  readdirs: number;
  lstats: number;
}

export interface ExistingProbeOptions {
  /** Directory listings kept (default 256). */
  maxDirectories?: number;
}

const enum Kind {
  File = 1,
  Dir = 2,
  Symlink = 3,
  Other = 4,
  Unknown = 5,
}

function kindOfDirent(dirent: Dirent): Kind {
  if (dirent.isFile()) return Kind.File;
  if (dirent.isDirectory()) return Kind.Dir;
  if (dirent.isSymbolicLink()) return Kind.Symlink;
  if (
    dirent.isFIFO() ||
    dirent.isCharacterDevice() ||
    dirent.isBlockDevice() ||
    dirent.isSocket()
  ) {
    return Kind.Other;
  }
  // DT_UNKNOWN: some filesystems (XFS without ftype, old ext2) do not type their entries.
  return Kind.Unknown;
}

function targetError(dirPath: string, error: unknown): RestoreplanError {
  const err = error as NodeJS.ErrnoException;
  return new RestoreplanError(
    'TARGET_INVALID',
    `cannot read ${dirPath}: ${err.code ?? err.message}`,
    {
      targetPath: dirPath,
    },
  );
}

export function createExistingProbe(
  options: ExistingProbeOptions = {},
): ExistingProbe & { readonly stats: ProbeStats } {
  const maxDirectories = options.maxDirectories ?? 256;
  const listings = new Map<string, Map<string, Kind>>();
  const stats: ProbeStats = { readdirs: 0, lstats: 0 };

  function readListing(dirPath: string): Map<string, Kind> {
    let listing = listings.get(dirPath);
    if (listing) {
      // Map order is insertion order: re-inserting marks it most recently used.
      listings.delete(dirPath);
      listings.set(dirPath, listing);
      return listing;
    }
    let dirents: Dirent[];
    try {
      dirents = readdirSync(dirPath, { withFileTypes: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') dirents = [];
      else throw targetError(dirPath, error);
    }
    stats.readdirs += 1;
    listing = new Map();
    for (const dirent of dirents) listing.set(dirent.name, kindOfDirent(dirent));
    listings.set(dirPath, listing);
    if (listings.size > maxDirectories) {
      const oldest = listings.keys().next().value;
      if (oldest !== undefined) listings.delete(oldest);
    }
    return listing;
  }

  function lstatKind(targetPath: string): ExistingEntry {
    stats.lstats += 1;
    let st;
    try {
      // bigint: inode numbers of XFS and btrfs can exceed 2^53.
      st = lstatSync(targetPath, { bigint: true, throwIfNoEntry: false });
    } catch (error) {
      throw targetError(targetPath, error);
    }
    if (!st) return ABSENT;
    const kind: ExistingKind = st.isFile()
      ? 'file'
      : st.isDirectory()
        ? 'dir'
        : st.isSymbolicLink()
          ? 'symlink'
          : 'other';
    if (kind === 'dir') return DIRECTORY;
    return {
      kind,
      blocks512: Number(st.blocks),
      mode: Number(st.mode),
      uid: Number(st.uid),
      gid: Number(st.gid),
      links: Number(st.nlink),
      id: st.nlink > 1n ? `${st.dev}:${st.ino}` : '',
    };
  }

  return {
    stats,
    probeDirectory(dirPath) {
      stats.lstats += 1;
      let st;
      try {
        st = lstatSync(dirPath, { bigint: true, throwIfNoEntry: false });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOTDIR')
          return { exists: false, blocked: false };
        throw targetError(dirPath, error);
      }
      if (!st) return { exists: false, blocked: false };
      // A symlink where a directory belongs is not followed: the restore never writes through
      // a link (it could lead outside the target root).
      if (!st.isDirectory()) return { exists: false, blocked: true };
      const listing = readListing(dirPath);
      return {
        exists: true,
        device: formatDevice(st.dev),
        blocks512: Number(st.blocks),
        uid: Number(st.uid),
        gid: Number(st.gid),
        names: [...listing.keys()],
      };
    },
    probeEntry(dirPath, name) {
      const kind = readListing(dirPath).get(name);
      if (kind === undefined) return ABSENT;
      if (kind === Kind.Dir) return DIRECTORY;
      return lstatKind(path.join(dirPath, name));
    },
  };
}

/** What exists at `targetPath`, read through the probe; null when its directory does not exist. */
export function probePath(probe: ExistingProbe, targetPath: string): ExistingEntry | null {
  const dir = path.dirname(targetPath);
  return probe.probeDirectory(dir).exists ? probe.probeEntry(dir, path.basename(targetPath)) : null;
}
