/**
 * `restoreplan check`: would restoring the selection into the target fit on every filesystem
 * it touches, while keeping the reserve? One pass over the archive; never writes anything.
 */
import { lstatSync } from 'node:fs';
import path from 'node:path';

import type { ArchiveEntry } from '../archive/ArchiveEntry.js';
import { walkArchive } from '../archive/walkArchive.js';
import { throwIfAborted } from '../errors.js';
import { countMember, emptyCounts } from '../inventory/buildInventory.js';
import { createMemberTable, TYPE_BY_CODE, TYPE_CODES } from '../inventory/createMemberTable.js';
import { censusQueues, estimateQueueGrowth } from '../mailman/censusQueues.js';
import { listNamesAt } from '../mailman/findMailmanRoot.js';
import { makeProblem, worstSeverity, type Problem } from '../problems.js';
import type { CommonOptions } from '../progress.js';
import { createExistingProbe } from '../filesystems/probeExisting.js';
import { SCHEMA_VERSION, type CheckResult, type FilesystemBudget } from '../types.js';
import { resolveTargetDir } from '../filesystems/resolveTargetDir.js';
import { createFilesystemRegistry } from './createFilesystemRegistry.js';
import { createDemandLedger, NO_DEMAND, type DemandMember } from './computeDemand.js';
import { evaluateBudget } from './evaluateBudget.js';
import { createMemberFilter, MAX_LISTED_PROBLEMS } from './createMemberFilter.js';
import { relativeToRoot } from './memberRoot.js';
import { checkMailmanRestore } from './planRestore.js';
import { resolveReserveOptions, type ReserveOptions } from './reservePolicy.js';

export interface CheckOptions extends CommonOptions, ReserveOptions {
  /** The directory the member root is restored into. */
  target: string;
  /** The archive directory that corresponds to `target` (default: the archive root). */
  memberRoot?: string;
  include?: string[];
  exclude?: string[];
  profile?: 'mailman' | 'none';
  /** Restore fifos and device nodes (+1 inode each); by default they are skipped. */
  allowSpecial?: boolean;
  /**
   * Inodes the live system will consume meanwhile, added to the inode reserve of the target's
   * filesystem: a number, or a function of the target (the Mailman profile measures queue
   * inflow: `estimateQueueGrowth(census, windowHours)`).
   */
  growthInodes?: number | ((target: string) => Promise<number>);
  /**
   * Hours of queue inflow to keep free when the target is a Mailman var dir and growthInodes
   * is not given (default 12).
   */
  growthWindowHours?: number;
}

/**
 * The live system's expected inode growth: given, or — when the target is a Mailman var dir —
 * the queue inflow of the last hour times the window (mail keeps arriving, one file per
 * message, while lists are restored; the incident's queues filled for 16 hours).
 */
async function measureGrowth(target: string, options: CheckOptions): Promise<number> {
  if (typeof options.growthInodes === 'function') return options.growthInodes(target);
  if (options.growthInodes !== undefined) return options.growthInodes;
  if ((await listNamesAt(target)).length === 0) return 0;
  const census = await censusQueues(target, options.signal ? { signal: options.signal } : {});
  return estimateQueueGrowth(census, options.growthWindowHours ?? 12);
}

export interface BudgetCheck {
  /** Feeds one member (the walk's reused entry; nothing of it is kept). */
  onEntry(entry: ArchiveEntry): void;
  /** The check document for everything fed so far. */
  finish(): CheckResult;
}

/**
 * The check without the walk: everything is prepared (target, reserve, mounts), then members
 * are fed one by one. checkBudget drives it with walkArchive; tests feed synthetic entries.
 */
export async function createBudgetCheck(options: CheckOptions): Promise<BudgetCheck> {
  const target = await resolveTargetDir(options.target);
  const { inodeReserve, blockReserve, warnInodesPercent } = resolveReserveOptions(options);
  const filter = createMemberFilter(options);
  const growth = await measureGrowth(target, options);

  const registry = await createFilesystemRegistry();
  const { filesystems, resolveFilesystem } = registry;

  const problems: Problem[] = [];
  const conflicts: string[] = [];
  let unresolvedLinks = 0;
  const probe = createExistingProbe();
  const ledger = createDemandLedger({
    probe,
    resolveFilesystem,
    modelOf: registry.modelOf,
    onConflict: (targetPath) => conflicts.push(targetPath),
  });
  ledger.touch(target);

  const members = createMemberTable();
  const selection = emptyCounts();
  const member: DemandMember = { type: 'file', dataBytes: 0, linkLength: 0, linkResolved: true };
  const previous: DemandMember = { type: 'file', dataBytes: 0, linkLength: 0, linkResolved: true };

  /** A hard link's target is restored in this run (the archive has it earlier) or is on disk. */
  const isLinkResolved = (entry: ArchiveEntry): boolean => {
    const rel = relativeToRoot(entry.linkPath, filter.memberRoot);
    if (rel === null || rel === '') return false;
    if (filter.matches(rel)) return true;
    return lstatSync(path.join(target, rel), { throwIfNoEntry: false })?.isFile() ?? false;
  };

  return {
    onEntry(entry: ArchiveEntry): void {
      const rel = filter.accept(entry);
      if (rel === null) return;
      member.type = entry.type;
      member.dataBytes = entry.type === 'file' ? entry.storedSize : 0;
      member.linkLength = entry.type === 'symlink' ? Buffer.byteLength(entry.linkPath) : 0;
      member.linkResolved = entry.type === 'hardlink' ? isLinkResolved(entry) : true;
      if (!member.linkResolved) unresolvedLinks += 1;
      // The member table keeps a type code and two numbers per path; what they mean depends
      // on the type, so a superseded occurrence can be retracted exactly.
      const size =
        entry.type === 'file'
          ? entry.size
          : entry.type === 'symlink'
            ? member.linkLength
            : entry.type === 'hardlink'
              ? Number(member.linkResolved)
              : 0;
      const prevCode = members.upsert(
        entry.memberPath,
        TYPE_CODES[entry.type],
        size,
        member.dataBytes,
      );
      let prev: DemandMember | null = null;
      if (prevCode !== -1) {
        const prevType = TYPE_BY_CODE[prevCode] ?? 'file';
        previous.type = prevType;
        previous.dataBytes = prevType === 'file' ? members.previousStored() : 0;
        previous.linkLength = prevType === 'symlink' ? members.previousSize() : 0;
        previous.linkResolved = prevType === 'hardlink' ? members.previousSize() === 1 : true;
        countMember(selection, prevType, prevType === 'file' ? members.previousSize() : 0, -1);
        prev = previous;
      }
      countMember(selection, entry.type, entry.size, 1);
      ledger.add(path.join(target, rel), member, prev);
    },
    finish: () => summarize(),
  };

  function summarize(): CheckResult {
    problems.push(...filter.problems());
    if (unresolvedLinks > 0) {
      problems.push(
        makeProblem(
          'hardlink-unresolved',
          `${unresolvedLinks} hard links point at members that are neither restored nor on disk: each is restored as a regular file (+1 inode; its data size is not known here)`,
        ),
      );
    }
    for (const conflict of conflicts.slice(0, MAX_LISTED_PROBLEMS)) {
      problems.push(
        makeProblem('type-conflict', `${conflict} exists with another type and would be replaced`, {
          targetPath: conflict,
        }),
      );
    }
    if (selection.entries === 0) {
      problems.push(makeProblem('empty-selection', 'no member of the archive is selected'));
    }

    const demands = ledger.finish();
    // ledger.touch(target) came first: filesystem #0 is the target's.
    const targetFs = 0;
    const budgets: FilesystemBudget[] = [];
    for (let index = 0; index < filesystems.length; index += 1) {
      const info = filesystems[index];
      if (!info) continue;
      const demand = demands.get(index) ?? NO_DEMAND;
      if (
        index !== targetFs &&
        demand.creates === 0 &&
        demand.replaces === 0 &&
        demand.blocks === 0
      ) {
        continue; // a mount we only looked at
      }
      const evaluation = evaluateBudget(info, demand, {
        inodeReserve,
        blockReserve,
        warnInodesPercent,
        // The live system (Mailman) writes on the target's filesystem.
        growthInodes: index === targetFs ? growth : 0,
      });
      budgets.push(evaluation.budget);
      problems.push(...evaluation.problems);
    }
    if (growth > 0) {
      problems.push(
        makeProblem(
          'queue-growing',
          `the inode reserve of ${filesystems[targetFs]?.mountPoint ?? target} includes ${Math.ceil(growth)} inodes for the live system's growth`,
        ),
      );
    }
    const severity = worstSeverity(problems);
    return {
      schemaVersion: SCHEMA_VERSION,
      verdict: severity === 'critical' ? 'critical' : severity === 'warning' ? 'warning' : 'ok',
      selection,
      filesystems: budgets,
      problems,
    };
  }
}

export async function checkBudget(
  archive: string | NodeJS.ReadableStream,
  options: CheckOptions,
): Promise<CheckResult> {
  if (options.profile === 'mailman') {
    // The Mailman selection is the planner's: which lists are broken, which archive copy is
    // valid; check reports the budget of exactly that.
    return checkMailmanRestore(archive, options);
  }
  const check = await createBudgetCheck(options);
  await walkArchive(archive, {
    onEntry: (entry) => check.onEntry(entry),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
  throwIfAborted(options.signal);
  return check.finish();
}
