/**
 * The --prometheus FILE writer: node_exporter's textfile collector may read the file at any
 * moment, so it is replaced whole or not at all, by the one writer that writes files (a temp
 * file beside FILE, fsynced, renamed over it; the temp file removed on any error). A failed
 * write leaves the previous metrics as they were: restoreplan_last_run_timestamp_seconds then
 * ages, which is what an alert on staleness watches.
 */
import { isRestoreplanError, RestoreplanError } from '../../errors.js';
import type { Io } from '../output.js';

export async function writePrometheusOutput(io: Io, file: string, text: string): Promise<void> {
  if (file === '-') {
    io.stdout.write(text);
    return;
  }
  const { writeFileAtomic } = await import('../../apply/writeFileAtomic.js');
  try {
    // 0644: node_exporter runs as its own user and must read it.
    await writeFileAtomic(file, Buffer.from(text), { mode: 0o644 });
  } catch (error) {
    if (isRestoreplanError(error)) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new RestoreplanError(
      'WRITE_FAILED',
      `cannot write the metrics to ${file}: ${code ?? (error as Error).message}`,
      {
        path: file,
        ...(code ? { errno: code } : {}),
        hint: "--prometheus names a file in an existing, writable directory (e.g. node_exporter's --collector.textfile.directory)",
      },
    );
  }
}
