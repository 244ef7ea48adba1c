import { RestoreplanError } from '../errors.js';
import { readMountInfo } from '../filesystems/readMountInfo.js';
import { statFilesystemSync, type FilesystemInfo } from '../filesystems/statFilesystem.js';
import { selectBlockModel, type BlockModel } from './blockModel.js';

/**
 * The filesystems a demand ledger meets, numbered in the order first seen, each with its block
 * model. Devices (st_dev of an existing directory) are resolved to mounts once; the mount table
 * is read once per registry, so a ledger over a million members stats each filesystem once.
 */
export interface FilesystemRegistry {
  readonly filesystems: readonly FilesystemInfo[];
  resolveFilesystem(device: string, dirPath: string): number;
  modelOf(fsIndex: number): BlockModel;
}

export async function createFilesystemRegistry(): Promise<FilesystemRegistry> {
  const mounts = await readMountInfo();
  const filesystems: FilesystemInfo[] = [];
  const models: BlockModel[] = [];
  const byDevice = new Map<string, number>();
  return {
    filesystems,
    resolveFilesystem(device, dirPath) {
      let index = byDevice.get(device);
      if (index === undefined) {
        const info = statFilesystemSync(dirPath, mounts);
        index = filesystems.length;
        filesystems.push(info);
        models.push(selectBlockModel(info.fsType, info.blockSize, info.xfs));
        byDevice.set(device, index);
      }
      return index;
    },
    modelOf(fsIndex) {
      const model = models[fsIndex];
      if (!model) throw new RestoreplanError('INTERNAL', `no filesystem #${fsIndex}`);
      return model;
    },
  };
}
