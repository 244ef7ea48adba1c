import type { Command } from 'commander';

import type { IndexResult } from '../../types.js';
import { addCommonFlags, runCommand, type CliContext } from '../command.js';
import { EXIT } from '../exitCodes.js';
import { writeJson, writeOneLine, writeWrapped, type Io, type Verbosity } from '../output.js';
import { formatBytes, formatCount } from '../progressBar.js';

export function registerIndexCommand(program: Command, ctx: CliContext): void {
  addCommonFlags(
    program
      .command('index')
      .summary('build the archive index ahead of time (run it after the backup)')
      .description(
        'Walk ARCHIVE once and leave its index (docs/archive-index.md), so that scan, check, plan and apply answer without walking it again. A valid index is kept unless --force. Run it from the backup job right after the archive is written.',
      )
      .argument('<archive>', 'archive file (not a stream)')
      .option(
        '--index-dir <dir>',
        'where archive indexes are kept (default $XDG_CACHE_HOME/restoreplan or ~/.cache/restoreplan)',
      )
      .option('--force', 'rebuild even when a valid index is there'),
  ).action(async (archive: string, opts: Record<string, unknown>) => {
    await runCommand(ctx, opts, async ({ flags, progress, signal, index }) => {
      const { indexArchive } = await import('../../indexArchive.js');
      const result = await indexArchive(archive, {
        index,
        force: opts.force === true,
        signal,
        onProgress: progress.onProgress,
      });
      progress.done();
      if (flags.json) writeJson(ctx.io, result);
      else renderIndex(ctx.io, result, { verbosity: flags.verbosity });
      return EXIT.OK;
    });
  });
}

/** index's screen; --quiet prints its first line alone (--verbose: nothing more to show). */
export function renderIndex(
  io: Io,
  result: IndexResult,
  screen: { verbosity?: Verbosity } = {},
): void {
  const { archive, index } = result;
  const points =
    archive.compression === 'none'
      ? 'members read by offset'
      : `${formatCount(index.accessPoints)} access points in the ${archive.compression} stream`;
  const line = `${index.built ? 'Indexed' : 'Already indexed'} ${archive.path}: ${formatCount(index.members)} members, ${points}`;
  if (screen.verbosity === 'quiet') {
    writeOneLine(io, line);
    return;
  }
  writeWrapped(io, line);
  writeWrapped(io, `Index ${index.file} (${formatBytes(index.bytes)})`);
}
