import { makeTable } from '../makeTable.js';
import type { Command } from 'commander';

import {
  diagnoseMailman,
  sortListsByUrgency,
  type DoctorReport,
} from '../../mailman/diagnoseMailman.js';
import { UNREADABLE } from '../../mailman/diagnoseList.js';
import { parseGrowthWindow } from '../../plan/reservePolicy.js';
import { addCommonFlags, runCommand, type CliContext } from '../command.js';
import { EXIT, type ExitCode } from '../exitCodes.js';
import { printableLine, writeJson, writeLine, writeOneLine, type Io } from '../output.js';
import { formatBytes, formatCount } from '../progressBar.js';

export function registerDoctorCommand(program: Command, ctx: CliContext): void {
  addCommonFlags(
    program
      .command('doctor')
      .summary('diagnose a Mailman 2.1 var dir as Mailman would load it (read-only)')
      .description(
        "Judge every list's config files in Mailman 2.1's load order (config.pck, config.pck.last, config.db, config.db.last) without running or writing anything, count the queues, and show the filesystem's inodes and space. DIR is the var dir or a directory holding exactly one. A list directory without any config file is lost, and a list whose directory is gone while its alias stanza, shunted mail or archives remain is missing: both are down. Exit 0 all ok, 1 some degraded, 2 some corrupt, lost or missing, 3 error.",
      )
      .argument('<dir>', 'the Mailman var dir (e.g. /var/lib/mailman)')
      .option(
        '--growth-window <hours>',
        'hours of queue inflow the growth allowance covers (default 12; 0: none)',
      ),
  ).action(async (dir: string, opts: Record<string, unknown>) => {
    await runCommand(ctx, opts, async ({ flags, progress, signal }) => {
      const window = typeof opts.growthWindow === 'string' ? opts.growthWindow : undefined;
      const result = await diagnoseMailman(dir, {
        signal,
        onProgress: progress.onProgress,
        ...(window !== undefined ? { growthWindowHours: parseGrowthWindow(window) } : {}),
      });
      progress.done();
      if (flags.json) writeJson(ctx.io, result);
      else renderDoctor(ctx.io, result);
      return exitCodeForDoctor(result);
    });
  });
}

/** 2 while any list is down (corrupt, lost, missing), 1 for a degraded one, else 0. */
export function exitCodeForDoctor(result: Pick<DoctorReport, 'summary'>): ExitCode {
  const { summary } = result;
  if (summary.corrupt + summary.lost + summary.missing > 0) return EXIT.CRITICAL;
  if (summary.degraded > 0) return EXIT.WARNING;
  return EXIT.OK;
}

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
