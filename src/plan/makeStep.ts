/**
 * A plan step from an archive member and what is on disk at its targetPath. Read-only: one
 * lstat per step plus one per directory for the owner.
 */
import { lstatSync, type Stats } from 'node:fs';
import path from 'node:path';

import type { ArchiveEntry } from '../archive/ArchiveEntry.js';
import type { PlanStep, StepType } from '../types.js';

export interface StepContext {
  /** Give files the apply time as mtime (a running Mailman reloads configs by mtime). */
  freshMtime: boolean;
  /** Owner lookups by directory, shared across the steps of one plan. */
  owners: Map<string, { uid: number; gid: number } | null>;
}

export type StepDecision = { step: PlanStep } | { skip: string };

function lstatOrNull(targetPath: string): Stats | null {
  return lstatSync(targetPath, { throwIfNoEntry: false }) ?? null;
}

/**
 * The owner a new path should get: that of the nearest existing directory above it (the list
 * dir, archives/private), never a uid from the machine the backup was taken on.
 */
export function ownerOf(
  dirPath: string,
  owners: StepContext['owners'],
): { uid: number; gid: number } | null {
  const known = owners.get(dirPath);
  if (known !== undefined) return known;
  const stats = lstatOrNull(dirPath);
  let owner: { uid: number; gid: number } | null;
  if (stats?.isDirectory()) owner = { uid: stats.uid, gid: stats.gid };
  else {
    const parent = path.dirname(dirPath);
    owner = parent === dirPath ? null : ownerOf(parent, owners);
  }
  owners.set(dirPath, owner);
  return owner;
}

function sameKind(type: StepType, stats: Stats): boolean {
  if (type === 'dir') return stats.isDirectory();
  if (type === 'symlink') return stats.isSymbolicLink();
  if (type === 'file' || type === 'hardlink') return stats.isFile();
  return !stats.isDirectory() && !stats.isFile() && !stats.isSymbolicLink();
}

/**
 * `rel` is the member's path relative to the member root; `targetRoot` the directory it maps
 * onto. `modeFrom`, when given, is a path whose mode a new file takes (config.pck.last for a
 * missing config.pck).
 */
export function makeStep(
  targetRoot: string,
  rel: string,
  entry: ArchiveEntry,
  context: StepContext,
  extra: { sha256?: string; linkTarget?: string; modeFrom?: string; memberPath?: string } = {},
): StepDecision | null {
  const targetPath = path.join(targetRoot, rel);
  const existing = lstatOrNull(targetPath);
  if (entry.type === 'dir' && existing?.isDirectory()) return null; // nothing to do
  if (existing && !sameKind(entry.type, existing)) {
    return {
      skip: `a ${existing.isDirectory() ? 'directory' : 'file of another type'} is in the way`,
    };
  }
  const modeSource = existing ?? (extra.modeFrom ? lstatOrNull(extra.modeFrom) : null);
  const owner = existing
    ? { uid: existing.uid, gid: existing.gid }
    : ownerOf(path.dirname(targetPath), context.owners);
  const step: PlanStep = {
    memberPath: extra.memberPath ?? entry.memberPath,
    targetPath,
    type: entry.type,
    size: entry.type === 'file' ? entry.size : 0,
    write: existing ? 'replace' : 'create',
    source: {
      headerOffset: entry.headerOffset,
      dataOffset: entry.dataOffset,
      dataLength: entry.dataLength,
      sparse: entry.sparse,
    },
    mode: (modeSource && !modeSource.isSymbolicLink() ? modeSource.mode : entry.mode) & 0o7777,
    owner,
    mtime: entry.mtime,
    freshMtime: entry.type === 'file' && context.freshMtime,
  };
  if (extra.linkTarget !== undefined) step.linkTarget = extra.linkTarget;
  else if (entry.type === 'symlink') step.linkTarget = entry.linkPath;
  if (extra.sha256 !== undefined) step.sha256 = extra.sha256;
  return { step };
}
