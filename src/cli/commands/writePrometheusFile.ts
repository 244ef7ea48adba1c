/**
 * The --prometheus FILE writer: node_exporter's textfile collector may read the file at any
 * moment, so it is replaced whole or not at all (writeOutputFile: the writer plan --out uses,
 * which also refuses to put a regular file in place of a device, a fifo or a socket —
 * `--prometheus /dev/stdout` replaced the symlink). A failed write leaves the previous metrics
 * as they were: restoreplan_last_run_timestamp_seconds then ages, which is what an alert on
 * staleness watches.
 */
import type { Io } from '../output.js';
import { writeOutputFile } from '../writeOutputFile.js';

export async function writePrometheusOutput(io: Io, file: string, text: string): Promise<void> {
  if (file === '-') {
    io.stdout.write(text);
    return;
  }
  await writeOutputFile(file, Buffer.from(text), {
    flag: '--prometheus',
    what: 'the metrics',
    example: 'restoreplan.prom',
    stdoutHint: '--prometheus - prints the metrics on stdout',
    // 0644: node_exporter runs as its own user and must read it.
    mode: 0o644,
  });
}
