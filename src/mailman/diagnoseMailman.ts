/**
 * The doctor: a read-only diagnosis of a Mailman 2.1 var dir, like Mailman's check_db but
 * without ever writing (Mailman's own loader rewrites files when it falls back). Lists are
 * judged in Mailman's load order, queues are counted, and the filesystem's inode and space
 * state is read, so the report says both what is broken and whether there is room to fix it.
 */
import { opendir } from 'node:fs/promises';
import path from 'node:path';

import { RestoreplanError, throwIfAborted } from '../errors.js';
import { makeProblem, type Problem } from '../problems.js';
import { throttleProgress, type CommonOptions } from '../progress.js';
import { statFilesystem } from '../filesystems/statFilesystem.js';
import {
  SCHEMA_VERSION,
  type DoctorBacklog,
  type DoctorResult,
  type ExhaustionForecast,
  type ListDiagnosis,
} from '../types.js';
import {
  capGrowthAllowance,
  censusQueues,
  DEFAULT_GROWTH_WINDOW_HOURS,
  estimateQueueGrowth,
  type QueueCount,
} from './censusQueues.js';
import { detectLocks, detectMailmanRunning, type LockState } from './detectRunning.js';
import { CONFIG_FILES, diagnoseList, type ListDirDiagnosis } from './diagnoseList.js';
import { findListEvidence, judgeEvidence } from './findListEvidence.js';
import { findMailmanRoot, listDirNamesAt } from './findMailmanRoot.js';
import { summarizeBacklog } from './countBacklog.js';
import { forecastExhaustion } from './forecastExhaustion.js';
import { measureDrain, type MtaChoice } from './measureDrain.js';

/** A list as the doctor reports it: the contract's fields plus what Mailman will do about it. */
export interface ListReport extends ListDiagnosis, Omit<ListDirDiagnosis, keyof ListDiagnosis> {
  /** Whether `locks/<name>.lock` is held by a live process. */
  locked: boolean;
}

export interface DoctorReport extends DoctorResult {
  lists: ListReport[];
  queues: Record<string, QueueCount>;
  /** The master qrunner's pid from data/master-qrunner.pid, when present. */
  mailmanPid: number | null;
  qrunnerPidStale: boolean;
  forecast: ExhaustionForecast;
  locks: LockState[];
  /** Files that arrived in all queues during the last hour. */
  queueInflowPerHour: number;
  /** Inodes to keep free for the queues' growth: inflow × the window, capped at the free inodes. */
  growthAllowance: number;
  /** Inflow × the window, before the cap. */
  growthMeasured: number;
  growthWindowHours: number;
  filesystem: DoctorResult['filesystem'] & {
    fsType: string;
    device: string;
    blockSize: number;
    blocks: { total: number; free: number; available: number };
    dynamicInodes: boolean;
  };
  problems: Problem[];
}

export interface DiagnoseMailmanOptions extends CommonOptions {
  /** The time queue inflow and lock expiry are measured against (default: now). */
  now?: Date;
  /** Hours of queue growth the allowance covers (default 12; 0: none). */
  growthWindowHours?: number;
  /** The MTA Mailman's backlog drains into (default: detected; `none`: no backlog measured). */
  mta?: MtaChoice;
  mtaSpool?: string;
}

/** Diagnoses the var dir at or below `root` (MAILMAN_NOT_FOUND when there is none, or several). */
/** Lists diagnosed at the same time (enough to keep the threadpool's 4 threads busy). */
const LISTS_AT_A_TIME = 16;

export async function diagnoseMailman(
  root: string,
  options: DiagnoseMailmanOptions = {},
): Promise<DoctorReport> {
  const now = options.now ?? new Date();
  const varDir = await findMailmanRoot(root);
  const report = throttleProgress(options.onProgress ?? (() => {}));
  const started = Date.now();
  await assertListsReadable(varDir);
  const names = await listDirNamesAt(varDir);

  const [running, locks, fs] = await Promise.all([
    detectMailmanRunning(varDir),
    detectLocks(varDir, { now }),
    statFilesystem(varDir),
  ]);
  const heldLocks = new Set(locks.filter((l) => l.held).map((l) => l.name));

  // Several lists at a time: a list's diagnosis is a handful of small reads, each a round trip
  // through the threadpool, and one list after another left the process idle most of the time
  // (400 lists: 250 ms one at a time). The reports keep the directory's order.
  const lists: ListReport[] = new Array(names.length);
  let next = 0;
  let done = 0;
  const worker = async (): Promise<void> => {
    while (next < names.length) {
      const index = next++;
      const name = names[index]!;
      throwIfAborted(options.signal);
      report({
        phase: 'diagnose',
        done,
        total: names.length,
        item: name,
        elapsedMs: Date.now() - started,
      });
      const diagnosis = await diagnoseList(path.join(varDir, 'lists', name));
      lists[index] = { ...diagnosis, locked: heldLocks.has(name) };
      done += 1;
    }
  };
  await Promise.all(Array.from({ length: Math.min(LISTS_AT_A_TIME, names.length) }, worker));
  // Lists whose directory is gone while Mailman's other files still name them.
  const evidence = await findListEvidence(varDir, options.signal ? { signal: options.signal } : {});
  const onDisk = new Set(names);
  const removed: string[] = [];
  for (const [name, items] of [...evidence.byList].sort(([a], [b]) => a.localeCompare(b))) {
    if (onDisk.has(name)) continue;
    const verdict = judgeEvidence(items, evidence.aliasFiles);
    if (verdict === 'removed') removed.push(name);
    if (verdict !== 'lost') continue;
    lists.push({
      name,
      status: 'missing',
      loadsFrom: null,
      files: CONFIG_FILES.map((file) => ({ name: file, state: 'missing' as const })),
      evidence: items,
      mailmanAction: `does not see the list (lists/${name} is gone): it is down and its mail is refused`,
      stateFiles: [],
      interruptedSave: [],
      locked: heldLocks.has(name),
    });
  }
  report(
    { phase: 'diagnose', done: names.length, total: names.length, elapsedMs: Date.now() - started },
    true,
  );

  const census = await censusQueues(varDir, {
    now,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const growthWindowHours = options.growthWindowHours ?? DEFAULT_GROWTH_WINDOW_HOURS;
  const growthMeasured = estimateQueueGrowth(census, growthWindowHours);
  const growthAllowance = capGrowthAllowance(
    growthMeasured,
    fs.dynamicInodes ? Infinity : fs.inodes.usable,
  );

  const problems: Problem[] = [];
  // Found as a var dir by lists/ beside Mailman's siblings, yet no list at all: every list's
  // directory gone and nothing else naming one. Never "0 lists ok": Mailman without its site
  // list does not even start (mailmanctl's check_for_site_list).
  if (lists.length === 0) {
    problems.push(
      makeProblem(
        'no-lists',
        `${path.join(varDir, 'lists')} holds no list: every list is gone, Mailman's site list too (mailmanctl will not start)`,
        { targetPath: path.join(varDir, 'lists') },
      ),
    );
  }
  for (const list of lists) {
    const targetPath = path.join(varDir, 'lists', list.name);
    if (list.status === 'corrupt') {
      problems.push(
        makeProblem('list-corrupt', `${list.name}: no config file loads; ${list.mailmanAction}`, {
          list: list.name,
          targetPath,
        }),
      );
    } else if (list.status === 'lost') {
      problems.push(
        makeProblem(
          'list-lost',
          `${list.name}: no config file at all; Mailman ${list.mailmanAction}`,
          {
            list: list.name,
            targetPath,
          },
        ),
      );
    } else if (list.status === 'missing') {
      const why = (list.evidence ?? []).map((e) => e.detail).join('; ');
      problems.push(
        makeProblem('list-missing', `${list.name}: lists/${list.name} is gone, yet ${why}`, {
          list: list.name,
          targetPath,
        }),
      );
    } else if (list.status === 'degraded') {
      problems.push(
        makeProblem('list-degraded', `${list.name}: ${list.mailmanAction}`, {
          list: list.name,
          targetPath,
        }),
      );
    }
    if (list.interruptedSave.length > 0) {
      problems.push(
        makeProblem(
          'interrupted-save',
          `${list.name}: leftover ${list.interruptedSave.join(', ')}`,
          { list: list.name, targetPath },
        ),
      );
    }
    for (const state of list.stateFiles) {
      if (state.state !== 'ok' && state.state !== 'missing') {
        problems.push(
          makeProblem('state-file-broken', `${list.name}: ${state.name} is ${state.state}`, {
            list: list.name,
            targetPath: path.join(targetPath, state.name),
          }),
        );
      }
    }
    if (list.locked) {
      problems.push(
        makeProblem('list-locked', `${list.name}: its lock is held by a live process`, {
          list: list.name,
        }),
      );
    }
  }
  for (const name of removed) {
    problems.push(
      makeProblem(
        'list-removed',
        `${name}: archives/private/${name} remains but neither its directory nor its alias stanza: removed with rmlist (which keeps archives unless -a)? restore it with --lists ${name}`,
        { list: name },
      ),
    );
  }
  for (const file of evidence.unreadable) {
    problems.push(
      makeProblem(
        'alias-file-unreadable',
        `${file.path} could not be read (${file.reason}): a list named only by its stanza there is not found, and archives alone are not taken for a lost list; run doctor as root or as Mailman's user`,
        { targetPath: path.join(varDir, file.path) },
      ),
    );
  }
  if (running.running) {
    problems.push(
      makeProblem('mailman-running', `Mailman is running (master qrunner pid ${running.pid})`),
    );
  }
  if (census.inflowPerHour > 0) {
    problems.push(
      makeProblem(
        'queue-growing',
        `${census.inflowPerHour} queue files arrived in the last hour; ${growthAllowance} inodes are kept free for ${growthWindowHours} h of growth${growthMeasured > growthAllowance ? ` (${growthMeasured} capped at the inodes free)` : ''}`,
      ),
    );
  }

  const summary = { ok: 0, degraded: 0, corrupt: 0, lost: 0, missing: 0 };
  for (const list of lists) summary[list.status]++;

  // The backlog the MTA gets once the lists run: the shunted posts of the lists that are down
  // too (bin/unshunt releases them after the repair).
  const down = lists
    .filter((l) => l.status === 'corrupt' || l.status === 'lost' || l.status === 'missing')
    .map((l) => l.name);
  const drain = await measureDrain(varDir, down, {
    ...(options.mta ? { mta: options.mta } : {}),
    ...(options.mtaSpool ? { mtaSpool: options.mtaSpool } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  let backlog: DoctorBacklog | undefined;
  if (drain && 'unknown' in drain) {
    problems.push(
      makeProblem(
        'drain-unknown',
        `the MTA could not be asked where its spool is (${drain.unknown}): Mailman's backlog is not in the forecast; name it with --mta and --mta-spool`,
      ),
    );
  } else if (drain) {
    const free = drain.fs.dynamicInodes ? Infinity : drain.fs.inodes.usable;
    backlog = {
      mta: drain.mta.kind,
      spool: drain.mta.spool,
      mountPoint: drain.fs.mountPoint,
      counts: summarizeBacklog(drain.backlog),
      queuedNow: drain.queuedNow,
      inodes: drain.inodes,
      bytes: drain.blocks * drain.fs.blockSize,
      inodesFree: drain.fs.dynamicInodes ? 0 : drain.fs.inodes.usable,
      fits: drain.inodes <= free && drain.blocks <= drain.fs.blocks.available,
    };
    // On the var dir's filesystem the forecast counts it; elsewhere it is said here.
    if (!backlog.fits && drain.fs.mountPoint !== fs.mountPoint) {
      problems.push(
        makeProblem(
          'drain-short',
          `Mailman's backlog, ${drain.peakMessages} messages once released, takes ${drain.inodes} inodes and ${backlog.bytes} bytes in ${drain.mta.kind === 'exim' ? 'Exim' : 'Postfix'}'s spool ${drain.mta.spool} on ${drain.fs.mountPoint}: more than is free there (${backlog.inodesFree} inodes, ${drain.fs.blocks.available * drain.fs.blockSize} bytes); pace the release (bin/unshunt in batches, fewer outgoing runners) or make room first`,
          { mountPoint: drain.fs.mountPoint },
        ),
      );
    }
  }
  const onVarFs = drain && !('unknown' in drain) && drain.fs.mountPoint === fs.mountPoint;

  return {
    schemaVersion: SCHEMA_VERSION,
    root: varDir,
    lists,
    queues: census.queues,
    mailmanRunning: running.running,
    mailmanPid: running.pid,
    qrunnerPidStale: running.stalePidFile,
    forecast: forecastExhaustion({
      inodesFree: fs.inodes.usable,
      limitedInodes: !fs.dynamicInodes,
      bytesAvailable: fs.blocks.available * fs.blockSize,
      inflowFilesPerHour: census.inflowPerHour,
      inflowBytesPerHour: census.inflowBytesPerHour,
      ...(onVarFs && backlog ? { backlog: { inodes: backlog.inodes, bytes: backlog.bytes } } : {}),
    }),
    ...(backlog ? { backlog } : {}),
    locks,
    queueInflowPerHour: census.inflowPerHour,
    growthAllowance,
    growthMeasured,
    growthWindowHours,
    filesystem: {
      mountPoint: fs.mountPoint,
      fsType: fs.fsType,
      device: fs.device,
      blockSize: fs.blockSize,
      inodes: { total: fs.inodes.total, free: fs.inodes.free },
      blocks: { total: fs.blocks.total, free: fs.blocks.free, available: fs.blocks.available },
      dynamicInodes: fs.dynamicInodes,
    },
    summary,
    problems,
  };
}

/**
 * lists/ must be read to say anything about the lists: one this user may not read (a monitoring
 * agent's own user, lists/ mode 0700) read as empty, and every list named elsewhere was
 * reported missing ("lists/alpha is gone") — or, with none named, no list at all.
 */
async function assertListsReadable(varDir: string): Promise<void> {
  const dir = path.join(varDir, 'lists');
  try {
    await (await opendir(dir)).close();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return;
    throw new RestoreplanError('TARGET_INVALID', `cannot read ${dir}: ${code ?? String(error)}`, {
      path: dir,
      ...(code ? { errno: code } : {}),
      hint: "run doctor as root or as Mailman's user (the lists cannot be judged unread)",
    });
  }
}

/** Lists needing attention first (down, then degraded), then by name: the order humans read. */
export function sortListsByUrgency<T extends Pick<ListDiagnosis, 'name' | 'status'>>(
  lists: readonly T[],
): T[] {
  const rank = { corrupt: 0, lost: 0, missing: 0, degraded: 1, ok: 2 } as const;
  return [...lists].sort((a, b) => rank[a.status] - rank[b.status] || a.name.localeCompare(b.name));
}
