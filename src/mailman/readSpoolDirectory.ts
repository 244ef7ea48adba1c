/**
 * One directory of an MTA spool, listed without following anything: how many entries it has,
 * the blocks it occupies (a directory never shrinks on ext4, so its size says how many more
 * entries fit before it grows), and its subdirectories. Streams the listing (opendir), since a
 * live spool's input/ or deferred/ may hold hundreds of thousands of entries.
 */
import { lstat, opendir } from 'node:fs/promises';

export interface SpoolDirectoryListing {
  /** Entries other than . and .. */
  entries: number;
  /** st_blocks × 512: what the directory itself takes of the filesystem. */
  allocatedBytes: number;
  /** Names of the subdirectories (per d_type; the spools' own filesystems all report it). */
  subdirectories: string[];
  /** Names of the regular files. */
  files: string[];
}

export type SpoolDirectoryResult =
  | { state: 'listed'; listing: SpoolDirectoryListing }
  | { state: 'missing' }
  | { state: 'unreadable'; errno: string };

export async function readSpoolDirectory(dir: string): Promise<SpoolDirectoryResult> {
  try {
    const stat = await lstat(dir);
    // A symlink in place of a queue directory is not followed: the MTA itself would refuse it.
    if (!stat.isDirectory()) return { state: 'missing' };
    const handle = await opendir(dir, { bufferSize: 256 });
    const listing: SpoolDirectoryListing = {
      entries: 0,
      allocatedBytes: stat.blocks * 512,
      subdirectories: [],
      files: [],
    };
    for await (const entry of handle) {
      listing.entries++;
      if (entry.isDirectory()) listing.subdirectories.push(entry.name);
      else if (entry.isFile()) listing.files.push(entry.name);
    }
    return { state: 'listed', listing };
  } catch (error) {
    const errno = (error as NodeJS.ErrnoException).code ?? 'EIO';
    // Gone between the MTA's answer and our look (a queue emptied and removed): nothing there.
    if (errno === 'ENOENT' || errno === 'ENOTDIR') return { state: 'missing' };
    return { state: 'unreadable', errno };
  }
}
