/**
 * The doctor's human output, apart from the command's definition (doctor.ts): it needs the
 * diagnosis modules (list order, the unreadable marker), which only a run of doctor (or the
 * wizard) should load.
 */
import { sortListsByUrgency, type DoctorReport } from '../../mailman/diagnoseMailman.js';
import { UNREADABLE } from '../../mailman/diagnoseList.js';
import { makeTable } from '../makeTable.js';
import { describeForecast } from './describeForecast.js';
import { printableLine, writeLine, writeOneLine, type Io } from '../output.js';
import { formatBytes, formatCount } from '../progressBar.js';

/** "5 ok, 0 degraded, 1 corrupt, 1 lost, 0 missing": the counts people compare before and after. */
export function formatListSummary(summary: DoctorReport['summary']): string {
  return `${summary.ok} ok, ${summary.degraded} degraded, ${summary.corrupt} corrupt, ${summary.lost} lost, ${summary.missing} missing`;
}

export function renderDoctor(io: Io, result: DoctorReport): void {
  const { summary } = result;
  writeLine(io, `Mailman var dir ${result.root}`);
  writeLine(
    io,
    `Lists: ${formatListSummary(summary)}` +
      ` · Mailman ${result.mailmanRunning ? `running (pid ${result.mailmanPid})` : 'not running'}`,
  );
  writeLine(io);
  const lists = makeTable(io, {
    head: ['list', 'status', 'loads from', 'what Mailman would do', 'files'],
  });
  for (const list of sortListsByUrgency(result.lists)) {
    const files = list.files
      .filter((f) => f.state !== 'missing' || f.name.startsWith('config.pck'))
      // A file the doctor could not read says so: "invalid" alone reads as a corrupt file.
      .map(
        (f) => `${f.name}: ${f.state}${f.detail?.startsWith(UNREADABLE) ? ` (${f.detail})` : ''}`,
      )
      .join('\n');
    const notes = [list.mailmanAction];
    if (list.interruptedSave.length > 0)
      notes.push(`interrupted save: ${list.interruptedSave.join(', ')}`);
    for (const state of list.stateFiles)
      if (state.state !== 'ok' && state.state !== 'missing')
        notes.push(`${state.name}: ${state.state}`);
    for (const evidence of list.evidence ?? []) notes.push(evidence.detail);
    if (list.locked) notes.push('locked by a live process');
    // A name (and what quotes it) is one line of its cell, whatever it holds: a newline in a
    // list directory's name would otherwise forge a row.
    lists.push([
      printableLine(list.name),
      list.status,
      list.loadsFrom ?? '-',
      notes.map(printableLine).join('\n'),
      files,
    ]);
  }
  writeLine(io, lists.toString());
  writeLine(io);
  const queues = makeTable(io, { head: ['queue', 'files', 'last hour', 'oldest', 'newest'] });
  for (const [name, queue] of Object.entries(result.queues)) {
    if (queue.files === 0) continue;
    queues.push([
      name,
      formatCount(queue.files),
      formatCount(queue.inflowLastHour),
      queue.oldest ?? '-',
      queue.newest ?? '-',
    ]);
  }
  if (queues.length > 0) writeLine(io, queues.toString());
  else writeLine(io, 'Queues: empty');
  writeLine(
    io,
    `Queue inflow ${formatCount(result.queueInflowPerHour)}/h: keep ${formatCount(result.growthAllowance)} inodes free for ${result.growthWindowHours} h of growth` +
      (result.growthMeasured > result.growthAllowance
        ? ` (${formatCount(result.growthMeasured)}, capped at the inodes free)`
        : ''),
  );
  writeLine(io, describeForecast(result.forecast));
  const fs = result.filesystem;
  const inodes = fs.dynamicInodes
    ? `inodes allocated on demand (${fs.fsType})`
    : `inodes ${formatCount(fs.inodes.free)} free of ${formatCount(fs.inodes.total)} (${percent(fs.inodes.free, fs.inodes.total)})`;
  writeLine(
    io,
    `Filesystem ${fs.mountPoint} (${fs.fsType}): ${inodes}; space ${formatBytes(fs.blocks.available * fs.blockSize)} available of ${formatBytes(fs.blocks.total * fs.blockSize)} (${percent(fs.blocks.available, fs.blocks.total)})`,
  );
  // What the table cannot show: the doctor could not read everything it looks at.
  for (const problem of result.problems.filter((p) => p.kind === 'alias-file-unreadable'))
    writeOneLine(io, `${problem.severity} ${problem.kind}: ${problem.message}`);
  for (const lock of result.locks.filter((l) => l.held)) {
    writeLine(
      io,
      `Lock ${lock.name} held by ${lock.owner ? `${lock.owner.host} pid ${lock.owner.pid}` : 'an unknown owner'} until ${lock.expires}`,
    );
  }
}

function percent(part: number, whole: number): string {
  return whole > 0 ? `${((part / whole) * 100).toFixed(1)}%` : 'n/a';
}
