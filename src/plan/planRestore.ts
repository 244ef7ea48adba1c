/**
 * `planRestore`: what to restore, where, in which order, by which strategy, and whether it
 * fits (CONTRACT.md `plan`). Read-only: it walks the archive once, diagnoses the target, reads
 * what exists through the probe, and returns the plan as data for `applyPlan` to execute.
 *
 * `check` asks the same question for the Mailman profile, and gets its answer from the same
 * decision (`decideRestore`): one selection, one price per step, one verdict rule.
 */
import path from 'node:path';

import { RestoreplanError } from '../errors.js';
import { createExistingProbe, type ExistingProbe } from '../filesystems/probeExisting.js';
import { resolveTargetDir } from '../filesystems/resolveTargetDir.js';
import { statFilesystem } from '../filesystems/statFilesystem.js';
import { judgePlan } from './judgePlan.js';
import { isMailmanVarDir } from '../mailman/findMailmanRoot.js';
import { makeProblem, type Problem } from '../problems.js';
import type { CommonOptions } from '../progress.js';
import {
  SCHEMA_VERSION,
  type DrainBudget,
  type PlanDocument,
  type PlanStage,
  type Strategy,
} from '../types.js';
import { budgetDrain, type DrainOptions } from './budgetDrain.js';
import { sumStepCosts } from './sumStepCosts.js';
import type { BudgetContext, LayoutPolicy } from './budgetStages.js';
import {
  chooseLayout,
  evaluateWithRewrite,
  fits,
  groupLayout,
  type Candidate,
} from './chooseLayout.js';
import { createFilesystemRegistry } from './createFilesystemRegistry.js';
import { measureGrowth } from './measureGrowth.js';
import { placeDrafts, type Draft } from './placeDrafts.js';
import {
  growthProblem,
  resolveReserveOptions,
  type ReserveOptions,
  type ResolvedReserveOptions,
} from './reservePolicy.js';
import { redactSource, toolSourceOf } from '../archive/parseBackupSource.js';
import { selectFiles } from './selectFiles.js';
import { MAX_PLAN_TIME, specialOf, withoutSpecialBits } from './specialSteps.js';
import {
  markBlockedLists,
  selectMailmanLists,
  type RestoreSelection,
} from './selectMailmanLists.js';

export interface PlanOptions extends CommonOptions, ReserveOptions, Omit<DrainOptions, 'signal'> {
  target: string;
  /** Default: 'mailman' when the target is (or holds) a Mailman var dir, else 'none'. */
  profile?: 'mailman' | 'none';
  /** Mailman: restrict to, or force, these lists. */
  lists?: string[];
  includeDegraded?: boolean;
  withState?: boolean;
  withArchives?: boolean;
  strategy?: 'auto' | Strategy;
  /** The alternate root (normally on another filesystem). */
  staging?: string;
  /** The archive directory that corresponds to the target (Mailman: its var dir, detected). */
  memberRoot?: string;
  include?: string[];
  exclude?: string[];
  /** Restore fifos and device nodes. */
  allowSpecial?: boolean;
  /** Inodes the live system consumes meanwhile (default: measured from Mailman's queues). */
  growthInodes?: number | ((target: string) => Promise<number>);
  now?: Date;
}

const fmt = (n: number): string => n.toLocaleString('en-US');

/** The selection flags each profile uses; the other profile's are refused, never ignored. */
type SelectionFlags = Pick<
  PlanOptions,
  | 'profile'
  | 'include'
  | 'exclude'
  | 'lists'
  | 'includeDegraded'
  | 'withState'
  | 'withArchives'
  | 'mta'
  | 'mtaSpool'
  | 'drainBatch'
>;

/**
 * The profile a target calls for: a Mailman var dir (or a dir holding one) gets the Mailman one.
 * A selection flag the profile does not use is a USAGE error: silently ignored, `--exclude '*'`
 * against a var dir would still restore its broken lists, and `--lists a` without the Mailman
 * profile the whole archive.
 */
export async function resolveProfile(
  target: string,
  options: SelectionFlags,
): Promise<'mailman' | 'none'> {
  const profile =
    options.profile ?? ((await isMailmanVarDir(target).catch(() => false)) ? 'mailman' : 'none');
  const unused =
    profile === 'mailman'
      ? [options.include?.length ? '--include' : '', options.exclude?.length ? '--exclude' : '']
      : [
          options.lists?.length ? '--lists' : '',
          options.includeDegraded ? '--include-degraded' : '',
          options.withState ? '--with-state' : '',
          options.withArchives ? '--with-archives' : '',
          options.mta !== undefined ? '--mta' : '',
          options.mtaSpool !== undefined ? '--mta-spool' : '',
          options.drainBatch !== undefined ? '--drain-batch' : '',
        ];
  // --lists names every list the profile restores: --include-degraded beside it selected
  // nothing, while each degraded list still said "add --include-degraded".
  if (profile === 'mailman' && options.lists?.length && options.includeDegraded) {
    throw new RestoreplanError('USAGE', '--include-degraded is not used with --lists', {
      hint: '--lists names every list to restore: name the degraded ones in it too, or leave --lists out',
    });
  }
  const flags = unused.filter(Boolean);
  if (flags.length === 0) return profile;
  const by = profile === 'mailman' ? 'by the Mailman profile' : 'without a profile';
  const why = options.profile
    ? `--profile ${profile}`
    : `${target} is ${profile === 'mailman' ? '' : 'not '}a Mailman var dir`;
  throw new RestoreplanError(
    'USAGE',
    `${flags.join(', ')} ${flags.length > 1 ? 'are' : 'is'} not used ${by} (${why})`,
    {
      hint:
        profile === 'mailman'
          ? 'the Mailman profile selects lists (--lists, --include-degraded, --with-state, --with-archives); add --profile none to select members by glob'
          : 'without a profile members are selected by --member-root, --include and --exclude; add --profile mailman for a Mailman var dir',
    },
  );
}

/** The decision behind a plan (and behind `check` of the same request). */
export interface RestoreDecision {
  profile: 'mailman' | 'none';
  selection: RestoreSelection;
  /** null: nothing to restore, or nothing fits (see `chosen`). */
  chosen: Candidate | null;
  /** The layout the document shows: the chosen one, or the one whose shortfall explains. */
  shown: Candidate | null;
  reason: string;
  policy: LayoutPolicy;
  /** The filesystem the live system grows on (the target's). */
  growthMount: string;
  context: BudgetContext;
  /** The staging root (`--staging`, resolved), or null. */
  staging: string | null;
  /** Mailman profile: the wave after the repair on the MTA's spool (null: no MTA, --mta none). */
  drain: DrainBudget | null;
  drainProblems: Problem[];
}

function totalDemand(candidate: Candidate): { inodes: number; bytes: number } {
  let inodes = 0;
  let bytes = 0;
  for (const evaluation of candidate.evaluations) {
    for (const fs of evaluation.filesystems) {
      inodes += Math.max(0, fs.inodes.needed);
      bytes += Math.max(0, fs.blocks.needed) * fs.blockSize;
    }
  }
  return { inodes, bytes };
}

/** What a copy of the drafts under an empty root takes at the least: an inode per member but hard links, their bytes. */
function stagingFloor(drafts: readonly Draft[]): { inodes: number; bytes: number } {
  let inodes = 0;
  let bytes = 0;
  for (const draft of drafts) {
    if (draft.entry.type === 'hardlink') continue;
    inodes += 1;
    if (draft.entry.type === 'file') bytes += draft.entry.size;
  }
  return { inodes, bytes };
}

function formatMiB(bytes: number): string {
  return `${Math.max(1, Math.ceil(bytes / 1048576))} MiB`;
}

function describeShortfalls(candidate: Candidate): string[] {
  return candidate.evaluations.flatMap((e) =>
    e.problems.filter((p) => p.severity === 'critical').map((p) => p.message),
  );
}

async function select(
  archive: string | NodeJS.ReadableStream,
  target: string,
  profile: 'mailman' | 'none',
  probe: ExistingProbe,
  options: PlanOptions,
  reserve: ResolvedReserveOptions,
): Promise<RestoreSelection> {
  const window = reserve.growthWindowHours;
  if (profile === 'mailman') {
    const selection = await selectMailmanLists(archive, target, {
      ...options,
      growthWindowHours: window,
    });
    if (options.growthInodes !== undefined)
      selection.growth = await measureGrowth(target, options, window);
    return selection;
  }
  const selection = await selectFiles(archive, target, probe, options);
  selection.growth = await measureGrowth(target, options, window);
  return selection;
}

export async function decideRestore(
  archive: string | NodeJS.ReadableStream,
  options: PlanOptions,
): Promise<RestoreDecision> {
  const decision = await decideLayout(archive, options);
  if (decision.profile !== 'mailman') return decision;
  const shown = decision.chosen ?? decision.shown;
  const demands = sumStepCosts(
    (shown?.evaluations ?? []).flatMap((e) => e.steps.map((s) => s.cost)),
  );
  const { drain, problems } = await budgetDrain(
    {
      varDir: decision.selection.targetRoot,
      repairedLists: decision.selection.lists
        .filter((l) => l.action === 'restore')
        .map((l) => l.name),
      restoreDemand: (mountPoint) => demands.get(mountPoint) ?? null,
      policyFor: (mountPoint) => ({
        ...decision.policy,
        growth: mountPoint === decision.growthMount ? decision.policy.growth : null,
      }),
    },
    { ...options, ...(options.signal ? { signal: options.signal } : {}) },
  );
  decision.drain = drain;
  decision.drainProblems = problems;
  return decision;
}

/** The decision on the restore itself: selection, layout, strategy (before its drain). */
async function decideLayout(
  archive: string | NodeJS.ReadableStream,
  options: PlanOptions,
): Promise<RestoreDecision> {
  const target = await resolveTargetDir(options.target);
  const profile = await resolveProfile(target, options);
  // Bad reserve flags are a USAGE error before the archive is walked.
  const reserve = resolveReserveOptions(options);
  const wanted = options.strategy ?? 'auto';
  if (wanted === 'alternate' && !options.staging) {
    throw new RestoreplanError('USAGE', '--strategy alternate needs --staging DIR', {
      hint: 'name a directory, normally on another filesystem, to restore into',
    });
  }
  const staging = options.staging ? await resolveTargetDir(options.staging) : null;
  const probe = createExistingProbe();
  const context: BudgetContext = { probe, registry: await createFilesystemRegistry() };
  const selection = await select(archive, target, profile, probe, options, reserve);
  const growthFs = await statFilesystem(selection.targetRoot);
  const policy: LayoutPolicy = {
    ...reserve,
    // A filesystem without an inode limit (btrfs) keeps no inode reserve, so no allowance.
    growth: growthFs.dynamicInodes ? null : selection.growth,
    growthPath: selection.targetRoot,
  };
  const decision: RestoreDecision = {
    profile,
    selection,
    chosen: null,
    shown: null,
    reason: '',
    policy,
    growthMount: growthFs.mountPoint,
    context,
    staging,
    drain: null,
    drainProblems: [],
  };
  const { drafts, targetRoot } = selection;
  if (drafts.length === 0) {
    decision.reason =
      profile === 'mailman'
        ? 'nothing to restore: no selected list needs it, or none can be restored from this archive'
        : 'nothing to restore: every selected member is already there';
    return decision;
  }
  const atTarget = placeDrafts(context, targetRoot, drafts);
  if (profile === 'mailman')
    markBlockedLists(selection, new Set(atTarget.placed.map(({ step }) => step.targetPath)));
  if (atTarget.placed.length === 0) {
    decision.reason =
      'nothing to restore: what is selected is already there, or cannot be restored (see problems)';
    decision.shown = { layout: groupLayout('in-place', atTarget), evaluations: [] };
    return decision;
  }
  const ladder = await chooseLayout({
    wanted,
    atTarget,
    atStaging: staging ? placeDrafts(context, staging, drafts) : null,
    policy,
    stagingPolicy: staging ? { ...policy, growthPath: staging, growth: null } : null,
    context,
  });
  decision.chosen = ladder.chosen;
  decision.shown = ladder.shown;
  const chosen = ladder.chosen;
  if (chosen?.layout.strategy === 'in-place') {
    decision.reason = chosen.layout.stages.some((s) =>
      s.steps.some((step) => step.type === 'file' && step.write === 'rewrite'),
    )
      ? 'in place: no inode is free to spare, so existing files are repaired by rewriting their contents in place'
      : 'in place: everything fits on every filesystem with the reserve kept';
  } else if (chosen?.layout.strategy === 'staged') {
    const later = chosen.evaluations.filter((e) => !e.fits).map((e) => e.name);
    decision.reason =
      later.length === 0
        ? `staged: ${chosen.layout.stages.map((s) => s.name).join(' → ')}, each gated on the live budget`
        : `staged: the ${chosen.layout.stages[0]?.name} stage fits now; ${later.join(', ')} do not fit yet — apply restores what fits, stops before them (exit 2), and resumes when room is made`;
  } else if (chosen?.layout.strategy === 'alternate' && staging) {
    // The cost of moving it back is the live target's demand, not the staging root's (which
    // also counts the parents created there, e.g. lists/ and archives/private/).
    const back =
      ladder.evaluated['in-place'] ??
      (await evaluateWithRewrite(groupLayout('in-place', atTarget), policy, context, false));
    const need = totalDemand(back);
    decision.reason = `alternate: everything lands under ${staging}; nothing is written under ${targetRoot}. Moving it back later takes about ${fmt(need.inodes)} inodes and ${formatMiB(need.bytes)} on ${targetRoot}'s filesystem`;
  } else {
    const shown = ladder.shown;
    const hints = describeShortfalls(shown).slice(0, 4);
    const suggestions: string[] = [];
    if (options.withArchives && drafts.some((d) => d.stage !== 'archives')) {
      const small = await evaluateWithRewrite(
        groupLayout('in-place', atTarget, (stage) => stage !== 'archives'),
        policy,
        context,
        false,
      );
      if (fits(small)) suggestions.push('drop --with-archives (the configs alone fit)');
    }
    // Under a staging root everything is created anew: each member that is not a second name
    // of a file takes an inode there, replaces too (in place they cost none, and the in-place
    // demand said "at least 0 free inodes" to a restore short by one). A floor: the parents
    // missing under DIR come on top, as the plan with --staging will count.
    const atStagingFloor = stagingFloor(drafts);
    suggestions.push(
      `add --staging DIR on a filesystem with at least ${fmt(atStagingFloor.inodes)} free inodes and ${formatMiB(atStagingFloor.bytes)} free`,
    );
    // Only the reserve stands in the way: the shortfalls name the flags that lower it (an
    // operator's call, not ours); another filesystem is the way that keeps the reserve.
    const failing = shown.evaluations.filter((e) => !e.fits);
    const byReserve = failing.length > 0 && failing.every((e) => e.reserveOnly);
    decision.reason = `does not fit: ${hints.join('; ')}. ${byReserve ? 'Or, keeping the reserve' : 'To make it fit'}: ${suggestions.join(', or ')}`;
  }
  return decision;
}

/** Every problem the decision has to say, in the document's order. */
export function collectProblems(decision: RestoreDecision): Problem[] {
  const problems: Problem[] = [...decision.selection.problems];
  const growth = growthProblem(
    decision.policy.growth,
    decision.policy.inodeReserveGiven,
    decision.growthMount,
  );
  const result = decision.shown;
  if (decision.selection.drafts.length === 0) {
    problems.push(makeProblem('empty-selection', decision.reason));
  }
  if (!result) return [...problems, ...(growth ? [growth] : []), ...decision.drainProblems];
  problems.push(...result.layout.skipped);
  const rewrites = result.layout.stages.reduce(
    (n, s) => n + s.steps.filter((step) => step.type === 'file' && step.write === 'rewrite').length,
    0,
  );
  if (rewrites > 0) {
    problems.push(
      makeProblem(
        'rewrite-in-place',
        `${rewrites} existing files are repaired by rewriting their contents in place (no inode is free); each member is read and verified first`,
      ),
    );
  }
  const staged = decision.chosen?.layout.strategy === 'staged';
  result.evaluations.forEach((evaluation, index) => {
    for (const problem of evaluation.problems) {
      // A later stage of a staged plan that does not fit yet is gated by apply, not fatal.
      if (staged && index > 0 && problem.severity === 'critical') {
        problems.push({
          ...problem,
          severity: 'warning',
          message: `stage ${evaluation.name}: ${problem.message} (apply stops before it until room is made)`,
        });
      } else problems.push(problem);
    }
  });
  if (growth) problems.push(growth);
  problems.push(...decision.drainProblems);
  return problems;
}

export async function planRestore(
  archive: string | NodeJS.ReadableStream,
  options: PlanOptions,
): Promise<PlanDocument> {
  const decision = await decideRestore(archive, options);
  const { selection } = decision;
  const allowSpecial = options.allowSpecial === true;
  let cleared = 0;
  const stages: PlanStage[] = (decision.shown?.evaluations ?? []).map((evaluation, index) => ({
    name: evaluation.name,
    root: decision.shown?.layout.stages[index]?.root ?? selection.targetRoot,
    steps: evaluation.steps.map((step) => {
      let kept = step;
      // Without --allow-special no setuid/setgid bit is restored (special files were left
      // out by the selection already); apply refuses a plan that holds one without it.
      if (!allowSpecial && specialOf(step) === 'mode') {
        cleared += 1;
        kept = { ...kept, mode: withoutSpecialBits(step) };
      }
      // A pax mtime of 10^30 is a number, not a time utimes can set (apply refuses a plan
      // that holds one): the nearest one it can, which the filesystem clamps further.
      if (Math.abs(step.mtime) > MAX_PLAN_TIME)
        kept = { ...kept, mtime: Math.sign(step.mtime) * MAX_PLAN_TIME };
      return kept;
    }),
    budget: evaluation.budget,
  }));
  const problems = collectProblems(decision);
  if (cleared > 0) {
    problems.push(
      makeProblem(
        'special-member',
        `${cleared} members are restored without their setuid/setgid bits; plan (and apply) with --allow-special to keep them`,
      ),
    );
  }
  const walk = selection.walk;
  const common = {
    schemaVersion: SCHEMA_VERSION,
    createdAt: (options.now ?? new Date()).toISOString(),
    reason: decision.reason,
    archive: {
      // restic:/borg: as given (restic:latest: the fingerprint has the id it was), no password.
      path:
        walk.path === '-'
          ? '-'
          : toolSourceOf(walk.path)
            ? redactSource(walk.path)
            : path.resolve(walk.path),
      sizeBytes: walk.sizeBytes,
      mtime: walk.mtime,
      fingerprint: walk.fingerprint,
      compression: walk.compression,
      seekable: walk.seekable,
    },
    target: {
      path: selection.targetRoot,
      device: (await statFilesystem(selection.targetRoot)).device,
    },
    // What apply checks the plan's stage roots and special steps against.
    staging: decision.staging,
    allowSpecial,
    mailman: selection.mailman,
    lists: selection.lists,
    stages,
    ...(decision.drain ? { drain: decision.drain } : {}),
    problems,
  };
  const nothingToDo = decision.chosen === null && stages.every((s) => s.steps.length === 0);
  if (decision.chosen || nothingToDo) {
    return {
      ...common,
      verdict: judgePlan({ feasible: true, problems: common.problems }),
      feasible: true,
      strategy: decision.chosen?.layout.strategy ?? null,
    };
  }
  return { ...common, verdict: 'critical', feasible: false, strategy: null };
}
