/**
 * What apply checks of a run, after the plan document itself (validatePlan) and before it reads
 * the archive or writes anything: that the operator confirmed what only --allow-special
 * restores, and — run as root — that the journal is one only root could have written
 * (checkFileTrust).
 */
import { RestoreplanError } from '../errors.js';
import type { PlanDocument } from '../types.js';
import { checkFileLocation } from './checkFileTrust.js';
import { countSpecialSteps } from './validatePlan.js';

/** `2 setuid/setgid files, 1 fifo`: what a plan holds that needs --allow-special, or ''. */
export function describeSpecialSteps(plan: PlanDocument): string {
  const { setid, fifos, devices } = countSpecialSteps(plan);
  return [
    setid > 0 ? `${setid} ${setid === 1 ? 'path' : 'paths'} with setuid/setgid bits` : '',
    fifos > 0 ? `${fifos} ${fifos === 1 ? 'fifo' : 'fifos'}` : '',
    devices > 0
      ? `${devices} device ${devices === 1 ? 'node' : 'nodes'} (never created: skipped)`
      : '',
  ]
    .filter(Boolean)
    .join(', ');
}

/**
 * Setuid/setgid bits, fifos and device nodes are restored only from a plan made with
 * --allow-special (validatePlan) AND when the operator confirms them on apply: the prompt, or
 * --allow-special (`allowSpecial`) with --yes. A dry run only shows them.
 */
export function requireSpecialConsent(
  plan: PlanDocument,
  options: { dryRun?: boolean; allowSpecial?: boolean },
): void {
  if (options.dryRun || options.allowSpecial) return;
  const special = describeSpecialSteps(plan);
  if (special === '') return;
  throw new RestoreplanError(
    'CONFIRMATION_REQUIRED',
    `the plan (made with --allow-special) restores ${special}: confirm them with --allow-special; nothing was written`,
    {
      hint: 'read them in restoreplan apply PLAN --dry-run, then run apply PLAN --allow-special (with --yes in a script), or make a plan without --allow-special',
    },
  );
}

export async function checkRunTrust(
  plan: PlanDocument,
  journalPath: string,
  options: { dryRun?: boolean; allowSpecial?: boolean },
): Promise<void> {
  requireSpecialConsent(plan, options);
  await checkFileLocation('journal', journalPath);
}
