import { constants } from 'node:fs';

import { COMPRESSION_MAGIC_BYTES, detectCompression } from './detectCompression.js';
import { openArchiveFile } from './openArchive.js';

/**
 * True when members of this archive can be read later by offset (readMemberAt): an
 * uncompressed regular file named by a path. Compressed archives, stdin and FIFOs need one
 * streaming pass instead (readMembers). A FIFO is not read from (that would consume it).
 */
export async function isSeekableArchive(archive: string | NodeJS.ReadableStream): Promise<boolean> {
  if (typeof archive !== 'string' || archive === '-') return false;
  // O_NONBLOCK: opening a FIFO must not wait for a writer.
  const handle = await openArchiveFile(archive, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    if (!(await handle.stat()).isFile()) return false;
    const head = Buffer.alloc(COMPRESSION_MAGIC_BYTES);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    return detectCompression(head.subarray(0, bytesRead)) === 'none';
  } finally {
    await handle.close();
  }
}
