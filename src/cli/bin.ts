#!/usr/bin/env node
import { runCli } from './main.js';
import { formatErrorLine } from './output.js';

// A reader that goes away (`restoreplan doctor DIR | head`) is not our failure: stop quietly
// with the exit code we have, instead of an unhandled EPIPE stack trace.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
});

// The only place that exits: every command returns its exit code.
runCli(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`restoreplan: ${formatErrorLine(error)}\n`);
    process.exitCode = 3;
  },
);
