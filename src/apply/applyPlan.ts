/**
 * applyPlan: the only function in restoreplan that writes. It executes a plan document step by
 * step — directories first, then files, then hard links, then symlinks (so nothing the archive
 * links can be written through later in the same stage), then directory metadata deepest first
 * (a read-only directory mode applied early would block its own files). Every step is
 * re-resolved inside its stage root right before it runs, every file is verified before it
 * becomes visible and re-read after, every finished step is journaled, and the live budget is
 * re-checked before each stage and every GUARD_EVERY files.
 */
import { createHash } from 'node:crypto';
import { constants, type Stats } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { isRestoreplanError, RestoreplanError } from '../errors.js';
import { isPidAlive } from '../mailman/detectRunning.js';
import { throttleProgress, type CommonOptions } from '../progress.js';
import { readMountInfo, type MountInfoEntry } from '../filesystems/readMountInfo.js';
import { statFilesystem } from '../filesystems/statFilesystem.js';
import {
  SCHEMA_VERSION,
  type ApplyPreviewStep,
  type ApplyResult,
  type PlanDocument,
  type PlanStage,
  type PlanStep,
} from '../types.js';
import { checkArchiveUnchanged } from './checkArchiveUnchanged.js';
import { checkMailmanPickle, isMailmanPickle } from './checkMailmanPickle.js';
import { createFifo } from './createFifo.js';
import { createHardLink } from './createHardLink.js';
import { checkSymlinkText, createSymlink, isSymlinkOnDisk } from './createSymlink.js';
import {
  createListLockChecker,
  listOfTargetPath,
  type DescribeListLock,
} from './findLockedLists.js';
import { defaultFsOps, errnoCode, type FsOps } from './fsOps.js';
import {
  emptyDemand,
  guardBudget,
  type BudgetStop,
  type GuardedMount,
  type MountDemand,
} from './guardBudget.js';
import { loadPlan } from './loadPlan.js';
import {
  openJournal,
  planIdentity,
  readJournal,
  recordsOfPlan,
  type Journal,
  type JournalRecord,
} from './openJournal.js';
import { openMemberReader, STREAM_BATCH_BYTES, type MemberReader } from './openMemberReader.js';
import { openNoFollow } from './openNoFollow.js';
import { collectChunks } from './readMemberChunks.js';
import { resolveInsideRoot, splitInsideRoot, type ResolvedTarget } from './resolveInsideRoot.js';
import { rewriteInPlace } from './rewriteInPlace.js';
import { syncDirectory } from './syncDirectory.js';
import { writeFileAtomic } from './writeFileAtomic.js';

export interface ApplyOptions extends CommonOptions {
  /** Report what would be done; write nothing (not even the journal). */
  dryRun?: boolean;
  /** Journal file; default `<plan>.journal`, or a file in the temp dir for a plan object. */
  journalPath?: string;
  /** Restore fifos (device nodes are never created). */
  allowSpecial?: boolean;
  /** The apply time, given to `freshMtime` steps (default: now). */
  now?: Date;
  /**
   * Where an in-place rewrite secures the verified content first. Default: the journal's
   * directory when it is on another filesystem than the file; null: memory only.
   */
  secureDir?: string | null;
  /** Test seam: the filesystem calls (fault injection). Never set in production. */
  fsOps?: FsOps;
  /** Test seam: why a list's lock is held, or null (default: Mailman 2.1 lock files). */
  describeListLock?: DescribeListLock;
}

/** Journal lines (and the directories of their renames) are fsynced every this many steps. */
/** The temp names writeFileAtomic and createSymlink use (makeTempName). */
const STALE_TEMP = /^\..+\.restoreplan-(\d+)-[0-9a-f]{8}\.tmp$/;

export const JOURNAL_BATCH = 64;
/** The budget is re-read from statfs every this many steps within a stage. */
export const GUARD_EVERY = 256;
/** Members up to this size are read whole and verified before the temp file is even created. */
export const IN_MEMORY_BYTES = 64 * 1024 * 1024;
/** ext4 stores a symlink text shorter than this in the inode (no data block). */
const FAST_SYMLINK_BYTES = 60;

const ORDER: Record<PlanStep['type'], number> = {
  dir: 0,
  file: 1,
  hardlink: 2,
  symlink: 3,
  fifo: 4,
  chardev: 5,
  blockdev: 5,
};

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

interface MountInfo {
  mountPoint: string;
  blockSize: number;
  dynamicInodes: boolean;
}

interface Task {
  stage: PlanStage;
  step: PlanStep;
  root: string;
  targetPath: string;
  mount: MountInfo;
  cost: MountDemand;
}

interface StageWork {
  tasks: Task[];
  skipped: Array<{ targetPath: string; reason: string }>;
}

class StopRun extends Error {
  constructor(
    readonly status: 'stopped' | 'failed',
    readonly reason: string,
  ) {
    super(reason);
  }
}

function sha256Of(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function blocksFor(bytes: number, blockSize: number): number {
  return Math.ceil(bytes / blockSize);
}

/** Stored bytes of a member: what a (sparse) restored file occupies. */
function storedBytes(step: PlanStep): number {
  return step.source.sparse ? step.source.dataLength : step.size;
}

async function hashFile(
  targetPath: string,
  fsOps: FsOps,
): Promise<{ bytes: number; sha256: string; data: Buffer | null }> {
  const handle = await openNoFollow(targetPath, constants.O_RDONLY, 0, fsOps);
  try {
    const stats = await handle.stat();
    if (!stats.isFile())
      throw new RestoreplanError('VERIFY_FAILED', `${targetPath} is not a regular file`);
    if (stats.size <= IN_MEMORY_BYTES) {
      const data = await handle.readFile();
      return { bytes: data.length, sha256: sha256Of(data), data };
    }
    const hash = createHash('sha256');
    let bytes = 0;
    for await (const chunk of handle.createReadStream({ autoClose: false })) {
      hash.update(chunk as Buffer);
      bytes += (chunk as Buffer).length;
    }
    return { bytes, sha256: hash.digest('hex'), data: null };
  } finally {
    await handle.close();
  }
}

function defaultJournalPath(plan: PlanDocument): string {
  const id = sha256Of(`${plan.createdAt}\0${plan.archive.fingerprint}\0${plan.target.path}`).slice(
    0,
    16,
  );
  return path.join(os.tmpdir(), `restoreplan-${id}.journal`);
}

function unsafeMemberPath(memberPath: string): string | null {
  if (memberPath.startsWith('/')) return 'absolute member path';
  if (memberPath.split('/').includes('..')) return "member path contains '..'";
  if (memberPath.includes('\0')) return 'member path contains a NUL byte';
  return null;
}

function describeError(error: unknown): string {
  const code = errnoCode(error) ?? (isRestoreplanError(error) ? error.code : undefined);
  const message = error instanceof Error ? error.message : String(error);
  return code ? `${code}: ${message}` : message;
}

export async function applyPlan(
  planOrPath: string | PlanDocument,
  options: ApplyOptions = {},
): Promise<ApplyResult> {
  const { plan, planPath } = await loadPlan(planOrPath);
  if (!plan.feasible) {
    throw new RestoreplanError('PLAN_INFEASIBLE', `the plan does not fit: ${plan.reason}`, {
      hint: 'make a new plan (another strategy, --staging, or free inodes first)',
    });
  }
  await checkArchiveUnchanged(plan.archive);
  const journalPath = path.resolve(
    options.journalPath ?? (planPath ? `${planPath}.journal` : defaultJournalPath(plan)),
  );
  const run = new ApplyRun(plan, journalPath, options);
  return run.execute();
}

class ApplyRun {
  private readonly fsOps: FsOps;
  private readonly now: Date;
  private readonly report: ReturnType<typeof throttleProgress>;
  private readonly startedAt = Date.now();
  private readonly result: ApplyResult;
  private readonly knownDirs = new Set<string>();
  private readonly dirtyDirs = new Set<string>();
  private readonly mountCache = new Map<string, MountInfo>();
  private readonly guarded = new Map<string, GuardedMount>();
  /** Inodes this run expects to have taken, per mount (for a stage not carried out in full). */
  private readonly predictedOwn = new Map<string, number>();
  private readonly predictedPlan = new Map<string, number>();
  /** sha256 of what this run restored, by targetPath (hard links report their file's). */
  private readonly restoredSha = new Map<string, string>();
  /** The last step for each targetPath: an earlier one is superseded, as extraction would. */
  private readonly lastStep = new Map<string, PlanStep>();
  private readonly lockReasons = new Map<string, string | null>();
  private readonly describeLock: DescribeListLock;
  private mountTable: readonly MountInfoEntry[] = [];
  private journal: Journal | null = null;
  private records = new Map<string, JournalRecord>();
  private reader: MemberReader | null = null;
  private roots: string[] = [];
  /** Every symlink the plan creates: a link's text must not lead on through one of them. */
  private readonly plannedSymlinks = new Set<string>();
  private done = 0;
  private total = 0;
  private bytes = 0;
  private lockStop = false;
  private verifyFailed = false;

  constructor(
    private readonly plan: PlanDocument,
    private readonly journalPath: string,
    private readonly options: ApplyOptions,
  ) {
    this.fsOps = options.fsOps ?? defaultFsOps;
    this.describeLock = options.describeListLock ?? createListLockChecker();
    this.now = options.now ?? new Date();
    this.report = throttleProgress(options.onProgress ?? (() => {}));
    this.result = {
      schemaVersion: SCHEMA_VERSION,
      status: 'complete',
      restored: [],
      skipped: [],
      verified: true,
      inodes: [],
      journal: journalPath,
    };
    for (const stage of plan.stages) {
      for (const step of stage.steps) this.lastStep.set(path.resolve(step.targetPath), step);
      this.total += stage.steps.length;
    }
  }

  async execute(): Promise<ApplyResult> {
    this.roots = await Promise.all(this.plan.stages.map((stage) => this.resolveRoot(stage.root)));
    this.mountTable = await readMountInfo();
    if (this.options.dryRun) return this.preview();

    this.journal = await this.openJournalWithFallback();
    this.records = recordsOfPlan(this.journal.records, planIdentity(this.plan));
    this.result.journal = this.journal.path;
    const before = new Map<string, number>();
    try {
      for (const [index, stage] of this.plan.stages.entries()) {
        // statfs "before" is read lazily per mount, but always before this run writes to it.
        await this.runStage(stage, this.roots[index] ?? stage.root, before);
      }
    } catch (error) {
      if (!(error instanceof StopRun)) {
        await this.flushBatch().catch(() => {});
        await this.closeAll();
        throw error;
      }
      this.result.status = error.status;
      this.result.reason = error.reason;
    }
    try {
      await this.flushBatch();
    } catch (error) {
      if (this.result.status === 'complete') {
        this.result.status = 'failed';
        this.result.reason = `journal: ${describeError(error)}`;
      }
    }
    await this.closeAll();
    await this.measureInodes(before);
    this.finishStatus();
    this.report(
      {
        phase: 'apply',
        done: this.done,
        total: this.total,
        bytes: this.bytes,
        elapsedMs: Date.now() - this.startedAt,
      },
      true,
    );
    return this.result;
  }

  private finishStatus(): void {
    if (this.verifyFailed) this.result.verified = false;
    if (this.result.status !== 'complete') return;
    if (this.verifyFailed) {
      this.result.status = 'failed';
      this.result.reason = 'some members did not verify: see skipped';
    } else if (this.lockStop) {
      this.result.status = 'stopped';
      this.result.reason =
        'some lists are locked by a live process: re-run apply when they are released';
    } else if (
      this.result.restored.length === 0 &&
      this.result.skipped.every((s) => s.reason === 'already-restored')
    ) {
      this.result.status = 'nothing-to-do';
    }
  }

  private async closeAll(): Promise<void> {
    await this.journal?.close().catch(() => {});
    await this.reader?.close().catch(() => {});
    this.journal = null;
    this.reader = null;
  }

  private async resolveRoot(root: string): Promise<string> {
    try {
      return await realpath(root);
    } catch (error) {
      throw new RestoreplanError(
        'TARGET_MISSING',
        `the stage root ${root} does not exist: ${(error as Error).message}`,
        {
          targetPath: root,
        },
      );
    }
  }

  /**
   * The journal normally sits next to the plan; when that filesystem has no inode left for it
   * (the very situation apply repairs), it goes to the temp dir instead of blocking the repair.
   */
  private async openJournalWithFallback(): Promise<Journal> {
    try {
      return await openJournal(this.journalPath, this.fsOps);
    } catch (error) {
      const code = errnoCode(error);
      if (code !== 'ENOSPC' && code !== 'EDQUOT' && code !== 'EROFS') {
        throw new RestoreplanError(
          'WRITE_FAILED',
          `cannot open the journal ${this.journalPath}: ${describeError(error)}`,
          {
            path: this.journalPath,
          },
        );
      }
      const fallback = path.join(os.tmpdir(), path.basename(this.journalPath));
      return openJournal(fallback, this.fsOps);
    }
  }

  private async mountOf(dir: string): Promise<MountInfo> {
    const cached = this.mountCache.get(dir);
    if (cached) return cached;
    const info = await statFilesystem(dir, this.mountTable);
    const mount = {
      mountPoint: info.mountPoint,
      blockSize: info.blockSize,
      dynamicInodes: info.dynamicInodes,
    };
    this.mountCache.set(dir, mount);
    return mount;
  }

  private async lockReason(list: string): Promise<string | null> {
    if (!this.lockReasons.has(list)) {
      const root = this.plan.mailman?.root ?? '';
      this.lockReasons.set(list, await this.describeLock(root, list));
    }
    return this.lockReasons.get(list) ?? null;
  }

  private skip(targetPath: string, reason: string): void {
    this.result.skipped.push({ targetPath, reason });
  }

  /** Decides, for one stage, which steps run and what each costs; no write happens here. */
  private async classifyStage(stage: PlanStage, root: string): Promise<StageWork> {
    const work: StageWork = { tasks: [], skipped: [] };
    for (const step of stage.steps) {
      if (step.type === 'symlink') this.plannedSymlinks.add(path.resolve(step.targetPath));
    }
    const plannedDirs = new Set<string>();
    const skip = (targetPath: string, reason: string): void => {
      work.skipped.push({ targetPath, reason });
    };
    for (const step of stage.steps) {
      const targetPath = step.targetPath;
      const unsafeMember = unsafeMemberPath(step.memberPath);
      if (unsafeMember) {
        skip(targetPath, `unsafe: ${unsafeMember} (${step.memberPath})`);
        continue;
      }
      let resolved: ResolvedTarget;
      try {
        resolved = await resolveInsideRoot(root, targetPath, {
          fsOps: this.fsOps,
          knownDirs: this.knownDirs,
        });
      } catch (error) {
        if (!isRestoreplanError(error) || error.code !== 'UNSAFE_PATH') throw error;
        skip(targetPath, `unsafe: ${String(error.details.reason)}: ${error.message}`);
        continue;
      }
      if (this.lastStep.get(resolved.targetPath) !== step) {
        skip(targetPath, 'superseded: a later member has the same path');
        continue;
      }
      const list = this.plan.mailman
        ? listOfTargetPath(this.plan.mailman.root, resolved.targetPath)
        : null;
      if (list !== null) {
        const held = await this.lockReason(list);
        if (held) {
          this.lockStop = true;
          skip(targetPath, `locked: ${held}`);
          continue;
        }
      }
      const refusal = this.refuseStep(step, root, resolved);
      if (refusal) {
        skip(targetPath, refusal);
        continue;
      }
      const record = this.records.get(resolved.targetPath);
      // A hard link is judged when it runs: its file may be restored again earlier in the stage.
      if (step.type !== 'hardlink' && record) {
        const state = await this.journaledState(step, resolved, record);
        if (state === 'intact') {
          skip(targetPath, 'already-restored');
          continue;
        }
        if (state === 'changed') {
          // Restored by an earlier run, then changed by the live system (Mailman saves its
          // configs): putting the backup copy back would revert newer data.
          skip(targetPath, 'changed-since-restored: left as it is');
          continue;
        }
      }
      const existingDir = path.dirname(resolved.missingDirs[0] ?? resolved.targetPath);
      const mount = await this.mountOf(existingDir);
      const cost = emptyDemand();
      for (const dir of resolved.missingDirs) {
        if (plannedDirs.has(dir)) continue;
        plannedDirs.add(dir);
        cost.inodes += 1;
        cost.blocks += 1;
      }
      this.addStepCost(step, resolved, mount, cost, plannedDirs);
      work.tasks.push({ stage, step, root, targetPath: resolved.targetPath, mount, cost });
    }
    work.tasks.sort((a, b) => {
      const byType = ORDER[a.step.type] - ORDER[b.step.type];
      if (byType !== 0) return byType;
      if (a.step.type === 'dir')
        return a.targetPath.split('/').length - b.targetPath.split('/').length;
      // Files in archive order: sequential reads of the archive.
      if (a.step.type === 'file') return a.step.source.dataOffset - b.step.source.dataOffset;
      return 0;
    });
    return work;
  }

  /** Why this step must not run (a refusal that is reported, not an error), or null. */
  private refuseStep(step: PlanStep, root: string, resolved: ResolvedTarget): string | null {
    const existing = resolved.existing;
    switch (step.type) {
      case 'chardev':
      case 'blockdev':
        return 'special: device nodes are never created by apply';
      case 'fifo':
        if (!this.options.allowSpecial)
          return 'special: fifos are restored only when allowed (allowSpecial)';
        break;
      case 'symlink':
        try {
          checkSymlinkText(
            root,
            resolved.targetPath,
            step.linkTarget ?? '',
            (candidate) => this.plannedSymlinks.has(candidate) || isSymlinkOnDisk(candidate),
          );
        } catch (error) {
          if (isRestoreplanError(error))
            return `unsafe: ${String(error.details.reason)}: ${error.message}`;
          throw error;
        }
        break;
      case 'hardlink':
        try {
          splitInsideRoot(root, path.resolve(root, step.linkTarget ?? ''));
          if (!path.isAbsolute(step.linkTarget ?? '')) throw new Error('not absolute');
        } catch (error) {
          return `unsafe: link-outside-root: hard link to ${step.linkTarget ?? ''} leaves ${root} (${(error as Error).message})`;
        }
        break;
      default:
        break;
    }
    if (step.type === 'dir') {
      if (existing && !existing.isDirectory()) {
        return `type-conflict: ${resolved.targetPath} exists and is not a directory`;
      }
      return null;
    }
    if (existing?.isDirectory())
      return `type-conflict: a directory exists at ${resolved.targetPath}`;
    if (step.write === 'rewrite') {
      if (step.type !== 'file') return 'rewrite: only regular files are rewritten in place';
      if (!existing || !existing.isFile())
        return `rewrite: ${resolved.targetPath} is not an existing regular file`;
    }
    return null;
  }

  private addStepCost(
    step: PlanStep,
    resolved: ResolvedTarget,
    mount: MountInfo,
    cost: MountDemand,
    plannedDirs: Set<string>,
  ): void {
    const existing = resolved.existing;
    const bs = mount.blockSize;
    switch (step.type) {
      case 'dir':
        if (!existing && !plannedDirs.has(resolved.targetPath)) {
          plannedDirs.add(resolved.targetPath);
          cost.inodes += 1;
          cost.blocks += 1;
        }
        return;
      case 'file': {
        const newBlocks = blocksFor(storedBytes(step), bs);
        if (!existing) {
          cost.inodes += 1;
          cost.blocks += newBlocks;
        } else if (step.write === 'rewrite') {
          cost.blocks += Math.max(0, newBlocks - blocksFor(existing.size, bs));
        } else {
          // The temp file exists next to the old one until the rename: +1 inode, full size.
          cost.peakInodes = 1;
          cost.peakBlocks = newBlocks;
          cost.blocks += Math.max(
            0,
            newBlocks - (existing.isFile() ? blocksFor(existing.size, bs) : 0),
          );
        }
        return;
      }
      case 'symlink': {
        const dataBlock = Buffer.byteLength(step.linkTarget ?? '') >= FAST_SYMLINK_BYTES ? 1 : 0;
        if (!existing) {
          cost.inodes += 1;
          cost.blocks += dataBlock;
        } else {
          cost.peakInodes = 1;
          cost.peakBlocks = dataBlock;
        }
        return;
      }
      case 'hardlink':
        return;
      default:
        if (!existing) cost.inodes += 1;
        else cost.peakInodes = 1;
    }
  }

  /**
   * What became of a step an earlier run restored: still `intact` (skipped on resume),
   * `changed` since by someone else (left alone: a re-run must not revert the live system's
   * newer data), or `redo` — gone, or a Mailman file that no longer loads (broken again).
   */
  private async journaledState(
    step: PlanStep,
    resolved: ResolvedTarget,
    record: JournalRecord,
  ): Promise<'intact' | 'changed' | 'redo'> {
    const existing = resolved.existing;
    if (!existing) return 'redo';
    switch (step.type) {
      case 'dir':
        return existing.isDirectory() ? 'intact' : 'changed';
      case 'file': {
        if (!existing.isFile()) return 'changed';
        if (existing.size === record.bytes) {
          const { sha256 } = await hashFile(resolved.targetPath, this.fsOps);
          if (sha256 === record.sha256) return 'intact';
        }
        if (!isMailmanPickle(resolved.targetPath)) return 'changed';
        const handle = await openNoFollow(resolved.targetPath, constants.O_RDONLY, 0, this.fsOps);
        const data = await handle.readFile().finally(() => handle.close());
        return checkMailmanPickle(resolved.targetPath, data) === null ? 'changed' : 'redo';
      }
      case 'symlink':
        return existing.isSymbolicLink() &&
          sha256Of(await this.fsOps.readlink(resolved.targetPath)) === record.sha256
          ? 'intact'
          : 'changed';
      default:
        return existing.isFIFO() ? 'intact' : 'changed';
    }
  }

  private async preview(): Promise<ApplyResult> {
    this.records = recordsOfPlan(await readJournal(this.journalPath), planIdentity(this.plan));
    const preview: ApplyPreviewStep[] = [];
    const predicted = new Map<string, number>();
    for (const [index, stage] of this.plan.stages.entries()) {
      const work = await this.classifyStage(stage, this.roots[index] ?? stage.root);
      for (const s of work.skipped) this.skip(s.targetPath, s.reason);
      for (const task of work.tasks) {
        const { step } = task;
        preview.push({
          stage: stage.name,
          memberPath: step.memberPath,
          targetPath: task.targetPath,
          type: step.type,
          write: step.write,
        });
        predicted.set(
          task.mount.mountPoint,
          (predicted.get(task.mount.mountPoint) ?? 0) + task.cost.inodes,
        );
      }
    }
    this.result.status = 'nothing-to-do';
    this.result.dryRun = true;
    this.result.preview = preview;
    this.result.inodes = [...predicted].map(([mountPoint, n]) => ({
      mountPoint,
      predicted: n,
      actual: 0,
    }));
    this.result.verified = false;
    return this.result;
  }

  private guardedMount(stage: PlanStage, mount: MountInfo): GuardedMount {
    const budget = stage.budget.find((b) => b.mountPoint === mount.mountPoint);
    const guarded: GuardedMount = {
      mountPoint: mount.mountPoint,
      dynamicInodes: mount.dynamicInodes,
      inodesReserve:
        budget?.inodesReserve ?? this.guarded.get(mount.mountPoint)?.inodesReserve ?? 0,
      blocksReserve:
        budget?.blocksReserve ?? this.guarded.get(mount.mountPoint)?.blocksReserve ?? 0,
    };
    this.guarded.set(mount.mountPoint, guarded);
    return guarded;
  }

  private async checkBudget(
    stage: PlanStage,
    tasks: readonly Task[],
    from: number,
  ): Promise<BudgetStop | null> {
    const demand = new Map<string, MountDemand>();
    const mounts = new Map<string, GuardedMount>();
    for (let i = from; i < tasks.length; i += 1) {
      const task = tasks[i];
      if (!task) continue;
      const key = task.mount.mountPoint;
      if (!mounts.has(key)) mounts.set(key, this.guardedMount(stage, task.mount));
      const sum = demand.get(key) ?? emptyDemand();
      sum.inodes += task.cost.inodes;
      sum.blocks += task.cost.blocks;
      sum.peakInodes = Math.max(sum.peakInodes, task.cost.peakInodes);
      sum.peakBlocks = Math.max(sum.peakBlocks, task.cost.peakBlocks);
      demand.set(key, sum);
    }
    return guardBudget([...mounts.values()], demand, this.fsOps);
  }

  /**
   * A killed apply leaves its temp files (`.<name>.restoreplan-<pid>-<hex>.tmp`), each holding
   * an inode on the filesystem that may have none to spare. Those of processes that are gone
   * are removed before the stage is measured and budgeted; a live apply's are left alone.
   */
  private async removeStaleTemps(stage: PlanStage): Promise<void> {
    const dirs = new Set(stage.steps.map((step) => path.dirname(step.targetPath)));
    for (const dir of dirs) {
      let names: string[];
      try {
        names = await readdir(dir);
      } catch {
        continue; // not there yet: nothing was left in it
      }
      for (const name of names) {
        const pid = Number(STALE_TEMP.exec(name)?.[1] ?? NaN);
        if (!Number.isInteger(pid) || pid === process.pid || isPidAlive(pid)) continue;
        await this.fsOps.unlink(path.join(dir, name)).catch(() => undefined);
      }
    }
  }

  private async runStage(
    stage: PlanStage,
    root: string,
    before: Map<string, number>,
  ): Promise<void> {
    await this.removeStaleTemps(stage);
    const work = await this.classifyStage(stage, root);
    for (const s of work.skipped) this.skip(s.targetPath, s.reason);
    this.done += work.skipped.length;
    const tasks = work.tasks;
    for (const task of tasks) {
      const key = task.mount.mountPoint;
      if (!before.has(key)) before.set(key, (await this.fsOps.statfs(key)).ffree);
    }
    if (tasks.length === 0) return;
    const stop = await this.checkBudget(stage, tasks, 0);
    if (stop) throw new StopRun('stopped', `stage ${stage.name} does not fit: ${stop.message}`);
    if (!this.reader) this.reader = await openMemberReader(this.plan.archive);

    const createdDirs: Task[] = [];
    let restoredAll = work.skipped.length === 0;
    const stageOwn = new Map<string, number>();
    let sinceGuard = 0;
    let batchBytes = 0;
    let batchStart = 0;
    for (let i = 0; i < tasks.length; i += 1) {
      const task = tasks[i] as Task;
      if (this.options.signal?.aborted) {
        await this.flushBatch();
        throw new RestoreplanError('ABORTED', 'cancelled');
      }
      if (sinceGuard >= GUARD_EVERY) {
        sinceGuard = 0;
        const later = await this.checkBudget(stage, tasks, i);
        if (later) throw new StopRun('stopped', `stage ${stage.name} stopped: ${later.message}`);
      }
      if (task.step.type === 'file' && !this.reader.seekable && i >= batchStart) {
        // One pass over the compressed archive for the next batch of files.
        batchBytes = 0;
        let end = i;
        while (
          end < tasks.length &&
          tasks[end]?.step.type === 'file' &&
          (end === i || batchBytes + (tasks[end]?.step.size ?? 0) <= STREAM_BATCH_BYTES)
        ) {
          batchBytes += tasks[end]?.step.size ?? 0;
          end += 1;
        }
        await this.reader.prepare(
          tasks.slice(i, end).map((t) => t.step),
          this.options.signal,
        );
        batchStart = end;
      }
      let outcome: 'done' | 'skipped';
      try {
        outcome = await this.runTask(task, createdDirs);
      } catch (error) {
        restoredAll = false;
        await this.handleTaskError(task, error);
        outcome = 'skipped';
      } finally {
        if (task.step.type === 'file') this.reader.release(task.step);
      }
      if (outcome === 'done') {
        stageOwn.set(
          task.mount.mountPoint,
          (stageOwn.get(task.mount.mountPoint) ?? 0) + task.cost.inodes,
        );
      } else {
        restoredAll = false;
      }
      this.done += 1;
      sinceGuard += 1;
      this.report({
        phase: 'apply',
        done: this.done,
        total: this.total,
        bytes: this.bytes,
        item: task.step.memberPath,
        elapsedMs: Date.now() - this.startedAt,
      });
      if (this.journal && this.journal.pending() >= JOURNAL_BATCH) await this.flushBatch();
    }
    await this.finishDirectories(createdDirs);
    await this.flushBatch();
    // The plan's own number when it was carried out in full; apply's count otherwise.
    if (restoredAll) {
      for (const budget of stage.budget) {
        this.predictedPlan.set(
          budget.mountPoint,
          (this.predictedPlan.get(budget.mountPoint) ?? 0) + budget.inodesNeeded,
        );
      }
    } else {
      for (const [mountPoint, n] of stageOwn)
        this.predictedOwn.set(mountPoint, (this.predictedOwn.get(mountPoint) ?? 0) + n);
    }
  }

  private async handleTaskError(task: Task, error: unknown): Promise<void> {
    const targetPath = task.step.targetPath;
    if (isRestoreplanError(error) && error.code === 'UNSAFE_PATH') {
      this.skip(targetPath, `unsafe: ${String(error.details.reason)}: ${error.message}`);
      return;
    }
    if (isRestoreplanError(error) && error.code === 'VERIFY_FAILED') {
      this.verifyFailed = true;
      this.skip(targetPath, `verify-failed: ${error.message}`);
      return;
    }
    const code = errnoCode(error);
    this.skip(targetPath, `not restored: ${describeError(error)}`);
    await this.flushBatch().catch(() => {});
    if (code === 'ENOSPC' || code === 'EDQUOT') {
      throw new StopRun(
        'stopped',
        task.step.write === 'rewrite'
          ? `${code} while rewriting ${targetPath} in place: it may be torn until apply is re-run (which rewrites it from the verified member); free space and re-run apply`
          : `${code} while writing ${targetPath}: no partial file remains; free space and re-run apply`,
      );
    }
    throw new StopRun('failed', `${describeError(error)} (${targetPath})`);
  }

  private async makeMissingDirs(dirs: readonly string[]): Promise<void> {
    for (const dir of dirs) {
      if (this.knownDirs.has(dir)) continue;
      try {
        await this.fsOps.mkdir(dir, 0o755);
      } catch (error) {
        if (errnoCode(error) !== 'EEXIST') throw error;
        const stats = await this.fsOps.lstat(dir);
        if (!stats.isDirectory()) {
          throw new RestoreplanError('UNSAFE_PATH', `${dir} appeared and is not a directory`, {
            targetPath: dir,
            reason: 'not-a-directory-in-path',
          });
        }
      }
      this.knownDirs.add(dir);
      this.dirtyDirs.add(path.dirname(dir));
    }
  }

  private mtimeOf(step: PlanStep): number {
    return step.freshMtime ? this.now.getTime() / 1000 : step.mtime;
  }

  private record(task: Task, sha256: string, bytes: number): void {
    this.journal?.append({
      stage: task.stage.name,
      memberPath: task.step.memberPath,
      targetPath: task.targetPath,
      sha256,
      bytes,
      at: new Date().toISOString(),
      plan: planIdentity(this.plan),
    });
  }

  private async runTask(task: Task, createdDirs: Task[]): Promise<'done' | 'skipped'> {
    const { step, root } = task;
    // Re-resolved right before the write: earlier steps (or someone else) changed the tree.
    const resolved = await resolveInsideRoot(root, task.targetPath, {
      fsOps: this.fsOps,
      knownDirs: this.knownDirs,
    });
    const refusal = this.refuseStep(step, root, resolved);
    if (refusal) {
      this.skip(step.targetPath, refusal);
      return 'skipped';
    }
    await this.makeMissingDirs(resolved.missingDirs);
    const targetPath = resolved.targetPath;
    switch (step.type) {
      case 'dir': {
        if (!resolved.existing) {
          // 0o700 until the end of the stage: the final mode may forbid writing its files.
          await this.fsOps.mkdir(targetPath, 0o700);
          this.dirtyDirs.add(path.dirname(targetPath));
          createdDirs.push(task);
        } else {
          this.record(task, '', 0);
        }
        this.knownDirs.add(targetPath);
        return 'done';
      }
      case 'file':
        await this.restoreFile(task, resolved);
        return 'done';
      case 'hardlink': {
        const linkTarget = step.linkTarget ?? '';
        const linked = await createHardLink(root, targetPath, linkTarget, {
          fsOps: this.fsOps,
          knownDirs: this.knownDirs,
        });
        if (linked === 'already-linked' && this.records.has(targetPath)) {
          this.skip(targetPath, 'already-restored');
          return 'done';
        }
        this.dirtyDirs.add(path.dirname(targetPath));
        let sha =
          this.restoredSha.get(path.resolve(linkTarget)) ??
          this.records.get(path.resolve(linkTarget))?.sha256;
        const stats = await this.fsOps.lstat(targetPath);
        if (sha === undefined) sha = (await hashFile(targetPath, this.fsOps)).sha256;
        this.record(task, '', 0);
        this.result.restored.push({ targetPath, bytes: stats.size, sha256: sha });
        return 'done';
      }
      case 'symlink': {
        const text = step.linkTarget ?? '';
        await createSymlink(root, targetPath, text, {
          owner: step.owner,
          mtime: this.mtimeOf(step),
          fsOps: this.fsOps,
        });
        this.dirtyDirs.add(path.dirname(targetPath));
        const sha = sha256Of(text);
        this.record(task, sha, Buffer.byteLength(text));
        this.result.restored.push({ targetPath, bytes: Buffer.byteLength(text), sha256: sha });
        return 'done';
      }
      case 'fifo': {
        await createFifo(targetPath, step.mode, { mtime: this.mtimeOf(step), fsOps: this.fsOps });
        this.dirtyDirs.add(path.dirname(targetPath));
        this.record(task, '', 0);
        this.result.restored.push({ targetPath, bytes: 0, sha256: sha256Of('') });
        return 'done';
      }
      default:
        this.skip(targetPath, 'special: device nodes are never created by apply');
        return 'skipped';
    }
  }

  private async restoreFile(task: Task, resolved: ResolvedTarget): Promise<void> {
    const { step } = task;
    if (step.type !== 'file')
      throw new RestoreplanError('INTERNAL', `${step.memberPath} is not a file`);
    const reader = this.reader as MemberReader;
    const targetPath = resolved.targetPath;
    const meta = { mode: step.mode, owner: step.owner, mtime: this.mtimeOf(step) };
    const expect =
      step.sha256 !== undefined ? { size: step.size, sha256: step.sha256 } : { size: step.size };
    const inMemory =
      step.write === 'rewrite' || (!step.source.sparse && step.size <= IN_MEMORY_BYTES);
    let written: { bytes: number; sha256: string };
    if (inMemory) {
      // Read and verify BEFORE anything is created: a bad member never costs an inode.
      const data = await collectChunks(reader.read(step));
      const sha256 = sha256Of(data);
      if (data.length !== step.size || (step.sha256 !== undefined && step.sha256 !== sha256)) {
        throw new RestoreplanError(
          'VERIFY_FAILED',
          `${step.memberPath}: read ${data.length} bytes with sha256 ${sha256.slice(0, 12)}, the plan expects ${step.size} bytes${step.sha256 ? ` with ${step.sha256.slice(0, 12)}` : ''}`,
          { memberPath: step.memberPath },
        );
      }
      const invalid = checkMailmanPickle(targetPath, data);
      if (invalid)
        throw new RestoreplanError('VERIFY_FAILED', `${step.memberPath}: refused: ${invalid}`, {
          memberPath: step.memberPath,
        });
      if (step.write === 'rewrite') {
        const secureDir = await this.secureDirFor(resolved.existing);
        written = await rewriteInPlace(targetPath, data, {
          ...meta,
          expect,
          secureDir,
          fsOps: this.fsOps,
        });
      } else {
        written = await writeFileAtomic(targetPath, data, {
          ...meta,
          expect,
          syncDirectory: false,
          fsOps: this.fsOps,
        });
      }
    } else {
      written = await writeFileAtomic(targetPath, reader.read(step), {
        ...meta,
        expect,
        syncDirectory: false,
        fsOps: this.fsOps,
      });
    }
    this.dirtyDirs.add(path.dirname(targetPath));
    await this.verifyOnDisk(task, targetPath, written);
    this.bytes += written.bytes;
    this.restoredSha.set(targetPath, written.sha256);
    this.record(task, written.sha256, written.bytes);
    this.result.restored.push({ targetPath, bytes: written.bytes, sha256: written.sha256 });
  }

  /** Re-reads what landed on disk: the bytes, and a Mailman pickle through the pickle reader. */
  private async verifyOnDisk(
    task: Task,
    targetPath: string,
    written: { bytes: number; sha256: string },
  ): Promise<void> {
    const onDisk = await hashFile(targetPath, this.fsOps);
    let problem: string | null = null;
    if (onDisk.bytes !== written.bytes || onDisk.sha256 !== written.sha256) {
      problem = `${targetPath} reads back as ${onDisk.bytes} bytes, sha256 ${onDisk.sha256.slice(0, 12)}`;
    } else if (onDisk.data && isMailmanPickle(targetPath)) {
      problem = checkMailmanPickle(targetPath, onDisk.data);
    }
    if (problem) {
      throw new RestoreplanError('VERIFY_FAILED', `${task.step.memberPath}: ${problem}`, {
        targetPath,
      });
    }
  }

  private async secureDirFor(existing: Stats | null): Promise<string | null> {
    if (this.options.secureDir !== undefined) return this.options.secureDir;
    const dir = path.dirname(this.result.journal);
    const dirStats = await stat(dir).catch(() => null);
    if (!dirStats || !existing || dirStats.dev === existing.dev) return null;
    return dir;
  }

  /** Directory metadata last and deepest first, so a restrictive mode cannot block its files. */
  private async finishDirectories(createdDirs: readonly Task[]): Promise<void> {
    const ordered = [...createdDirs].sort(
      (a, b) => b.targetPath.split('/').length - a.targetPath.split('/').length,
    );
    for (const task of ordered) {
      const { step, targetPath } = task;
      try {
        const stats = await this.fsOps.lstat(targetPath);
        if (!stats.isDirectory()) continue;
        if (isRoot && step.owner)
          await this.fsOps.lchown(targetPath, step.owner.uid, step.owner.gid);
        await this.fsOps.chmod(targetPath, step.mode & 0o7777);
        await this.fsOps.utimes(targetPath, this.now, this.mtimeOf(step));
        this.record(task, '', 0);
      } catch (error) {
        this.skip(targetPath, `metadata not applied: ${describeError(error)}`);
      }
    }
  }

  /** Makes the batch durable: first the directories holding its renames, then the journal. */
  private async flushBatch(): Promise<void> {
    for (const dir of this.dirtyDirs) await syncDirectory(dir, this.fsOps).catch(() => {});
    this.dirtyDirs.clear();
    await this.journal?.flush();
  }

  private async measureInodes(before: Map<string, number>): Promise<void> {
    for (const [mountPoint, free] of before) {
      const after = (await this.fsOps.statfs(mountPoint)).ffree;
      const predicted =
        (this.predictedPlan.get(mountPoint) ?? 0) + (this.predictedOwn.get(mountPoint) ?? 0);
      this.result.inodes.push({ mountPoint, predicted, actual: free - after });
    }
  }
}
