#!/usr/bin/env node
// Writes man/restoreplan.1 from the built program (dist/): the same commander definitions that
// `--help` prints, so the page cannot drift from them. Run by `npm run build`, after tsc; the
// page is generated, not committed (.gitignore), and shipped through package.json "files".
// SOURCE_DATE_EPOCH (reproducible builds) dates the page; otherwise today.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';

import { buildProgram } from '../dist/cli/main.js';
import { formatManPage } from '../dist/cli/formatManPage.js';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const epoch = process.env.SOURCE_DATE_EPOCH ?? '';
const date = (/^\d+$/.test(epoch) ? new Date(Number(epoch) * 1000) : new Date())
  .toISOString()
  .slice(0, 10);
const nowhere = { write: () => true };
const program = buildProgram({
  io: { stdout: nowhere, stderr: nowhere, stdin: new PassThrough() },
  exitCode: 0,
});
const file = path.join(root, 'man', 'restoreplan.1');
mkdirSync(path.dirname(file), { recursive: true });
writeFileSync(`${file}.tmp`, formatManPage(program, { date }));
renameSync(`${file}.tmp`, file);
