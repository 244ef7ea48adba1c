/**
 * The bench archives of one shape — the uncompressed tar and its .gz and .zst — generated once
 * into .bench-work/ and cached under a name with the shape, its size and the generator's version.
 */
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { benchConfigPickle } from './benchConfigPickle.js';
import {
  BENCH_SHAPES,
  GENERATOR_VERSION,
  generateBenchArchive,
  type BenchShapeName,
} from './generateBenchArchive.js';
import { sh, work } from './measure.js';

export interface Archives {
  shape: BenchShapeName;
  tar: string;
  gz: string;
  zst: string;
  members: number;
  directories: number;
  lists: string[];
}

/** Removes cached archives that an older (or other) generator version wrote. */
function pruneStale(): void {
  for (const name of readdirSync(work))
    if (name.startsWith('mailman-') && !name.includes(`-v${GENERATOR_VERSION}.`))
      rmSync(path.join(work, name), { recursive: true, force: true });
}

export function ensureArchives(
  shape: BenchShapeName,
  size: { lists: number | undefined; postsPerList: number | undefined },
): Archives {
  mkdirSync(work, { recursive: true });
  pruneStale();
  const lists = size.lists ?? BENCH_SHAPES[shape].lists;
  const posts = size.postsPerList ?? BENCH_SHAPES[shape].postsPerList;
  const tag = `mailman-${shape}-${lists}x${posts}-v${GENERATOR_VERSION}`;
  const tar = path.join(work, `${tag}.tar`);
  const meta = path.join(work, `${tag}.json`);
  const gz = `${tar}.gz`;
  const zst = `${tar}.zst`;
  if (!existsSync(tar) || !existsSync(meta)) {
    process.stderr.write(`bench: generating ${tar}\n`);
    rmSync(meta, { force: true });
    rmSync(gz, { force: true });
    rmSync(zst, { force: true });
    const info = generateBenchArchive(tar, {
      shape,
      lists,
      postsPerList: posts,
      seed: 42,
      configFor: benchConfigPickle,
    });
    const listed = spawnSync('bash', ['-c', `tar -tf '${tar}' | wc -l`], { encoding: 'utf8' });
    const counted = Number(listed.stdout.trim());
    if (counted !== info.members)
      throw new Error(`GNU tar lists ${counted} members, the generator wrote ${info.members}`);
    writeFileSync(meta, JSON.stringify(info));
  }
  const info = JSON.parse(readFileSync(meta, 'utf8')) as {
    members: number;
    directories: number;
    lists: string[];
  };
  // Written to a temporary name first, so an interrupted run leaves no truncated cache.
  if (!existsSync(gz)) {
    process.stderr.write(`bench: compressing ${gz}\n`);
    sh(`gzip -6 -c '${tar}' > '${gz}.tmp'`);
    renameSync(`${gz}.tmp`, gz);
  }
  if (!existsSync(zst)) {
    process.stderr.write(`bench: compressing ${zst}\n`);
    sh(`zstd -q -3 -T0 -f '${tar}' -o '${zst}.tmp'`);
    renameSync(`${zst}.tmp`, zst);
  }
  return { shape, tar, gz, zst, ...info };
}
