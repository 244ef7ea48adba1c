/**
 * `restoreplan wizard`: the operator's path through an outage. The same core calls as the
 * commands (doctor, scan, plan, apply), shown with the commands' own renderers, with a prompt
 * wherever a choice is made. Every default is the planner's recommendation, so Enter at every
 * prompt carries out the recommended feasible plan; nothing is written before the final
 * confirmation, so Ctrl-C at any prompt leaves the machine as it was.
 */
import os from 'node:os';
import path from 'node:path';

import { applyPlan } from '../apply/applyPlan.js';
import { writeFileAtomic } from '../apply/writeFileAtomic.js';
import { exitCodeForApply } from '../cli/commands/apply.js';
import { renderApply } from '../cli/commands/renderApply.js';
import { formatListSummary, renderDoctor } from '../cli/commands/renderDoctor.js';
import { renderPlan } from '../cli/commands/renderPlan.js';
import { renderScan } from '../cli/commands/scan.js';
import { EXIT, type ExitCode } from '../cli/exitCodes.js';
import { writeLine, writeWrapped, type Io, type Verbosity } from '../cli/output.js';
import type { ProgressDisplay } from '../cli/progressBar.js';
import { isRestoreplanError, RestoreplanError } from '../errors.js';
import { diagnoseMailman, type DoctorReport } from '../mailman/diagnoseMailman.js';
import { planRestore, type PlanOptions } from '../plan/planRestore.js';
import { isListDown } from '../plan/selectListNames.js';
import type { ArchiveIndexSetting } from '../progress.js';
import { scanArchive } from '../scanArchive.js';
import type { PlanDocument, Strategy } from '../types.js';
import {
  createPrompts,
  isPromptCancelled,
  type Choice,
  type WizardPrompts,
} from './createPrompts.js';
import { describeNextSteps } from './describeNextSteps.js';
import { validateArchivePath, validateTargetDir } from './validatePaths.js';

export interface WizardOptions {
  io: Io;
  archive?: string;
  target?: string;
  progress: ProgressDisplay;
  signal?: AbortSignal;
  /** The archive index setting (--index-dir / --no-index). */
  index?: ArchiveIndexSetting;
  /** Where the plan is saved for a resume (default: the temp dir). */
  planDir?: string;
  /** --quiet / --verbose: passed to the commands' renderers. */
  verbosity?: Verbosity;
  /** Test seam: answers instead of the terminal. */
  prompts?: WizardPrompts;
}

type Extra = 'state' | 'archives';

const NON_INTERACTIVE =
  'restoreplan doctor DIR, restoreplan plan ARCHIVE --target DIR --out PLAN, restoreplan apply PLAN --yes';

export async function runWizard(options: WizardOptions): Promise<ExitCode> {
  const { io } = options;
  const tty = (stream: unknown): boolean => (stream as { isTTY?: boolean }).isTTY === true;
  if (!options.prompts && !(tty(io.stdin) && tty(io.stdout))) {
    throw new RestoreplanError(
      'NOT_INTERACTIVE',
      `the wizard needs a terminal; without one use: ${NON_INTERACTIVE}`,
      { hint: 'see docs/runbook.md for the same steps in a script' },
    );
  }
  const prompts = options.prompts ?? createPrompts(io, options.signal);
  try {
    return await converse(options, prompts);
  } catch (error) {
    if (isPromptCancelled(error) || (isRestoreplanError(error) && error.code === 'ABORTED')) {
      options.progress.done();
      writeLine(io);
      writeWrapped(io, 'Cancelled: nothing was written.');
      return EXIT.UNKNOWN;
    }
    throw error;
  }
}

async function converse(options: WizardOptions, prompts: WizardPrompts): Promise<ExitCode> {
  const { io, progress } = options;
  // The same screens as the commands: the lists needing attention first, the rest summed up.
  const screen = { verbosity: options.verbosity ?? 'normal' } as const;
  const common = {
    onProgress: progress.onProgress,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.index !== undefined ? { index: options.index } : {}),
  };
  const archive = await askPath(prompts, options.archive, validateArchivePath, {
    message: 'Backup archive (tar, tar.gz, tar.zst, ...):',
  });
  const target = await askPath(prompts, options.target, validateTargetDir, {
    message: 'Restore into (the live directory, e.g. the Mailman var dir):',
    default: '/var/lib/mailman',
  });

  const before = await diagnoseOrNull(target, common);
  progress.done();
  if (before) {
    heading(io, 'Diagnosis (restoreplan doctor)');
    renderDoctor(io, before, screen);
  }
  heading(io, 'Backup (restoreplan scan)');
  const scan = await scanArchive(archive, { ...common, depth: 2, targets: [target] });
  progress.done();
  renderScan(io, scan, screen);

  const base: PlanOptions = { target, ...common };
  let plan = await planRestore(archive, base);
  progress.done();
  const recommended = plan;
  heading(io, 'Recommended plan (restoreplan plan)');
  renderPlan(io, plan, null, screen);

  const choice: PlanOptions = { ...base };
  let changed = false;
  if (plan.mailman) {
    const lists = await askLists(prompts, plan);
    const defaults = restoredLists(plan);
    if (lists.length !== defaults.length || lists.some((name) => !defaults.includes(name))) {
      if (lists.length === 0) {
        writeWrapped(io, 'No list selected: nothing to restore; nothing was written.');
        return EXIT.OK;
      }
      choice.lists = lists;
      changed = true;
    }
    const extras = await prompts.checkbox<Extra>({
      message: 'Restore more than the config of the selected lists?',
      choices: [
        {
          value: 'state',
          name: 'list state (request.pck, pending.pck: held messages, pending confirmations)',
        },
        {
          value: 'archives',
          name: 'pipermail archives (one file per post: the bulk that exhausts inodes)',
        },
      ],
    });
    if (extras.includes('state')) choice.withState = true;
    if (extras.includes('archives')) choice.withArchives = true;
    changed ||= extras.length > 0;
  }
  const strategy = await askStrategy(prompts, plan);
  if (strategy !== plan.strategy) {
    choice.strategy = strategy;
    if (strategy === 'alternate') {
      choice.staging = (
        await prompts.input({
          message: 'Staging directory (normally on another filesystem):',
          validate: validateTargetDir,
        })
      ).trim();
    }
    changed = true;
  } else if (plan.strategy) {
    // Pin what was recommended: a re-plan for other lists must not quietly switch strategy.
    choice.strategy = plan.strategy;
  }
  if (changed) {
    plan = await planRestore(archive, choice);
    progress.done();
    heading(io, 'Your plan');
    renderPlan(io, plan, null, screen);
  }

  const steps = plan.stages.reduce((n, stage) => n + stage.steps.length, 0);
  if (steps === 0) {
    writeWrapped(
      io,
      'Nothing to restore: every selected file is already in place. Nothing was written.',
    );
    return EXIT.OK;
  }
  if (!plan.feasible) {
    writeWrapped(io, `This plan does not fit: ${plan.reason}`);
    writeWrapped(
      io,
      recommended.feasible
        ? 'Run the wizard again and keep the recommended choices, or free inodes first.'
        : 'Free inodes or space first, or choose the alternate strategy with a staging directory on another filesystem.',
    );
    writeWrapped(io, 'Nothing was written.');
    return EXIT.CRITICAL;
  }
  const roots = [...new Set(plan.stages.filter((s) => s.steps.length > 0).map((s) => s.root))];
  const go = await prompts.confirm({
    message: `Restore ${steps} path${steps === 1 ? '' : 's'} under ${roots.join(' and ')} now (${plan.strategy})?`,
    default: true,
  });
  if (!go) {
    writeWrapped(io, 'Not confirmed: nothing was written.');
    return EXIT.UNKNOWN;
  }

  const planFile = await savePlan(plan, options.planDir ?? os.tmpdir());
  heading(io, 'Restoring');
  const result = await applyPlan(planFile ?? plan, common);
  progress.done();
  renderApply(io, result, undefined, screen);

  const after = plan.mailman ? await diagnoseOrNull(plan.mailman.root, common) : null;
  progress.done();
  if (after) {
    writeWrapped(io, `Doctor now: ${formatListSummary(after.summary)}.`);
  }
  heading(io, 'Next steps');
  describeNextSteps({ plan, result, after, planFile }).forEach((line, i) =>
    writeWrapped(io, `${i + 1}. ${line}`),
  );
  // A list still down after the run is never an OK ending, whatever apply did.
  const stillDown = after?.lists.some((list) => isListDown(list.status)) ?? false;
  return stillDown ? EXIT.CRITICAL : exitCodeForApply(result);
}

async function askPath(
  prompts: WizardPrompts,
  given: string | undefined,
  validate: (value: string) => Promise<true | string>,
  question: { message: string; default?: string },
): Promise<string> {
  if (given !== undefined) {
    const verdict = await validate(given);
    if (verdict !== true) throw new RestoreplanError('USAGE', verdict);
    return path.resolve(given);
  }
  const suggested = question.default;
  const ask = {
    message: question.message,
    validate,
    // Offer a default only when it would pass, so Enter never leads to an error.
    ...(suggested !== undefined && (await validate(suggested)) === true
      ? { default: suggested }
      : {}),
  };
  return path.resolve((await prompts.input(ask)).trim());
}

async function diagnoseOrNull(
  target: string,
  common: Pick<PlanOptions, 'signal' | 'onProgress'>,
): Promise<DoctorReport | null> {
  try {
    return await diagnoseMailman(target, common);
  } catch (error) {
    // Not a Mailman var dir: the wizard restores plain files, without the diagnosis.
    if (isRestoreplanError(error) && error.code === 'MAILMAN_NOT_FOUND') return null;
    throw error;
  }
}

function restoredLists(plan: PlanDocument): string[] {
  return plan.lists.filter((l) => l.action === 'restore').map((l) => l.name);
}

/** Down lists first, then the ones the backup holds that were removed, then the rest. */
const URGENCY = { corrupt: 0, lost: 0, missing: 0, removed: 1, degraded: 2, ok: 3 } as const;

async function askLists(prompts: WizardPrompts, plan: PlanDocument): Promise<string[]> {
  const lists = [...plan.lists].sort(
    (a, b) => URGENCY[a.status] - URGENCY[b.status] || a.name.localeCompare(b.name),
  );
  return prompts.checkbox<string>({
    message: 'Lists to restore (space toggles; the recommended ones are checked):',
    choices: lists.map((list) => ({
      value: list.name,
      name: `${list.name} (${list.status})`,
      description: list.reason,
      checked: list.action === 'restore',
    })),
  });
}

const STRATEGY_TEXT: Record<Strategy, string> = {
  'in-place': 'in place: each file straight to its final path (temp file + rename)',
  staged: 'staged: configs first, then state, then bulk; each stage re-checks free inodes',
  alternate: 'alternate: everything under a staging dir on another filesystem; live dir untouched',
};

async function askStrategy(prompts: WizardPrompts, plan: PlanDocument): Promise<Strategy> {
  // When nothing fits in place, the way out is another filesystem: offer that first.
  const best: Strategy = plan.strategy ?? 'alternate';
  const order: Strategy[] = [
    best,
    ...(['in-place', 'staged', 'alternate'] as const).filter((s) => s !== best),
  ];
  const choices: Choice<Strategy>[] = order.map((s) => ({
    value: s,
    name: s === best ? `${STRATEGY_TEXT[s]}  (recommended)` : STRATEGY_TEXT[s],
  }));
  return prompts.select<Strategy>({ message: 'How to restore:', choices, default: best });
}

/**
 * The plan as a file, so a stopped run can be resumed with `restoreplan apply FILE`. Written by
 * apply's writer: the temp file is created O_EXCL|O_NOFOLLOW under a random name. The directory
 * is /tmp by default, writable by every local user, and the old fixed temp name
 * (`<file>.tmp`, from the time and the pid) was opened following a symlink planted there: the
 * wizard, run as root, wrote the plan through it onto any file.
 */
export async function savePlan(plan: PlanDocument, dir: string): Promise<string | null> {
  const stamp = plan.createdAt.replace(/[:.]/g, '-');
  const file = path.join(dir, `restoreplan-wizard-${stamp}-${process.pid}.json`);
  try {
    await writeFileAtomic(file, Buffer.from(`${JSON.stringify(plan, null, 2)}\n`), {
      mode: 0o600,
    });
    return file;
  } catch {
    // A temp dir with no inode left (the incident itself) must not stop the restore.
    return null;
  }
}

function heading(io: Io, title: string): void {
  writeLine(io);
  writeWrapped(io, `== ${title} ==`);
}
