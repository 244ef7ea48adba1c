/**
 * The options of the drain after a repair (--mta, --mta-spool, --drain-batch), apart from the
 * measurement (measureDrain) so that the command line can parse them without loading it: every
 * command's startup pays for what its definition imports.
 */
import { RestoreplanError } from '../errors.js';

export type MtaChoice = 'auto' | 'exim' | 'postfix' | 'none';

export interface DrainOptions {
  /** Which MTA takes Mailman's mail: detected by default; `none` measures no drain. */
  mta?: MtaChoice;
  /** The MTA's spool (Exim's spool_directory, Postfix's queue_directory), instead of asking it. */
  mtaSpool?: string;
  /** Messages the operator releases at once: the drain's peak (default: the whole backlog). */
  drainBatch?: number;
  signal?: AbortSignal;
}

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
