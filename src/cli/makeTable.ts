import Table from 'cli-table3';

import type { Io } from './output.js';

/**
 * Every human table goes through here: cli-table3 colours headers and borders by default,
 * which is noise in a log file, a pipe or a runbook transcript; colour only on a terminal
 * and never with NO_COLOR (no-color.org).
 */
export function makeTable(io: Io, options: Table.TableConstructorOptions = {}): Table.Table {
  const stdout = io.stdout as NodeJS.WritableStream & { isTTY?: boolean };
  const colour = stdout.isTTY === true && !process.env.NO_COLOR;
  return new Table(
    colour ? options : { ...options, style: { head: [], border: [], ...options.style } },
  );
}
