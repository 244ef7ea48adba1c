/**
 * `findDevices`: the filesystems (st_dev) that paths are on, each by its nearest existing
 * ancestor (a target that does not exist yet will be made inside it). What keeps the archive
 * index off the filesystem a restore writes to.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';

export async function findDevices(paths: readonly string[]): Promise<Set<bigint>> {
  const devices = new Set<bigint>();
  for (const start of paths) {
    let current = path.resolve(start);
    for (;;) {
      const info = await stat(current, { bigint: true }).catch(() => null);
      if (info) {
        devices.add(info.dev);
        break;
      }
      const parent = path.dirname(current);
      if (parent === current) break;
      current = parent;
    }
  }
  return devices;
}
