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
import { RestoreplanError } from '../errors.js';
import { statFilesystem, type FilesystemInfo } from '../filesystems/statFilesystem.js';
import { costMtaMessages } from '../mailman/costMtaMessages.js';
import { countBacklog, type MailmanBacklog } from '../mailman/countBacklog.js';
import { countMtaQueue } from '../mailman/countMtaQueue.js';
import { detectMta } from '../mailman/detectMta.js';
import type { MtaInfo } from '../mailman/MtaInfo.js';
import { readSpoolLayout } from '../mailman/readSpoolLayout.js';
import { makeProblem, type Problem } from '../problems.js';
import type { DrainBudget } from '../types.js';
import { evaluateBudget, type BudgetPolicy } from './evaluateBudget.js';
import type { Demand } from './judgeBudget.js';

export type MtaChoice = 'auto' | 'exim' | 'postfix' | 'none';

export interface DrainOptions {
  /** Which MTA takes Mailman's mail: detected by default; `none` budgets no drain. */
  mta?: MtaChoice;
  /** The MTA's spool (Exim's spool_directory, Postfix's queue_directory), instead of asking it. */
  mtaSpool?: string;
  /** Messages the operator releases at once: the drain's peak (default: the whole backlog). */
  drainBatch?: number;
  signal?: AbortSignal;
}

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

/** `--drain-batch N`: a whole number of messages, 1 or more. */
export function parseDrainBatch(spec: string | number): number {
  const value = typeof spec === 'number' ? spec : /^\d+$/.test(spec.trim()) ? Number(spec) : NaN;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new RestoreplanError(
      'USAGE',
      `--drain-batch ${JSON.stringify(String(spec))}: expected a number of messages, 1 or more`,
      { option: '--drain-batch', value: String(spec) },
    );
  }
  return value;
}

/** The peak of the drain: the largest messages first when a batch is released at a time. */
function peakSizes(backlog: MailmanBacklog, batch: number | null): MailmanBacklog['sizes'] {
  if (batch === null) return backlog.sizes;
  const peak: MailmanBacklog['sizes'] = [];
  let left = batch;
  for (const size of [...backlog.sizes].sort((a, b) => b.bytes - a.bytes)) {
    if (left <= 0) break;
    const messages = Math.min(left, size.messages);
    peak.push({ bytes: size.bytes, messages });
    left -= messages;
  }
  return peak;
}

/** The spool's filesystem: the spool's own, or its nearest existing parent's (not made yet). */
async function statSpool(spool: string): Promise<FilesystemInfo> {
  let dir = spool;
  for (;;) {
    try {
      return await statFilesystem(dir);
    } catch (error) {
      const parent = dir.replace(/\/[^/]*\/?$/, '') || '/';
      if (parent === dir) throw error;
      dir = parent;
    }
  }
}

export async function budgetDrain(
  input: DrainInput,
  options: DrainOptions,
): Promise<{ drain: DrainBudget | null; problems: Problem[] }> {
  const choice = options.mta ?? 'auto';
  if (choice === 'none') return { drain: null, problems: [] };
  let mta: MtaInfo | null;
  try {
    mta = await detectMta({
      mta: choice,
      ...(options.mtaSpool ? { spool: options.mtaSpool } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch (error) {
    // Asked for by name: its failure is the command's. Detected: the repair is still judged.
    if (choice !== 'auto' || !(error instanceof RestoreplanError)) throw error;
    return {
      drain: null,
      problems: [
        makeProblem(
          'drain-unknown',
          `the MTA could not be asked where its spool is (${error.message}): the wave after the repair is not budgeted; name it with --mta and --mta-spool`,
        ),
      ],
    };
  }
  // No MTA on this machine (none installed, --mta auto): nothing to budget, nothing to say —
  // a Mailman host without a local MTA hands its mail to a smarthost.
  if (!mta) return { drain: null, problems: [] };
  const backlog = await countBacklog(input.varDir, {
    shuntedLists: input.repairedLists,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  // The wave is delivered by a running MTA: Postfix with its master (queue file + defer log).
  const running: MtaInfo = mta.kind === 'postfix' ? { ...mta, masterRunning: true } : mta;
  const [layout, queued, fs] = await Promise.all([
    readSpoolLayout(running),
    countMtaQueue(running).catch(() => null),
    statSpool(mta.spool),
  ]);
  const batch = options.drainBatch ?? null;
  const sizes = peakSizes(backlog, batch);
  const peakMessages = sizes.reduce((n, s) => n + s.messages, 0);
  // Inodes, one-time costs and directory growth do not depend on the size; the blocks of each
  // message do (each file rounds up to a block): summed per size.
  const whole = costMtaMessages(
    running,
    layout,
    { count: peakMessages, bytesEach: 1024 },
    fs.blockSize,
  );
  let blocks = whole.oneTime.blocks + whole.directoryGrowth;
  for (const size of sizes) {
    const one = costMtaMessages(running, layout, { count: 1, bytesEach: size.bytes }, fs.blockSize);
    blocks += one.perMessage.blocks * size.messages;
  }
  const inodes = peakMessages === 0 ? 0 : whole.inodes;
  if (peakMessages === 0) blocks = 0;
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
    backlog: {
      entries: backlog.total.entries,
      messages: backlog.total.mtaMessages,
      out: backlog.queues.out.mtaMessages,
      virgin: backlog.queues.virgin.mtaMessages,
      retry: backlog.queues.retry.mtaMessages,
      in: backlog.queues.in.mtaMessages,
      shunt: backlog.shunt.mtaMessages,
      shuntedLists: backlog.shunt.lists,
      unknownRecipients: backlog.total.unknownRecipients,
    },
    queuedNow: queued?.messages ?? null,
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
        `${repairFits ? 'the repair fits, but the wave after it does not' : 'neither the repair nor the wave after it fits'}: ${fmt(peakMessages)} messages${batch !== null ? ` (a batch of ${fmt(batch)})` : ''} from Mailman's queues (${fmt(backlog.queues.out.mtaMessages)} out, ${fmt(backlog.queues.in.mtaMessages)} from posts waiting in qfiles/in, ${fmt(backlog.shunt.mtaMessages)} from shunted posts of the repaired lists${backlog.total.unknownRecipients > 0 ? `, ${fmt(backlog.total.unknownRecipients)} with recipients unknown, counted as 1` : ''}) take ${fmt(inodes)} inodes and ${fmt(blocks)} blocks in ${where}: ${shortBy}. Pace the release (bin/unshunt in batches, fewer OutgoingRunner slices in mm_cfg.QRUNNERS, ${pace}; budget it with --drain-batch N), or make room there first`,
        { mountPoint: fs.mountPoint },
      ),
    );
  }
  return { drain, problems };
}
