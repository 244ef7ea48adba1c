/**
 * The doctor's human output, apart from the command's definition (doctor.ts): it needs the
 * diagnosis modules (list order, the unreadable marker), which only a run of doctor (or the
 * wizard) should load.
 */
import { sortListsByUrgency, type DoctorReport } from '../../mailman/diagnoseMailman.js';
import { UNREADABLE } from '../../mailman/diagnoseList.js';
import { makeTable } from '../makeTable.js';
import { describeBacklog, describeForecast } from './describeForecast.js';
import {
  printableLine,
  writeLine,
  writeOneLine,
  writeWrapped,
  type Io,
  type Verbosity,
} from '../output.js';
import { EXIT } from '../exitCodes.js';
import { formatBytes, formatCount } from '../progressBar.js';
import type { DoctorJudgement } from './judgeDoctor.js';

/** "5 ok, 0 degraded, 1 corrupt, 1 lost, 0 missing": the counts people compare before and after. */
export function formatListSummary(summary: DoctorReport['summary']): string {
  return `${summary.ok} ok, ${summary.degraded} degraded, ${summary.corrupt} corrupt, ${summary.lost} lost, ${summary.missing} missing`;
}

/** What the doctor's screen shows: `all` every list (else the healthy ones in one line). */
export interface DoctorScreen {
  all?: boolean;
  verbosity?: Verbosity;
  /** The verdict (judgeDoctor's, as the exit code has it); said in words when it is not OK. */
  judgement?: DoctorJudgement;
}

/**
 * The verdict in words when it is not OK: what the exit code stands for, the reasons the list
 * counts alone do not show (dead qrunners, a locked list, inodes running out) included.
 */
export function formatDoctorAlarm(judgement: DoctorJudgement): string | null {
  if (judgement.exitCode === EXIT.OK) return null;
  const status = judgement.exitCode === EXIT.CRITICAL ? 'CRITICAL' : 'WARNING';
  return `${status}: ${[...judgement.critical, ...judgement.warning].join('; ')}`;
}

/** The one line --quiet prints, and the second line of the screen. */
export function formatDoctorVerdict(result: DoctorReport): string {
  return (
    `Lists: ${formatListSummary(result.summary)}` +
    ` · Mailman ${result.mailmanRunning ? `running (pid ${result.mailmanPid})` : 'not running'}`
  );
}

type ListReport = DoctorReport['lists'][number];

/**
 * The files column: every file with --verbose; else, for a list needing attention, its config
 * files as today (config.pck even when missing), and for a healthy one only what is not ok
 * (a broken fallback a healthy list does not need yet).
 */
function describeFiles(list: ListReport, verbose: boolean): string {
  const shown = verbose
    ? list.files
    : list.status === 'ok'
      ? list.files.filter((f) => f.state !== 'ok' && f.state !== 'missing')
      : list.files.filter((f) => f.state !== 'missing' || f.name.startsWith('config.pck'));
  return (
    shown
      // A file the doctor could not read says so: "invalid" alone reads as a corrupt file.
      .map((f) => {
        const said = verbose ? f.detail : f.detail?.startsWith(UNREADABLE) ? f.detail : undefined;
        return `${f.name}: ${f.state}${said ? ` (${said})` : ''}`;
      })
      .join('\n')
  );
}

function describeNotes(list: ListReport, verbose: boolean): string {
  const notes = [list.mailmanAction];
  if (list.interruptedSave.length > 0)
    notes.push(`interrupted save: ${list.interruptedSave.join(', ')}`);
  for (const state of list.stateFiles)
    if (verbose || (state.state !== 'ok' && state.state !== 'missing'))
      notes.push(`${state.name}: ${state.state}`);
  for (const evidence of list.evidence ?? []) notes.push(evidence.detail);
  if (list.locked) notes.push('locked by a live process');
  return notes.map(printableLine).join('\n');
}

/** A queue file's time to the second: the milliseconds of an mtime say nothing to a person. */
const toSecond = (iso: string | undefined): string => iso?.replace(/\.\d+Z$/, 'Z') ?? '-';

/**
 * The doctor's screen: the lists needing attention first, the healthy ones summed up in one
 * line ("195 more lists ok") unless `all`; two hundred lists with one broken fit an 80×25
 * console. --verbose shows every list with every file, every queue, every problem and lock;
 * --quiet the verdict line alone.
 */
export function renderDoctor(io: Io, result: DoctorReport, screen: DoctorScreen = {}): void {
  const verbosity = screen.verbosity ?? 'normal';
  const alarm = screen.judgement ? formatDoctorAlarm(screen.judgement) : null;
  if (verbosity === 'quiet') {
    writeOneLine(io, formatDoctorVerdict(result));
    // The reasons are prose: wrapped like the screen's (a dozen of them pass 80 columns).
    if (alarm !== null) writeWrapped(io, printableLine(alarm));
    return;
  }
  const verbose = verbosity === 'verbose';
  const all = verbose || screen.all === true;
  writeWrapped(io, `Mailman var dir ${result.root}`, { oneLine: true });
  writeWrapped(io, formatDoctorVerdict(result), { oneLine: true });
  if (alarm !== null) writeWrapped(io, printableLine(alarm));
  const sorted = sortListsByUrgency(result.lists);
  const shown = all ? sorted : sorted.filter((list) => list.status !== 'ok');
  if (shown.length > 0) {
    // "loads from" repeats what the action column says ("loads config.pck", "falls back to
    // config.pck.last"): a column an 80-column screen cannot spare, shown with --verbose.
    const lists = makeTable(io, {
      head: verbose
        ? ['list', 'status', 'loads from', 'what Mailman would do', 'files']
        : ['list', 'status', 'what Mailman would do', 'files'],
    });
    for (const list of shown) {
      // A name (and what quotes it) is one line of its cell, whatever it holds: a newline in a
      // list directory's name would otherwise forge a row.
      const cells = [printableLine(list.name), list.status];
      if (verbose) cells.push(list.loadsFrom ?? '-');
      cells.push(describeNotes(list, verbose), describeFiles(list, verbose));
      lists.push(cells);
    }
    writeLine(io, lists.toString());
  }
  const hidden = sorted.length - shown.length;
  if (hidden > 0)
    writeWrapped(
      io,
      `${shown.length > 0 ? `${formatCount(hidden)} more` : `All ${formatCount(hidden)}`} list${hidden === 1 ? '' : 's'} ok (--all lists them)`,
    );
  const queues = makeTable(io, { head: ['queue', 'files', 'last hour', 'oldest', 'newest'] });
  for (const [name, queue] of Object.entries(result.queues)) {
    if (queue.files === 0 && !verbose) continue;
    queues.push([
      name,
      formatCount(queue.files),
      formatCount(queue.inflowLastHour),
      toSecond(queue.oldest),
      toSecond(queue.newest),
    ]);
  }
  if (queues.length > 0) writeLine(io, queues.toString());
  else writeLine(io, 'Queues: empty');
  writeWrapped(
    io,
    `Queue inflow ${formatCount(result.queueInflowPerHour)}/h: keep ${formatCount(result.growthAllowance)} inodes free for ${result.growthWindowHours} h of growth` +
      (result.growthMeasured > result.growthAllowance
        ? ` (${formatCount(result.growthMeasured)}, capped at the inodes free)`
        : ''),
  );
  writeWrapped(io, describeForecast(result.forecast));
  if (result.backlog) writeWrapped(io, describeBacklog(result.backlog));
  const fs = result.filesystem;
  const inodes = fs.dynamicInodes
    ? `inodes allocated on demand (${fs.fsType})`
    : `inodes ${formatCount(fs.inodes.free)} free of ${formatCount(fs.inodes.total)} (${percent(fs.inodes.free, fs.inodes.total)})`;
  writeWrapped(
    io,
    `Filesystem ${fs.mountPoint} (${fs.fsType}): ${inodes}; space ${formatBytes(fs.blocks.available * fs.blockSize)} available of ${formatBytes(fs.blocks.total * fs.blockSize)} (${percent(fs.blocks.available, fs.blocks.total)})`,
    { oneLine: true },
  );
  // What the table cannot show: the doctor could not read everything it looks at (and with
  // --verbose every problem, though the table shows most of them already).
  for (const problem of result.problems.filter(
    (p) => verbose || p.kind === 'alias-file-unreadable' || p.kind === 'no-lists',
  ))
    writeWrapped(io, `${problem.severity} ${problem.kind}: ${problem.message}`, { oneLine: true });
  for (const lock of result.locks.filter((l) => verbose || l.held)) {
    writeWrapped(
      io,
      `Lock ${lock.name} ${lock.held ? 'held' : 'not held'} by ${lock.owner ? `${lock.owner.host} pid ${lock.owner.pid}` : 'an unknown owner'} until ${lock.expires}`,
      { oneLine: true },
    );
  }
}

function percent(part: number, whole: number): string {
  return whole > 0 ? `${((part / whole) * 100).toFixed(1)}%` : 'n/a';
}
