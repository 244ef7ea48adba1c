/**
 * The generator behind test/plan/differential.realfs.test.ts: seeded trees, archives made from
 * them by real GNU tar and bsdtar, selections over those archives and target states on a
 * mounted filesystem. Everything is drawn from one small PRNG, so a seed names a whole run.
 *
 * The trees hold what real backups hold: regular files of awkward sizes (0, 1, block size ±1,
 * tens of KiB), sparse files, short (< 60 bytes) and long symlinks, hard links, a directory big
 * enough to grow on ext4 and leave XFS shortform, nested and implied directories. Archives may
 * append members again with `tar -rf` (the last occurrence wins).
 *
 * `expectSelection` is an oracle independent of restoreplan's selection and ledger (only the
 * glob matcher is shared): which members a restore takes, last occurrence winning, which hard
 * links have their target, and what the target state does to each (a directory already there,
 * a path of another type in the way).
 */
import {
  closeSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readlinkSync,
  rmSync,
  statfsSync,
  symlinkSync,
  linkSync,
  writeFileSync,
  writeSync,
  ftruncateSync,
  type Stats,
} from 'node:fs';
import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';

import { makeRandom } from '../../samples/generateMailmanTree.js';
import { createSelector } from '../../src/plan/matchGlob.js';
import { run } from './env.js';

// ---------------------------------------------------------------------------------------------
// PRNG

export interface Rng {
  next(): number;
  int(lo: number, hi: number): number;
  chance(p: number): boolean;
  pick<T>(items: readonly T[]): T;
  sample<T>(items: readonly T[], n: number): T[];
}

/** The samples' generator (mulberry32): the same on every machine, one seed a whole run. */
export function createRng(seed: number): Rng {
  const { next } = makeRandom(seed);
  const rng: Rng = {
    next,
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    chance: (p) => next() < p,
    pick: (items) => {
      if (items.length === 0) throw new Error('pick from nothing');
      return items[Math.floor(next() * items.length)] as (typeof items)[number];
    },
    sample: (items, n) => {
      const copy = [...items];
      for (let i = copy.length - 1; i > 0; i -= 1) {
        const j = Math.floor(next() * (i + 1));
        [copy[i], copy[j]] = [copy[j] as (typeof copy)[number], copy[i] as (typeof copy)[number]];
      }
      return copy.slice(0, Math.max(0, Math.min(n, copy.length)));
    },
  };
  return rng;
}

function bytes(rng: Rng, n: number): Buffer {
  const buf = Buffer.alloc(n);
  for (let i = 0; i < n; i += 1) buf[i] = 33 + Math.floor(rng.next() * 90);
  return buf;
}

// ---------------------------------------------------------------------------------------------
// Trees

export type NodeSpec =
  | { kind: 'dir'; rel: string }
  | { kind: 'file'; rel: string; size: number }
  | { kind: 'sparse'; rel: string; size: number; extents: Array<[number, number]> }
  | { kind: 'symlink'; rel: string; text: string }
  | { kind: 'hardlink'; rel: string; to: string };

/** Sizes around the 1 KiB and 4 KiB block sizes, and a few tens of KiB. */
const SIZES = [0, 1, 2, 1023, 1024, 1025, 4095, 4096, 4097, 8193, 12_000, 30_000, 65_537];
/** Symlink text lengths around ext4's 60-byte fast symlinks, tmpfs's 128, XFS's 336. */
const LINK_LENGTHS = [1, 12, 59, 60, 61, 100, 127, 128, 200, 336, 337, 420];

function linkText(rng: Rng, length: number): string {
  // Components that stay inside the tree (never `..`, never absolute), through directories that
  // do not exist: apply stores such text verbatim.
  let text = '';
  while (text.length < length) {
    if (text !== '') text += '/';
    text += `t${'x'.repeat(rng.int(8, 60))}`;
  }
  text = text.slice(0, length);
  return text.endsWith('/') ? `${text.slice(0, -1)}y` : text;
}

export function generateTree(rng: Rng): NodeSpec[] {
  const nodes: NodeSpec[] = [];
  const dirs: string[] = [];
  const tops = rng.sample(['alpha', 'beta', 'gamma'], rng.int(2, 3)).sort();
  for (const top of tops) {
    nodes.push({ kind: 'dir', rel: top });
    dirs.push(top);
    const subs = rng.int(1, 3);
    for (let i = 0; i < subs; i += 1) {
      const parent = rng.pick(dirs.filter((d) => d.split('/').length < 3 && d.startsWith(top)));
      const name = rng.chance(0.3) ? `a-rather-long-directory-name-${i}` : `d${i}`;
      const rel = `${parent}/${name}`;
      if (dirs.includes(rel)) continue;
      nodes.push({ kind: 'dir', rel });
      dirs.push(rel);
    }
  }
  const taken = new Set<string>(dirs);
  const fresh = (dir: string, stem: string, ext: string): string => {
    let n = 0;
    while (taken.has(`${dir}/${stem}${n}${ext}`)) n += 1;
    const rel = `${dir}/${stem}${n}${ext}`;
    taken.add(rel);
    return rel;
  };
  const files: string[] = [];
  for (let i = rng.int(6, 12); i > 0; i -= 1) {
    const rel = fresh(rng.pick(dirs), 'f', '.dat');
    nodes.push({
      kind: 'file',
      rel,
      size: rng.pick(SIZES) + (rng.chance(0.2) ? rng.int(0, 3) : 0),
    });
    files.push(rel);
  }
  for (let i = rng.int(1, 2); i > 0; i -= 1) {
    const size = rng.int(1, 3) * 1048576 + (rng.chance(0.5) ? rng.int(1, 4000) : 0);
    const extents: Array<[number, number]> = [];
    let offset = rng.int(1, 4) * 4096;
    for (let e = rng.int(1, 3); e > 0 && offset < size - 8192; e -= 1) {
      const length = Math.min(
        rng.int(1, 16) * 4096 - (rng.chance(0.3) ? rng.int(1, 100) : 0),
        size - offset,
      );
      extents.push([offset, length]);
      offset = Math.ceil((offset + length) / 4096) * 4096 + rng.int(2, 64) * 4096;
    }
    if (rng.chance(0.4)) extents.push([size - 1, 1]);
    nodes.push({ kind: 'sparse', rel: fresh(rng.pick(dirs), 's', '.img'), size, extents });
  }
  for (let i = rng.int(2, 4); i > 0; i -= 1) {
    nodes.push({
      kind: 'symlink',
      rel: fresh(rng.pick(dirs), 'l', '.lnk'),
      text: linkText(rng, rng.pick(LINK_LENGTHS)),
    });
  }
  for (let i = rng.int(1, 3); i > 0 && files.length > 0; i -= 1) {
    const to = rng.pick(files);
    const dir = rng.chance(0.5) ? path.posix.dirname(to) : rng.pick(dirs);
    nodes.push({ kind: 'hardlink', rel: fresh(dir, 'h', '.dat'), to });
  }
  // One directory with many entries: ext4 leaves its first block (htree at 1 KiB soon), XFS
  // leaves shortform and block form.
  const big = `${rng.pick(dirs)}/many`;
  if (!taken.has(big)) {
    nodes.push({ kind: 'dir', rel: big });
    taken.add(big);
    for (let i = rng.int(20, 90); i > 0; i -= 1) {
      nodes.push({
        kind: 'file',
        rel: fresh(big, `message-with-a-long-name-${rng.int(0, 9999)}-`, '.dat'),
        size: rng.int(0, 300),
      });
    }
  }
  return nodes;
}

function writeSparse(file: string, rng: Rng, size: number, extents: Array<[number, number]>): void {
  const fd = openSync(file, 'w');
  try {
    ftruncateSync(fd, size);
    for (const [offset, length] of extents) writeSync(fd, bytes(rng, length), 0, length, offset);
  } finally {
    closeSync(fd);
  }
}

/** Builds the tree under `root` (which must not exist). */
export function buildTree(root: string, nodes: readonly NodeSpec[], rng: Rng): void {
  mkdirSync(root, { recursive: true });
  for (const node of nodes) {
    const full = path.join(root, node.rel);
    switch (node.kind) {
      case 'dir':
        mkdirSync(full, { recursive: true });
        break;
      case 'file':
        writeFileSync(full, bytes(rng, node.size));
        break;
      case 'sparse':
        writeSparse(full, rng, node.size, node.extents);
        break;
      case 'symlink':
        symlinkSync(node.text, full);
        break;
      case 'hardlink':
        linkSync(path.join(root, node.to), full);
        break;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Archives

export interface ArchiveRecipe {
  /** Short name for the summary. */
  name: string;
  /** The commands that made it, for a reproduction. */
  commands: string[];
}

function tar(tool: 'tar' | 'bsdtar', args: string[], commands: string[]): void {
  commands.push(
    `${tool} ${args.map((a) => (/^[\w./=-]+$/.test(a) ? a : JSON.stringify(a))).join(' ')}`,
  );
  run(tool, args);
}

/**
 * Makes an archive of the tree at `src` into `archive` by one of the recipes, drawn by `rng`:
 * GNU tar of whole top directories (`-C src .` or by name, gnu or posix format), a
 * `--no-recursion` list that leaves directories out (implied), explicit deep members, bsdtar;
 * then maybe a `-rf` append of changed files (duplicates, the last wins).
 */
export function makeArchive(
  src: string,
  nodes: readonly NodeSpec[],
  archive: string,
  rng: Rng,
  flavour: 'gnu' | 'gnu-list' | 'gnu-deep' | 'bsdtar' | 'bsdtar-list',
): ArchiveRecipe {
  const commands: string[] = [];
  const tops = nodes.filter((n) => n.kind === 'dir' && !n.rel.includes('/')).map((n) => n.rel);
  const dotted = flavour === 'gnu' && rng.chance(0.5);
  const prefix = dotted ? './' : '';
  const format = rng.pick(['gnu', 'posix']);
  const listFile = `${archive}.list`;
  const withList = (rels: string[]): void => writeFileSync(listFile, rels.join('\n') + '\n');
  switch (flavour) {
    case 'gnu':
      tar(
        'tar',
        ['--sparse', `--format=${format}`, '-cf', archive, '-C', src, ...(dotted ? ['.'] : tops)],
        commands,
      );
      break;
    case 'gnu-list':
    case 'bsdtar-list': {
      // Each path listed once, no recursion; some directories are left out: implied.
      const rels = nodes.filter((n) => n.kind !== 'dir' || rng.chance(0.5)).map((n) => n.rel);
      withList(rels);
      commands.push(`printf '%s\\n' ${rels.length} paths > ${path.basename(listFile)}`);
      if (flavour === 'gnu-list')
        tar(
          'tar',
          [
            '--sparse',
            `--format=${format}`,
            '--no-recursion',
            '-cf',
            archive,
            '-C',
            src,
            '-T',
            listFile,
          ],
          commands,
        );
      else tar('bsdtar', ['-n', '-cf', archive, '-C', src, '-T', listFile], commands);
      break;
    }
    case 'gnu-deep': {
      // `tar -cf a.tar -C src dir/sub/file ...`: only the named non-directories, no parent has a
      // member of its own.
      const rels = nodes.filter((n) => n.kind !== 'dir').map((n) => n.rel);
      withList(rels);
      commands.push(
        `printf '%s\\n' ${rels.length} non-directory paths > ${path.basename(listFile)}`,
      );
      tar(
        'tar',
        ['--sparse', `--format=${format}`, '-cf', archive, '-C', src, '-T', listFile],
        commands,
      );
      break;
    }
    case 'bsdtar':
      tar('bsdtar', ['-cf', archive, '-C', src, ...tops], commands);
      break;
  }
  if (rng.chance(0.5)) {
    // Duplicates: change some files (size too) and append them again; the last one wins.
    const candidates = nodes.filter((n) => n.kind === 'file');
    const picked = rng.sample(candidates, rng.int(1, 3));
    for (const node of picked) {
      const size = rng.pick(SIZES.filter((s) => node.kind === 'file' && s !== node.size));
      writeFileSync(path.join(src, node.rel), bytes(rng, size));
      if (node.kind === 'file') node.size = size;
    }
    const names = picked.map((n) => `${prefix}${n.rel}`);
    if (flavour.startsWith('bsdtar'))
      tar('bsdtar', ['-rf', archive, '-C', src, ...names], commands);
    else
      tar('tar', ['--sparse', `--format=${format}`, '-rf', archive, '-C', src, ...names], commands);
  }
  rmSync(listFile, { force: true });
  return { name: flavour, commands };
}

export interface ListedMember {
  /** Normalized: no `./`, no trailing `/`; '' for the archive root. */
  name: string;
  type: 'file' | 'dir' | 'symlink' | 'hardlink' | 'other';
  size: number;
  linkname: string;
}

export const normalizeName = (name: string): string =>
  name
    .split('/')
    .filter((part) => part !== '' && part !== '.')
    .join('/');

/** Members as Python's tarfile lists them: an oracle independent of restoreplan's walk. */
export function listArchive(archive: string): ListedMember[] {
  const script = `
import json, sys, tarfile
out = []
with tarfile.open(sys.argv[1], 'r:') as tf:
    for m in tf:
        t = 'file' if m.isreg() else 'dir' if m.isdir() else 'symlink' if m.issym() else 'hardlink' if m.islnk() else 'other'
        out.append(dict(name=m.name, type=t, size=m.size, linkname=m.linkname))
json.dump(out, sys.stdout)
`;
  const raw = JSON.parse(run('python3', ['-c', script, archive])) as ListedMember[];
  return raw.map((m) => ({
    ...m,
    name: normalizeName(m.name),
    linkname: m.type === 'hardlink' ? normalizeName(m.linkname) : m.linkname,
  }));
}

// ---------------------------------------------------------------------------------------------
// Selections

export interface SelectionSpec {
  label: string;
  memberRoot?: string;
  include?: string[];
  exclude?: string[];
}

function relOf(name: string, root: string): string | null {
  if (root === '') return name;
  if (name === root) return '';
  return name.startsWith(`${root}/`) ? name.slice(root.length + 1) : null;
}

/** Directories of the archive, explicit and implied. */
function directoriesOf(members: readonly ListedMember[]): string[] {
  const dirs = new Set<string>();
  for (const m of members) {
    if (m.type === 'dir' && m.name !== '') dirs.add(m.name);
    let parent = path.posix.dirname(m.name);
    while (parent !== '.' && parent !== '') {
      dirs.add(parent);
      parent = path.posix.dirname(parent);
    }
  }
  return [...dirs].sort();
}

function selects(members: readonly ListedMember[], spec: SelectionSpec): boolean {
  const root = normalizeName(spec.memberRoot ?? '');
  const matches = createSelector(spec.include, spec.exclude);
  return members.some((m) => {
    const rel = relOf(m.name, root);
    return rel !== null && rel !== '' && matches(rel);
  });
}

const INCLUDES = ['**/*.dat', '*/d*', '*/*/**', '**/many', '**/f[0-3].dat', '**/s*.img'];
const EXCLUDES = ['**/*.lnk', '**/many', '**/*.img', 'beta', '*/d0', '**/h*'];

/** A selection of `kind` over the archive's members, drawn by `rng`; whole when none fits. */
export function drawSelection(
  rng: Rng,
  members: readonly ListedMember[],
  kind: 'whole' | 'member-root' | 'globs' | 'link-without-target',
): SelectionSpec {
  const whole: SelectionSpec = { label: 'whole archive' };
  if (kind === 'whole') return whole;
  if (kind === 'member-root') {
    const dirs = directoriesOf(members).filter((d) =>
      members.some((m) => m.name.startsWith(`${d}/`)),
    );
    if (dirs.length === 0) return whole;
    const dir = rng.pick(dirs);
    const memberRoot = rng.chance(0.3) ? `./${dir}/` : dir;
    return { label: `--member-root ${memberRoot}`, memberRoot };
  }
  if (kind === 'link-without-target') {
    const links = members.filter((m) => m.type === 'hardlink' && m.linkname !== m.name);
    if (links.length === 0) return whole;
    const link = rng.pick(links);
    return {
      label: `--include ${link.name} (its target ${link.linkname} not)`,
      include: [link.name],
    };
  }
  for (let attempt = 0; attempt < 10; attempt += 1) {
    const spec: SelectionSpec = { label: '' };
    if (rng.chance(0.7)) spec.include = rng.sample(INCLUDES, rng.int(1, 2));
    if (!spec.include || rng.chance(0.5)) spec.exclude = rng.sample(EXCLUDES, rng.int(1, 2));
    if (rng.chance(0.25)) {
      const tops = directoriesOf(members).filter((d) => !d.includes('/'));
      if (tops.length > 0) spec.memberRoot = rng.pick(tops);
    }
    if (!selects(members, spec)) continue;
    spec.label = [
      spec.memberRoot !== undefined ? `--member-root ${spec.memberRoot}` : '',
      ...(spec.include ?? []).map((g) => `--include '${g}'`),
      ...(spec.exclude ?? []).map((g) => `--exclude '${g}'`),
    ]
      .filter(Boolean)
      .join(' ');
    return spec;
  }
  return whole;
}

// ---------------------------------------------------------------------------------------------
// The oracle: what the selection is, and what the target state does to it

export interface ExpectedMember {
  rel: string;
  type: ListedMember['type'];
  size: number;
  linkname: string;
  /** For a hard link whose target is restored (or on disk): the target, relative to the root. */
  linkRel: string | null;
}

export interface ExpectedSelection {
  /** Distinct members (last occurrence wins), hard links without their target left out. */
  members: ExpectedMember[];
  /** Hard links whose target is neither selected before them nor a file on disk. */
  unresolvedLinks: number;
  /** Every directory a selected member needs (explicit or implied), relative to the root. */
  dirs: string[];
}

function kindOnDisk(full: string): 'absent' | 'file' | 'dir' | 'symlink' | 'other' {
  let s: Stats;
  try {
    s = lstatSync(full);
  } catch {
    return 'absent';
  }
  if (s.isFile()) return 'file';
  if (s.isDirectory()) return 'dir';
  if (s.isSymbolicLink()) return 'symlink';
  return 'other';
}

/** Whether a regular file sits at `rel` under `target`, reached through real directories only. */
function fileOnDisk(target: string, rel: string): boolean {
  const parts = rel.split('/');
  let current = target;
  for (const [i, part] of parts.entries()) {
    current = path.join(current, part);
    const kind = kindOnDisk(current);
    if (i < parts.length - 1 ? kind !== 'dir' : kind !== 'file') return false;
  }
  return true;
}

/** The selection, by the rules CONTRACT.md states (independent of the implementation). */
export function expectSelection(
  members: readonly ListedMember[],
  spec: SelectionSpec,
  target: string,
): ExpectedSelection {
  const root = normalizeName(spec.memberRoot ?? '');
  const matches = createSelector(spec.include, spec.exclude);
  const chosen = new Map<string, ExpectedMember>();
  /** Types seen so far by memberPath (the last occurrence). */
  const seen = new Map<string, ListedMember['type']>();
  let unresolvedLinks = 0;
  const unresolved = new Set<string>();
  for (const m of members) {
    const rel = relOf(m.name, root);
    if (rel === null || rel === '' || !matches(rel) || m.type === 'other') continue;
    let linkRel: string | null = null;
    if (m.type === 'hardlink') {
      const lr = relOf(m.linkname, root);
      const before = seen.get(m.linkname);
      if (
        lr !== null &&
        lr !== '' &&
        (before === 'file' || before === 'hardlink' || fileOnDisk(target, lr))
      )
        linkRel = lr;
    }
    seen.set(m.name, m.type);
    if (m.type === 'hardlink' && linkRel === null) {
      unresolvedLinks += 1;
      unresolved.add(rel);
      chosen.delete(rel);
      continue;
    }
    unresolved.delete(rel);
    chosen.delete(rel); // re-inserted: the last occurrence's position is irrelevant here
    chosen.set(rel, { rel, type: m.type, size: m.size, linkname: m.linkname, linkRel });
  }
  const dirs = new Set<string>();
  for (const m of chosen.values()) {
    if (m.type === 'dir') dirs.add(m.rel);
    let parent = path.posix.dirname(m.rel);
    while (parent !== '.') {
      dirs.add(parent);
      parent = path.posix.dirname(parent);
    }
  }
  return { members: [...chosen.values()], unresolvedLinks, dirs: [...dirs].sort() };
}

export interface ExpectedOutcome {
  /** Selected directories that are already there: no step. */
  existingDirs: number;
  /** Selected members not restored: a path of another type at them or at a parent. */
  conflicts: number;
  /** What is left: the steps a plan must have. */
  steps: number;
  /** Hard links whose target is kept out by a conflict (and is not a file on disk): not made. */
  unresolvedLinks: number;
  /** Hard links whose target lands on another filesystem: not made (EXDEV), still selected. */
  crossDevice: number;
}

/** st_dev of the nearest existing ancestor of `full`: the filesystem a new path lands on. */
function deviceOf(full: string): number {
  let current = full;
  for (;;) {
    try {
      return lstatSync(current).dev;
    } catch {
      const parent = path.dirname(current);
      if (parent === current) return -1;
      current = parent;
    }
  }
}

const sameKind = (type: ListedMember['type'], kind: ReturnType<typeof kindOnDisk>): boolean =>
  type === 'dir'
    ? kind === 'dir'
    : type === 'symlink'
      ? kind === 'symlink'
      : type === 'file' || type === 'hardlink'
        ? kind === 'file'
        : kind === 'other';

/** What the state under `target` does to each selected member (read before planning). */
export function expectOutcome(selection: ExpectedSelection, target: string): ExpectedOutcome {
  const out: ExpectedOutcome = {
    existingDirs: 0,
    conflicts: 0,
    steps: 0,
    unresolvedLinks: 0,
    crossDevice: 0,
  };
  /** Files kept out by a conflict: a hard link to one has nothing to link to, in any order. */
  const keptOut = new Set<string>();
  const blocked = (rel: string): boolean => {
    let current = target;
    const parts = rel.split('/');
    for (const part of parts.slice(0, -1)) {
      current = path.join(current, part);
      const kind = kindOnDisk(current);
      if (kind === 'absent') return false;
      if (kind !== 'dir') return true;
    }
    return false;
  };
  for (const m of selection.members) {
    if (m.type === 'hardlink') continue;
    const kind = kindOnDisk(path.join(target, m.rel));
    if (blocked(m.rel) || (kind !== 'absent' && !sameKind(m.type, kind))) keptOut.add(m.rel);
  }
  for (const m of selection.members) {
    const kind = kindOnDisk(path.join(target, m.rel));
    if (
      m.type === 'hardlink' &&
      m.linkRel !== null &&
      keptOut.has(m.linkRel) &&
      !fileOnDisk(target, m.linkRel)
    ) {
      out.unresolvedLinks += 1;
      continue;
    }
    if (blocked(m.rel) || (kind !== 'absent' && !sameKind(m.type, kind))) {
      out.conflicts += 1;
    } else if (
      m.type === 'hardlink' &&
      m.linkRel !== null &&
      deviceOf(path.join(target, m.linkRel)) !== deviceOf(path.join(target, m.rel))
    ) {
      out.crossDevice += 1;
    } else if (m.type === 'dir' && kind === 'dir') out.existingDirs += 1;
    else out.steps += 1;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Target states

export type StateKind = 'empty' | 'partial' | 'conflict' | 'zero-free' | 'at-reserve';

/** Ensures the directories above `rel` exist under `target` (as directories). */
function ensureParents(target: string, rel: string): boolean {
  let current = target;
  for (const part of rel.split('/').slice(0, -1)) {
    current = path.join(current, part);
    const kind = kindOnDisk(current);
    if (kind === 'absent') mkdirSync(current);
    else if (kind !== 'dir') return false;
  }
  return true;
}

/**
 * Puts part (`share` of it) of the selection on disk, as a previous restore and later changes
 * would have left it: directories, files of the same size or another, symlinks with the same
 * text or another, hard links as the same file or as a separate copy. Returns what it did.
 */
export function prepopulate(
  rng: Rng,
  selection: ExpectedSelection,
  target: string,
  share: number,
  options: { differentSize?: number; separateLinks?: number } = {},
): string[] {
  const done: string[] = [];
  const picked = new Set(
    selection.members.filter(() => share >= 1 || rng.chance(share)).map((m) => m.rel),
  );
  for (const dir of selection.dirs) {
    if (share >= 1 || rng.chance(share)) ensureParents(target, `${dir}/x`);
  }
  const ordered = selection.members
    .filter((m) => picked.has(m.rel))
    .sort((a, b) => Number(a.type === 'hardlink') - Number(b.type === 'hardlink'));
  for (const m of ordered) {
    const full = path.join(target, m.rel);
    if (!ensureParents(target, m.rel) || kindOnDisk(full) !== 'absent') continue;
    switch (m.type) {
      case 'dir':
        mkdirSync(full);
        done.push(`dir ${m.rel}`);
        break;
      case 'file': {
        const size = rng.chance(options.differentSize ?? 0.6) ? rng.pick(SIZES) : m.size;
        writeFileSync(full, bytes(rng, size));
        done.push(`file ${m.rel} (${size} bytes${size === m.size ? ', same size' : ''})`);
        break;
      }
      case 'symlink': {
        const text = rng.chance(0.5) ? m.linkname : `other-${rng.int(0, 99)}`;
        symlinkSync(text, full);
        done.push(`symlink ${m.rel} -> ${text}`);
        break;
      }
      case 'hardlink': {
        const to = m.linkRel !== null ? path.join(target, m.linkRel) : null;
        const sameFs = to !== null && lstatSync(path.dirname(full)).dev === deviceOf(to);
        if (
          to &&
          sameFs &&
          kindOnDisk(to) === 'file' &&
          !rng.chance(options.separateLinks ?? 0.3)
        ) {
          linkSync(to, full);
          done.push(`hard link ${m.rel} = ${m.linkRel ?? ''}`);
        } else {
          writeFileSync(full, bytes(rng, rng.pick(SIZES)));
          done.push(`file ${m.rel} (a separate copy where a hard link goes)`);
        }
        break;
      }
      default:
        break;
    }
  }
  return done;
}

/**
 * Puts paths of another type where the selection needs something: a file where a directory
 * must go, a directory where a file must go, a file where a symlink goes, and now and then a
 * directory where a hard link's target goes. Returns what it did.
 */
export function plantConflicts(rng: Rng, selection: ExpectedSelection, target: string): string[] {
  const done: string[] = [];
  const byRel = new Map(selection.members.map((m) => [m.rel, m]));
  const choices: Array<() => void> = [];
  const dirs = selection.dirs.filter((d) => d.includes('/') || rng.chance(0.3));
  if (dirs.length > 0) {
    choices.push(() => {
      const dir = rng.pick(dirs);
      if (!ensureParents(target, dir) || kindOnDisk(path.join(target, dir)) !== 'absent') return;
      writeFileSync(path.join(target, dir), 'a file where a directory goes\n');
      done.push(`file where directory ${dir} goes`);
    });
  }
  const files = selection.members.filter((m) => m.type === 'file');
  if (files.length > 0) {
    choices.push(() => {
      const file = rng.pick(files);
      const full = path.join(target, file.rel);
      if (!ensureParents(target, file.rel) || kindOnDisk(full) !== 'absent') return;
      mkdirSync(full);
      if (rng.chance(0.5)) writeFileSync(path.join(full, 'inside'), 'x');
      done.push(`directory where file ${file.rel} goes`);
    });
  }
  const links = selection.members.filter((m) => m.type === 'symlink');
  if (links.length > 0) {
    choices.push(() => {
      const link = rng.pick(links);
      const full = path.join(target, link.rel);
      if (!ensureParents(target, link.rel) || kindOnDisk(full) !== 'absent') return;
      writeFileSync(full, 'a file where a symlink goes\n');
      done.push(`file where symlink ${link.rel} goes`);
    });
  }
  const hardTargets = selection.members
    .filter(
      (m) => m.type === 'hardlink' && m.linkRel !== null && byRel.get(m.linkRel)?.type === 'file',
    )
    .map((m) => m.linkRel as string);
  if (hardTargets.length > 0 && rng.chance(0.5)) {
    choices.push(() => {
      const rel = rng.pick(hardTargets);
      const full = path.join(target, rel);
      if (!ensureParents(target, rel) || kindOnDisk(full) !== 'absent') return;
      mkdirSync(full);
      done.push(`directory where hard-link target ${rel} goes`);
    });
  }
  for (const choice of rng.sample(choices, rng.int(1, Math.min(3, choices.length)))) choice();
  return done;
}

/**
 * Uses every free inode of the filesystem at `mountPoint` with empty files under `dir`
 * (ENOSPC ends it). On a filesystem whose inodes come from free space (XFS), the free space
 * is taken first with one preallocated file, leaving `keepBlocks` blocks. Returns how many.
 */
export function fillInodes(mountPoint: string, dir: string, keepBlocks = 0): number {
  mkdirSync(dir, { recursive: true });
  const s = statfsSync(mountPoint);
  if (s.type === 0x58465342) {
    // XFS: f_ffree follows the free blocks; make them (nearly) none first.
    const free = Number(s.bavail) - keepBlocks - 64;
    if (free > 0) {
      const r = spawnSync('fallocate', ['-l', String(free * s.bsize), path.join(dir, 'ballast')]);
      if (r.status !== 0) throw new Error(`fallocate: ${r.stderr.toString()}`);
    }
  }
  let made = 0;
  for (;;) {
    let fd: number;
    try {
      fd = openSync(path.join(dir, `q${made}`), 'wx');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOSPC' || code === 'EDQUOT') break;
      throw error;
    }
    closeSync(fd);
    made += 1;
    if (made % 512 === 0 && statfsSync(mountPoint).ffree === 0) break;
  }
  execFileSync('sync', ['-f', mountPoint]);
  // A create that failed may have left room for one more (XFS chunk rounding): use it all.
  while (statfsSync(mountPoint).ffree > 0) {
    try {
      closeSync(openSync(path.join(dir, `q${made}`), 'wx'));
      made += 1;
    } catch {
      break;
    }
  }
  return made;
}

// ---------------------------------------------------------------------------------------------
// Measuring

export interface Usage {
  inodes: number;
  blocks: number;
  ffree: number;
  bavail: number;
}

/** Used inodes and blocks of the filesystem at `mountPoint`, after `sync -f`. */
/**
 * What a filesystem uses, once settled: XFS frees unlinked inodes (a replaced file's old inode)
 * in a background worker (inodegc), so a reading right after a restore can still count them.
 * Read until two readings 20 ms apart agree (at most ~2 s).
 */
export function usage(mountPoint: string): Usage {
  execFileSync('sync', ['-f', mountPoint]);
  let s = statfsSync(mountPoint);
  for (let tries = 0; tries < 100; tries += 1) {
    spawnSync('sleep', ['0.02']);
    execFileSync('sync', ['-f', mountPoint]);
    const again = statfsSync(mountPoint);
    const settled = again.ffree === s.ffree && again.bfree === s.bfree;
    s = again;
    if (settled) break;
  }
  return {
    inodes: s.files - s.ffree,
    blocks: s.blocks - s.bfree,
    ffree: s.ffree,
    bavail: s.bavail,
  };
}

/** Every path under `dir` with its type, inode, size, times and link text: changed or not. */
export function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (current: string): void => {
    let names: string[];
    try {
      names = readdirSync(current);
    } catch {
      return;
    }
    for (const name of names) {
      const full = path.join(current, name);
      const s = lstatSync(full);
      const meta = `${s.ino}:${s.size}:${s.blocks}:${s.mode}:${s.mtimeMs}:${s.ctimeMs}`;
      if (s.isSymbolicLink()) out.set(full, `link:${readlinkSync(full)}:${meta}`);
      else out.set(full, `${s.isDirectory() ? 'dir' : 'file'}:${meta}`);
      if (s.isDirectory()) walk(full);
    }
  };
  walk(dir);
  return out;
}
