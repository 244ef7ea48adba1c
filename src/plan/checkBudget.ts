/**
 * `restoreplan check`: would restoring the selection into the target fit on every filesystem
 * it touches, while keeping the reserve? Never writes anything.
 *
 * It is the budget of exactly what `plan` would do, by construction: the Mailman profile asks
 * the planner's own decision (decideRestore); without a profile, the same selection
 * (createSelection) is streamed through the same ledger that prices plan steps, judged by the
 * same rule (judgeBudget), with the planner's way out when only temporary files do not fit
 * (rewriting existing files in place). Streaming keeps memory bounded by the member table and
 * the directory count: a check of a whole backup needs no step list.
 */
import path from 'node:path';

import type { ArchiveEntry } from '../archive/ArchiveEntry.js';
import { archiveIndexOptions } from './archiveIndexOptions.js';
import { walkArchive } from '../archive/walkArchive.js';
import { throwIfAborted } from '../errors.js';
import { createExistingProbe } from '../filesystems/probeExisting.js';
import { resolveTargetDir } from '../filesystems/resolveTargetDir.js';
import { statFilesystem } from '../filesystems/statFilesystem.js';
import { countMember, emptyCounts } from '../inventory/buildInventory.js';
import { makeProblem, verdictOfProblems, type Problem } from '../problems.js';
import type { CommonOptions } from '../progress.js';
import { SCHEMA_VERSION, type CheckResult, type FilesystemBudget } from '../types.js';
import { isShortOnlyAtPeak } from './chooseLayout.js';
import {
  createDemandLedger,
  NO_FILESYSTEM_DEMAND,
  type FilesystemDemand,
} from './computeDemand.js';
import { createFilesystemRegistry } from './createFilesystemRegistry.js';
import { createConflictLog } from './createConflictLog.js';
import { createSelection } from './createSelection.js';
import { evaluateBudget, type BudgetPolicy } from './evaluateBudget.js';
import type { DrainOptions } from './budgetDrain.js';
import { NO_DEMAND } from './judgeBudget.js';
import { measureGrowth, type GrowthOptions } from './measureGrowth.js';
import { collectProblems, decideRestore, resolveProfile, type PlanOptions } from './planRestore.js';
import { growthProblem, resolveReserveOptions, type ReserveOptions } from './reservePolicy.js';
import { sumStepCosts } from './sumStepCosts.js';

export interface CheckOptions
  extends CommonOptions, ReserveOptions, GrowthOptions, Omit<DrainOptions, 'signal'> {
  /** The directory the member root is restored into. */
  target: string;
  /** The archive directory that corresponds to `target` (default: the archive root). */
  memberRoot?: string;
  include?: string[];
  exclude?: string[];
  /** Default: 'mailman' when the target is (or holds) a Mailman var dir, as for `plan`. */
  profile?: 'mailman' | 'none';
  /** Restore fifos and device nodes (+1 inode each); by default they are skipped. */
  allowSpecial?: boolean;
  /** Mailman profile: the planner's options. */
  lists?: string[];
  includeDegraded?: boolean;
  withState?: boolean;
  withArchives?: boolean;
  now?: Date;
}

/** The check of the Mailman profile: the planner's decision, summed per filesystem. */
async function checkMailman(
  archive: string | NodeJS.ReadableStream,
  options: PlanOptions,
): Promise<CheckResult> {
  const decision = await decideRestore(archive, { ...options, profile: 'mailman' });
  const problems = collectProblems(decision);
  const steps = decision.shown?.evaluations.flatMap((e) => e.steps) ?? [];
  const counts = emptyCounts();
  for (const step of steps) countMember(counts, step.type, step.size, 1);
  const { registry } = decision.context;
  const demands = sumStepCosts(steps.map((s) => s.cost));
  const staged = decision.chosen?.layout.strategy === 'staged';
  const filesystems: FilesystemBudget[] = [];
  // The target's filesystem is reported even when nothing lands there (its supply and reserve).
  const targetInfo = await statFilesystem(decision.selection.targetRoot);
  if (!demands.has(targetInfo.mountPoint)) demands.set(targetInfo.mountPoint, NO_DEMAND);
  for (const [mountPoint, demand] of demands) {
    const info =
      registry.filesystems.find((f) => f.mountPoint === mountPoint) ??
      (mountPoint === targetInfo.mountPoint ? targetInfo : undefined);
    if (!info) continue;
    const evaluation = evaluateBudget(info, demand, {
      ...decision.policy,
      growth: mountPoint === targetInfo.mountPoint ? decision.policy.growth : null,
    });
    // A staged plan's later stages are gated by apply: that they do not fit yet is a warning.
    if (staged && evaluation.budget.verdict === 'critical') evaluation.budget.verdict = 'warning';
    filesystems.push(evaluation.budget);
    // Nothing restored: the budget problems (below the reserve, low after) are not in the plan's.
    if (steps.length === 0) problems.push(...evaluation.problems);
  }
  return {
    schemaVersion: SCHEMA_VERSION,
    verdict: verdictOfProblems(problems),
    selection: counts,
    filesystems,
    ...(decision.drain ? { drain: decision.drain } : {}),
    problems,
  };
}

export interface BudgetCheck {
  /** Feeds one member (the walk's reused entry; nothing of it is kept). */
  onEntry(entry: ArchiveEntry): void;
  /** The check document for everything fed so far. */
  finish(): CheckResult;
}

/**
 * The check without a profile, without the walk: everything is prepared (target, reserve,
 * mounts), then members are fed one by one. checkBudget drives it with walkArchive; tests feed
 * the listing of other tools.
 */
export async function createBudgetCheck(options: CheckOptions): Promise<BudgetCheck> {
  const target = await resolveTargetDir(options.target);
  const reserve = resolveReserveOptions(options);
  const measured = await measureGrowth(target, options, reserve.growthWindowHours);
  const registry = await createFilesystemRegistry();
  const probe = createExistingProbe();
  const selection = createSelection({ ...options, target, probe });
  const conflicts = createConflictLog();
  const ledger = createDemandLedger({
    probe,
    resolveFilesystem: registry.resolveFilesystem,
    modelOf: registry.modelOf,
    onConflict: conflicts.record,
  });
  const targetFs = ledger.touch(target);
  // A filesystem without an inode limit (btrfs) keeps no inode reserve, so no allowance.
  const growth = registry.filesystems[targetFs]?.dynamicInodes ? null : measured;
  let crossDevice = 0;
  return {
    onEntry(entry) {
      const selected = selection.offer(entry);
      if (!selected) return;
      const outcome = ledger.add(
        path.join(target, selected.rel),
        selected.member,
        selected.previous,
      );
      // A file kept out by what is in the way cannot be linked to: its links are not made.
      if (outcome.write === 'skip' && entry.type === 'file')
        selection.markNotRestored(entry.memberPath);
      if (outcome.crossDevice) crossDevice += 1;
    },
    finish,
  };

  function finish(): CheckResult {
    selection.assertSelected();
    for (const link of selection.refuseSymlinks())
      ledger.add(link.targetPath, link.refused, link.member);
    const problems: Problem[] = selection.problems();
    if (crossDevice > 0) {
      problems.push(
        makeProblem(
          'hardlink-unresolved',
          `${crossDevice} hard links whose target is on another filesystem are not restored (a link cannot cross filesystems)`,
        ),
      );
    }
    problems.push(...conflicts.problems());
    const demands = ledger.finish();
    const judge = (rewrite: boolean) => {
      const budgets: FilesystemBudget[] = [];
      const found: Problem[] = [];
      registry.filesystems.forEach((info, index) => {
        const demand: FilesystemDemand = demands.get(index) ?? NO_FILESYSTEM_DEMAND;
        if (
          index !== targetFs &&
          demand.creates === 0 &&
          demand.replaces === 0 &&
          demand.blocks === 0
        )
          return; // a mount we only looked at
        const policy: BudgetPolicy = {
          ...reserve,
          // The live system (Mailman) writes on the target's filesystem.
          growth: index === targetFs ? growth : null,
        };
        const evaluation = evaluateBudget(
          info,
          rewrite
            ? {
                ...demand,
                peakInodes: demand.rewrite.peakInodes,
                peakBlocks: demand.rewrite.peakBlocks,
              }
            : demand,
          policy,
        );
        budgets.push(evaluation.budget);
        found.push(...evaluation.problems);
      });
      return { budgets, found };
    };
    let judged = judge(false);
    const fileReplaces = [...demands.values()].reduce((n, d) => n + d.rewrite.fileReplaces, 0);
    // The planner's way out, decided by the same rule: when only the temporary files of replaces
    // do not fit, existing files are rewritten in place (no inode even while it runs).
    if (
      verdictOfProblems(judged.found) === 'critical' &&
      isShortOnlyAtPeak(judged.found) &&
      fileReplaces > 0
    ) {
      judged = judge(true);
      judged.found.unshift(
        makeProblem(
          'rewrite-in-place',
          `${fileReplaces} existing files are repaired by rewriting their contents in place (no inode is free); each member is read and verified first`,
        ),
      );
    }
    problems.push(...judged.found);
    const grows = growthProblem(
      growth,
      reserve.inodeReserveGiven,
      registry.filesystems[targetFs]?.mountPoint ?? target,
    );
    if (grows) problems.push(grows);
    return {
      schemaVersion: SCHEMA_VERSION,
      verdict: verdictOfProblems(problems),
      selection: selection.counts,
      filesystems: judged.budgets,
      problems,
    };
  }
}

export async function checkBudget(
  archive: string | NodeJS.ReadableStream,
  options: CheckOptions,
): Promise<CheckResult> {
  const target = await resolveTargetDir(options.target);
  const profile = await resolveProfile(target, options);
  if (profile === 'mailman') {
    return checkMailman(archive, { ...options, target });
  }
  const check = await createBudgetCheck({ ...options, target });
  await walkArchive(archive, {
    onEntry: (entry) => check.onEntry(entry),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    ...(await archiveIndexOptions(options, [target])),
  });
  throwIfAborted(options.signal);
  return check.finish();
}
