import type Table from 'cli-table3';
import { createRequire } from 'node:module';

import { displayWidth, printableText, screenColumns, shortenMiddle, type Io } from './output.js';

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

/** When a word must be broken, words up to this long stay whole (at least). */
const MIN_BROKEN = 12;

/** A column of paths shortened in the middle (shortenColumns) gives way down to this. */
const MIN_SHORTENED = 16;

/**
 * Column widths fitted to `columns`: the widest columns give up what the screen lacks, evenly
 * (every column wider than some level is cut to it, the level as high as fits), none below its
 * floor (its longest word: words wrap whole). Cutting only the widest column left a 12-column
 * "what Mailman would do" beside untouched ones. A border takes one column, plus one at the
 * end. Null when the floors alone are too wide.
 */
function fitWidths(
  widths: readonly number[],
  floors: readonly number[],
  columns: number,
): number[] | null {
  const at = (level: number): number[] =>
    widths.map((w, i) => Math.max(Math.min(w, floors[i] ?? 0), Math.min(w, level)));
  const drawn = (fitted: number[]): number => fitted.reduce((n, w) => n + w, 0) + fitted.length + 1;
  for (let level = Math.max(0, ...widths); level >= 0; level -= 1) {
    const fitted = at(level);
    if (drawn(fitted) <= columns) return fitted;
  }
  return null;
}

/** `cell` with every word longer than `width` broken into lines of `width` (0: unchanged). */
function breakLongWords(cell: Table.Cell, width: number): Table.Cell {
  if (typeof cell !== 'string' || width <= 0) return cell;
  return cell.replace(/\S+/g, (word) => {
    if (displayWidth(word) <= width) return word;
    const pieces: string[] = [];
    let piece = '';
    for (const char of word) {
      if (piece !== '' && displayWidth(piece + char) > width) {
        pieces.push(piece);
        piece = '';
      }
      piece += char;
    }
    pieces.push(piece);
    return pieces.join('\n');
  });
}

const widestLine = (text: string): number =>
  // eslint-disable-next-line no-control-regex -- colour codes take no column
  Math.max(0, ...text.split('\n').map((line) => displayWidth(line.replace(/\x1b\[[0-9;]*m/g, ''))));

const cellText = (cell: Table.Cell): string =>
  typeof cell === 'object' && cell !== null ? String(cell.content ?? '') : String(cell ?? '');

/** A body line this short (a number with its unit, a status, a name) is never wrapped. */
const WHOLE = 16;

/**
 * Each column's widest line, and its floor: the longest word of its head, and of a body cell
 * the longest word, or the whole line when it is short ("16.0 KiB" does not become two lines).
 * Without padding.
 */
function measureColumns(
  rows: readonly Table.Cell[][],
  head: readonly string[],
): { widths: number[]; floors: number[] } {
  const widths: number[] = [];
  const floors: number[] = [];
  const longestWord = (line: string): number => Math.max(0, ...line.split(/\s+/).map(displayWidth));
  [head, ...rows].forEach((row, r) =>
    row.forEach((cell, i) => {
      const lines = cellText(cell).split('\n');
      widths[i] = Math.max(widths[i] ?? 0, ...lines.map(widestLine));
      const floor = lines.map((line) =>
        r > 0 && widestLine(line) <= WHOLE ? widestLine(line) : longestWord(line),
      );
      floors[i] = Math.max(floors[i] ?? 0, ...floor);
    }),
  );
  return { widths, floors };
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
 * A table with a rule between every two rows takes two lines a row: a rule is kept only next
 * to a row that takes several lines (there it says where the row ends); rows of one line
 * stand one a line, under the head's rule. Two hundred healthy lists are two hundred lines.
 */
function dropRowRules(text: string, hasHead: boolean): string {
  const lines = text.split('\n');
  const first = hasHead ? lines.findIndex((line) => line.startsWith('├')) : 0;
  if (first < 0 || lines.length < first + 3) return text;
  const rows: string[][] = [[]];
  for (const line of lines.slice(first + 1, -1)) {
    if (line.startsWith('├')) rows.push([]);
    else rows[rows.length - 1]?.push(line);
  }
  const rule = lines.slice(first + 1).find((line) => line.startsWith('├'));
  const body = rows.flatMap((row, i) => {
    const next = rows[i + 1];
    const ruled = rule !== undefined && next !== undefined && (row.length > 1 || next.length > 1);
    return ruled ? [...row, rule] : row;
  });
  return [...lines.slice(0, first + 1), ...body, lines[lines.length - 1] ?? ''].join('\n');
}

/** cli-table3's options, but for the widths: makeTable lays them out for the screen. */
export interface TableOptions extends Omit<Table.TableConstructorOptions, 'colWidths'> {
  /**
   * Columns (by index) whose cells are shortened in the middle to fit (shortenPath) instead of
   * broken over lines: paths shown for orientation whose whole text is in the JSON document.
   */
  shortenColumns?: readonly number[];
}

/**
 * `path` shortened to `width` columns by leaving out whole directories from its middle
 * (`/var/lib/mailman/…/announce/config.pck`): its start says where it lives, its end which
 * file of which list; the middle rarely tells them apart. A name too long even for that is cut
 * in its middle (shortenMiddle). Only for a screen: documents keep the whole path.
 */
export function shortenPath(path: string, width: number): string {
  const length = displayWidth;
  if (length(path) <= width) return path;
  const parts = path.split('/');
  if (parts.length < 3) return shortenMiddle(path, width);
  let head = 1; // parts[0] is '' for an absolute path
  let tail = 1;
  const text = (h: number, t: number): string =>
    `${parts.slice(0, h).join('/')}/…/${parts.slice(parts.length - t).join('/')}`;
  if (length(text(head, tail)) > width) return shortenMiddle(path, width);
  // Alternately one more directory at the end and one at the start, while it fits.
  for (let grew = true; grew && head + tail < parts.length - 1;) {
    grew = false;
    if (head + tail < parts.length - 1 && length(text(head, tail + 1)) <= width) {
      tail += 1;
      grew = true;
    }
    if (head + tail < parts.length - 1 && length(text(head + 1, tail)) <= width) {
      head += 1;
      grew = true;
    }
  }
  return text(head, tail);
}

/**
 * Every human table goes through here: cli-table3 colours headers and borders by default;
 * here never (see below).
 *
 * A table fits the screen (screenColumns: $COLUMNS, the terminal's width, or 80 off a
 * terminal — an 80-column console at 3 a.m., a log read on one later): widths give way
 * (wrapping text, the widest column first), and a table still too wide drops its cell padding.
 * A word longer than its column is broken across lines, never cut off, unless its column is
 * one of `shortenColumns`. Rows stand one a line unless one takes several (dropRowRules).
 */
export function makeTable(io: Io, options: TableOptions = {}): Table.Table {
  const { shortenColumns = [], ...tableOptions } = options;
  // No colour at all: every line of human output is escaped on its way out (writeLine), and
  // cli-table3's colour codes would be printed as literal `\x1b[90m` text on a terminal.
  const styled = { ...tableOptions, style: { head: [], border: [], ...tableOptions.style } };
  const columns = screenColumns(io);
  const table = escapeCells(newTable(styled));
  table.toString = () => {
    const rows = table as unknown as Table.Cell[][];
    const head = options.head ?? [];
    const render = (colWidths: number[] | null, pad: number): string => {
      const style = {
        ...styled.style,
        'padding-left': pad > 1 ? 1 : 0,
        'padding-right': pad > 0 ? 1 : 0,
      };
      const out = newTable({
        ...styled,
        style,
        ...(colWidths ? { colWidths, wordWrap: true } : {}),
      });
      for (const row of rows)
        out.push(
          row.map((cell, i) => {
            const width = (colWidths?.[i] ?? 0) - pad;
            // A word longer than its column (a path) is broken, not cut off with "…"; a
            // path in a shortened column loses its middle instead.
            return shortenColumns.includes(i) && typeof cell === 'string' && width > 0
              ? cell
                  .split('\n')
                  .map((line) => shortenPath(line, width))
                  .join('\n')
              : breakLongWords(cell, width);
          }),
        );
      return dropRowRules(out.toString(), head.length > 0);
    };
    const measured = measureColumns(rows, head);
    const drawn = measured.widths.reduce((n, w) => n + w + 2, 0) + measured.widths.length + 1;
    // Natural widths that fit: cli-table3 lays the table out itself, as it always did.
    if (drawn <= columns) return render(null, 2);
    // Then narrower columns, words whole; then less padding (one space, then none); last,
    // words broken (a path longer than the screen).
    for (const pad of [2, 1, 0]) {
      const widths = measured.widths.map((w) => w + pad);
      const floors = measured.floors.map((w, i) =>
        shortenColumns.includes(i) ? Math.min(w, MIN_SHORTENED) + pad : w + pad,
      );
      const fitted = fitWidths(widths, floors, columns);
      if (fitted) return render(fitted, pad);
    }
    // A word wider than the screen allows (a long path, a long name): broken, the padding kept
    // if it fits, the other columns' words whole down to MIN_BROKEN.
    for (const pad of [2, 1, 0]) {
      const widths = measured.widths.map((w) => w + pad);
      // Only the words longer than `cap` are broken, the cap as high as fits.
      for (let cap = Math.max(0, ...measured.floors); cap >= MIN_BROKEN; cap -= 1) {
        const floors = measured.floors.map((w) => Math.min(w, cap) + pad);
        const fitted = fitWidths(widths, floors, columns);
        if (fitted) return render(fitted, pad);
      }
    }
    const widths = measured.widths;
    return render(
      fitWidths(
        widths,
        widths.map(() => 1),
        columns,
      ) ?? widths,
      0,
    );
  };
  return table;
}
