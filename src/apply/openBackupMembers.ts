/**
 * Apply from a restic snapshot or a borg archive (a plan made from `restic:...` / `borg:...`).
 *
 * The plan's fingerprint is the snapshot's or the archive's id, taken when the plan was made.
 * Before anything is written, the source apply is given (the plan's path, or `--archive`) is
 * resolved again: `restic:latest` to the snapshot that is latest NOW, a borg archive name to the
 * archive that has that name now. Another id is PLAN_STALE — a new backup since planning (the
 * operator plans again, or names the planned snapshot: `--archive restic:<id>`).
 *
 * The data of every file step is read in ONE run of the tool (readBackupMembers: one
 * `borg export-tar` of exactly those paths; one `restic restore --include` into a private
 * scratch directory off the target filesystems, else one `restic dump` per file), side by side
 * with the run that resolves the id: restic reads the planned snapshot by its full id, so what
 * it reads is the planned snapshot whatever `latest` is now; borg reads by name, and its data is
 * used only when the id matched. A snapshot's content is addressed by its id, so a plan's
 * members are in it as they were listed: each file is checked for its listed size here, and
 * for its sha256 by the verified writer. As with a pipe, what one run may hold in memory is
 * capped (the same caps); a plan over them is refused before anything is read.
 */
import { findBorgArchive } from '../archive/listBorgArchive.js';
import { resolveResticSnapshot } from '../archive/listResticSnapshot.js';
import { redactSource, type ToolSource } from '../archive/parseBackupSource.js';
import { readBackupMembers, type BackupMember } from '../archive/readBackupMembers.js';
import { RestoreplanError } from '../errors.js';
import { findDevices } from '../filesystems/findDevices.js';
import type { PlanDocument } from '../types.js';
import {
  MAX_COMPRESSED_MEMBER_BYTES,
  STREAM_BATCH_BYTES,
  type MemberReader,
} from './openMemberReader.js';
import { holdPlannedMembers } from './holdPlannedMembers.js';

export interface BackupApplyOptions {
  /** Read the data (false for a dry run: only the id is proven). */
  collect: boolean;
  signal?: AbortSignal | undefined;
  /** Instead of `restic` / `borg` on PATH (a test seam). */
  command?: string;
}

const MiB = 1024 * 1024;

export async function openBackupMembers(
  plan: Pick<PlanDocument, 'archive' | 'stages' | 'target' | 'staging'>,
  source: ToolSource,
  options: BackupApplyOptions,
): Promise<MemberReader> {
  const label = redactSource(source.spec);
  const planned = plan.archive.fingerprint;
  const prefix = `${source.kind}:`;
  if (!planned.startsWith(prefix)) {
    throw new RestoreplanError(
      'PLAN_STALE',
      `the plan was made from ${plan.archive.path}, not from a ${source.kind} source (${label}): make a new plan`,
      { path: label, planned: plan.archive.path },
    );
  }
  const plannedId = planned.slice(prefix.length);
  const held = holdPlannedMembers(plan, (step) => step.size);
  const { wanted, total, largest } = held;
  if (
    options.collect &&
    (largest > MAX_COMPRESSED_MEMBER_BYTES || (wanted.size > 1 && total > STREAM_BATCH_BYTES))
  ) {
    throw new RestoreplanError(
      'MEMBER_TOO_LARGE',
      `the plan restores ${Math.ceil(total / MiB)} MiB from ${label}, more than one run of ${source.kind} may hand over in memory (${STREAM_BATCH_BYTES / MiB} MiB, or one member up to ${MAX_COMPRESSED_MEMBER_BYTES / MiB} MiB): nothing was read`,
      {
        path: label,
        bytes: total,
        hint: `restore the large members with ${source.kind} itself, or export a tar (restic dump / borg export-tar) to a file and plan from it`,
      },
    );
  }
  const members = new Map<string, { member: BackupMember; offsets: number[] }>();
  for (const [offset, { step }] of wanted) {
    const known = members.get(step.memberPath);
    if (known) {
      known.offsets.push(offset);
      continue;
    }
    members.set(step.memberPath, {
      member: {
        memberPath: step.memberPath,
        // restic lists absolute paths, borg relative ones (a memberPath has no leading /).
        rawPath: source.kind === 'restic' ? `/${step.memberPath}` : step.memberPath,
        size: step.size,
      },
      offsets: [offset],
    });
  }
  const tool = {
    signal: options.signal,
    ...(options.command ? { command: options.command } : {}),
  };
  const resolving =
    source.kind === 'restic'
      ? resolveResticSnapshot(source, tool)
      : findBorgArchive(source.repository, source.archive, tool);
  const reading =
    options.collect && members.size > 0
      ? (async () => {
          const roots = [plan.target.path, ...plan.stages.map((s) => s.root)];
          if (plan.staging) roots.push(plan.staging);
          await readBackupMembers(
            source,
            plannedId,
            [...members.values()].map((m) => m.member),
            (member, data) => {
              for (const offset of members.get(member.memberPath)?.offsets ?? [])
                held.keep(offset, data);
            },
            { ...tool, avoidDevices: await findDevices(roots) },
          );
        })()
      : Promise.resolve();
  const [resolved, read] = await Promise.allSettled([resolving, reading]);
  if (resolved.status === 'rejected') throw resolved.reason;
  if (resolved.value.id !== plannedId) {
    throw new RestoreplanError(
      'PLAN_STALE',
      `${label} is ${source.kind === 'restic' ? 'snapshot' : 'archive'} ${resolved.value.id.slice(0, 8)} now; the plan was made from ${plannedId.slice(0, 8)}: nothing was written. Make a new plan, or apply the planned one with --archive ${source.kind === 'restic' ? `restic:${plannedId}` : 'borg:REPO::NAME-OF-THAT-ARCHIVE'}`,
      {
        path: label,
        fingerprint: `${prefix}${resolved.value.id}`,
        plannedFingerprint: planned,
      },
    );
  }
  if (read.status === 'rejected') throw read.reason;
  return held.reader({ from: label, collect: options.collect });
}
