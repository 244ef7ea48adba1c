/**
 * `planRestore`: what to restore, where, in which order, by which strategy, and whether it
 * fits (CONTRACT.md `plan`). Read-only: it walks the archive once, diagnoses the target, reads
 * what exists, and returns the plan as data for `applyPlan` to execute.
 */
import { lstatSync } from 'node:fs';
import path from 'node:path';

import { copyEntry, type ArchiveEntry } from '../archive/ArchiveEntry.js';
import { walkArchive, type WalkResult } from '../archive/walkArchive.js';
import { RestoreplanError } from '../errors.js';
import { diagnoseMailman, type DoctorReport } from '../mailman/diagnoseMailman.js';
import { listNamesAt } from '../mailman/findMailmanRoot.js';
import { countMember, emptyCounts } from '../inventory/buildInventory.js';
import { makeProblem, worstSeverity, type Problem } from '../problems.js';
import type { CommonOptions } from '../progress.js';
import { resolveTargetDir } from '../filesystems/resolveTargetDir.js';
import { statFilesystem } from '../filesystems/statFilesystem.js';
import {
  SCHEMA_VERSION,
  type CheckResult,
  type PlanDocument,
  type PlanList,
  type PlanStage,
  type PlanStep,
  type Strategy,
} from '../types.js';
import {
  budgetStages,
  type LayoutPolicy,
  type StageDraft,
  type StageEvaluation,
} from './budgetStages.js';
import { chooseStrategy, layoutsToTry, type LayoutFit } from './chooseStrategy.js';
import { normalizeMemberRoot, relativeToRoot } from './memberRoot.js';
import { chooseConfigSource, lastValidCopy } from './chooseConfigSource.js';
import { collectMailmanMembers } from './collectMailmanMembers.js';
import { createMemberFilter } from './createMemberFilter.js';
import { makeStep, type StepContext } from './makeStep.js';
import { selectListNames } from './selectListNames.js';
import { resolveReserveOptions, type ReserveOptions } from './reservePolicy.js';

export interface PlanOptions extends CommonOptions, ReserveOptions {
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
  /** Hours of Mailman queue growth the inode reserve keeps room for (default 12). */
  growthWindowHours?: number;
  now?: Date;
}

type StageName = 'configs' | 'state' | 'archives' | 'files';

/** A member chosen for restoring, before it is placed under a root. */
interface Draft {
  stage: StageName;
  rel: string;
  entry: ArchiveEntry;
  sha256?: string;
  modeFrom?: string;
  /** For hard links: the link target's path relative to the member root. */
  linkRel?: string;
  /**
   * Restore only when nothing is at the targetPath: list state and archives on disk are newer
   * than any backup (every post archived since it is in the mbox only), so they are kept.
   */
  onlyIfMissing?: boolean;
}

interface Selection {
  walk: WalkResult;
  targetRoot: string;
  drafts: Draft[];
  lists: PlanList[];
  problems: Problem[];
  mailman: PlanDocument['mailman'];
  growthInodes: number;
  freshMtime: boolean;
}

const STAGE_ORDER: readonly StageName[] = ['configs', 'state', 'archives', 'files'];
const fmt = (n: number): string => n.toLocaleString('en-US');

async function looksLikeMailman(target: string): Promise<boolean> {
  return (await listNamesAt(target).catch(() => [])).length > 0;
}

async function selectMailman(
  archive: string | NodeJS.ReadableStream,
  target: string,
  options: PlanOptions,
): Promise<Selection> {
  const report: DoctorReport = await diagnoseMailman(target, {
    ...(options.now ? { now: options.now } : {}),
    ...(options.growthWindowHours !== undefined
      ? { growthWindowHours: options.growthWindowHours }
      : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const varDir = report.root;
  const onDisk = new Map(report.lists.map((list) => [list.name, list]));
  const wanted = selectListNames(report.lists, {
    ...(options.lists ? { lists: options.lists } : {}),
    ...(options.includeDegraded !== undefined ? { includeDegraded: options.includeDegraded } : {}),
  });
  const collection = await collectMailmanMembers(archive, {
    lists: wanted,
    withState: options.withState ?? false,
    withArchives: options.withArchives ?? false,
    ...(options.memberRoot !== undefined
      ? { memberRoot: normalizeMemberRoot(options.memberRoot) }
      : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
  if (wanted.size > 0 && collection.root === null) {
    throw new RestoreplanError(
      'MAILMAN_NOT_FOUND',
      'the archive holds no Mailman var dir (no lists/<name>/config.pck)',
      {
        hint: 'name the var dir inside the archive with --member-root, or use --profile none',
      },
    );
  }
  const root = collection.root ?? '';
  const problems: Problem[] = [];
  const lists: PlanList[] = [];
  const drafts: Draft[] = [];
  const running = report.mailmanRunning;

  for (const list of report.lists) {
    if (wanted.has(list.name)) continue;
    lists.push({
      name: list.name,
      status: list.status,
      action: 'skip',
      reason:
        list.status === 'ok'
          ? 'config.pck loads'
          : list.status === 'degraded'
            ? `degraded: Mailman ${list.mailmanAction} (add --include-degraded to restore config.pck instead)`
            : 'not selected (--lists)',
    });
  }
  for (const name of [...wanted].sort()) {
    const disk = onDisk.get(name);
    const status: PlanList['status'] = disk?.status ?? 'missing';
    const collected = collection.lists.get(name);
    if (disk?.locked) {
      lists.push({
        name,
        status,
        action: 'skip',
        reason: `locks/${name}.lock is held by a live process`,
      });
      problems.push(
        makeProblem(
          'list-locked',
          `${name}: its lock is held by a live process; not restored until it is released`,
          { list: name },
        ),
      );
      continue;
    }
    const chosen = chooseConfigSource(collected?.files);
    if (!chosen) {
      const seen = [
        ...(collected?.files.get('config.pck') ?? []),
        ...(collected?.files.get('config.pck.last') ?? []),
      ];
      const why =
        seen.length === 0
          ? 'the archive has no config.pck or config.pck.last for it'
          : `no copy in the archive loads (${seen.map((c) => `${c.entry.memberPath}: ${c.detail}`).join('; ')})`;
      lists.push({ name, status, action: 'skip', reason: why });
      problems.push(makeProblem('no-valid-copy', `${name}: ${why}`, { list: name }));
      continue;
    }
    const source = chosen.copy;
    const listRel = `lists/${name}`;
    if (!disk) {
      const dirEntry = collected?.listDir ?? {
        ...copyEntry(source.entry),
        type: 'dir' as const,
        size: 0,
        mode: 0o2775,
      };
      drafts.push({ stage: 'configs', rel: listRel, entry: dirEntry });
    }
    drafts.push({
      stage: 'configs',
      rel: `${listRel}/config.pck`,
      entry: source.entry,
      sha256: source.sha256,
      modeFrom: path.join(varDir, listRel, 'config.pck.last'),
    });
    lists.push({
      name,
      status,
      action: 'restore',
      source: source.entry.memberPath,
      reason: `${status === 'missing' ? 'not on disk' : (disk?.mailmanAction ?? status)}; config.pck from ${source.entry.memberPath}${chosen.fromPck ? '' : ' (the archive has no valid config.pck)'}`,
    });
    if (options.withState) {
      for (const file of ['request.pck', 'pending.pck'] as const) {
        const copy = lastValidCopy(collected?.files.get(file));
        // A state file that loads on disk is newer than the backup's: kept. A broken or
        // missing one is restored.
        const onDisk = disk?.stateFiles.find((f) => f.name === file);
        if (onDisk?.state === 'ok') continue;
        if (copy)
          drafts.push({
            stage: 'state',
            rel: `${listRel}/${file}`,
            entry: copy.entry,
            sha256: copy.sha256,
          });
      }
    }
    if (options.withArchives) {
      const latest = new Map<string, ArchiveEntry>();
      for (const entry of collected?.bulk ?? []) {
        latest.delete(entry.memberPath);
        latest.set(entry.memberPath, entry);
      }
      for (const entry of latest.values()) {
        const rel = relativeToRoot(entry.memberPath, root);
        if (rel === null || rel === '') continue;
        const draft: Draft = { stage: 'archives', rel, entry, onlyIfMissing: true };
        if (entry.type === 'hardlink') {
          const linkRel = relativeToRoot(entry.linkPath, root);
          if (linkRel === null) continue;
          draft.linkRel = linkRel;
        }
        drafts.push(draft);
      }
    }
  }
  if (running) {
    problems.push(
      makeProblem(
        'mailman-running',
        'Mailman is running: restored configs get the apply time as mtime so the qrunners reload them',
      ),
    );
  }
  return {
    walk: collection.walk,
    targetRoot: varDir,
    drafts,
    lists,
    problems,
    growthInodes: report.growthAllowance,
    freshMtime: running,
    mailman: {
      root: varDir,
      running,
      freshMtime: running,
      restartAdvised: false,
      note: running
        ? 'Mailman is running: restored configs get a fresh mtime, so the running qrunners reload them; no restart is needed'
        : 'Mailman is not running: start it after apply; the restored configs keep their mtime from the backup',
    },
  };
}

async function selectMembers(
  archive: string | NodeJS.ReadableStream,
  target: string,
  options: PlanOptions,
): Promise<Selection> {
  const filter = createMemberFilter(options);
  const latest = new Map<string, Draft>();
  const problems: Problem[] = [];
  const walk = await walkArchive(archive, {
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    onEntry(entry) {
      const rel = filter.accept(entry);
      if (rel === null) return;
      const draft: Draft = { stage: 'files', rel, entry: copyEntry(entry) };
      if (entry.type === 'hardlink') {
        const linkRel = relativeToRoot(entry.linkPath, filter.memberRoot);
        if (linkRel === null || linkRel === '') {
          problems.push(
            makeProblem(
              'hardlink-unresolved',
              `${entry.memberPath} links to ${entry.linkPath}, outside the member root: not restored`,
              { memberPath: entry.memberPath },
            ),
          );
          return;
        }
        draft.linkRel = linkRel;
      }
      // The last occurrence wins, and it is written last: move it to the end.
      latest.delete(entry.memberPath);
      latest.set(entry.memberPath, draft);
    },
  });
  problems.unshift(...filter.problems());
  return {
    walk,
    targetRoot: target,
    drafts: [...latest.values()],
    lists: [],
    problems,
    mailman: null,
    growthInodes: 0,
    freshMtime: false,
  };
}

interface Layout {
  strategy: Strategy;
  stages: StageDraft[];
  skipped: Problem[];
}

/** The drafts placed under one root: each a step (what exists there decides its write). */
interface Placement {
  root: string;
  placed: Array<{ stage: StageName; step: PlanStep }>;
  skipped: Problem[];
}

/**
 * Places the drafts under `root`: one lstat per step, so it is done once per root and the
 * layouts of every strategy are grouped from it (groupLayout).
 */
function placeDrafts(selection: Selection, root: string, drafts: readonly Draft[]): Placement {
  const context: StepContext = { freshMtime: selection.freshMtime, owners: new Map() };
  const archivalContext: StepContext = { ...context, freshMtime: false };
  const placed: Placement['placed'] = [];
  const skipped: Problem[] = [];
  const alternateRoot = root !== selection.targetRoot;
  const restoredRels = new Set(drafts.map((d) => d.rel));
  let kept = 0;
  for (const draft of drafts) {
    let linkTarget: string | undefined;
    if (draft.linkRel !== undefined) {
      linkTarget = path.join(root, draft.linkRel);
      // The link target is restored in this run, or already on disk as a file: linked (no
      // inode). Neither: its data is not in this selection, so the link is reported, not made.
      const onDisk = lstatSync(linkTarget, { throwIfNoEntry: false })?.isFile() ?? false;
      if (!restoredRels.has(draft.linkRel) && !onDisk) {
        skipped.push(
          makeProblem(
            'hardlink-unresolved',
            `${draft.entry.memberPath} links to ${draft.entry.linkPath}, which is neither restored nor on disk: skipped`,
            {
              memberPath: draft.entry.memberPath,
            },
          ),
        );
        continue;
      }
    }
    const decision = makeStep(
      root,
      draft.rel,
      draft.entry,
      // Mailman caches configs by mtime: only what it loads (configs, list state) needs the
      // apply time; archive pages keep the dates pipermail gave them.
      draft.stage === 'configs' || draft.stage === 'state' ? context : archivalContext,
      {
        ...(draft.sha256 !== undefined ? { sha256: draft.sha256 } : {}),
        ...(draft.modeFrom !== undefined
          ? { modeFrom: alternateRoot ? path.join(root, draft.rel) : draft.modeFrom }
          : {}),
        ...(linkTarget !== undefined ? { linkTarget } : {}),
      },
    );
    if (decision === null) continue;
    if ('step' in decision && draft.onlyIfMissing && decision.step.write === 'replace') {
      kept += 1;
      continue;
    }
    if ('skip' in decision) {
      skipped.push(
        makeProblem(
          'type-conflict',
          `${path.join(root, draft.rel)}: ${decision.skip}; ${draft.entry.memberPath} is not restored`,
          {
            targetPath: path.join(root, draft.rel),
          },
        ),
      );
      continue;
    }
    placed.push({ stage: draft.stage, step: decision.step });
  }
  if (kept > 0) {
    skipped.push(
      makeProblem(
        'kept-existing',
        `${kept} archive files already on disk are kept: they are newer than the backup's copies`,
      ),
    );
  }
  return { root, placed, skipped };
}

/**
 * A strategy's layout of placed steps: staged keeps one stage per kind, in order (configs,
 * state, archives); the others put everything in one stage. `keep` narrows the steps.
 */
function groupLayout(
  strategy: Strategy,
  placement: Placement,
  keep: (stage: StageName) => boolean = () => true,
): Layout {
  const byStage = new Map<string, StageDraft>();
  for (const { stage: kind, step } of placement.placed) {
    if (!keep(kind)) continue;
    const name = strategy === 'staged' ? kind : strategy;
    let stage = byStage.get(name);
    if (!stage) byStage.set(name, (stage = { name, root: placement.root, steps: [] }));
    stage.steps.push(step);
  }
  const stages = [...byStage.values()];
  if (strategy === 'staged') {
    stages.sort(
      (a, b) => STAGE_ORDER.indexOf(a.name as StageName) - STAGE_ORDER.indexOf(b.name as StageName),
    );
  }
  return { strategy, stages, skipped: [...placement.skipped] };
}

/**
 * The way out when a filesystem has no inode to spare (the incident): an existing file is
 * repaired by rewriting its contents in place, which needs no new inode even while it runs.
 */
function withRewrites(layout: Layout, onlyFirstStage = false): Layout | null {
  let changed = false;
  const stages = layout.stages.map((stage, index) => {
    if (onlyFirstStage && index > 0) return stage;
    return {
      ...stage,
      steps: stage.steps.map((step) => {
        if (step.write !== 'replace' || step.type !== 'file') return step;
        changed = true;
        return { ...step, write: 'rewrite' as const };
      }),
    };
  });
  return changed ? { ...layout, stages } : null;
}

function needsRewrite(evaluation: StageEvaluation): boolean {
  return evaluation.problems.some((p) => p.kind === 'peak-short');
}

interface Candidate {
  layout: Layout;
  evaluations: StageEvaluation[];
}

async function evaluate(layout: Layout, policy: LayoutPolicy): Promise<Candidate> {
  return { layout, evaluations: await budgetStages(layout.stages, policy) };
}

const fits = (c: Candidate): boolean => c.evaluations.every((e) => e.fits);
const firstFits = (c: Candidate): boolean => c.evaluations[0]?.fits ?? true;

async function evaluateWithRewrite(
  layout: Layout,
  policy: LayoutPolicy,
  firstOnly: boolean,
): Promise<Candidate> {
  const plain = await evaluate(layout, policy);
  const ok = firstOnly ? firstFits(plain) : fits(plain);
  if (ok) return plain;
  const failing = firstOnly ? plain.evaluations.slice(0, 1) : plain.evaluations;
  if (!failing.some(needsRewrite)) return plain;
  const rewritten = withRewrites(layout, firstOnly);
  return rewritten ? evaluate(rewritten, policy) : plain;
}

function describeShortfalls(candidate: Candidate): string[] {
  const lines: string[] = [];
  for (const evaluation of candidate.evaluations) {
    for (const problem of evaluation.problems) {
      if (problem.severity === 'critical') lines.push(problem.message);
    }
  }
  return lines;
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

function formatMiB(bytes: number): string {
  return `${Math.max(1, Math.ceil(bytes / 1048576))} MiB`;
}

function makePolicy(options: PlanOptions, selection: Selection): LayoutPolicy {
  return {
    ...resolveReserveOptions(options),
    growthInodes: selection.growthInodes,
    growthPath: selection.targetRoot,
  };
}

/**
 * `check --profile mailman`: the budget of exactly what `plan` would restore, all of it in
 * place (the pre-flight question is whether the live filesystem takes it, not how to stage it).
 */
export async function checkMailmanRestore(
  archive: string | NodeJS.ReadableStream,
  options: PlanOptions,
): Promise<CheckResult> {
  const target = await resolveTargetDir(options.target);
  const selection = await selectMailman(archive, target, options);
  const layout = groupLayout(
    'in-place',
    placeDrafts(selection, selection.targetRoot, selection.drafts),
  );
  const stages: StageDraft[] =
    layout.stages.length > 0
      ? layout.stages
      : [{ name: 'in-place', root: selection.targetRoot, steps: [] }];
  const [evaluation] = await budgetStages(stages, makePolicy(options, selection));
  const counts = emptyCounts();
  for (const stage of stages)
    for (const step of stage.steps) countMember(counts, step.type, step.size, 1);
  const problems = [...selection.problems, ...layout.skipped, ...(evaluation?.problems ?? [])];
  if (counts.entries === 0)
    problems.push(makeProblem('empty-selection', 'no list needs restoring from this archive'));
  const severity = worstSeverity(problems);
  return {
    schemaVersion: SCHEMA_VERSION,
    verdict: severity === 'critical' ? 'critical' : severity === 'warning' ? 'warning' : 'ok',
    selection: counts,
    filesystems: evaluation?.filesystems ?? [],
    problems,
  };
}

export async function planRestore(
  archive: string | NodeJS.ReadableStream,
  options: PlanOptions,
): Promise<PlanDocument> {
  const target = await resolveTargetDir(options.target);
  const profile = options.profile ?? ((await looksLikeMailman(target)) ? 'mailman' : 'none');
  const strategyWanted = options.strategy ?? 'auto';
  if (strategyWanted === 'alternate' && !options.staging) {
    throw new RestoreplanError('USAGE', '--strategy alternate needs --staging DIR', {
      hint: 'name a directory, normally on another filesystem, to restore into',
    });
  }
  const staging = options.staging ? await resolveTargetDir(options.staging) : null;
  const selection =
    profile === 'mailman'
      ? await selectMailman(archive, target, options)
      : await selectMembers(archive, target, options);
  const policy = makePolicy(options, selection);
  const targetRoot = selection.targetRoot;
  const drafts = selection.drafts;
  const problems = [...selection.problems];
  const device = (await statFilesystem(targetRoot)).device;

  let chosen: Candidate | null = null;
  let reason = '';
  let inPlace: Candidate | null = null;
  if (drafts.length === 0) {
    reason =
      profile === 'mailman'
        ? 'nothing to restore: no selected list needs it, or none can be restored from this archive'
        : 'nothing to restore: no member is selected';
    problems.push(makeProblem('empty-selection', reason));
  } else {
    const atTarget = placeDrafts(selection, targetRoot, drafts);
    const stagedLayout = groupLayout('staged', atTarget);
    const tries = layoutsToTry(strategyWanted, stagedLayout.stages.length, staging !== null);
    const evaluated: Partial<Record<Strategy, Candidate>> = {};
    if (tries['in-place']) {
      evaluated['in-place'] = await evaluateWithRewrite(
        groupLayout('in-place', atTarget),
        policy,
        false,
      );
    }
    if (tries.staged) evaluated.staged = await evaluateWithRewrite(stagedLayout, policy, true);
    if (tries.alternate && staging) {
      evaluated.alternate = await evaluate(
        groupLayout('alternate', placeDrafts(selection, staging, drafts)),
        {
          ...policy,
          growthPath: staging,
          growthInodes: 0,
        },
      );
    }
    const fitOf = (c: Candidate | undefined): LayoutFit | undefined =>
      c ? { fits: fits(c), firstFits: firstFits(c) } : undefined;
    const inPlaceFit = fitOf(evaluated['in-place']);
    const stagedFit = fitOf(evaluated.staged);
    const alternateFit = fitOf(evaluated.alternate);
    const choice = chooseStrategy({
      wanted: strategyWanted,
      stagedStages: stagedLayout.stages.length,
      hasStaging: staging !== null,
      ...(inPlaceFit ? { inPlace: inPlaceFit } : {}),
      ...(stagedFit ? { staged: stagedFit } : {}),
      ...(alternateFit ? { alternate: alternateFit } : {}),
    });
    inPlace = evaluated[choice.shown] ?? null;
    if (choice.strategy === 'in-place' && inPlace) {
      chosen = inPlace;
      reason = inPlace.layout.stages.some((s) => s.steps.some((step) => step.write === 'rewrite'))
        ? 'in place: no inode is free to spare, so existing files are repaired by rewriting their contents in place'
        : 'in place: everything fits on every filesystem with the reserve kept';
    } else if (choice.strategy === 'staged' && evaluated.staged) {
      const staged = evaluated.staged;
      chosen = staged;
      const later = staged.evaluations.filter((e) => !e.fits).map((e) => e.name);
      reason =
        later.length === 0
          ? `staged: ${staged.layout.stages.map((s) => s.name).join(' → ')}, each gated on the live budget`
          : `staged: the ${staged.layout.stages[0]?.name} stage fits now; ${later.join(', ')} do not fit yet — apply restores what fits, stops before them (exit 2), and resumes when room is made`;
    } else if (choice.strategy === 'alternate' && evaluated.alternate && staging) {
      const alternate = evaluated.alternate;
      chosen = alternate;
      // The cost of moving it back is the live target's demand, not the staging root's (which
      // also counts the parents created there, e.g. lists/ and archives/private/).
      const back =
        evaluated['in-place'] ?? (await evaluate(groupLayout('in-place', atTarget), policy));
      const need = totalDemand(back);
      reason = `alternate: everything lands under ${staging}; nothing is written under ${targetRoot}. Moving it back later takes about ${fmt(need.inodes)} inodes and ${formatMiB(need.bytes)} on ${targetRoot}'s filesystem`;
    }
    if (!chosen) {
      const shown = inPlace ?? (await evaluate(groupLayout('in-place', atTarget), policy));
      const hints = describeShortfalls(shown).slice(0, 4);
      const need = totalDemand(shown);
      const suggestions: string[] = [];
      if (options.withArchives) {
        if (drafts.some((d) => d.stage !== 'archives')) {
          const small = await evaluateWithRewrite(
            groupLayout('in-place', atTarget, (stage) => stage !== 'archives'),
            policy,
            false,
          );
          if (fits(small)) suggestions.push('drop --with-archives (the configs alone fit)');
        }
      }
      suggestions.push(
        `add --staging DIR on a filesystem with at least ${fmt(need.inodes)} free inodes and ${formatMiB(need.bytes)} free`,
      );
      reason = `does not fit: ${hints.join('; ')}. To make it fit: ${suggestions.join(', or ')}`;
      chosen = null;
      inPlace = shown;
    }
  }

  const result = chosen ?? inPlace;
  const stages: PlanStage[] = [];
  if (result) {
    result.layout.stages.forEach((stage, index) => {
      const evaluation = result.evaluations[index];
      stages.push({
        name: stage.name,
        root: stage.root,
        steps: stage.steps,
        budget: evaluation?.budget ?? [],
      });
    });
    problems.push(...result.layout.skipped);
    const rewrites = result.layout.stages.reduce(
      (n, s) => n + s.steps.filter((step) => step.write === 'rewrite').length,
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
    result.evaluations.forEach((evaluation, index) => {
      for (const problem of evaluation.problems) {
        // A later stage of a staged plan that does not fit yet is gated by apply, not fatal.
        if (
          chosen &&
          chosen.layout.strategy === 'staged' &&
          index > 0 &&
          problem.severity === 'critical'
        ) {
          problems.push({
            ...problem,
            severity: 'warning',
            message: `stage ${evaluation.name}: ${problem.message} (apply stops before it until room is made)`,
          });
        } else problems.push(problem);
      }
    });
  }
  const walk = selection.walk;
  return {
    schemaVersion: SCHEMA_VERSION,
    createdAt: (options.now ?? new Date()).toISOString(),
    feasible: drafts.length === 0 || chosen !== null,
    strategy: chosen ? chosen.layout.strategy : null,
    reason,
    archive: {
      path: walk.path === '-' ? '-' : path.resolve(walk.path),
      sizeBytes: walk.sizeBytes,
      mtime: walk.mtime,
      fingerprint: walk.fingerprint,
      compression: walk.compression,
      seekable: walk.seekable,
    },
    target: { path: targetRoot, device },
    mailman: selection.mailman,
    lists: selection.lists,
    stages,
    problems,
  };
}
