#!/usr/bin/env node
import { runCli } from './main.js';

// The only place that exits: every command returns its exit code.
runCli(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(
      `restoreplan: INTERNAL: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    process.exitCode = 3;
  },
);
