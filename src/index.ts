/**
 * The public API (CONTRACT.md "Programmatic API"): the five functions a recovery script calls,
 * their options and result types, the error class and codes, the problem catalog. This is the
 * only module `package.json` `exports` exposes; everything else is internal and may change.
 * The CLI is a thin layer over exactly these functions, so a script gets the same documents,
 * codes and verdicts as `restoreplan ... --json`.
 */
export { scanArchive, type ScanOptions } from './scanArchive.js';
export { checkBudget, type CheckOptions } from './plan/checkBudget.js';
export {
  diagnoseMailman,
  type DiagnoseMailmanOptions,
  type DoctorReport,
  type ListReport,
} from './mailman/diagnoseMailman.js';
export { planRestore, type PlanOptions } from './plan/planRestore.js';
export { judgePlan } from './plan/judgePlan.js';
export { applyPlan, type ApplyOptions } from './apply/applyPlan.js';
export { indexArchive, type IndexArchiveOptions } from './indexArchive.js';

export { ERROR_CODES, RestoreplanError, isRestoreplanError, type ErrorCode } from './errors.js';
export {
  PROBLEM_CATALOG,
  verdictOfProblems,
  worstSeverity,
  type Problem,
  type ProblemKind,
  type Severity,
} from './problems.js';
export type {
  ArchiveIndexSetting,
  CommonOptions,
  ProgressCallback,
  ProgressEvent,
  ProgressPhase,
} from './progress.js';
export { ARCHIVE_WARNING_CATALOG, type ArchiveWarningCode } from './archive/ArchiveWarningCode.js';

export { SCHEMA_VERSION } from './types.js';
export type {
  ApplyActionEvent,
  ApplyPreviewResult,
  ApplyPreviewStep,
  ApplyResult,
  ApplyRunResult,
  ApplySkip,
  ApplyStatus,
  ApplyRunStatus,
  ApplyError,
  ArchiveInfo,
  BlockBudget,
  CheckResult,
  Compression,
  DirStep,
  FeasiblePlan,
  FileStep,
  HardlinkStep,
  InfeasiblePlan,
  SpecialStep,
  StepCost,
  SymlinkStep,
  ConfigFileName,
  DoctorResult,
  ExhaustionForecast,
  ResourceForecast,
  FileState,
  FilesystemBudget,
  InodeBudget,
  ListDiagnosis,
  ListEvidence,
  ListFileDiagnosis,
  ListStatus,
  MemberSource,
  PlanDocument,
  PlanList,
  PlanStage,
  PlanStep,
  QueueCensus,
  ReserveGrowth,
  ScanResult,
  IndexResult,
  ScanTotals,
  SkipKind,
  StageBudget,
  StepType,
  Strategy,
  TarFormat,
  TreeRow,
  TypeCounts,
  Verdict,
  Warning,
  WriteMode,
} from './types.js';
