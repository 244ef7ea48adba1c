/**
 * The wave after the repair (issue 16): once the repaired lists load, Mailman hands its backlog
 * to the MTA — every message a file or more in the MTA's spool, usually on the root filesystem
 * the repair just spent inodes on. This budgets that drain as a stage after the repair, on the
 * spool's filesystem, by the same verdict rule as the repair itself (evaluateBudget): the
 * repair's own demand there, plus the peak of the drain (the whole backlog queued at once, or
 * `drainBatch` messages when the operator paces the release), must leave the reserve free.
 *
 * Used by decideRestore (hence check and plan of the Mailman profile, and the wizard through
 * plan): one drain, one rule. A drain that does not fit is a warning, not a refusal: the repair
 * itself can run, but the operator must pace the release or make room first — the problem says
 * how.
 */
import { summarizeBacklog } from '../mailman/countBacklog.js';
import { measureDrain, type DrainOptions } from '../mailman/measureDrain.js';
import { makeProblem, type Problem } from '../problems.js';
import type { DrainBudget } from '../types.js';
import { evaluateBudget, type BudgetPolicy } from './evaluateBudget.js';
import type { Demand } from './judgeBudget.js';

export type { DrainOptions, MtaChoice } from '../mailman/measureDrain.js';
export { parseDrainBatch } from '../mailman/measureDrain.js';

export interface DrainInput {
  varDir: string;
  /** The lists the repair restores: their shunted posts are released with `bin/unshunt`. */
  repairedLists: string[];
  /** The repair's own net demand per mount point (none where it writes nothing). */
  restoreDemand: (mountPoint: string) => Demand | null;
  /** The reserve policy of a filesystem (the growth allowance only where the live system grows). */
  policyFor: (mountPoint: string) => BudgetPolicy;
}

const fmt = (n: number): string => n.toLocaleString('en-US');

export async function budgetDrain(
  input: DrainInput,
  options: DrainOptions,
): Promise<{ drain: DrainBudget | null; problems: Problem[] }> {
  const measured = await measureDrain(input.varDir, input.repairedLists, options);
  if (measured === null) return { drain: null, problems: [] };
  if ('unknown' in measured) {
    return {
      drain: null,
      problems: [
        makeProblem(
          'drain-unknown',
          `the MTA could not be asked where its spool is (${measured.unknown}): the wave after the repair is not budgeted; name it with --mta and --mta-spool`,
        ),
      ],
    };
  }
  const { mta, backlog, fs, batch, peakMessages, inodes, blocks } = measured;
  const repair = input.restoreDemand(fs.mountPoint);
  const base: Demand = repair ?? { inodes: 0, peakInodes: 0, blocks: 0, peakBlocks: 0 };
  const withDrain: Demand = {
    inodes: base.inodes + inodes,
    peakInodes: Math.max(base.peakInodes, base.inodes + inodes),
    blocks: base.blocks + blocks,
    peakBlocks: Math.max(base.peakBlocks, base.blocks + blocks),
  };
  const policy = input.policyFor(fs.mountPoint);
  const alone = evaluateBudget(fs, base, policy);
  const after = evaluateBudget(fs, withDrain, policy);
  const fits = after.budget.verdict !== 'critical';
  const drain: DrainBudget = {
    mta: mta.kind,
    spool: mta.spool,
    mountPoint: fs.mountPoint,
    backlog: summarizeBacklog(backlog),
    queuedNow: measured.queuedNow,
    batch,
    peakMessages,
    inodes,
    blocks,
    bytes: blocks * fs.blockSize,
    inodesFreeAfter: after.budget.inodes.freeAfter,
    inodeReserve: after.budget.inodes.reserve,
    blocksAvailableAfter: after.budget.blocks.availableAfter,
    fits,
  };
  const problems: Problem[] = [];
  if (!fits) {
    const repairFits = alone.budget.verdict !== 'critical';
    const where = `${mta.kind === 'exim' ? 'Exim' : 'Postfix'}'s spool ${mta.spool} on ${fs.mountPoint}`;
    const pace =
      mta.kind === 'exim'
        ? 'fewer Exim queue runners (queue_run_max)'
        : 'a lower smtp_destination_concurrency_limit in Postfix';
    const shortBy = after.problems.find((p) => p.severity === 'critical')?.message ?? '';
    problems.push(
      makeProblem(
        'drain-short',
        `${repairFits ? 'the repair fits, but the wave after it does not' : 'neither the repair nor the wave after it fits'}: ${fmt(peakMessages)} messages${batch !== null ? ` (a batch of ${fmt(batch)})` : ''} from Mailman's queues (${fmt(backlog.queues.out.mtaMessages + backlog.queues.virgin.mtaMessages + backlog.queues.retry.mtaMessages)} addressed in qfiles/out, virgin and retry, ${fmt(backlog.queues.in.mtaMessages)} from posts waiting in qfiles/in, ${fmt(backlog.shunt.mtaMessages)} from shunted posts of the repaired lists${backlog.total.unknownRecipients > 0 ? `, ${fmt(backlog.total.unknownRecipients)} with recipients unknown, counted as 1` : ''}) take ${fmt(inodes)} inodes and ${fmt(blocks)} blocks in ${where}: ${shortBy}. Pace the release (bin/unshunt in batches, fewer OutgoingRunner slices in mm_cfg.QRUNNERS, ${pace}; budget it with --drain-batch N), or make room there first`,
        { mountPoint: fs.mountPoint },
      ),
    );
  }
  return { drain, problems };
}
