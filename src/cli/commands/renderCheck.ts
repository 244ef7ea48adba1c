/**
 * check's human output, apart from the command's definition (check.ts), as doctor's, plan's and
 * apply's are: only a text run loads it.
 */
import type { CheckResult } from '../../types.js';
import { makeTable } from '../makeTable.js';
import { writeLine, writeOneLine, writeWrapped, type Io, type Verbosity } from '../output.js';
import { formatBytes, formatCount } from '../progressBar.js';

function row(label: string, cells: (string | number)[]): (string | number)[] {
  return [label, ...cells];
}

/**
 * check's screen; --quiet prints the verdict line alone, --verbose adds what the table sums up
 * (the growth allowance inside the inode reserve, the blocks free including root's share).
 */
export function renderCheck(
  io: Io,
  result: CheckResult,
  screen: { verbosity?: Verbosity } = {},
): void {
  const verdict = `Verdict: ${result.verdict.toUpperCase()}`;
  if (screen.verbosity === 'quiet') {
    writeOneLine(io, verdict);
    return;
  }
  const verbose = screen.verbosity === 'verbose';
  const s = result.selection;
  writeWrapped(
    io,
    `Selection: ${formatCount(s.entries)} entries (${formatCount(s.files)} files, ${formatCount(s.dirs)} dirs, ${formatCount(s.symlinks)} symlinks, ${formatCount(s.hardlinks)} hard links, ${formatCount(s.other)} other), ${formatBytes(s.bytes)}`,
  );
  for (const fs of result.filesystems) {
    writeLine(io, '');
    writeWrapped(
      io,
      `${fs.mountPoint} (${fs.fsType}, ${fs.device}, blocks of ${fs.blockSize} B): ${fs.verdict.toUpperCase()}`,
      { oneLine: true },
    );
    const table = makeTable(io, {
      head: ['', 'needed', 'peak', 'free', 'reserve', 'after', 'total'],
    });
    const i = fs.inodes;
    table.push(
      row(i.dynamic ? 'inodes (dynamic)' : 'inodes', [
        formatCount(i.needed),
        formatCount(i.peak),
        i.total > 0 ? formatCount(i.free) : 'n/a',
        formatCount(i.reserve),
        i.total > 0 ? formatCount(i.freeAfter) : 'n/a',
        i.total > 0 ? formatCount(i.total) : 'n/a',
      ]),
    );
    const b = fs.blocks;
    const bytes = (n: number): string => formatBytes(n * fs.blockSize);
    table.push(
      row('space (available)', [
        bytes(b.needed),
        bytes(b.peak),
        bytes(b.available),
        bytes(b.reserve),
        bytes(b.availableAfter),
        bytes(b.total),
      ]),
    );
    writeLine(io, table.toString());
    if (verbose) {
      writeWrapped(
        io,
        `Space free including root's reserved blocks: ${bytes(b.free)} (available to others: ${bytes(b.available)})`,
      );
      if (i.growth) writeWrapped(io, `Inode reserve: ${i.growth.note}`, { oneLine: true });
    }
  }
  if (result.problems.length > 0) {
    writeLine(io, '');
    for (const p of result.problems)
      writeWrapped(io, `${p.severity} ${p.kind}: ${p.message}`, { oneLine: true });
  }
  writeLine(io, '');
  writeLine(io, verdict);
}
