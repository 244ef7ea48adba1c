import type { Command } from 'commander';

import { RestoreplanError } from '../../errors.js';
import { parseDrainBatch, type MtaChoice } from '../../mailman/drainOptions.js';
import type { ReserveOptions } from '../../plan/reservePolicy.js';

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/**
 * The selection and reserve flags `check` and `plan` share, defined once: both answer for the
 * same selection, so they take the same words for it.
 */
export function addBudgetFlags(command: Command): Command {
  return command
    .option(
      '--profile <profile>',
      'mailman or none (default: mailman when DIR is a Mailman var dir)',
    )
    .option('--lists <names>', 'mailman: restore only, or also, these lists (comma-separated)')
    .option(
      '--include-degraded',
      'mailman: also restore lists whose config.pck is broken but a fallback loads',
    )
    .option('--with-state', 'mailman: also restore request.pck and pending.pck')
    .option(
      '--with-archives',
      "mailman: also restore the lists' pipermail archives and mbox (the bulk)",
    )
    .option('--member-root <path>', 'the archive directory that corresponds to DIR')
    .option('--include <glob>', 'restore only matching memberPaths (repeatable)', collect, [])
    .option('--exclude <glob>', 'leave out matching memberPaths (repeatable)', collect, [])
    .option(
      '--reserve-inodes <n|p%>',
      'inodes that must stay free afterwards, the whole reserve (default 5% + queue growth)',
    )
    .option(
      '--growth-window <hours>',
      'hours of Mailman queue inflow the default inode reserve keeps free (default 12; 0: none)',
    )
    .option('--reserve-blocks <size|p%>', 'space that must stay available afterwards (default 1%)')
    .option(
      '--warn-inodes <p%>',
      'warn when less than this share of inodes stays free (default 10%)',
    )
    .option('--allow-special', 'restore fifos and device nodes (skipped by default)')
    .option(
      '--mta <mta>',
      "mailman: the MTA Mailman's backlog drains into: exim, postfix, none or auto (default)",
    )
    .option('--mta-spool <dir>', "mailman: the MTA's spool (default: asked of exim4 or postconf)")
    .option(
      '--drain-batch <n>',
      'mailman: messages released to the MTA at once (default: the whole backlog)',
    );
}

export interface BudgetFlags extends ReserveOptions {
  profile?: 'mailman' | 'none';
  lists?: string[];
  includeDegraded?: boolean;
  withState?: boolean;
  withArchives?: boolean;
  memberRoot?: string;
  include?: string[];
  exclude?: string[];
  allowSpecial?: boolean;
  mta?: MtaChoice;
  mtaSpool?: string;
  drainBatch?: number;
}

const MTA_CHOICES: readonly MtaChoice[] = ['auto', 'exim', 'postfix', 'none'];

export function readBudgetFlags(opts: Record<string, unknown>): BudgetFlags {
  const list = (value: unknown): string[] =>
    Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
  const include = list(opts.include);
  const exclude = list(opts.exclude);
  const profile = readProfileFlag(opts);
  const lists =
    typeof opts.lists === 'string'
      ? opts.lists
          .split(',')
          .map((name) => name.trim())
          .filter(Boolean)
      : [];
  // `--lists "$LIST"` with the variable unset names no list: taken as no --lists at all, it
  // restored every list that is down instead of the one meant.
  if (typeof opts.lists === 'string' && lists.length === 0) {
    throw new RestoreplanError('USAGE', `--lists ${JSON.stringify(opts.lists)} names no list`, {
      hint: 'name the lists, comma-separated (--lists a,b), or leave --lists out for every list that is down',
    });
  }
  return {
    ...(profile ? { profile } : {}),
    ...(lists.length > 0 ? { lists } : {}),
    ...(opts.includeDegraded === true ? { includeDegraded: true } : {}),
    ...(opts.withState === true ? { withState: true } : {}),
    ...(opts.withArchives === true ? { withArchives: true } : {}),
    ...(typeof opts.memberRoot === 'string' ? { memberRoot: opts.memberRoot } : {}),
    ...(include.length > 0 ? { include } : {}),
    ...(exclude.length > 0 ? { exclude } : {}),
    ...(typeof opts.reserveInodes === 'string' ? { reserveInodes: opts.reserveInodes } : {}),
    ...(typeof opts.growthWindow === 'string' ? { growthWindowHours: opts.growthWindow } : {}),
    ...(typeof opts.reserveBlocks === 'string' ? { reserveBlocks: opts.reserveBlocks } : {}),
    ...(typeof opts.warnInodes === 'string' ? { warnInodes: opts.warnInodes } : {}),
    ...(opts.allowSpecial === true ? { allowSpecial: true } : {}),
    ...readDrainFlags(opts),
  };
}

/** --mta, --mta-spool, --drain-batch: the drain after the repair (issue 16). */
export function readDrainFlags(
  opts: Record<string, unknown>,
): Pick<BudgetFlags, 'mta' | 'mtaSpool' | 'drainBatch'> {
  const mta = opts.mta;
  if (mta !== undefined && !MTA_CHOICES.includes(mta as MtaChoice)) {
    throw new RestoreplanError(
      'USAGE',
      `--mta must be exim, postfix, none or auto, not ${JSON.stringify(mta)}`,
    );
  }
  if (opts.mtaSpool === '') throw new RestoreplanError('USAGE', '--mta-spool needs a directory');
  if (mta === 'none' && typeof opts.mtaSpool === 'string')
    throw new RestoreplanError('USAGE', '--mta-spool is not used with --mta none');
  return {
    ...(typeof mta === 'string' ? { mta: mta as MtaChoice } : {}),
    ...(typeof opts.mtaSpool === 'string' ? { mtaSpool: opts.mtaSpool } : {}),
    ...(typeof opts.drainBatch === 'string'
      ? { drainBatch: parseDrainBatch(opts.drainBatch) }
      : {}),
  };
}

/** `--profile mailman|none`, or undefined when not given. */
export function readProfileFlag(opts: Record<string, unknown>): 'mailman' | 'none' | undefined {
  const profile = opts.profile;
  if (profile === undefined || profile === 'mailman' || profile === 'none') return profile;
  throw new RestoreplanError(
    'USAGE',
    `--profile must be mailman or none, not ${JSON.stringify(profile)}`,
  );
}
