import type { ArchiveEntry, EntryType } from '../../src/archive/ArchiveEntry.js';

/** A synthetic archive entry for pure tests of the layers above the walk. */
export function makeEntry(
  memberPath: string,
  type: EntryType,
  fields: Partial<ArchiveEntry> = {},
): ArchiveEntry {
  const size = fields.size ?? 0;
  return {
    memberPath,
    rawPath: memberPath,
    type,
    size,
    storedSize: fields.storedSize ?? size,
    linkPath: '',
    mode: type === 'dir' ? 0o755 : 0o644,
    uid: 0,
    gid: 0,
    mtime: 1_700_000_000,
    headerOffset: 0,
    dataOffset: 512,
    dataLength: size,
    sparse: null,
    format: 'gnu',
    unsafe: null,
    index: 0,
    ...fields,
  };
}
