import { makeTable } from '../makeTable.js';
import type { Command } from 'commander';
import { RestoreplanError } from '../../errors.js';
import type { ScanResult } from '../../types.js';
import { addCommonFlags, addIndexFlags, runCommand, type CliContext } from '../command.js';
import { EXIT } from '../exitCodes.js';
import {
  writeJson,
  writeLine,
  writeOneLine,
  writeWrapped,
  type Io,
  type Verbosity,
} from '../output.js';
import { formatBytes, formatCount } from '../progressBar.js';
import { archiveArgument } from './archiveArgument.js';

export function registerScanCommand(program: Command, ctx: CliContext): void {
  addIndexFlags(
    addCommonFlags(
      program
        .command('scan')
        .summary('count what restoring an archive would create')
        .description(
          'Walk ARCHIVE once (a file or - for stdin, compression detected from its bytes; or restic:SNAPSHOT, borg:REPO::ARCHIVE, listed by the tool without reading file data) and report how many files, directories, links and bytes restoring all of it would create.',
        )
        .argument('<archive>', 'archive file, - for stdin, restic:SNAPSHOT or borg:REPO::ARCHIVE')
        .option('--depth <n>', 'depth of the directory tree rollup', '3'),
    ),
  ).action(async (archive: string, opts: Record<string, unknown>) => {
    await runCommand(ctx, opts, async ({ flags, progress, signal, index }) => {
      const depth = Number(opts.depth);
      if (!Number.isInteger(depth) || depth < 0) {
        throw new RestoreplanError(
          'USAGE',
          `--depth must be a whole number, not ${JSON.stringify(opts.depth)}`,
        );
      }
      const { scanArchive } = await import('../../scanArchive.js');
      const result = await scanArchive(archiveArgument(archive, ctx.io), {
        index,
        depth,
        signal,
        onProgress: progress.onProgress,
      });
      progress.done();
      if (flags.json) writeJson(ctx.io, result);
      else renderScan(ctx.io, result, { verbosity: flags.verbosity });
      return EXIT.OK;
    });
  });
}

/**
 * scan's screen; --quiet prints the inodes line alone (what a restore of all of it creates).
 * --verbose shows what the normal screen does: scan hides nothing (--depth sets the tree).
 */
export function renderScan(
  io: Io,
  result: ScanResult,
  screen: { verbosity?: Verbosity } = {},
): void {
  const { archive, totals } = result;
  const inodes = `Restoring all of it creates up to ${formatCount(totals.entries + totals.impliedDirs - totals.hardlinks)} inodes (files, dirs, symlinks, implied dirs; hard links share one).`;
  if (screen.verbosity === 'quiet') {
    writeOneLine(io, inodes);
    return;
  }
  const size = archive.sizeBytes === null ? 'stream' : formatBytes(archive.sizeBytes);
  const what = archive.source
    ? `${archive.source === 'restic' ? 'snapshot' : 'archive'} ${archive.fingerprint.slice(archive.source.length + 1, archive.source.length + 9)}, listed by ${archive.source}`
    : `${size}, ${archive.compression}, ${archive.formats.join('+') || 'empty'}`;
  writeWrapped(io, `Archive ${archive.path} (${what})`, { oneLine: true });
  const table = makeTable(io, {
    head: [
      'entries',
      'files',
      'dirs',
      'symlinks',
      'hard links',
      'other',
      'bytes',
      'implied dirs',
      'duplicates',
    ],
  });
  table.push([
    formatCount(totals.entries),
    formatCount(totals.files),
    formatCount(totals.dirs),
    formatCount(totals.symlinks),
    formatCount(totals.hardlinks),
    formatCount(totals.other),
    formatBytes(totals.bytes),
    formatCount(totals.impliedDirs),
    formatCount(totals.duplicates),
  ]);
  writeLine(io, table.toString());
  writeWrapped(io, inodes);
  if (result.tree.length > 0) {
    const tree = makeTable(io, {
      head: ['directory', 'entries', 'files', 'dirs', 'links', 'bytes'],
    });
    for (const row of result.tree) {
      tree.push([
        row.path,
        formatCount(row.entries),
        formatCount(row.files),
        formatCount(row.dirs),
        formatCount(row.symlinks + row.hardlinks),
        formatBytes(row.bytes),
      ]);
    }
    writeLine(io, tree.toString());
  }
  if (result.mailman) {
    writeWrapped(
      io,
      `Mailman 2.1 var dir in the archive: ${result.mailman.root || '(archive root)'} with ${formatCount(result.mailman.lists)} lists`,
    );
  }
  for (const warning of result.warnings) {
    writeWrapped(io, `warning ${warning.code}: ${warning.message}`, { oneLine: true });
  }
}
