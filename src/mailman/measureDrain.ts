/**
 * What the wave after a repair takes in the MTA's spool (issue 16): the MTA (detected or
 * named), Mailman's backlog as the MTA will queue it (countBacklog), and the inodes and blocks
 * of its peak (costMtaMessages) — one measurement for plan's budget of the drain (budgetDrain)
 * and for doctor's backlog and forecast, so the two cannot disagree on the number.
 */
import { RestoreplanError } from '../errors.js';
import { statFilesystem, type FilesystemInfo } from '../filesystems/statFilesystem.js';
import { costMtaMessages } from './costMtaMessages.js';
import { countBacklog, type MailmanBacklog } from './countBacklog.js';
import { countMtaQueue } from './countMtaQueue.js';
import { detectMta } from './detectMta.js';
import type { MtaInfo } from './MtaInfo.js';
import type { DrainOptions } from './drainOptions.js';
import { readSpoolLayout } from './readSpoolLayout.js';

export type { DrainOptions, MtaChoice } from './drainOptions.js';
export { parseDrainBatch } from './drainOptions.js';

export interface DrainMeasure {
  mta: MtaInfo;
  backlog: MailmanBacklog;
  /** Messages the MTA holds already (null when its spool could not be read). */
  queuedNow: number | null;
  /** The spool's filesystem (its nearest existing parent's when the spool is not made yet). */
  fs: FilesystemInfo;
  batch: number | null;
  peakMessages: number;
  inodes: number;
  blocks: number;
}

/**
 * The measurement, or null when there is nothing to measure (no MTA on the machine with
 * `auto`, or `none`), or `{ unknown }` when an MTA is there but could not be asked (`auto`
 * only: named with --mta, its failure is the caller's error).
 */
export type DrainMeasurement = DrainMeasure | { unknown: string } | null;

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

export async function measureDrain(
  varDir: string,
  shuntedLists: readonly string[],
  options: DrainOptions,
): Promise<DrainMeasurement> {
  const choice = options.mta ?? 'auto';
  if (choice === 'none') return null;
  let mta: MtaInfo | null;
  try {
    mta = await detectMta({
      mta: choice,
      ...(options.mtaSpool !== undefined ? { spool: options.mtaSpool } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch (error) {
    // Asked for by name, or its spool named: its failure is the command's (a typo in
    // --mta-spool must not read as "nothing to budget"). Detected: the rest is still judged.
    if (choice !== 'auto' || options.mtaSpool !== undefined) throw error;
    if (!(error instanceof RestoreplanError)) throw error;
    return { unknown: error.message };
  }
  // No MTA on this machine: a Mailman host without a local MTA hands its mail to a smarthost.
  if (!mta) return null;
  const backlog = await countBacklog(varDir, {
    shuntedLists,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  // The wave is delivered by a running MTA: Postfix with its master (queue file + defer log).
  const running: MtaInfo = mta.kind === 'postfix' ? { ...mta, masterRunning: true } : mta;
  const [layout, queued, fs] = await Promise.all([
    readSpoolLayout(running),
    countMtaQueue(running).catch(() => null),
    // A spool not made yet: statFilesystem probes its nearest existing ancestor.
    statFilesystem(mta.spool),
  ]);
  const batch = options.drainBatch ?? null;
  const sizes = peakSizes(backlog, batch);
  const peakMessages = sizes.reduce((n, s) => n + s.messages, 0);
  const base = { mta, backlog, queuedNow: queued?.messages ?? null, fs, batch, peakMessages };
  if (peakMessages === 0) return { ...base, inodes: 0, blocks: 0 };
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
  return { ...base, inodes: whole.inodes, blocks };
}
