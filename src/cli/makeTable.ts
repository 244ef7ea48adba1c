import type Table from 'cli-table3';
import { createRequire } from 'node:module';

import { printableText, type Io } from './output.js';

/**
 * cli-table3 (and its string-width and colour dependencies) is required on the first table,
 * not imported: loading it cost every process ~15 ms of startup, and `--json`, `--help`,
 * `--version` and every monitoring check draw no table. It is CommonJS, so a plain require
 * loads it synchronously and the renderers stay synchronous.
 */
const require = createRequire(import.meta.url);
let tableClass: typeof Table | undefined;
function newTable(options: Table.TableConstructorOptions): Table.Table {
  tableClass ??= require('cli-table3') as typeof Table;
  return new tableClass(options);
}

/** The narrowest a word-wrapped column gets when a table is fitted to a terminal. */
const MIN_WRAPPED = 12;

/**
 * Fixed column widths fitted to `columns`: the widest column gives up what the terminal lacks
 * (its text wraps), down to MIN_WRAPPED; a border takes one column, plus one at the end.
 */
function fitWidths(widths: readonly number[], columns: number): number[] {
  const fitted = [...widths];
  const total = (): number => fitted.reduce((n, w) => n + w, 0) + fitted.length + 1;
  while (total() > columns) {
    const widest = fitted.indexOf(Math.max(...fitted));
    const over = total() - columns;
    const next = Math.max(MIN_WRAPPED, (fitted[widest] ?? 0) - over);
    if (next === fitted[widest]) break;
    fitted[widest] = next;
  }
  return fitted;
}

/** `cell` with every word longer than `width` broken into lines of `width` (0: unchanged). */
function breakLongWords(cell: Table.Cell, width: number): Table.Cell {
  if (typeof cell !== 'string' || width <= 0) return cell;
  return cell.replace(new RegExp(`\\S{${width + 1},}`, 'g'), (word) =>
    (word.match(new RegExp(`.{1,${width}}`, 'g')) ?? [word]).join('\n'),
  );
}

const widestLine = (text: string): number =>
  // eslint-disable-next-line no-control-regex -- colour codes take no column
  Math.max(0, ...text.split('\n').map((line) => [...line.replace(/\x1b\[[0-9;]*m/g, '')].length));

/** Each column's natural width: its widest line, plus the cell padding (one each side). */
function naturalWidths(rows: readonly Table.Cell[][], head: readonly string[]): number[] {
  const widths: number[] = [];
  for (const row of [head, ...rows])
    row.forEach((cell, i) => {
      const text =
        typeof cell === 'object' && cell !== null ? String(cell.content ?? '') : String(cell ?? '');
      widths[i] = Math.max(widths[i] ?? 0, widestLine(text) + 2);
    });
  return widths;
}

/**
 * Cells are escaped as they are pushed, as every line of human output is: an escape sequence
 * in a list name is otherwise taken by cli-table3 for a colour (carried over wrapped lines,
 * not counted in the width) before the output escapes it, and the columns no longer line up.
 * Line breaks stay: a cell may hold several lines. (Data that must stay on one line — a name
 * — is passed through printableLine by the renderer.)
 */
function escapeCells(table: Table.Table): Table.Table {
  const push = table.push.bind(table);
  const escape = (cell: Table.Cell): Table.Cell =>
    typeof cell === 'string' ? printableText(cell) : cell;
  table.push = (...rows: Table.Table[number][]): number =>
    push(...rows.map((row) => (Array.isArray(row) ? row.map(escape) : row)));
  return table;
}

/**
 * Every human table goes through here: cli-table3 colours headers and borders by default;
 * here never (see below).
 *
 * On a terminal a table also fits the width it reports (an 80-column console at 3 a.m.): fixed
 * widths give way (wrapping text), and a table still too wide drops its cell padding. Off a
 * terminal tables keep their natural width. A word longer than its fixed-width column is
 * broken across lines, never cut off.
 */
export function makeTable(io: Io, options: Table.TableConstructorOptions = {}): Table.Table {
  const stdout = io.stdout as NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  // No colour at all: every line of human output is escaped on its way out (writeLine), and
  // cli-table3's colour codes would be printed as literal `\x1b[90m` text on a terminal.
  const styled = { ...options, style: { head: [], border: [], ...options.style } };
  const columns = stdout.isTTY === true ? stdout.columns : undefined;
  const widths = options.colWidths?.map((w) => w ?? 0);
  if (!columns && !widths) return escapeCells(newTable(styled));
  const fitted = widths
    ? { ...styled, wordWrap: true, colWidths: columns ? fitWidths(widths, columns) : widths }
    : styled;
  const table = newTable(fitted);
  escapeCells(table);
  table.toString = () => {
    const rows = table as unknown as Table.Cell[][];
    const render = (
      layout: Table.TableConstructorOptions,
      style: NonNullable<Table.TableConstructorOptions['style']>,
      pad: number,
    ): string => {
      const out = newTable({ ...layout, style });
      // A word longer than its column (a path) is broken, not cut off with "…".
      for (const row of rows)
        out.push(row.map((cell, i) => breakLongWords(cell, (layout.colWidths?.[i] ?? 0) - pad)));
      return out.toString();
    };
    const unpadded = { ...fitted.style, 'padding-left': 0, 'padding-right': 0 };
    let text = render(fitted, fitted.style ?? {}, 2);
    if (!columns || widestLine(text) <= columns) return text;
    text = render(fitted, unpadded, 0);
    if (widths || widestLine(text) <= columns) return text;
    // Without fixed widths (the doctor's tables) the natural ones give way as fixed ones do
    // when dropping the padding is not enough: a table of long evidence lines stayed 136
    // columns wide, wrapped mid-border on an 80-column console.
    const natural = naturalWidths(rows, options.head ?? []);
    const layout = { ...styled, wordWrap: true, colWidths: fitWidths(natural, columns) };
    text = render(layout, layout.style ?? {}, 2);
    if (widestLine(text) <= columns) return text;
    return render(layout, { ...layout.style, 'padding-left': 0, 'padding-right': 0 }, 0);
  };
  return table;
}
