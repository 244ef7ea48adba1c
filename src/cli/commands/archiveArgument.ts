import type { Io } from '../output.js';

/** `-` means stdin (CONTRACT.md); anything else is a file path. */
export function archiveArgument(archive: string, io: Io): string | NodeJS.ReadableStream {
  return archive === '-' ? io.stdin : archive;
}
