/**
 * The documents of CONTRACT.md, typed. Everything here is serialized as JSON by the CLI and
 * returned as-is by the API, so a field added here is a promise: add freely, never rename.
 */
import type { Problem, Severity } from './problems.js';

export const SCHEMA_VERSION = 1 as const;

export type Compression = 'none' | 'gzip' | 'bzip2' | 'xz' | 'zstd';
export type TarFormat = 'v7' | 'ustar' | 'gnu' | 'oldgnu' | 'pax';
export type Verdict = 'ok' | 'warning' | 'critical';

export interface Warning {
  code: import('./archive/ArchiveWarningCode.js').ArchiveWarningCode;
  message: string;
  memberPath?: string;
}

export interface TypeCounts {
  entries: number;
  files: number;
  dirs: number;
  symlinks: number;
  hardlinks: number;
  other: number;
  bytes: number;
}

export interface ScanTotals extends TypeCounts {
  impliedDirs: number;
  duplicates: number;
}

export interface TreeRow extends TypeCounts {
  path: string;
}

export interface ArchiveInfo {
  path: string;
  sizeBytes: number | null;
  compression: Compression;
  formats: TarFormat[];
  fingerprint: string;
}

export interface ScanResult {
  schemaVersion: typeof SCHEMA_VERSION;
  archive: ArchiveInfo;
  totals: ScanTotals;
  tree: TreeRow[];
  mailman: { root: string; lists: number } | null;
  warnings: Warning[];
}

export interface InodeBudget {
  total: number;
  free: number;
  needed: number;
  peak: number;
  reserve: number;
  freeAfter: number;
  dynamic: boolean;
}

export interface BlockBudget {
  total: number;
  free: number;
  available: number;
  needed: number;
  /** Blocks at the worst moment: net plus the old copy of the largest file being replaced. */
  peak: number;
  reserve: number;
  availableAfter: number;
}

export interface FilesystemBudget {
  mountPoint: string;
  fsType: string;
  device: string;
  blockSize: number;
  inodes: InodeBudget;
  blocks: BlockBudget;
  verdict: Verdict;
}

export interface CheckResult {
  schemaVersion: typeof SCHEMA_VERSION;
  verdict: Verdict;
  selection: TypeCounts;
  filesystems: FilesystemBudget[];
  problems: Problem[];
}

export type ConfigFileName = 'config.pck' | 'config.pck.last' | 'config.db' | 'config.db.last';
export type FileState =
  'ok' | 'missing' | 'empty' | 'zeroed' | 'truncated' | 'invalid' | 'not-a-dict';
export type ListStatus = 'ok' | 'degraded' | 'corrupt';

export interface ListFileDiagnosis {
  name: string;
  state: FileState;
  detail?: string;
}

export interface ListDiagnosis {
  name: string;
  status: ListStatus;
  loadsFrom: ConfigFileName | null;
  files: ListFileDiagnosis[];
}

export interface QueueCensus {
  files: number;
  oldest?: string;
  newest?: string;
}

export interface DoctorResult {
  schemaVersion: typeof SCHEMA_VERSION;
  root: string;
  lists: ListDiagnosis[];
  queues: Record<string, QueueCensus>;
  mailmanRunning: boolean;
  filesystem: {
    mountPoint: string;
    inodes: { total: number; free: number };
    blocks: { total: number; available: number };
  };
  summary: { ok: number; degraded: number; corrupt: number };
}

export type Strategy = 'in-place' | 'staged' | 'alternate';
export type WriteMode = 'create' | 'replace' | 'rewrite';
export type StepType = 'file' | 'dir' | 'symlink' | 'hardlink' | 'fifo' | 'chardev' | 'blockdev';

export interface PlanStep {
  memberPath: string;
  targetPath: string;
  type: StepType;
  size: number;
  write: WriteMode;
  /** Where the member sits in the uncompressed tar stream, so apply can read it directly. */
  source: MemberSource;
  /** Mode bits to give the restored path (for configs: those of the file it replaces). */
  mode: number;
  /** Owner to give the restored path; null keeps the writer's (an unprivileged apply). */
  owner: { uid: number; gid: number } | null;
  /** Seconds since the epoch; for Mailman configs while Mailman runs, the apply time instead (see `freshMtime`). */
  mtime: number;
  /** Give the file the apply time as mtime (a running Mailman reloads configs by mtime). */
  freshMtime: boolean;
  /** Symlink text, or the targetPath a hard link points at. */
  linkTarget?: string;
  /** sha256 of the member's data when the planner read it (configs are always read and validated). */
  sha256?: string;
}

export interface MemberSource {
  headerOffset: number;
  dataOffset: number;
  dataLength: number;
  /** Sparse map of the real file as [offset, length] pairs, or null. */
  sparse: Array<[number, number]> | null;
}

export interface StageBudget {
  mountPoint: string;
  inodesNeeded: number;
  inodesFree: number;
  inodesReserve: number;
  blocksNeeded: number;
  blocksAvailable: number;
  blocksReserve: number;
}

export interface PlanStage {
  name: string;
  root: string;
  steps: PlanStep[];
  budget: StageBudget[];
}

export interface PlanList {
  name: string;
  status: ListStatus | 'missing';
  action: 'restore' | 'skip';
  source?: string;
  reason: string;
}

export interface PlanDocument {
  schemaVersion: typeof SCHEMA_VERSION;
  createdAt: string;
  feasible: boolean;
  strategy: Strategy | null;
  reason: string;
  archive: {
    path: string;
    sizeBytes: number | null;
    mtime: string | null;
    fingerprint: string;
    compression: Compression;
    /** An uncompressed file on disk: apply reads members at their offsets. */
    seekable: boolean;
  };
  target: { path: string; device: string };
  /** What the plan means for a running Mailman (null without the Mailman profile). */
  mailman: {
    root: string;
    running: boolean;
    freshMtime: boolean;
    restartAdvised: boolean;
    note: string;
  } | null;
  lists: PlanList[];
  stages: PlanStage[];
  problems: Problem[];
}

export type ApplyStatus = 'complete' | 'stopped' | 'failed' | 'nothing-to-do';

export interface ApplyResult {
  schemaVersion: typeof SCHEMA_VERSION;
  status: ApplyStatus;
  restored: { targetPath: string; bytes: number; sha256: string }[];
  skipped: { targetPath: string; reason: string }[];
  verified: boolean;
  inodes: { mountPoint: string; predicted: number; actual: number }[];
  journal: string;
  /** Why the run stopped or failed (absent when it completed). */
  reason?: string;
  /** True for `--dry-run`: nothing was written; `preview` lists what would be. */
  dryRun?: boolean;
  preview?: ApplyPreviewStep[];
}

export interface ApplyPreviewStep {
  stage: string;
  memberPath: string;
  targetPath: string;
  type: StepType;
  write: WriteMode;
}

export type { Problem, Severity };
