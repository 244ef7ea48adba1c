/**
 * Parses /proc/self/mountinfo (proc(5)): one line per mount of this process's mount namespace,
 * `id parent major:minor root mountPoint options [optional...] - fsType source superOptions`.
 * We use it rather than /proc/mounts because it carries the device number, which is what ties a
 * path (its st_dev) to its mount: btrfs subvolumes and tmpfs have anonymous `0:NN` devices that
 * no /dev node names.
 */
import { readFile } from 'node:fs/promises';

export interface MountInfoEntry {
  mountId: number;
  parentId: number;
  /** st_dev of the mount's root as "major:minor". */
  device: string;
  /** The directory of the filesystem that is mounted here (a bind mount or a btrfs subvolume is not "/"). */
  root: string;
  mountPoint: string;
  mountOptions: string;
  fsType: string;
  /** What was mounted: /dev/sda1, a loop device, "tmpfs", a server:path. */
  source: string;
  superOptions: string;
}

export const MOUNTINFO_PATH = '/proc/self/mountinfo';

/**
 * The kernel escapes space, tab, newline and backslash in paths as `\040`, `\011`, `\012`,
 * `\134` (octal), so a mount point with a space does not split the line.
 */
export function unescapeMountField(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) =>
    String.fromCharCode(parseInt(octal, 8)),
  );
}

/** Parses the text of a mountinfo file; lines that do not parse are skipped. */
export function parseMountInfo(text: string): MountInfoEntry[] {
  const entries: MountInfoEntry[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const fields = line.split(' ');
    // Optional fields (shared:N, master:N...) vary in number; a lone "-" ends them.
    const separator = fields.indexOf('-', 6);
    if (separator < 0 || fields.length < separator + 3) continue;
    const [mountId, parentId, device, root, mountPoint, mountOptions] = fields;
    if (mountId === undefined || parentId === undefined || device === undefined) continue;
    if (root === undefined || mountPoint === undefined || mountOptions === undefined) continue;
    entries.push({
      mountId: Number(mountId),
      parentId: Number(parentId),
      device,
      root: unescapeMountField(root),
      mountPoint: unescapeMountField(mountPoint),
      mountOptions,
      fsType: fields[separator + 1] ?? '',
      source: unescapeMountField(fields[separator + 2] ?? ''),
      superOptions: fields[separator + 3] ?? '',
    });
  }
  return entries;
}

/** Reads and parses this process's mount table. */
export async function readMountInfo(file = MOUNTINFO_PATH): Promise<MountInfoEntry[]> {
  return parseMountInfo(await readFile(file, 'utf8'));
}
