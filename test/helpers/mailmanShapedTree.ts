/**
 * A small Mailman-2.1-shaped var dir for filesystem tests (until samples/ has the shared
 * generator): list configs (with a hard link, as Mailman's save leaves config.pck.last),
 * pipermail archives (one small HTML file per post in per-month dirs, attachments, an mbox),
 * symlinks in archives/public, queue files, a sparse file and empty service dirs. Contents are
 * deterministic pseudo-random bytes so sizes vary like real mail.
 */
import {
  linkSync,
  mkdirSync,
  symlinkSync,
  writeFileSync,
  openSync,
  writeSync,
  closeSync,
  ftruncateSync,
} from 'node:fs';
import path from 'node:path';

import { run } from './env.js';

export interface TreeShape {
  lists: number;
  postsPerList: number;
  months?: number;
}

function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x100000000;
  };
}

export function makeMailmanShapedTree(root: string, shape: TreeShape): void {
  const random = rng(shape.lists * 7919 + shape.postsPerList);
  const bytes = (n: number): Buffer => {
    const buf = Buffer.alloc(n);
    for (let i = 0; i < n; i += 1) buf[i] = 32 + Math.floor(random() * 90);
    return buf;
  };
  const months = ['2024-January', '2024-February', '2024-March', '2024-April'].slice(
    0,
    shape.months ?? 3,
  );
  for (const dir of ['locks', 'logs', 'data', 'spam', 'qfiles/in', 'qfiles/out', 'qfiles/shunt']) {
    mkdirSync(path.join(root, dir), { recursive: true });
  }
  for (let l = 0; l < shape.lists; l += 1) {
    const name = `list-${l}`;
    const listDir = path.join(root, 'lists', name);
    mkdirSync(listDir, { recursive: true });
    writeFileSync(path.join(listDir, 'config.pck'), bytes(3000 + Math.floor(random() * 20000)));
    linkSync(path.join(listDir, 'config.pck'), path.join(listDir, 'config.pck.last'));
    writeFileSync(path.join(listDir, 'request.pck'), bytes(40));
    writeFileSync(path.join(listDir, 'pending.pck'), bytes(300));
    const arch = path.join(root, 'archives/private', name);
    for (const month of months) {
      mkdirSync(path.join(arch, month), { recursive: true });
      for (let p = 0; p < shape.postsPerList / months.length; p += 1) {
        const file = path.join(arch, month, `${String(p).padStart(6, '0')}.html`);
        writeFileSync(file, bytes(900 + Math.floor(random() * 6000)));
      }
      for (const index of [
        'index.html',
        'thread.html',
        'date.html',
        'author.html',
        'subject.html',
      ]) {
        writeFileSync(path.join(arch, month, index), bytes(2000 + Math.floor(random() * 9000)));
      }
    }
    const attachments = path.join(arch, 'attachments', '20240115', 'a1b2c3');
    mkdirSync(attachments, { recursive: true });
    writeFileSync(
      path.join(attachments, 'attachment.bin'),
      bytes(150_000 + Math.floor(random() * 400_000)),
    );
    mkdirSync(path.join(root, 'archives/private', `${name}.mbox`), { recursive: true });
    writeFileSync(
      path.join(root, 'archives/private', `${name}.mbox`, `${name}.mbox`),
      bytes(300_000),
    );
    mkdirSync(path.join(root, 'archives/public'), { recursive: true });
    // Short link (ext4 fast symlink) and one over 60 bytes (a data block on ext4). Both stay
    // inside the tree: a link whose text leaves the target is never restored (judgeSymlinkText).
    symlinkSync(`../private/${name}`, path.join(root, 'archives/public', name));
    symlinkSync(
      `../private/${name}.mbox/${name}.mbox-with-a-long-target-name-that-takes-a-block`,
      path.join(root, 'archives/public', `${name}.mbox`),
    );
    for (let q = 0; q < 5; q += 1) {
      writeFileSync(path.join(root, 'qfiles/in', `1700000000.${l}${q}+abcdef.pck`), bytes(1500));
    }
  }
  // A sparse file: 8 MiB apparent, two 64 KiB data extents (tar --sparse stores only those).
  const sparse = path.join(root, 'data', 'bounce-events.sparse');
  const fd = openSync(sparse, 'w');
  try {
    writeSync(fd, bytes(65536), 0, 65536, 0);
    writeSync(fd, bytes(65536), 0, 65536, 4 << 20);
    ftruncateSync(fd, 8 << 20);
  } finally {
    closeSync(fd);
  }
}

export interface ListedMember {
  name: string;
  type: 'file' | 'dir' | 'symlink' | 'hardlink' | 'fifo' | 'chardev' | 'blockdev';
  size: number;
  stored: number;
  linkname: string;
  sparse: boolean;
}

/** The members of a tar as Python's tarfile reads them (an oracle independent of our walk). */
export function listTarWithPython(archive: string): ListedMember[] {
  const script = `
import json, sys, tarfile
out = []
with tarfile.open(sys.argv[1]) as tf:
    for m in tf:
        t = 'file' if m.isreg() else 'dir' if m.isdir() else 'symlink' if m.issym() else 'hardlink' if m.islnk() else 'fifo' if m.isfifo() else 'chardev' if m.ischr() else 'blockdev' if m.isblk() else 'other'
        stored = sum(l for _, l in m.sparse) if m.sparse is not None else m.size
        out.append(dict(name=m.name, type=t, size=m.size, stored=stored, linkname=m.linkname, sparse=m.sparse is not None))
json.dump(out, sys.stdout)
`;
  return JSON.parse(run('python3', ['-c', script, archive])) as ListedMember[];
}
