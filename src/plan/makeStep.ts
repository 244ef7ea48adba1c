/**
 * A plan step from an archive member, once the selection and the ledger have decided that it is
 * restored and how (`create` or `replace`). Reads the disk only through the probe: the mode of
 * what it replaces, the owner of the directory it lands in.
 */
import path from 'node:path';

import type { ArchiveEntry } from '../archive/ArchiveEntry.js';
import { RestoreplanError } from '../errors.js';
import { probePath, type ExistingProbe } from '../filesystems/probeExisting.js';
import type { PlanStep } from '../types.js';

/** A step before it is priced (budgetStages gives each its cost, in the order apply runs them). */
export type UnpricedStep = PlanStep extends infer S
  ? S extends PlanStep
    ? Omit<S, 'cost'>
    : never
  : never;

export interface StepContext {
  probe: ExistingProbe;
  /** Give files the apply time as mtime (a running Mailman reloads configs by mtime). */
  freshMtime: boolean;
  /** Owner lookups by directory, shared across the steps of one plan. */
  owners: Map<string, { uid: number; gid: number } | null>;
}

/**
 * The owner a new path should get: that of the nearest existing directory above it (the list
 * dir, archives/private), never a uid from the machine the backup was taken on.
 */
export function ownerOf(
  dirPath: string,
  context: Pick<StepContext, 'probe' | 'owners'>,
): { uid: number; gid: number } | null {
  const known = context.owners.get(dirPath);
  if (known !== undefined) return known;
  const onDisk = context.probe.probeDirectory(dirPath);
  let owner: { uid: number; gid: number } | null;
  if (onDisk.exists) owner = { uid: onDisk.uid, gid: onDisk.gid };
  else {
    const parent = path.dirname(dirPath);
    owner = parent === dirPath ? null : ownerOf(parent, context);
  }
  context.owners.set(dirPath, owner);
  return owner;
}

export interface StepExtra {
  sha256?: string;
  /** For a hard link: the targetPath it points at. */
  linkTarget?: string;
  /** A path whose mode a new file takes (config.pck.last for a missing config.pck). */
  modeFrom?: string;
}

/** `rel` is the member's path relative to the member root; `root` the directory it maps onto. */
export function makeStep(
  context: StepContext,
  root: string,
  rel: string,
  entry: ArchiveEntry,
  write: 'create' | 'replace',
  extra: StepExtra = {},
): UnpricedStep {
  const targetPath = path.join(root, rel);
  const existing = write === 'replace' ? probePath(context.probe, targetPath) : null;
  const modeSource =
    existing ?? (extra.modeFrom !== undefined ? probePath(context.probe, extra.modeFrom) : null);
  const owner =
    existing && existing.kind !== 'absent'
      ? { uid: existing.uid, gid: existing.gid }
      : ownerOf(path.dirname(targetPath), context);
  const fromDisk = modeSource && modeSource.kind === 'file' ? modeSource.mode : null;
  const common = {
    memberPath: entry.memberPath,
    targetPath,
    size: 0,
    source: {
      headerOffset: entry.headerOffset,
      dataOffset: entry.dataOffset,
      dataLength: entry.dataLength,
      sparse: entry.sparse,
    },
    mode: (fromDisk ?? entry.mode) & 0o7777,
    owner,
    mtime: entry.mtime,
    freshMtime: false,
  };
  switch (entry.type) {
    case 'file':
      return {
        ...common,
        type: 'file',
        write,
        size: entry.size,
        freshMtime: context.freshMtime,
        ...(extra.sha256 !== undefined ? { sha256: extra.sha256 } : {}),
      };
    case 'dir':
      return { ...common, type: 'dir', write: 'create' };
    case 'symlink':
      return { ...common, type: 'symlink', write, linkTarget: entry.linkPath };
    case 'hardlink':
      if (extra.linkTarget === undefined)
        throw new RestoreplanError(
          'INTERNAL',
          `${entry.memberPath}: a hard link step needs its target`,
        );
      return { ...common, type: 'hardlink', write, linkTarget: extra.linkTarget };
    default:
      return { ...common, type: entry.type, write };
  }
}
