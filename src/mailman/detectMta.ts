/**
 * Which MTA takes the mail Mailman hands over, and where its spool is (issue 16). The MTA's
 * own tool answers: `exim4 -bP` (Debian names the binary exim4; elsewhere it is exim) or
 * `postconf -xh` (-x: expanded, so `$name` references are resolved). Neither needs a daemon
 * or root. `auto` tries Exim, then Postfix; a host with neither has no backlog to budget.
 *
 * `spool` (--mta-spool) overrides the directory the tool names — for a spool mounted
 * elsewhere, or a rescue system where the MTA is not installed: then, with the kind given, the
 * layout is read from the spool itself.
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';

import { RestoreplanError } from '../errors.js';
import { isPidAlive } from './detectRunning.js';
import { MTA_PACKAGE, type MtaInfo, type MtaKind } from './MtaInfo.js';
import { parseEximSettings, parsePostconfSettings } from './parseMtaSettings.js';
import { readSpoolDirectory } from './readSpoolDirectory.js';
import { defaultMtaSearchPath, findMtaTool, runMtaTool } from './runMtaTool.js';

export type MtaChoice = 'auto' | MtaKind | 'none';

export interface DetectMtaOptions {
  mta?: MtaChoice;
  /** The spool directory to use instead of the one the MTA's tool names. */
  spool?: string;
  signal?: AbortSignal;
  /** Directories searched for the tools (default: PATH, then the sbin directories). */
  searchPath?: string;
}

/** Postfix's defaults when postconf cannot be asked. */
const POSTFIX_DEFAULT_HASH_DEPTH = 1;
const POSTFIX_DEFAULT_HASH_NAMES = ['deferred', 'defer'];
const EXIM_SPLIT_NAME = /^[0-9A-Za-z]$/;
/** Bytes of a tool's stderr quoted in an error: its first line, not a config dump. */
const STDERR_EXCERPT_CHARS = 200;

type Query =
  | { state: 'absent' }
  | { state: 'failed'; command: string; reason: string }
  | { state: 'answered'; info: MtaInfo };

export async function detectMta(options: DetectMtaOptions = {}): Promise<MtaInfo | null> {
  const choice = options.mta ?? 'auto';
  if (choice === 'none') return null;
  const spool = options.spool === undefined ? undefined : path.resolve(options.spool);
  if (spool !== undefined) await refuseNonDirectory(spool);
  const searchPath = options.searchPath ?? defaultMtaSearchPath();
  const kinds: MtaKind[] = choice === 'auto' ? ['exim', 'postfix'] : [choice];
  const failures: Array<Extract<Query, { state: 'failed' }>> = [];
  for (const kind of kinds) {
    const query = await queryMta(kind, searchPath, spool, options.signal);
    if (query.state === 'answered') return query.info;
    if (query.state === 'failed') failures.push(query);
  }
  if (spool !== undefined) {
    const kind = choice === 'auto' ? await inferSpoolKind(spool) : choice;
    if (kind) return readInfoFromSpool(kind, spool);
  }
  const failure = failures[0];
  if (failure)
    throw new RestoreplanError(
      'MTA_QUERY_FAILED',
      `${failure.command} failed: ${failure.reason} (pass --mta-spool DIR to read the spool directly, or --mta none)`,
      { command: failure.command, reason: failure.reason },
    );
  if (choice === 'auto') {
    if (spool === undefined) return null;
    throw new RestoreplanError(
      'MTA_NOT_FOUND',
      `no MTA found, and ${spool} looks like neither an Exim nor a Postfix spool: pass --mta exim or --mta postfix`,
      { mta: choice, spool },
    );
  }
  const tools = choice === 'exim' ? 'exim4 or exim' : 'postconf';
  throw new RestoreplanError(
    'MTA_NOT_FOUND',
    `--mta ${choice}: no ${tools} on PATH (Debian: apt-get install ${MTA_PACKAGE[choice]}), or pass --mta-spool DIR`,
    { mta: choice, package: MTA_PACKAGE[choice] },
  );
}

async function queryMta(
  kind: MtaKind,
  searchPath: string,
  spool: string | undefined,
  signal: AbortSignal | undefined,
): Promise<Query> {
  const names = kind === 'exim' ? ['exim4', 'exim'] : ['postconf'];
  const found = names.map((name) => findMtaTool(name, searchPath)).find((p) => p !== null);
  if (!found) return { state: 'absent' };
  const args =
    kind === 'exim'
      ? ['-bP', 'spool_directory', 'split_spool_directory', 'message_logs']
      : ['-xh', 'queue_directory', 'hash_queue_depth', 'hash_queue_names'];
  const command = `${path.basename(found)} ${args.join(' ')}`;
  const result = await runMtaTool(found, args, { signal });
  const stderr = result.stderr.trim().split('\n')[0]?.slice(0, STDERR_EXCERPT_CHARS) ?? '';
  if (result.timedOut) return { state: 'failed', command, reason: 'timed out' };
  if (result.status !== 0)
    return {
      state: 'failed',
      command,
      reason: `exit ${result.status ?? 'by signal'}${stderr ? `: ${stderr}` : ''}`,
    };
  if (kind === 'exim') {
    const settings = parseEximSettings(result.stdout);
    if (!settings) return { state: 'failed', command, reason: 'unexpected output' };
    return {
      state: 'answered',
      info: {
        kind: 'exim',
        spool: spool ?? settings.spoolDirectory,
        source: spool === undefined ? 'detected' : 'given',
        splitSpool: settings.splitSpoolDirectory,
        messageLogs: settings.messageLogs,
      },
    };
  }
  const settings = parsePostconfSettings(result.stdout);
  // An unknown parameter is a warning on stderr and an empty answer with exit 0.
  if (!settings) return { state: 'failed', command, reason: stderr || 'unexpected output' };
  const queue = spool ?? settings.queueDirectory;
  return {
    state: 'answered',
    info: {
      kind: 'postfix',
      spool: queue,
      source: spool === undefined ? 'detected' : 'given',
      hashQueueDepth: settings.hashQueueDepth,
      hashQueueNames: settings.hashQueueNames,
      masterRunning: await isPostfixMasterRunning(queue),
    },
  };
}

/** A spool named that exists must be a directory (one not made yet is measured as fresh). */
async function refuseNonDirectory(spool: string): Promise<void> {
  const stats = await stat(spool).catch(() => null);
  if (stats && !stats.isDirectory())
    throw new RestoreplanError('USAGE', `--mta-spool ${spool}: not a directory`, {
      option: '--mta-spool',
      value: spool,
    });
}

/** master writes its pid, space-padded, to pid/master.pid in the queue directory. */
export async function isPostfixMasterRunning(queueDirectory: string): Promise<boolean> {
  const pidFile = path.join(queueDirectory, 'pid', 'master.pid');
  try {
    // Only a regular file is read: a fifo there would block the read.
    if (!(await stat(pidFile)).isFile()) return false;
    const text = await readFile(pidFile, 'latin1');
    return /^\s*\d+\s*$/.test(text) && isPidAlive(Number(text.trim()));
  } catch {
    return false;
  }
}

/** Exim's spool has input/ (and msglog/); Postfix's queue directory has maildrop/ and deferred/. */
async function inferSpoolKind(spool: string): Promise<MtaKind | null> {
  const has = async (name: string): Promise<boolean> =>
    (await readSpoolDirectory(path.join(spool, name))).state !== 'missing';
  if ((await has('input')) || (await has('msglog'))) return 'exim';
  if ((await has('maildrop')) || (await has('deferred'))) return 'postfix';
  return null;
}

/** The settings the spool shows, when the MTA's tool cannot be asked. */
async function readInfoFromSpool(kind: MtaKind, spool: string): Promise<MtaInfo> {
  if (kind === 'postfix')
    return {
      kind,
      spool,
      source: 'given',
      hashQueueDepth: POSTFIX_DEFAULT_HASH_DEPTH,
      hashQueueNames: [...POSTFIX_DEFAULT_HASH_NAMES],
      masterRunning: await isPostfixMasterRunning(spool),
    };
  const input = await readSpoolDirectory(path.join(spool, 'input'));
  const msglog = await readSpoolDirectory(path.join(spool, 'msglog'));
  const listing = input.state === 'listed' ? input.listing : null;
  const splitSpool = listing?.subdirectories.some((n) => EXIM_SPLIT_NAME.test(n)) ?? false;
  // No msglog/ beside queued messages means message_logs is off; otherwise Exim's default (on).
  const queued = listing?.files.some((n) => n.endsWith('-H')) ?? false;
  const messageLogs = msglog.state !== 'missing' || !queued;
  return { kind, spool, source: 'given', splitSpool, messageLogs };
}
