/**
 * The Mailman profile's one walk over the archive: for the lists that need restoring, every
 * occurrence of their configs (read and validated with the pickle reader, since a backup can
 * hold a copy that was already corrupt when it was taken), the last occurrence of their state
 * files, their list directory, and — with `withArchives` — their pipermail archives, mbox and
 * public symlink. Memory is bounded by that selection, never by the archive.
 *
 * The archive's var dir is not known until the walk ends (a `lists/` dir is recognized by its
 * configs), so candidates are kept per path prefix and filtered by the detected root after.
 */
import { copyEntry, type ArchiveEntry } from '../archive/ArchiveEntry.js';
import { walkArchive, type WalkResult } from '../archive/walkArchive.js';
import { readMailmanSummary } from '../mailman/findMailmanRoot.js';
import {
  judgeListFile,
  LIST_FILE,
  readListFileNote,
  type ListFileVerdict,
} from '../mailman/noteListFile.js';
import { archiveIndexOptions } from './archiveIndexOptions.js';
import type { CommonOptions } from '../progress.js';

export type ListFileName = 'config.pck' | 'config.pck.last' | 'request.pck' | 'pending.pck';

export interface CandidateCopy extends ListFileVerdict {
  entry: ArchiveEntry;
}

export interface CollectedList {
  /** Occurrences in archive order, per file name, keyed by the prefix they were found under. */
  files: Map<ListFileName, CandidateCopy[]>;
  /** The list's own directory member (`<root>/lists/<name>`), last occurrence. */
  listDir: ArchiveEntry | null;
  /** Pipermail archive, mbox and public symlink members, in archive order. */
  bulk: ArchiveEntry[];
}

export interface MailmanCollection {
  walk: WalkResult;
  /** memberPath of the var dir in the archive, or null when the archive holds none. */
  root: string | null;
  /** Lists the archive holds (at `root`). */
  archiveLists: string[];
  lists: Map<string, CollectedList>;
}

export interface CollectOptions extends CommonOptions {
  /** Lists to collect. */
  lists: ReadonlySet<string>;
  /** Lists whose request.pck and pending.pck are collected too. */
  stateLists: ReadonlySet<string>;
  withArchives: boolean;
  /** The var dir inside the archive, when the operator names it (--member-root). */
  memberRoot?: string;
  /** Where the restore writes (no index is left on their filesystems by default). */
  targets?: readonly string[];
}

const LIST_DIR = /^(?:(.*)\/)?lists\/([^/]+)$/;
const ARCHIVE_MEMBER = /^(?:(.*)\/)?archives\/(private|public)\/([^/]+?)(\.mbox)?(?:\/.*)?$/;

interface Keyed<T> {
  prefix: string;
  value: T;
}

export async function collectMailmanMembers(
  archive: string | NodeJS.ReadableStream,
  options: CollectOptions,
): Promise<MailmanCollection> {
  const files = new Map<string, Keyed<{ name: ListFileName; copy: CandidateCopy }>[]>();
  const dirs = new Map<string, Keyed<ArchiveEntry>[]>();
  const bulk = new Map<string, Keyed<ArchiveEntry>[]>();
  const pending = new Map<number, { list: string; prefix: string; name: ListFileName }>();

  const push = <T>(map: Map<string, Keyed<T>[]>, list: string, item: Keyed<T>): void => {
    let items = map.get(list);
    if (!items) map.set(list, (items = []));
    items.push(item);
  };

  const take = (entry: ArchiveEntry, verdict: ListFileVerdict): void => {
    const wanted = pending.get(entry.index);
    if (!wanted) return;
    pending.delete(entry.index);
    push(files, wanted.list, {
      prefix: wanted.prefix,
      value: { name: wanted.name, copy: { entry, ...verdict } },
    });
  };

  const walk = await walkArchive(archive, {
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    ...(await archiveIndexOptions(options, options.targets)),
    // From an index that knows the var dir, only its lists/ and archives/ are replayed: the
    // candidates are filtered by that var dir below anyway.
    only: (summary) => {
      const root = options.memberRoot ?? readMailmanSummary(summary)?.root;
      if (root === undefined) return null;
      const base = root === '' ? '' : `${root}/`;
      return options.withArchives ? [`${base}lists/`, `${base}archives/`] : [`${base}lists/`];
    },
    onEntry(entry) {
      const memberPath = entry.memberPath;
      if (entry.unsafe !== null) return;
      // Cheap rejects first: this runs once per member of a huge archive. The list files end
      // in k (.pck) or t (.last); a list's own member is a directory.
      const last = memberPath.charCodeAt(memberPath.length - 1);
      const maybeListMember = entry.type === 'dir' || last === 0x6b || last === 0x74;
      if (maybeListMember && memberPath.includes('lists/')) {
        const file = LIST_FILE.exec(memberPath);
        if (file && options.lists.has(file[2] as string)) {
          const name = file[3] as ListFileName;
          if (name.startsWith('config') || options.stateLists.has(file[2] as string)) {
            if (entry.type !== 'file') return;
            pending.set(entry.index, { list: file[2] as string, prefix: file[1] ?? '', name });
            return 'data';
          }
          return;
        }
        const dir = LIST_DIR.exec(memberPath);
        if (dir && entry.type === 'dir' && options.lists.has(dir[2] as string)) {
          push(dirs, dir[2] as string, { prefix: dir[1] ?? '', value: copyEntry(entry) });
          return;
        }
      }
      if (options.withArchives && memberPath.includes('archives/')) {
        const member = ARCHIVE_MEMBER.exec(memberPath);
        if (!member) return;
        const [, prefix = '', kind, list = '', mbox] = member;
        if (!options.lists.has(list)) return;
        // archives/public/<name> is only the symlink Mailman makes for public lists.
        const rest = prefix === '' ? memberPath : memberPath.slice(prefix.length + 1);
        if (kind === 'public' && (mbox || rest.split('/').length > 3)) return;
        push(bulk, list, { prefix, value: copyEntry(entry) });
      }
      return;
    },
    onNote(entry, note) {
      const verdict = readListFileNote(note);
      if (verdict) take(entry, verdict);
    },
    onData(entry, data) {
      // A list file too big for a note: judged here, the same way.
      take(entry, judgeListFile(data));
    },
  });

  const detected = readMailmanSummary(walk.summary);
  const root = options.memberRoot ?? detected?.root ?? null;
  const lists = new Map<string, CollectedList>();
  for (const list of options.lists) {
    const collected: CollectedList = { files: new Map(), listDir: null, bulk: [] };
    if (root !== null) {
      for (const { prefix, value } of files.get(list) ?? []) {
        if (prefix !== root) continue;
        let copies = collected.files.get(value.name);
        if (!copies) collected.files.set(value.name, (copies = []));
        copies.push(value.copy);
      }
      for (const { prefix, value } of dirs.get(list) ?? [])
        if (prefix === root) collected.listDir = value;
      for (const { prefix, value } of bulk.get(list) ?? [])
        if (prefix === root) collected.bulk.push(value);
    }
    lists.set(list, collected);
  }
  const archiveLists = root !== null && detected && detected.root === root ? detected.lists : [];
  return { walk, root, archiveLists, lists };
}
