/**
 * The documents of CONTRACT.md, typed. Everything here is serialized as JSON by the CLI and
 * returned as-is by the API, so a field added here is a promise: add freely, never rename.
 */
import type { ArchiveWarningCode } from './archive/ArchiveWarningCode.js';
import type { ErrorCode } from './errors.js';
import type { Problem, Severity } from './problems.js';

export const SCHEMA_VERSION = 1 as const;

export type Compression = 'none' | 'gzip' | 'bzip2' | 'xz' | 'zstd';
export type TarFormat = 'v7' | 'ustar' | 'gnu' | 'oldgnu' | 'pax';
/** An archive that is not a tar: a restic snapshot (`restic:ID`) or a borg archive (`borg:REPO::A`). */
export type BackupSourceKind = 'restic' | 'borg';
export type Verdict = 'ok' | 'warning' | 'critical';

export interface Warning {
  code: ArchiveWarningCode;
  message: string;
  memberPath?: string;
}

export interface TypeCounts {
  /** @asType integer */
  entries: number;
  /** @asType integer */
  files: number;
  /** @asType integer */
  dirs: number;
  /** @asType integer */
  symlinks: number;
  /** @asType integer */
  hardlinks: number;
  /** @asType integer */
  other: number;
  /** @asType integer */
  bytes: number;
}

export interface ScanTotals extends TypeCounts {
  /** @asType integer */
  impliedDirs: number;
  /** @asType integer */
  duplicates: number;
}

export interface TreeRow extends TypeCounts {
  path: string;
}

export interface ArchiveInfo {
  path: string;
  /** @asType integer @nullable */
  sizeBytes: number | null;
  compression: Compression;
  formats: TarFormat[];
  fingerprint: string;
  /**
   * Set when the archive is a restic snapshot or a borg archive, listed through the tool (path
   * `restic:...` / `borg:...`, fingerprint `restic:<snapshot id>` / `borg:<archive id>`,
   * compression 'none' and formats [] as nothing is decompressed or parsed as tar); absent for a tar.
   */
  source?: BackupSourceKind;
}

export interface ScanResult {
  schemaVersion: typeof SCHEMA_VERSION;
  archive: ArchiveInfo;
  totals: ScanTotals;
  tree: TreeRow[];
  mailman: {
    root: string;
    /** @asType integer */
    lists: number;
  } | null;
  warnings: Warning[];
}

/** `restoreplan index --json` / indexArchive(): the archive index made or found. */
export interface IndexResult {
  schemaVersion: typeof SCHEMA_VERSION;
  archive: ArchiveInfo;
  index: {
    /** The index file (docs/archive-index.md). */
    file: string;
    /** @asType integer */
    bytes: number;
    /** True when this run built it; false when a valid index was already there. */
    built: boolean;
    /** @asType integer */
    members: number;
    /** Places inside a compressed archive where reading can start (0 for an uncompressed one). @asType integer */
    accessPoints: number;
  };
}

export interface InodeBudget {
  /** @asType integer */
  total: number;
  /** @asType integer */
  free: number;
  /** @asType integer */
  needed: number;
  /** @asType integer */
  peak: number;
  /** @asType integer */
  reserve: number;
  /** @asType integer */
  freeAfter: number;
  /**
   * The inodes a create can really get, which the verdict is judged on: `free`, less on a nearly
   * full XFS (statfs counts inodes it cannot carve from free space).
   * @asType integer
   */
  usable?: number;
  dynamic: boolean;
  /**
   * The live system's growth allowance, on the filesystem it writes on (the target's): what it
   * is, and whether `reserve` keeps it free.
   */
  growth?: ReserveGrowth;
}

/**
 * The growth allowance of an inode reserve: Mailman's queue inflow of the last hour times the
 * growth window, capped at the inodes free. The default reserve adds it to 5% of the total; an
 * explicit --reserve-inodes is the whole reserve, and then it is only advice (`counted: false`).
 */
export interface ReserveGrowth {
  /**
   * Queue files that arrived in the last hour; null when the API caller gave the growth.
   * @asType integer @nullable
   */
  inflowPerHour: number | null;
  /** Hours of inflow covered (--growth-window); null when the API caller gave the growth. */
  windowHours: number | null;
  /**
   * Inflow × window, before the cap.
   * @asType integer
   */
  measured: number;
  /**
   * The allowance: `measured`, but never more than the inodes free.
   * @asType integer
   */
  allowance: number;
  /** Whether `reserve` includes the allowance (false: --reserve-inodes was given, the whole reserve). */
  counted: boolean;
  /** What that means, in a sentence. */
  note: string;
}

export interface BlockBudget {
  /** @asType integer */
  total: number;
  /** @asType integer */
  free: number;
  /** @asType integer */
  available: number;
  /** @asType integer */
  needed: number;
  /**
   * Blocks at the worst moment: net plus the old copy of the largest file being replaced.
   * @asType integer
   */
  peak: number;
  /** @asType integer */
  reserve: number;
  /** @asType integer */
  availableAfter: number;
  /**
   * Blocks the verdict keeps out of `available` because the restore creates inodes (XFS's
   * create reservation; 0 elsewhere).
   * @asType integer
   */
  keptForCreates?: number;
}

export interface FilesystemBudget {
  mountPoint: string;
  fsType: string;
  device: string;
  /** @asType integer */
  blockSize: number;
  inodes: InodeBudget;
  blocks: BlockBudget;
  verdict: Verdict;
}

/** Mailman's backlog as the MTA will queue it, per source (src/mailman/countBacklog.ts). */
export interface BacklogCounts {
  /** @asType integer */
  entries: number;
  /** @asType integer */
  messages: number;
  /** @asType integer */
  out: number;
  /** @asType integer */
  virgin: number;
  /** @asType integer */
  retry: number;
  /** @asType integer */
  in: number;
  /** Shunted posts of the repaired lists (released by bin/unshunt). @asType integer */
  shunt: number;
  shuntedLists: string[];
  /** Queue files whose recipients could not be known: counted as one message each. @asType integer */
  unknownRecipients: number;
}

/**
 * The wave after the repair (issue 16): Mailman's backlog handed to the MTA once the repaired
 * lists load, budgeted on the spool's filesystem after the repair's own demand there. Shown
 * apart from the restore's budget and its growth reserve.
 */
export interface DrainBudget {
  mta: 'exim' | 'postfix';
  /** Exim's spool_directory or Postfix's queue_directory. */
  spool: string;
  mountPoint: string;
  /** MTA messages per source (SMTPDirect's fan-out as an upper bound). */
  backlog: BacklogCounts;
  /** Messages the MTA holds already (on disk now, in `free`); null when unreadable. */
  queuedNow: number | null;
  /** --drain-batch: messages released at once; null for the whole backlog at once. */
  batch: number | null;
  /** @asType integer */
  peakMessages: number;
  /** Inodes the peak of the drain takes in the spool. @asType integer */
  inodes: number;
  /** @asType integer */
  blocks: number;
  /** @asType integer */
  bytes: number;
  /** Inodes free after the repair and the drain (may be negative: short by). @asType integer */
  inodesFreeAfter: number;
  /** @asType integer */
  inodeReserve: number;
  /** @asType integer */
  blocksAvailableAfter: number;
  /** The reserve stays free with the drain on top of the repair. */
  fits: boolean;
}

export interface CheckResult {
  schemaVersion: typeof SCHEMA_VERSION;
  verdict: Verdict;
  selection: TypeCounts;
  filesystems: FilesystemBudget[];
  /** Mailman profile, an MTA found: the wave after the repair (absent otherwise). */
  drain?: DrainBudget;
  problems: Problem[];
}

export type ConfigFileName = 'config.pck' | 'config.pck.last' | 'config.db' | 'config.db.last';
export type FileState =
  'ok' | 'missing' | 'empty' | 'zeroed' | 'truncated' | 'invalid' | 'not-a-dict';
/**
 * How Mailman sees a list: `ok` loads config.pck; `degraded` loads a fallback; `corrupt` has
 * config files of which none loads; `lost` has a directory under lists/ but no config file at
 * all (Mailman's `Utils.list_exists` is false: the list is down, its mail refused); `missing`
 * has no directory, while Mailman's other files (alias stanzas, shunted mail, archives) still
 * name it.
 */
export type ListStatus = 'ok' | 'degraded' | 'corrupt' | 'lost' | 'missing';

/** Something in the var dir that still names a list (see src/mailman/findListEvidence.ts). */
export interface ListEvidence {
  kind: 'alias-stanza' | 'archives' | 'shunted-mail';
  /** Relative to the var dir. */
  path: string;
  /**
   * Messages, for shunted mail.
   * @asType integer
   */
  count?: number;
  detail: string;
}

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
  /** For a `missing` list: what still names it. */
  evidence?: ListEvidence[];
}

export interface QueueCensus {
  /** @asType integer */
  files: number;
  /** @format date-time */
  oldest?: string;
  /** @format date-time */
  newest?: string;
}

/**
 * When one resource of the var dir's filesystem runs out if Mailman's queues keep growing at the
 * inflow of the last hour (src/mailman/forecastExhaustion.ts).
 */
export interface ResourceForecast {
  /**
   * Free now: inodes a file can still take (statfs f_ffree, less what XFS cannot carve), or
   * bytes available to an unprivileged user (f_bavail × block size).
   * @asType integer
   */
  free: number;
  /**
   * What the queues took in the last hour: files (inodes) or allocated bytes.
   * @asType integer
   */
  inflowPerHour: number;
  /**
   * Hours until none is free at that inflow (0: none is free now); null when there is no
   * forecast, and then `reason` says why (JSON has no Infinity).
   * @nullable
   */
  hours: number | null;
  /** Why `hours` is null: nothing arrived in the last hour, or the filesystem reports no inode limit (btrfs). */
  reason?: 'no-inflow' | 'no-inode-limit';
  /**
   * What Mailman's backlog takes here once it is released to the MTA (its spool on this
   * filesystem): `hours` counts from `free` less this. Absent when no MTA spool is here.
   * @asType integer
   */
  backlog?: number;
}

/** Hours until inodes and space run out at the queues' measured inflow. */
export interface ExhaustionForecast {
  inodes: ResourceForecast;
  bytes: ResourceForecast;
}

export interface DoctorBacklog {
  mta: 'exim' | 'postfix';
  spool: string;
  mountPoint: string;
  counts: BacklogCounts;
  /** Messages the MTA holds already; null when its spool could not be read. */
  queuedNow: number | null;
  /** Inodes the whole backlog takes queued at once. @asType integer */
  inodes: number;
  /** @asType integer */
  bytes: number;
  /** Inodes free on the spool's filesystem now. @asType integer */
  inodesFree: number;
  /** The backlog's inodes fit in what is free there. */
  fits: boolean;
}

export interface DoctorResult {
  schemaVersion: typeof SCHEMA_VERSION;
  root: string;
  lists: ListDiagnosis[];
  queues: Record<string, QueueCensus>;
  mailmanRunning: boolean;
  /**
   * data/master-qrunner.pid names a process that is gone: the qrunners should run but do not
   * (Mailman crashed or was killed), so queued mail is not delivered.
   */
  qrunnerPidStale?: boolean;
  /** When inodes and space run out at the queues' inflow of the last hour. */
  forecast?: ExhaustionForecast;
  /**
   * Mailman's backlog as the MTA will queue it once the lists run (the shunted posts of the
   * lists that are down included), and what it takes in the MTA's spool. Absent without an MTA.
   */
  backlog?: DoctorBacklog;
  filesystem: {
    mountPoint: string;
    inodes: {
      /** @asType integer */
      total: number;
      /** @asType integer */
      free: number;
    };
    blocks: {
      /** @asType integer */
      total: number;
      /** @asType integer */
      available: number;
    };
  };
  summary: {
    /** @asType integer */
    ok: number;
    /** @asType integer */
    degraded: number;
    /** @asType integer */
    corrupt: number;
    /** @asType integer */
    lost: number;
    /** @asType integer */
    missing: number;
  };
}

export type Strategy = 'in-place' | 'staged' | 'alternate';
export type WriteMode = 'create' | 'replace' | 'rewrite';
export type StepType = 'file' | 'dir' | 'symlink' | 'hardlink' | 'fifo' | 'chardev' | 'blockdev';

/**
 * What a step costs on the filesystem it writes on, priced once by the planner with that
 * filesystem's block model, in the order apply runs the steps: the steps' costs add up exactly
 * to the stage budget, and apply's budget guard prices what is left of a run by summing them.
 */
export interface StepCost {
  /** The filesystem the step writes on (its mount point, as in the stage budget). */
  mountPoint: string;
  /**
   * Net inodes added: the step's own and those of the missing parent directories it is the first to need.
   * @asType integer
   * @minimum -1
   */
  inodes: number;
  /**
   * Net blocks added (in the filesystem's block size), directory growth included; negative when a file is replaced by a smaller one.
   * @asType integer
   */
  blocks: number;
  /**
   * Inodes held only while the step runs (the temporary file of an atomic replace).
   * @asType integer
   * @minimum 0
   */
  peakInodes: number;
  /**
   * Blocks held only while the step runs (the old copy of a file being replaced).
   * @asType integer
   * @minimum 0
   */
  peakBlocks: number;
}

interface StepCommon {
  /** The member as the walk names it (normalized, relative, no `..`). */
  memberPath: string;
  /** Absolute and normalized, strictly inside the stage's root. */
  targetPath: string;
  /**
   * Apparent size of a regular file; 0 for the other types.
   * @asType integer
   * @minimum 0
   */
  size: number;
  /** Where the member sits in the uncompressed tar stream, so apply can read it directly. */
  source: MemberSource;
  /**
   * Mode bits to give the restored path (for configs: those of the file it replaces): 0..0o7777.
   * Setuid, and setgid on anything but a directory, only in a plan made with `allowSpecial`.
   * @asType integer
   * @minimum 0
   * @maximum 4095
   */
  mode: number;
  /** Owner to give the restored path; null keeps the writer's (an unprivileged apply). */
  owner: {
    /**
     * @asType integer
     * @minimum 0
     * @maximum 4294967294
     */
    uid: number;
    /**
     * @asType integer
     * @minimum 0
     * @maximum 4294967294
     */
    gid: number;
  } | null;
  /**
   * Seconds since the epoch; for Mailman configs while Mailman runs, the apply time instead (see `freshMtime`).
   * @minimum -9007199254740991
   * @maximum 9007199254740991
   */
  mtime: number;
  /** Give the path the apply time as mtime (a running Mailman reloads configs by mtime). */
  freshMtime: boolean;
  cost: StepCost;
}

export interface FileStep extends StepCommon {
  type: 'file';
  write: WriteMode;
  /** sha256 of the member's data when the planner read it (configs are always read and validated). */
  sha256?: string;
}

/** A directory that is not there yet (one already there is no step). */
export interface DirStep extends StepCommon {
  type: 'dir';
  write: 'create';
}

export interface SymlinkStep extends StepCommon {
  type: 'symlink';
  write: 'create' | 'replace';
  /** The link text. */
  linkTarget: string;
}

export interface HardlinkStep extends StepCommon {
  type: 'hardlink';
  write: 'create' | 'replace';
  /** The targetPath the link points at: restored earlier in the plan, or already on disk. */
  linkTarget: string;
}

export interface SpecialStep extends StepCommon {
  type: 'fifo' | 'chardev' | 'blockdev';
  write: 'create' | 'replace';
}

/** One thing apply does, discriminated by `type`; only a regular file can be rewritten in place. */
export type PlanStep = FileStep | DirStep | SymlinkStep | HardlinkStep | SpecialStep;

export interface MemberSource {
  /**
   * The member's first header (pax and GNU long-name headers included); apply reads it again there.
   * @asType integer
   * @minimum 0
   */
  headerOffset: number;
  /**
   * @asType integer
   * @minimum 0
   */
  dataOffset: number;
  /**
   * @asType integer
   * @minimum 0
   */
  dataLength: number;
  /** Sparse map of the real file as [offset, length] pairs, or null. */
  sparse: Array<[number, number]> | null;
}

/** One filesystem's budget for one stage: the sums of the stage's step costs on it. */
export interface StageBudget {
  mountPoint: string;
  /** @asType integer */
  inodesNeeded: number;
  /**
   * Inodes at the worst moment of the stage (net plus one temporary file).
   * @asType integer
   */
  inodesPeak: number;
  /** @asType integer */
  inodesFree: number;
  /** @asType integer */
  inodesReserve: number;
  /** The growth allowance on the filesystem the live system writes on (see InodeBudget). */
  inodesGrowth?: ReserveGrowth;
  /** @asType integer */
  blocksNeeded: number;
  /** @asType integer */
  blocksPeak: number;
  /** @asType integer */
  blocksAvailable: number;
  /** @asType integer */
  blocksReserve: number;
}

export interface PlanStage {
  name: string;
  /** Where the stage writes: the plan's `target.path`, or its `staging` root. */
  root: string;
  steps: PlanStep[];
  budget: StageBudget[];
}

export interface PlanList {
  name: string;
  /**
   * As doctor sees the list on disk; `removed` for a list the backup holds that is neither on
   * disk nor named by Mailman's other files (most likely removed on purpose with rmlist): it
   * is restored only when named with `--lists`.
   */
  status: ListStatus | 'removed';
  action: 'restore' | 'skip';
  source?: string;
  reason: string;
  /** For a `missing` list: what still names it on disk. */
  evidence?: ListEvidence[];
}

interface PlanCommon {
  schemaVersion: typeof SCHEMA_VERSION;
  /** @format date-time */
  createdAt: string;
  reason: string;
  archive: {
    path: string;
    /** @asType integer @nullable */
    sizeBytes: number | null;
    /** @format date-time */
    mtime: string | null;
    fingerprint: string;
    compression: Compression;
    /** An uncompressed file on disk: apply reads members at their offsets. */
    seekable: boolean;
  };
  target: { path: string; device: string };
  /**
   * The staging root the plan was made with (`--staging`, resolved), or null: with the target,
   * the only roots its stages may write under. Absent in plans made before it was recorded
   * (read as null).
   */
  staging?: string | null;
  /**
   * Made with `--allow-special`: only then may steps make fifos or device nodes, or set
   * setuid/setgid bits (setgid on a directory excepted), and apply still asks the operator to
   * confirm them. Absent in older plans (read as false).
   */
  allowSpecial?: boolean;
  /** What the plan means for a running Mailman (null without the Mailman profile). */
  mailman: {
    /** The target (`target.path`), always. */
    root: string;
    running: boolean;
    freshMtime: boolean;
    restartAdvised: boolean;
    note: string;
  } | null;
  lists: PlanList[];
  stages: PlanStage[];
  /**
   * Mailman profile, an MTA found: the wave after the repair, a stage after the last one that
   * apply does not run (Mailman and the MTA do); its verdict is in `problems` (drain-short).
   */
  drain?: DrainBudget;
  problems: Problem[];
}

/** A plan apply can carry out: `strategy` is null only when there is nothing to do. */
export interface FeasiblePlan extends PlanCommon {
  feasible: true;
  /**
   * THE verdict (src/plan/judgePlan.ts), as `plan` exits: critical when a list stays down,
   * warning when the plan runs with warnings, else ok.
   */
  verdict: Verdict;
  strategy: Strategy | null;
}

/** Nothing fits: the stages show the layout whose shortfall `reason` explains; apply refuses it. */
export interface InfeasiblePlan extends PlanCommon {
  feasible: false;
  /** Nothing fits: always critical. */
  verdict: 'critical';
  strategy: null;
}

export type PlanDocument = FeasiblePlan | InfeasiblePlan;

/**
 * How an apply run ended (or, for `--dry-run`, would end), by one rule (src/apply/applyPlan.ts,
 * with the per-kind effect in SKIP_CATALOG): `complete` — every step the plan asks for is done
 * (by this run or an earlier one); `nothing-to-do` — it was all done already; `incomplete` —
 * the run went through every stage but left steps of the plan undone (refused as unsafe, a
 * type conflict, a special file, a refused rewrite, directory metadata not applied: they are in
 * `skipped` and named in `reason`); `stopped` — the budget guard or a list lock ended it early
 * (re-run to resume); `failed` — a write failed or a member did not verify (`error` says
 * which); `ready` — a dry run only: the run would carry out every step it has left.
 */
export type ApplyStatus = ApplyRunStatus | 'ready';

/** The statuses a run (not a dry run) ends with. */
export type ApplyRunStatus = 'complete' | 'stopped' | 'failed' | 'nothing-to-do' | 'incomplete';

/**
 * Why apply did not carry out a step: a closed set. Each kind has a summary in SKIP_CATALOG
 * (src/apply/skipCatalog.ts, typed so that a kind without one does not compile) and a row in
 * the README's apply section.
 */
export type SkipKind =
  | 'already-restored'
  | 'unsafe'
  | 'locked'
  | 'changed-since-restored'
  | 'type-conflict'
  | 'special'
  | 'rewrite-refused'
  | 'verify-failed'
  | 'not-restored'
  | 'metadata-not-applied';

export interface ApplySkip {
  targetPath: string;
  /** The line for people and runbooks (they grep it): worded as before kinds existed, kept so. */
  reason: string;
  /** What a script branches on; stable. */
  kind: SkipKind;
}

/** The fields a run and a preview share: the apply JSON of CONTRACT.md. */
interface ApplyResultFields {
  schemaVersion: typeof SCHEMA_VERSION;
  status: ApplyStatus;
  restored: {
    targetPath: string;
    /** @asType integer */
    bytes: number;
    sha256: string;
  }[];
  skipped: ApplySkip[];
  verified: boolean;
  inodes: {
    mountPoint: string;
    /** @asType integer */
    predicted: number;
    /** @asType integer */
    actual: number;
  }[];
  journal: string;
  /** Why the run stopped, failed or is incomplete (absent when it completed). */
  reason?: string;
}

/** What ended a failed run: the stable code, and for a filesystem error the path and errno. */
export interface ApplyError {
  /** `WRITE_FAILED` (a filesystem error on the target or the journal), `VERIFY_FAILED`, ... */
  code: ErrorCode;
  /** The one-line message (what the CLI prints after the code). */
  message: string;
  /** The path the plan step (or the journal) writes: what was not written. */
  path?: string;
  /** The errno name of a filesystem error: EROFS, EIO, ENOSPC, EACCES... */
  errno?: string;
  /** The system call that failed (open, rename, mkdir, chmod...), when known. */
  syscall?: string;
  /** What to do (the CLI prints it as the error's `hint:` line). */
  hint?: string;
}

/** A run that carried out the plan (or found nothing left to do): no `dryRun` in its JSON. */
export interface ApplyRunResult extends ApplyResultFields {
  status: ApplyRunStatus;
  /**
   * A run that `failed`: the error that ended it, as the CLI prints it on its one error line
   * (`restoreplan: <code>: <message>`); the `--json` document of a failed apply is thus also an
   * error document (`error.code`, `error.message`).
   */
  error?: ApplyError;
  dryRun?: never;
  preview?: never;
}

/**
 * `--dry-run`: nothing was written, not even the journal; `preview` lists what would be, and
 * `inodes` what it would take (`actual` 0). Nothing was done, so nothing is verified.
 */
export interface ApplyPreviewResult extends ApplyResultFields {
  /**
   * What the run would end with, judged now (classify and the budget guard, without writing):
   * `ready` (it would carry out every step it has left), `nothing-to-do`, `incomplete` (steps
   * would be refused: in `skipped`), `stopped` (a list lock, or a stage that does not fit now).
   */
  status: 'ready' | 'nothing-to-do' | 'incomplete' | 'stopped';
  verified: false;
  dryRun: true;
  preview: ApplyPreviewStep[];
}

/**
 * What an apply run did, one event per action as it happens (`ApplyOptions.onAction`): the
 * material of an audit trail (`apply --syslog`), so a run killed half way has still told what
 * it did. A run emits `started` (and `resumed` when earlier runs of the same plan left work in
 * its journal), a `restored` per file, link or fifo written and verified (directories are
 * not: their metadata is the directory pass's), a `skipped` per step not carried out
 * (`already-restored` included), `stopped` when the budget guard or a list lock ends it early,
 * and `ended` with the status it returns. A run that throws emits no `ended`: the error thrown
 * is its end. A dry run emits nothing.
 */
export type ApplyActionEvent =
  | {
      action: 'started';
      /** The plan's identity, as its journal records carry it: when it was made, of which archive. */
      planCreatedAt: string;
      archiveFingerprint: string;
      journal: string;
      /** @asType integer */
      steps: number;
    }
  | {
      action: 'resumed';
      journal: string;
      /** Steps earlier runs of this plan journaled as done. @asType integer */
      done: number;
    }
  | {
      action: 'restored';
      stage: string;
      memberPath: string;
      targetPath: string;
      type: StepType;
      /** @asType integer */
      bytes: number;
      sha256: string;
    }
  | { action: 'skipped'; targetPath: string; kind: SkipKind; reason: string }
  | { action: 'stopped'; reason: string }
  | {
      action: 'ended';
      planCreatedAt: string;
      archiveFingerprint: string;
      status: ApplyRunStatus;
      /** @asType integer */
      restored: number;
      /** @asType integer */
      skipped: number;
      reason?: string;
      error?: ApplyError;
    };

/** What apply returns: `dryRun` tells a preview from a run (`if (result.dryRun)` narrows). */
export type ApplyResult = ApplyRunResult | ApplyPreviewResult;

export interface ApplyPreviewStep {
  stage: string;
  memberPath: string;
  targetPath: string;
  type: StepType;
  write: WriteMode;
}

export type { Problem, Severity };
