/**
 * Deciding, separate from writing (as restic's restorer does): for one stage, which steps run,
 * in which order and at what cost, and which are skipped and why — a member path that escapes,
 * a path that does not resolve inside the root without a symlink, a step a later member of the
 * same path supersedes, a list whose lock a live process holds, a refusal (device nodes, fifos
 * not allowed, symlink text that leaves the root, a type conflict), a step an earlier run already
 * restored or that the live system changed since. Nothing here writes: a dry run is exactly this.
 */
import path from 'node:path';

import { compareSteps } from '../plan/orderSteps.js';

import { isRestoreplanError } from '../errors.js';
import type { PlanStage, PlanStep } from '../types.js';
import { skipOf, type RunContext, type SkipWhy, type StageWork } from './createRunContext.js';
import { checkSymlinkText, isSymlinkOnDisk } from './createSymlink.js';
import { listOfTargetPath } from './findLockedLists.js';
import { resolveInsideRoot, splitInsideRoot, type ResolvedTarget } from './resolveInsideRoot.js';
import { journaledState } from './verifyOnDisk.js';

/**
 * Write order within a stage: directories first, then files, then hard links, then symlinks
 * (so nothing the archive links can be written through later in the same stage).
 */

const NOTHING = { inodes: 0, blocks: 0, peakInodes: 0, peakBlocks: 0 } as const;

export function unsafeMemberPath(memberPath: string): string | null {
  if (memberPath.startsWith('/')) return 'absolute member path';
  if (memberPath.split('/').includes('..')) return "member path contains '..'";
  if (memberPath.includes('\0')) return 'member path contains a NUL byte';
  return null;
}

/** Decides, for one stage, which steps run and what each costs; no write happens here. */
export async function classifyStage(
  ctx: Pick<
    RunContext,
    | 'plan'
    | 'options'
    | 'fsOps'
    | 'mountOf'
    | 'lockOf'
    | 'knownDirs'
    | 'plannedSymlinks'
    | 'records'
    | 'outcome'
  >,
  stage: PlanStage,
  root: string,
): Promise<StageWork> {
  const work: StageWork = { tasks: [], skipped: [], journaledDirs: [] };
  const skip = (targetPath: string, kind: SkipWhy['kind'], reason: string): void => {
    work.skipped.push(skipOf(targetPath, { kind, reason }));
  };
  for (const step of stage.steps) {
    const targetPath = step.targetPath;
    const unsafeMember = unsafeMemberPath(step.memberPath);
    if (unsafeMember) {
      skip(targetPath, 'unsafe', `unsafe: ${unsafeMember} (${step.memberPath})`);
      continue;
    }
    let resolved: ResolvedTarget;
    try {
      resolved = await resolveInsideRoot(root, targetPath, {
        fsOps: ctx.fsOps,
        knownDirs: ctx.knownDirs,
      });
    } catch (error) {
      if (!isRestoreplanError(error) || error.code !== 'UNSAFE_PATH') throw error;
      skip(targetPath, 'unsafe', `unsafe: ${String(error.details.reason)}: ${error.message}`);
      continue;
    }
    const list = ctx.plan.mailman
      ? listOfTargetPath(ctx.plan.mailman.root, resolved.targetPath)
      : null;
    if (list !== null) {
      const held = await ctx.lockOf(list);
      if (held) {
        ctx.outcome.lockStop = true;
        skip(targetPath, 'locked', `locked: ${held}`);
        continue;
      }
    }
    const refusal = refuseStep(ctx, step, root, resolved);
    if (refusal) {
      work.skipped.push(skipOf(targetPath, refusal));
      continue;
    }
    const record = ctx.records.get(resolved.targetPath);
    // A hard link is judged when it runs: its file may be restored again earlier in the stage.
    if (step.type !== 'hardlink' && record) {
      const state = await journaledState(step, resolved, record, ctx.fsOps);
      if (state === 'intact') {
        // Its mtime is given again at the end if this run changes an entry in it.
        if (step.type === 'dir')
          work.journaledDirs.push({ stage, step, root, targetPath: resolved.targetPath });
        skip(targetPath, 'already-restored', 'already-restored');
        continue;
      }
      if (state === 'changed') {
        // Restored by an earlier run, then changed by the live system (Mailman saves its
        // configs): putting the backup copy back would revert newer data.
        skip(targetPath, 'changed-since-restored', 'changed-since-restored: left as it is');
        continue;
      }
    }
    const existingDir = path.dirname(resolved.missingDirs[0] ?? resolved.targetPath);
    const mount = await ctx.mountOf(existingDir);
    // A directory step whose directory is there already (an earlier run that ended before it
    // finished its directories made it) takes nothing now, as the planner prices a directory
    // that is there; it still runs, to be given its mode, owner and times.
    const found = step.type === 'dir' && resolved.existing?.isDirectory() === true;
    const task = found ? { ...step, cost: { ...step.cost, ...NOTHING } } : step;
    work.tasks.push({ stage, step: task, root, targetPath: resolved.targetPath, mount });
  }
  // The planner's execution order (its costs were priced in it); a hand-made plan is put in it.
  work.tasks.sort((a, b) => compareSteps(a.step, b.step));
  return work;
}

/**
 * Why this step must not run (a refusal that is reported, not an error), or null. Asked when
 * the stage is classified and again right before the step is written: earlier steps (or
 * someone else) may have changed the tree in between.
 */
export function refuseStep(
  ctx: Pick<RunContext, 'options' | 'plannedSymlinks'>,
  step: PlanStep,
  root: string,
  resolved: ResolvedTarget,
): SkipWhy | null {
  const existing = resolved.existing;
  switch (step.type) {
    case 'chardev':
    case 'blockdev':
      return { kind: 'special', reason: 'special: device nodes are never created by apply' };
    case 'fifo':
      if (!ctx.options.allowSpecial)
        return {
          kind: 'special',
          reason: 'special: fifos are restored only when allowed (allowSpecial)',
        };
      break;
    case 'symlink':
      try {
        checkSymlinkText(
          root,
          resolved.targetPath,
          step.linkTarget ?? '',
          (candidate) => ctx.plannedSymlinks.has(candidate) || isSymlinkOnDisk(candidate),
        );
      } catch (error) {
        if (isRestoreplanError(error))
          return {
            kind: 'unsafe',
            reason: `unsafe: ${String(error.details.reason)}: ${error.message}`,
          };
        throw error;
      }
      break;
    case 'hardlink':
      try {
        splitInsideRoot(root, path.resolve(root, step.linkTarget ?? ''));
        if (!path.isAbsolute(step.linkTarget ?? '')) throw new Error('not absolute');
      } catch (error) {
        return {
          kind: 'unsafe',
          reason: `unsafe: link-outside-root: hard link to ${step.linkTarget ?? ''} leaves ${root} (${(error as Error).message})`,
        };
      }
      break;
    default:
      break;
  }
  if (step.type === 'dir') {
    if (existing && !existing.isDirectory()) {
      return {
        kind: 'type-conflict',
        reason: `type-conflict: ${resolved.targetPath} exists and is not a directory`,
      };
    }
    return null;
  }
  if (existing?.isDirectory()) {
    return {
      kind: 'type-conflict',
      reason: `type-conflict: a directory exists at ${resolved.targetPath}`,
    };
  }
  if (step.write === 'rewrite') {
    if (step.type !== 'file') {
      return {
        kind: 'rewrite-refused',
        reason: 'rewrite: only regular files are rewritten in place',
      };
    }
    if (!existing || !existing.isFile()) {
      return {
        kind: 'rewrite-refused',
        reason: `rewrite: ${resolved.targetPath} is not an existing regular file`,
      };
    }
  }
  return null;
}
