/**
 * The benchmark archive: a Mailman 2.1 var dir as a nightly backup holds it, with about
 * 700,000 members — list configs and state, pipermail archives (one HTML file per post in
 * per-month dirs, indexes, attachments), mbox files, public-archive symlinks, queue files,
 * lock hard links. Deterministic from the seed. Two shapes (see bench/README.md):
 *
 * - `few`: 60 busy lists of 11,700 posts, 500 posts a month — about 2,300 directories, 950 MB.
 * - `many`: 400 quiet lists of 1,300 posts, 20 posts a month (65 months each) — about
 *   40,000 directories, as on most real Mailman servers.
 */
import { makeRandom, MONTHS } from '../samples/generateMailmanTree.js';
import { TarWriter } from './writeTar.js';

/** Bump when the output of the generator changes: cached archives are keyed by it. */
export const GENERATOR_VERSION = 5;

export type BenchShapeName = 'few' | 'many';

export interface BenchShape {
  lists: number;
  postsPerList: number;
  /** Posts in one pipermail month dir: with postsPerList, how many month dirs a list has. */
  postsPerMonth: number;
}

export const BENCH_SHAPES: Record<BenchShapeName, BenchShape> = {
  few: { lists: 60, postsPerList: 11_700, postsPerMonth: 500 },
  many: { lists: 400, postsPerList: 1_300, postsPerMonth: 20 },
};

export interface BenchArchiveOptions {
  shape: BenchShapeName;
  /** Overrides of the shape's list count and posts per list (for short runs). */
  lists?: number;
  postsPerList?: number;
  seed: number;
  /** Bytes of a valid list config pickle for a list name (the bench plans and applies them). */
  configFor: (name: string) => Buffer;
}

export interface BenchArchiveInfo {
  members: number;
  directories: number;
  bytes: number;
  lists: string[];
}

const WORDS =
  'the list mailman message thread subject reply digest archive member owner moderator bounce post patch review release build error config server queue restore backup inode disk space filesystem please thanks regards question answer'.split(
    ' ',
  );

export function generateBenchArchive(path: string, options: BenchArchiveOptions): BenchArchiveInfo {
  const shape = BENCH_SHAPES[options.shape];
  const listCount = options.lists ?? shape.lists;
  const postsPerList = options.postsPerList ?? shape.postsPerList;
  const { postsPerMonth } = shape;
  const random = makeRandom(options.seed).next;
  // One long text to slice posts from: realistic compressibility without per-post generation.
  const textParts: string[] = [];
  for (let i = 0; i < 400_000; i += 1)
    textParts.push(WORDS[Math.floor(random() * WORDS.length)] ?? 'x');
  const text = Buffer.from(textParts.join(' '));
  const slice = (length: number): Buffer => {
    const start = Math.floor(random() * (text.length - length - 1));
    return text.subarray(start, start + length);
  };
  const tar = new TarWriter(path);
  let directories = 0;
  const dir = (name: string): void => {
    tar.add(name, 'dir', null);
    directories += 1;
  };
  const root = 'var/lib/mailman';
  const lists: string[] = [];
  for (const sub of [
    '',
    '/lists',
    '/archives',
    '/archives/private',
    '/archives/public',
    '/qfiles',
    '/data',
    '/locks',
    '/logs',
  ]) {
    dir(`${root}${sub}`);
  }
  for (let l = 0; l < listCount; l += 1) {
    const name = `list-${String(l).padStart(3, '0')}`;
    lists.push(name);
    const config = options.configFor(name);
    dir(`${root}/lists/${name}`);
    tar.add(`${root}/lists/${name}/config.pck`, 'file', config);
    tar.add(`${root}/lists/${name}/config.pck.last`, 'file', config);
    tar.add(`${root}/lists/${name}/request.pck`, 'file', Buffer.from('}q\x01.', 'latin1'));
    tar.add(`${root}/lists/${name}/pending.pck`, 'file', Buffer.from('(dp1\n.', 'latin1'));
    tar.add(`${root}/lists/${name}/digest.mbox`, 'file', slice(2000));
    const archive = `${root}/archives/private/${name}`;
    dir(archive);
    tar.add(`${archive}/index.html`, 'file', slice(1500));
    tar.add(`${root}/archives/public/${name}`, 'symlink', null, { link: `../private/${name}` });
    let post = 0;
    let attachments = false;
    const mboxParts: Buffer[] = [];
    while (post < postsPerList) {
      const monthIndex = Math.floor(post / postsPerMonth);
      const month = `${2005 + Math.floor(monthIndex / 12)}-${MONTHS[monthIndex % 12]}`;
      dir(`${archive}/${month}`);
      for (const index of [
        'index.html',
        'date.html',
        'thread.html',
        'subject.html',
        'author.html',
      ]) {
        tar.add(`${archive}/${month}/${index}`, 'file', slice(2000 + Math.floor(random() * 4000)));
      }
      for (let i = 0; i < postsPerMonth && post < postsPerList; i += 1, post += 1) {
        const body = slice(150 + Math.floor(random() * 700));
        tar.add(`${archive}/${month}/${String(post).padStart(6, '0')}.html`, 'file', body);
        if (mboxParts.length < 200) mboxParts.push(body);
      }
      if (random() < 0.5) {
        if (!attachments) dir(`${archive}/attachments`);
        attachments = true;
        dir(`${archive}/attachments/${month}`);
        tar.add(`${archive}/attachments/${month}/attachment-${post}.bin`, 'file', slice(20_000));
      }
    }
    dir(`${root}/archives/private/${name}.mbox`);
    tar.add(`${root}/archives/private/${name}.mbox/${name}.mbox`, 'file', Buffer.concat(mboxParts));
  }
  for (const queue of ['in', 'out', 'bounces', 'virgin', 'shunt', 'archive']) {
    dir(`${root}/qfiles/${queue}`);
    for (let i = 0; i < 200; i += 1) {
      tar.add(
        `${root}/qfiles/${queue}/${1700000000 + i}.${i}+${(i * 2654435761) >>> 0}.pck`,
        'file',
        slice(1800),
      );
    }
  }
  tar.add(`${root}/data/master-qrunner.pid`, 'file', Buffer.from('4242\n'));
  tar.add(`${root}/locks/master-qrunner`, 'file', Buffer.from('mail.example.org.4242 1\n'));
  tar.add(`${root}/locks/master-qrunner.mail.example.org.4242`, 'hardlink', null, {
    link: `${root}/locks/master-qrunner`,
  });
  tar.close();
  return { members: tar.members, directories, bytes: tar.bytes, lists };
}
