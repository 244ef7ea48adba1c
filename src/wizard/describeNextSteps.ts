/**
 * What the operator does after the wizard, in order. Mailman 2.1 caches each list's config by
 * mtime and shunts the mail of lists it cannot load, so restoring the files is not the end:
 * the service has to pick them up, and the shunted mail has to be requeued.
 */
import type { DoctorReport } from '../mailman/diagnoseMailman.js';
import { isListDown } from '../plan/selectListNames.js';
import type { ApplyResult, PlanDocument } from '../types.js';

export interface NextStepsInput {
  plan: PlanDocument;
  result: ApplyResult;
  /** The doctor's report after the apply (Mailman profile), or null. */
  after: DoctorReport | null;
  /** Where the plan was saved (for resuming), or null when it could not be saved. */
  planFile: string | null;
}

export function describeNextSteps({ plan, result, after, planFile }: NextStepsInput): string[] {
  const steps: string[] = [];
  const target = plan.target.path;
  if (result.status === 'stopped') {
    steps.push(
      planFile
        ? `The run stopped cleanly above the reserve. Free inodes or space on the filesystem, then resume with: restoreplan apply ${planFile} --yes`
        : 'The run stopped cleanly above the reserve. Free inodes or space, then run the wizard again: what is restored is kept.',
    );
  }
  if (result.status === 'failed') {
    const error = result.dryRun ? undefined : result.error;
    steps.push(
      `The run failed${error ? ` (${error.code})` : ''}: ${result.reason ?? 'see the journal'}. Nothing half-written remains; journal: ${result.journal}${error?.hint ? `. ${error.hint}` : ''}`,
    );
  }
  if (result.status === 'incomplete') {
    steps.push(
      `Not everything was restored: ${result.reason ?? 'see the skipped steps above'}. ${
        planFile
          ? `Once the cause is fixed, resume with: restoreplan apply ${planFile} --yes`
          : 'Once the cause is fixed, run the wizard again: what is restored is kept.'
      }`,
    );
  }
  if (plan.strategy === 'alternate' && result.restored.length > 0) {
    const root = plan.stages[0]?.root ?? 'the staging dir';
    steps.push(
      `Everything went to ${root}; ${target} is untouched. Move the files back once the live filesystem has room (restoreplan check shows the cost).`,
    );
  }
  const mailman = plan.mailman;
  const restored = result.restored.length > 0 && plan.strategy !== 'alternate';
  // The wave after the repair (issue 16): Mailman sends its backlog as soon as it runs, so
  // this comes before starting it.
  const drain = plan.drain;
  const waveShort = !!mailman && restored && drain?.fits === false;
  if (waveShort && drain) {
    const where = `${drain.mta === 'exim' ? 'Exim' : 'Postfix'}'s spool ${drain.spool} on ${drain.mountPoint}`;
    steps.push(
      `Before Mailman runs again: the mail it then hands to the MTA (${drain.peakMessages.toLocaleString('en-US')} messages, ${drain.inodes.toLocaleString('en-US')} inodes) does not fit in ${where} (drain-short above). Make room there first, or pace the release (bin/unshunt in batches, fewer outgoing runners); find a batch that fits with: restoreplan check ${plan.archive.path} --target ${target} --drain-batch N`,
    );
  }
  if (mailman && restored) {
    if (mailman.running) {
      steps.push(
        mailman.restartAdvised
          ? 'Restart Mailman so every qrunner loads the restored configs: mailmanctl restart (or systemctl restart mailman).'
          : 'Mailman is running: the restored configs carry a fresh mtime, so the qrunners reload them; a restart (mailmanctl restart) is the surest.',
      );
    } else {
      steps.push('Start Mailman: mailmanctl start (or systemctl start mailman).');
    }
  }
  if (after) {
    const shunted = after.queues.shunt?.files ?? 0;
    if (shunted > 0 && restored) {
      steps.push(
        waveShort
          ? `${shunted} messages were shunted while lists were down: once Mailman runs again, requeue them with bin/unshunt in batches (the wave does not fit at once; see above).`
          : `${shunted} messages were shunted while lists were down: once Mailman runs again, requeue them with bin/unshunt (check free inodes first: each is one file).`,
      );
    }
    const down = after.lists.filter((l) => isListDown(l.status));
    const degraded = after.lists.filter((l) => l.status === 'degraded').map((l) => l.name);
    if (down.length > 0) {
      steps.push(
        `Still down: ${down.map((l) => `${l.name} (${l.status})`).join(', ')} (the archive had no valid copy, or they were not selected). See docs/problems/list-${down[0]?.status ?? 'corrupt'}.md.`,
      );
    }
    if (degraded.length > 0) {
      steps.push(
        `Degraded, left to Mailman's fallback: ${degraded.join(', ')}. On its next load Mailman writes config.pck and config.pck.safety (2 new inodes per list); to restore config.pck instead: restoreplan plan ${plan.archive.path} --target ${target} --include-degraded.`,
      );
    }
  }
  steps.push(
    mailman
      ? `Check again: restoreplan doctor ${mailman.root}`
      : `Check again: restoreplan check ARCHIVE --target ${target}`,
  );
  return steps;
}
