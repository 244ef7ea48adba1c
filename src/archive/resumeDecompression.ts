/**
 * `resumeDecompression`: decompressed bytes from an access point to the end, by the
 * compression's own way of resuming (gzip: zran-style inflate with the saved window; xz: a
 * stream rebuilt from the block on; zstd: a frame start).
 */
import { RestoreplanError } from '../errors.js';
import type { Resume } from './openTarReader.js';

export const resumeDecompression: Resume = (source) => {
  throw new RestoreplanError(
    'INTERNAL',
    `no way to resume ${source.compression} decompression at an access point`,
  );
};
