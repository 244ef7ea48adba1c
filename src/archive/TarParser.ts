/**
 * The tar state machine under every walk: bytes in (as chunks, each with its absolute offset in
 * the uncompressed stream), members out through `onEntry` with ONE reused entry object.
 *
 * The parser never asks for bytes it does not need: `need` is the absolute offset of the next
 * byte it wants. A stream driver hands it every chunk and it skips member data by counting; a
 * file driver reads its next chunk AT `need`, so the data of members nobody asked for is never
 * read at all. Only header bytes are copied (and only when a header straddles two chunks), plus
 * the data of metadata headers and of members the consumer asked for.
 *
 * What is read, and how, follows GNU tar 1.34 (list.c, xheader.c, sparse.c) and bsdtar 3.6,
 * quirks included: see the comments at each.
 */
import { RestoreplanError } from '../errors.js';
import type { TarFormat, Warning } from '../types.js';
import { copyEntry, type ArchiveEntry, type EntryType } from './ArchiveEntry.js';
import { findSparseMapError } from './findSparseMapError.js';
import { findUnsafeReason, normalizeMemberPath } from './normalizeMemberPath.js';
import { parsePaxRecords, readPaxInteger, readPaxTime } from './parsePaxRecords.js';
import { readNumericField } from './readNumericField.js';
import { sumTarHeader } from './sumTarHeader.js';

export type EntryAction = void | 'data' | 'stop';

export interface TarParserHooks {
  onEntry: (entry: ArchiveEntry) => EntryAction;
  onData?: ((entry: ArchiveEntry, data: Buffer) => void | 'stop') | undefined;
  maxDataBytes: number;
}

/** Keep at most this many warnings of one code (all are counted). */
export const MAX_WARNINGS_PER_CODE = 100;
/** Largest metadata header data (pax records, GNU long names) we accept: GNU tar has no real limit, but megabytes of path are an attack, not a backup. */
export const MAX_METADATA_BYTES = 16 * 1024 * 1024;
/**
 * Most extents a sparse map may have. Each is held as a pair in memory (~50 bytes), and a
 * compressed hostile archive can declare millions in a few kilobytes (16 M extents took a 65 KB
 * .tar.gz to 1 GB of memory); real sparse images have thousands.
 */
const MAX_SPARSE_EXTENTS = 1 << 18;

const BLOCK = 512;
const ST_HEADER = 0;
const ST_META = 1;
const ST_OLDGNU_EXT = 2;
const ST_SPARSE_MAP = 3;
const ST_COLLECT = 4;
const ST_DONE = 5;

const FORMAT_ORDER: readonly TarFormat[] = ['v7', 'ustar', 'gnu', 'oldgnu', 'pax'];

/** Fields a pax header (`x` local or `g` global) can set; `null`/-1/NaN mean "not given". */
class PaxFields {
  any = false;
  path: string | null = null;
  linkpath: string | null = null;
  size = -1;
  mtime = Number.NaN;
  uid = -1;
  gid = -1;
  sparseMajor = -1;
  sparseName: string | null = null;
  sparseRealSize = -1;
  /** Flat [offset, length, offset, length...] from GNU.sparse.offset/numbytes (0.0) or GNU.sparse.map (0.1). */
  sparseMap: number[] | null = null;

  reset(): void {
    if (!this.any) return;
    this.any = false;
    this.path = null;
    this.linkpath = null;
    this.size = -1;
    this.mtime = Number.NaN;
    this.uid = -1;
    this.gid = -1;
    this.sparseMajor = -1;
    this.sparseName = null;
    this.sparseRealSize = -1;
    this.sparseMap = null;
  }
}

export class TarParser {
  /** Absolute offset of the next byte the parser wants. */
  need = 0;
  done = false;
  /** True when a consumer returned 'stop'. */
  stopped = false;
  /** Members reported so far. */
  members = 0;
  /** Offset just after the end-of-archive marker (or where the archive was taken to end). */
  endOffset = -1;
  readonly warnings: Warning[] = [];
  readonly warningCounts: Record<string, number> = {};

  private readonly hooks: TarParserHooks;
  private readonly entry: ArchiveEntry;
  private state = ST_HEADER;
  private formatBits = 0;
  private eofReached = false;
  private trailingChecked = false;

  // A header or 512-byte map block straddling two chunks is assembled here.
  private readonly block = Buffer.alloc(BLOCK);
  private blockFill = 0;
  private zeroBlockAt = -1;

  // Metadata headers (pax, GNU long names) collected for the member that follows them.
  private metaStart = -1;
  private metaType = 0;
  private metaBuffer = Buffer.alloc(4096);
  private metaLength = 0;
  private metaFill = 0;
  private metaEnd = 0;
  private longName: string | null = null;
  private longLink: string | null = null;
  private readonly local = new PaxFields();
  private readonly global = new PaxFields();
  private paxTarget: PaxFields = this.local;
  private paxHeaderOffset = 0;
  private sparseOffsetPending = -1;
  private readonly onPaxRecord: (key: string, data: Buffer, start: number, end: number) => void;

  // A member whose sparse map is still being read (old GNU extension blocks, pax 1.0 map).
  private sparseList: Array<[number, number]> = [];
  private mapNumbers: number[] = [];
  private mapCount = -1;
  private mapValue = 0;
  private mapDigits = 0;
  private mapBytes = 0;
  private memberStoredSize = 0;
  private memberHeaderOffset = 0;
  private sparseRealSize = 0;

  // Data collected for a consumer that asked for it.
  private collectBuffer: Buffer = Buffer.alloc(0);
  private collectFill = 0;

  constructor(hooks: TarParserHooks) {
    this.hooks = hooks;
    this.entry = {
      memberPath: '',
      rawPath: '',
      type: 'file',
      size: 0,
      storedSize: 0,
      linkPath: '',
      mode: 0,
      uid: 0,
      gid: 0,
      mtime: 0,
      headerOffset: 0,
      dataOffset: 0,
      dataLength: 0,
      sparse: null,
      format: 'ustar',
      unsafe: null,
      index: 0,
    };
    this.onPaxRecord = (key, data, start, end) => this.applyPaxRecord(key, data, start, end);
  }

  /** Formats seen, in a stable order. */
  get formats(): TarFormat[] {
    return FORMAT_ORDER.filter((_, i) => this.formatBits & (1 << i));
  }

  /** True once the end-of-archive marker was read (as opposed to stopped or cut short). */
  get reachedEof(): boolean {
    return this.eofReached;
  }

  warn(code: string, message: string, memberPath?: string): void {
    const count = (this.warningCounts[code] ?? 0) + 1;
    this.warningCounts[code] = count;
    if (count > MAX_WARNINGS_PER_CODE) return;
    this.warnings.push(
      memberPath === undefined ? { code, message } : { code, message, memberPath },
    );
  }

  /**
   * Consumes the bytes of `chunk` (which starts at absolute offset `chunkStart`) from `need`
   * on. The chunk may be reused by the caller afterwards: whatever is kept is copied.
   */
  push(chunk: Buffer, chunkStart: number): void {
    const end = chunkStart + chunk.length;
    if (this.need < chunkStart) {
      throw new RestoreplanError(
        'INTERNAL',
        `tar parser skipped bytes ${this.need}..${chunkStart}`,
      );
    }
    while (this.need < end) {
      const p = this.need - chunkStart;
      switch (this.state) {
        case ST_HEADER:
        case ST_OLDGNU_EXT:
        case ST_SPARSE_MAP: {
          let source: Buffer;
          let at: number;
          if (this.blockFill === 0 && end - this.need >= BLOCK) {
            source = chunk;
            at = p;
            this.need += BLOCK;
          } else {
            const n = Math.min(BLOCK - this.blockFill, end - this.need);
            chunk.copy(this.block, this.blockFill, p, p + n);
            this.blockFill += n;
            this.need += n;
            if (this.blockFill < BLOCK) return;
            this.blockFill = 0;
            source = this.block;
            at = 0;
          }
          if (this.state === ST_HEADER) this.readHeader(source, at, this.need - BLOCK);
          else if (this.state === ST_OLDGNU_EXT) this.readOldGnuExtension(source, at);
          else this.readSparseMapBlock(source, at);
          break;
        }
        case ST_META: {
          const n = Math.min(this.metaLength - this.metaFill, end - this.need);
          chunk.copy(this.metaBuffer, this.metaFill, p, p + n);
          this.metaFill += n;
          this.need += n;
          if (this.metaFill === this.metaLength) this.finishMetadata();
          break;
        }
        case ST_COLLECT: {
          const n = Math.min(this.collectBuffer.length - this.collectFill, end - this.need);
          chunk.copy(this.collectBuffer, this.collectFill, p, p + n);
          this.collectFill += n;
          this.need += n;
          if (this.collectFill === this.collectBuffer.length) this.finishCollect();
          break;
        }
        default: {
          // After the end-of-archive marker tar reads on to the end of the record and ignores
          // what it finds; we only say when that is not the usual zero padding.
          if (this.eofReached && !this.trailingChecked) {
            for (let i = p; i < chunk.length; i += 1) {
              if (chunk[i] !== 0) {
                this.trailingChecked = true;
                this.warn(
                  'trailing-garbage',
                  `non-zero data at offset ${chunkStart + i} after the end-of-archive marker is ignored (as tar does without --ignore-zeros)`,
                );
                break;
              }
            }
          }
          this.need = end;
          return;
        }
      }
    }
  }

  /** The input ended at absolute offset `total`. Throws when that cuts a header or a member short. */
  end(total: number): void {
    if (this.state === ST_DONE) return;
    if (total === 0) throw new RestoreplanError('NOT_A_TAR', 'the input is empty', { offset: 0 });
    if (this.state === ST_HEADER && this.blockFill === 0 && this.need === total) {
      if (this.metaStart !== -1) {
        throw this.truncated(total, 'the member a metadata header describes');
      }
      if (this.zeroBlockAt !== -1) {
        this.warn(
          'lone-zero-block',
          `the archive ends with a lone zero block at offset ${this.zeroBlockAt}`,
        );
      } else {
        this.warn(
          'missing-eof',
          `the archive ends at offset ${total} without an end-of-archive marker`,
        );
      }
      this.finishWalk(total, false);
      return;
    }
    if (this.state === ST_HEADER && this.need - this.blockFill === 0) {
      throw new RestoreplanError(
        'NOT_A_TAR',
        `the input is too short to be a tar archive (${total} bytes)`,
        {
          offset: 0,
        },
      );
    }
    const within =
      this.state === ST_HEADER
        ? this.blockFill > 0
          ? 'a header'
          : 'member data'
        : this.state === ST_META
          ? 'a metadata header (pax or GNU long name)'
          : this.state === ST_COLLECT
            ? 'member data'
            : 'a sparse map';
    throw this.truncated(total, within);
  }

  private truncated(total: number, within: string): RestoreplanError {
    return new RestoreplanError(
      'ARCHIVE_TRUNCATED',
      `the archive ends at offset ${total}, inside ${within}`,
      {
        offset: total,
        expectedOffset: this.need + (this.state === ST_HEADER ? BLOCK - this.blockFill : 0),
      },
    );
  }

  private finishWalk(endOffset: number, eof: boolean): void {
    this.state = ST_DONE;
    this.done = true;
    this.endOffset = endOffset;
    this.eofReached = eof;
  }

  private readHeader(b: Buffer, o: number, offset: number): void {
    if (b[o] === 0 && isZeroBlock(b, o)) {
      if (this.zeroBlockAt === -1) {
        this.zeroBlockAt = offset;
        return;
      }
      if (this.metaStart !== -1) {
        this.warn(
          'orphan-metadata',
          `metadata header at offset ${this.metaStart} describes no member`,
        );
      }
      this.finishWalk(offset + BLOCK, true);
      return;
    }
    if (this.zeroBlockAt !== -1) {
      // GNU tar (list.c read_and) takes a lone zero block as the end and ignores the rest.
      this.warn(
        'lone-zero-block',
        `a lone zero block at offset ${this.zeroBlockAt} ends the archive; the rest is ignored (as GNU tar does)`,
      );
      this.finishWalk(offset, false);
      return;
    }
    const headerFormat = readHeaderFormat(b, o);
    this.checkChecksum(b, o, offset, headerFormat);
    const typeflag = b[o + 156]!;
    const storedSize = readNumericField(b, o + 124, 12);
    if (!(storedSize >= 0 && storedSize <= Number.MAX_SAFE_INTEGER)) {
      throw new RestoreplanError(
        'ARCHIVE_HEADER',
        `absurd size field in the header at offset ${offset}`,
        {
          offset,
          field: 'size',
        },
      );
    }
    switch (typeflag) {
      case 0x78: // 'x' pax extended header
      case 0x58: // 'X' the same, as Solaris tar wrote it before POSIX settled on 'x'
      case 0x67: // 'g' pax global header
      case 0x4c: // 'L' GNU long name
      case 0x4b: // 'K' GNU long link name
        this.startMetadata(typeflag, storedSize, offset);
        return;
      case 0x56: // 'V' volume label: names the archive, not a member
        this.formatBits |= formatBit(headerFormat);
        this.need = offset + BLOCK + padded(storedSize);
        return;
      case 0x4d: // 'M' continuation of a member from the previous volume
      case 0x4e: // 'N' old GNU long names written as a shell script
        this.warn(
          'skipped-member',
          `a GNU '${String.fromCharCode(typeflag)}' (${typeflag === 0x4d ? 'multi-volume continuation' : 'old long-name'}) header at offset ${offset} is skipped`,
        );
        this.discardMetadata();
        this.need = offset + BLOCK + padded(storedSize);
        return;
      default:
        this.readMemberHeader(b, o, offset, typeflag, storedSize, headerFormat);
    }
  }

  private checkChecksum(b: Buffer, o: number, offset: number, format: TarFormat): void {
    const stored = readNumericField(b, o + 148, 8);
    const unsigned = sumTarHeader(b, o);
    if (unsigned === stored) return;
    // Some old tars (Sun, early GNU) summed signed chars; GNU tar accepts either sum.
    let signed = 256;
    for (let i = o; i < o + BLOCK; i += 1) {
      if (i === o + 148) i = o + 156;
      const byte = b[i]!;
      signed += byte > 127 ? byte - 256 : byte;
    }
    if (signed === stored) return;
    if (offset === 0 && format === 'v7') {
      throw new RestoreplanError(
        'NOT_A_TAR',
        'the input is not a tar archive (its first block is not a tar header)',
        {
          offset,
        },
      );
    }
    throw new RestoreplanError('ARCHIVE_CHECKSUM', `header checksum mismatch at offset ${offset}`, {
      offset,
      stored: Number.isNaN(stored) ? null : stored,
      computed: unsigned,
    });
  }

  private startMetadata(typeflag: number, size: number, offset: number): void {
    if (size > MAX_METADATA_BYTES) {
      throw new RestoreplanError(
        'ARCHIVE_HEADER',
        `metadata header at offset ${offset} claims ${size} bytes`,
        {
          offset,
          field: 'size',
        },
      );
    }
    if (this.metaStart === -1) this.metaStart = offset;
    this.metaType = typeflag;
    this.metaLength = size;
    this.metaFill = 0;
    this.metaEnd = offset + BLOCK + padded(size);
    this.paxHeaderOffset = offset;
    if (this.metaBuffer.length < size) {
      this.metaBuffer = Buffer.alloc(Math.max(size, this.metaBuffer.length * 2));
    }
    this.state = ST_META;
    if (size === 0) this.finishMetadata();
  }

  private finishMetadata(): void {
    const data = this.metaBuffer;
    const length = this.metaLength;
    switch (this.metaType) {
      case 0x4c:
        this.formatBits |= formatBit('gnu');
        this.longName = readCString(data, 0, length);
        break;
      case 0x4b:
        this.formatBits |= formatBit('gnu');
        this.longLink = readCString(data, 0, length);
        break;
      case 0x67:
        this.formatBits |= formatBit('pax');
        this.paxTarget = this.global;
        this.global.any = true;
        parsePaxRecords(data, length, this.paxHeaderOffset, this.onPaxRecord);
        // A global header describes no member: its offset is not the next member's start.
        if (this.metaStart === this.paxHeaderOffset) this.metaStart = -1;
        break;
      default:
        this.formatBits |= formatBit('pax');
        this.paxTarget = this.local;
        this.local.any = true;
        this.sparseOffsetPending = -1;
        parsePaxRecords(data, length, this.paxHeaderOffset, this.onPaxRecord);
    }
    this.state = ST_HEADER;
    this.need = this.metaEnd;
  }

  private applyPaxRecord(key: string, data: Buffer, start: number, end: number): void {
    const fields = this.paxTarget;
    switch (key) {
      case 'path':
        fields.path = start === end ? null : data.toString('utf8', start, end);
        break;
      case 'linkpath':
        fields.linkpath = start === end ? null : data.toString('utf8', start, end);
        break;
      case 'size':
        fields.size = start === end ? -1 : this.paxNumber(key, data, start, end);
        break;
      case 'uid':
        fields.uid = start === end ? -1 : this.paxNumber(key, data, start, end);
        break;
      case 'gid':
        fields.gid = start === end ? -1 : this.paxNumber(key, data, start, end);
        break;
      case 'mtime': {
        const mtime = readPaxTime(data, start, end);
        if (Number.isFinite(mtime)) fields.mtime = mtime;
        else
          this.warn(
            'bad-pax-mtime',
            `pax mtime in the header at offset ${this.paxHeaderOffset} is not a number`,
          );
        break;
      }
      case 'GNU.sparse.major':
        fields.sparseMajor = this.paxNumber(key, data, start, end);
        break;
      case 'GNU.sparse.name':
        fields.sparseName = data.toString('utf8', start, end);
        break;
      case 'GNU.sparse.realsize':
      case 'GNU.sparse.size':
        fields.sparseRealSize = this.paxNumber(key, data, start, end);
        break;
      case 'GNU.sparse.offset':
        // Format 0.0 repeats offset/numbytes pairs: records are order-dependent here.
        this.sparseOffsetPending = this.paxNumber(key, data, start, end);
        break;
      case 'GNU.sparse.numbytes': {
        if (this.sparseOffsetPending < 0)
          throw this.badPax('GNU.sparse.numbytes without GNU.sparse.offset');
        const map = (fields.sparseMap ??= []);
        if (map.length >= 2 * MAX_SPARSE_EXTENTS) throw this.badPax('too many sparse extents');
        map.push(this.sparseOffsetPending, this.paxNumber(key, data, start, end));
        this.sparseOffsetPending = -1;
        break;
      }
      case 'GNU.sparse.map': {
        const map: number[] = [];
        let value = 0;
        let digits = 0;
        for (let i = start; i <= end; i += 1) {
          const code = i === end ? 0x2c : data[i]!;
          if (code === 0x2c) {
            if (digits === 0) {
              if (i === end && map.length === 0) break;
              throw this.badPax('GNU.sparse.map');
            }
            map.push(value);
            value = 0;
            digits = 0;
          } else if (code >= 0x30 && code <= 0x39) {
            value = value * 10 + (code - 0x30);
            digits += 1;
          } else {
            throw this.badPax('GNU.sparse.map');
          }
        }
        if (map.length % 2 !== 0 || map.length > 2 * MAX_SPARSE_EXTENTS)
          throw this.badPax('GNU.sparse.map');
        fields.sparseMap = map;
        break;
      }
      default:
      // atime, ctime, uname, gname, charset, SCHILY.*, LIBARCHIVE.*: nothing we report.
    }
  }

  private paxNumber(key: string, data: Buffer, start: number, end: number): number {
    const value = readPaxInteger(data, start, end);
    if (Number.isNaN(value)) throw this.badPax(key);
    return value;
  }

  private badPax(what: string): RestoreplanError {
    return new RestoreplanError(
      'ARCHIVE_HEADER',
      `malformed pax extended header at offset ${this.paxHeaderOffset}: bad ${what}`,
      { offset: this.paxHeaderOffset },
    );
  }

  private discardMetadata(): void {
    this.metaStart = -1;
    this.longName = null;
    this.longLink = null;
    this.local.reset();
  }

  private readMemberHeader(
    b: Buffer,
    o: number,
    offset: number,
    typeflag: number,
    headerSize: number,
    headerFormat: TarFormat,
  ): void {
    const local = this.local;
    const global = this.global;
    const entry = this.entry;
    const isPax = local.any || global.any;
    const format: TarFormat = isPax ? 'pax' : headerFormat;
    this.formatBits |= formatBit(format);

    // Name precedence as GNU tar applies it: header, then GNU long name, then pax global, then
    // pax local; GNU.sparse.name (sparse 0.1/1.0) names the real file behind the
    // GNUSparseFile.<pid>/ placeholder that archivers without sparse support would extract.
    let rawPath: string;
    let plainName = false;
    if (local.sparseName !== null) rawPath = local.sparseName;
    else if (local.path !== null) rawPath = local.path;
    else if (global.path !== null) rawPath = global.path;
    else if (this.longName !== null) rawPath = this.longName;
    else {
      rawPath = readHeaderName(b, o, headerFormat);
      plainName = lastNamePlain;
    }

    let rawLink: string;
    if (local.linkpath !== null) rawLink = local.linkpath;
    else if (global.linkpath !== null) rawLink = global.linkpath;
    else if (this.longLink !== null) rawLink = this.longLink;
    else rawLink = b[o + 157] === 0 ? '' : readCString(b, o + 157, 100);

    let type: EntryType;
    switch (typeflag) {
      case 0x30: // '0'
      case 0x00: // '\0' pre-POSIX regular file
      case 0x37: // '7' contiguous file: a regular file everywhere but Masscomp
        // tar (extract.c) extracts a "regular" member whose name ends in '/' as a directory:
        // that is how v7 archives, which have no directory type, store directories.
        type = rawPath.charCodeAt(rawPath.length - 1) === 0x2f ? 'dir' : 'file';
        break;
      case 0x53: // 'S' old GNU sparse file
        type = 'file';
        break;
      case 0x31:
        type = 'hardlink';
        break;
      case 0x32:
        type = 'symlink';
        break;
      case 0x33:
        type = 'chardev';
        break;
      case 0x34:
        type = 'blockdev';
        break;
      case 0x35: // '5'
      case 0x44: // 'D' GNU dumpdir (incremental): a directory whose data lists its contents
        type = 'dir';
        break;
      case 0x36:
        type = 'fifo';
        break;
      default:
        // GNU tar: "Unknown file type; file ignored"? No: it extracts it as a regular file.
        type = 'file';
        this.warn(
          'unknown-typeflag',
          `unknown typeflag '${String.fromCharCode(typeflag)}' at offset ${offset}: treated as a regular file, as tar does`,
          normalizeMemberPath(rawPath),
        );
    }

    let size = local.size >= 0 ? local.size : global.size >= 0 ? global.size : headerSize;
    let mtime = Number.isNaN(local.mtime)
      ? Number.isNaN(global.mtime)
        ? readNumericField(b, o + 136, 12)
        : global.mtime
      : local.mtime;
    if (Number.isNaN(mtime) || !Number.isFinite(mtime)) {
      this.warn('bad-numeric-field', `unreadable mtime in the header at offset ${offset}`);
      mtime = 0;
    }
    let mode = readNumericField(b, o + 100, 8);
    if (Number.isNaN(mode)) {
      this.warn('bad-numeric-field', `unreadable mode in the header at offset ${offset}`);
      mode = 0;
    }
    entry.uid = local.uid >= 0 ? local.uid : global.uid >= 0 ? global.uid : fieldOrZero(b, o + 108);
    entry.gid = local.gid >= 0 ? local.gid : global.gid >= 0 ? global.gid : fieldOrZero(b, o + 116);
    entry.mode = mode & 0o7777;
    entry.mtime = mtime;
    entry.rawPath = rawPath;
    // A plain header name (no leading '.' or '/', no '/.' or '//', no trailing '/') is already
    // normal and cannot hold a '..' component: the common case costs no further look.
    entry.memberPath = plainName ? rawPath : normalizeMemberPath(rawPath);
    entry.type = type;
    entry.format = format;
    entry.headerOffset = this.metaStart === -1 ? offset : this.metaStart;
    entry.sparse = null;
    let unsafe = plainName ? null : findUnsafeReason(rawPath);
    if (type === 'hardlink') {
      entry.linkPath = normalizeMemberPath(rawLink);
      // A hard link to ../../etc/shadow or /etc/shadow puts a system file inside the target,
      // where a later member can overwrite it: the member is as unsafe as its target.
      unsafe ??= findUnsafeReason(rawLink);
    } else {
      entry.linkPath = type === 'symlink' ? rawLink : '';
    }
    entry.unsafe = unsafe;

    if (typeflag === 0x35) {
      // GNU tar (list.c skip_member) never skips data after a '5' header, whatever its size
      // field says: some old tars put the directory's size there.
      size = 0;
    }
    if (!(size >= 0 && size <= Number.MAX_SAFE_INTEGER)) {
      throw new RestoreplanError(
        'ARCHIVE_HEADER',
        `absurd size in the header at offset ${offset}`,
        {
          offset,
          field: 'size',
        },
      );
    }
    this.memberStoredSize = size;
    this.memberHeaderOffset = offset;
    entry.dataOffset = offset + BLOCK;

    if (type === 'file' && typeflag === 0x53) {
      this.startOldGnuSparse(b, o, offset);
      return;
    }
    if (type === 'file' && local.sparseMajor === 1) {
      this.startSparseMap();
      return;
    }
    if (type === 'file' && local.sparseMap !== null) {
      const map = local.sparseMap;
      const list: Array<[number, number]> = [];
      for (let i = 0; i < map.length; i += 2) pushExtent(list, map[i]!, map[i + 1]!);
      const realSize = local.sparseRealSize >= 0 ? local.sparseRealSize : size;
      this.setSparse(list, realSize, size, offset);
      this.emitMember(size);
      return;
    }
    entry.sparse = null;
    entry.size = type === 'file' ? size : 0;
    this.emitMember(size);
  }

  /** Old GNU 'S': four map entries in the header, more in 512-byte extension blocks after it. */
  private startOldGnuSparse(b: Buffer, o: number, offset: number): void {
    this.sparseList = [];
    this.readSparseEntries(b, o + 386, 4, offset);
    this.sparseRealSize = readNumericField(b, o + 483, 12);
    if (!(this.sparseRealSize >= 0 && this.sparseRealSize <= Number.MAX_SAFE_INTEGER)) {
      throw new RestoreplanError(
        'ARCHIVE_HEADER',
        `absurd sparse real size in the header at offset ${offset}`,
        {
          offset,
          field: 'realsize',
        },
      );
    }
    this.mapBytes = 0;
    if (b[o + 482] !== 0) {
      this.state = ST_OLDGNU_EXT;
      return;
    }
    this.finishOldGnuSparse(offset);
  }

  private readOldGnuExtension(b: Buffer, o: number): void {
    const offset = this.need - BLOCK;
    this.mapBytes += BLOCK;
    this.readSparseEntries(b, o, 21, offset);
    if (b[o + 504] !== 0) return;
    this.state = ST_HEADER;
    this.finishOldGnuSparse(this.memberHeaderOffset);
  }

  private readSparseEntries(b: Buffer, at: number, count: number, offset: number): void {
    for (let i = 0; i < count; i += 1) {
      const entryAt = at + i * 24;
      if (b[entryAt] === 0) break;
      const start = readNumericField(b, entryAt, 12);
      const length = readNumericField(b, entryAt + 12, 12);
      if (!(start >= 0 && length >= 0) || this.sparseList.length >= MAX_SPARSE_EXTENTS) {
        throw new RestoreplanError(
          'ARCHIVE_HEADER',
          `bad sparse map in the header at offset ${offset}`,
          {
            offset,
            field: 'sparse',
          },
        );
      }
      pushExtent(this.sparseList, start, length);
    }
  }

  private finishOldGnuSparse(headerOffset: number): void {
    const entry = this.entry;
    entry.dataOffset = headerOffset + BLOCK + this.mapBytes;
    this.setSparse(this.sparseList, this.sparseRealSize, this.memberStoredSize, headerOffset);
    this.emitMember(this.memberStoredSize);
  }

  /** pax sparse 1.0: the map is decimal text, one number a line, at the start of the data. */
  private startSparseMap(): void {
    this.mapNumbers = [];
    this.mapCount = -1;
    this.mapValue = 0;
    this.mapDigits = 0;
    this.mapBytes = 0;
    this.state = ST_SPARSE_MAP;
    if (this.memberStoredSize === 0) this.badSparseMap('the member stores no sparse map');
  }

  private readSparseMapBlock(b: Buffer, o: number): void {
    this.mapBytes += BLOCK;
    const numbers = this.mapNumbers;
    for (let i = o; i < o + BLOCK; i += 1) {
      const code = b[i]!;
      if (code >= 0x30 && code <= 0x39) {
        this.mapValue = this.mapValue * 10 + (code - 0x30);
        this.mapDigits += 1;
        if (this.mapDigits > 16) this.badSparseMap('number too long');
        continue;
      }
      if (code !== 0x0a || this.mapDigits === 0) this.badSparseMap('not a decimal number per line');
      if (this.mapCount === -1) {
        this.mapCount = this.mapValue;
        if (this.mapCount > MAX_SPARSE_EXTENTS) this.badSparseMap('too many extents');
      } else {
        numbers.push(this.mapValue);
      }
      this.mapValue = 0;
      this.mapDigits = 0;
      if (numbers.length === 2 * this.mapCount) {
        this.finishSparseMap();
        return;
      }
    }
    if (this.mapBytes >= this.memberStoredSize)
      this.badSparseMap('the map does not end inside the member');
  }

  private finishSparseMap(): void {
    const entry = this.entry;
    const headerOffset = this.memberHeaderOffset;
    if (this.mapBytes > this.memberStoredSize)
      this.badSparseMap('the map is longer than the member');
    const list: Array<[number, number]> = [];
    const numbers = this.mapNumbers;
    for (let i = 0; i < numbers.length; i += 2) pushExtent(list, numbers[i]!, numbers[i + 1]!);
    const stored = this.memberStoredSize - this.mapBytes;
    entry.dataOffset += this.mapBytes;
    const realSize = this.local.sparseRealSize;
    if (realSize < 0) this.badSparseMap('GNU.sparse.realsize is missing');
    this.state = ST_HEADER;
    this.setSparse(list, realSize, stored, headerOffset);
    this.emitMember(stored);
  }

  private badSparseMap(what: string): never {
    const offset = this.memberHeaderOffset;
    throw new RestoreplanError(
      'ARCHIVE_HEADER',
      `bad sparse map for the member at offset ${offset}: ${what}`,
      {
        offset,
        field: 'sparse',
      },
    );
  }

  private setSparse(
    list: Array<[number, number]>,
    realSize: number,
    stored: number,
    offset: number,
  ): void {
    const error = findSparseMapError(list, realSize, stored);
    if (error !== null) {
      throw new RestoreplanError(
        'ARCHIVE_HEADER',
        `bad sparse map in the header at offset ${offset}: ${error}`,
        {
          offset,
          field: 'sparse',
        },
      );
    }
    this.entry.sparse = list;
    this.entry.size = realSize;
  }

  /** Reports the member in `this.entry`, whose data (`dataLength` bytes) starts at entry.dataOffset. */
  private emitMember(dataLength: number): void {
    const entry = this.entry;
    entry.dataLength = dataLength;
    entry.storedSize = dataLength;
    entry.index = this.members;
    this.members += 1;
    this.metaStart = -1;
    this.longName = null;
    this.longLink = null;
    this.local.reset();
    const dataEnd = entry.dataOffset + padded(dataLength);
    const action = this.hooks.onEntry(entry);
    if (action === 'stop') {
      this.stopped = true;
      this.finishWalk(entry.dataOffset, false);
      return;
    }
    if (action === 'data') {
      if (dataLength > this.hooks.maxDataBytes) {
        throw new RestoreplanError(
          'ARCHIVE_HEADER',
          `${entry.memberPath} stores ${dataLength} bytes, more than the ${this.hooks.maxDataBytes} a caller may collect`,
          { offset: entry.headerOffset, memberPath: entry.memberPath, field: 'size' },
        );
      }
      this.collectBuffer = Buffer.allocUnsafe(dataLength);
      this.collectFill = 0;
      this.need = entry.dataOffset;
      if (dataLength === 0) {
        this.finishCollect();
        return;
      }
      this.state = ST_COLLECT;
      return;
    }
    this.need = dataEnd;
  }

  private finishCollect(): void {
    const entry = this.entry;
    const data = this.collectBuffer;
    this.collectBuffer = Buffer.alloc(0);
    this.state = ST_HEADER;
    this.need = entry.dataOffset + padded(entry.dataLength);
    const onData = this.hooks.onData;
    if (onData && onData(copyEntry(entry), data) === 'stop') {
      this.stopped = true;
      this.finishWalk(this.need, false);
    }
  }
}

function padded(size: number): number {
  return Math.ceil(size / BLOCK) * BLOCK;
}

function pushExtent(list: Array<[number, number]>, offset: number, length: number): void {
  // GNU tar ends 0.0/0.1/1.0 maps with an empty extent at the real size: not data.
  if (length > 0) list.push([offset, length]);
}

function formatBit(format: TarFormat): number {
  return 1 << FORMAT_ORDER.indexOf(format);
}

function isZeroBlock(b: Buffer, o: number): boolean {
  for (let i = o; i < o + BLOCK; i += 1) if (b[i] !== 0) return false;
  return true;
}

function fieldOrZero(b: Buffer, at: number): number {
  const value = readNumericField(b, at, 8);
  return Number.isNaN(value) ? 0 : value;
}

/**
 * 'gnu' for GNU tar's `ustar  \0` magic (it writes the same magic for --format=gnu and
 * --format=oldgnu, so the two cannot be told apart from the bytes), 'ustar' for POSIX
 * `ustar\0`, 'v7' for anything else.
 */
function readHeaderFormat(b: Buffer, o: number): TarFormat {
  if (
    b[o + 257] !== 0x75 ||
    b[o + 258] !== 0x73 ||
    b[o + 259] !== 0x74 ||
    b[o + 260] !== 0x61 ||
    b[o + 261] !== 0x72
  ) {
    return 'v7';
  }
  if (b[o + 262] === 0x20 && b[o + 263] === 0x20 && b[o + 264] === 0) return 'gnu';
  return b[o + 262] === 0 ? 'ustar' : 'v7';
}

/** The name field, with the ustar prefix joined by '/'. GNU headers use those bytes for atime/ctime/sparse data, never a prefix. */
function readHeaderName(b: Buffer, o: number, format: TarFormat): string {
  const name = readName(b, o, 100);
  if (format !== 'ustar' || b[o + 345] === 0) return name;
  const namePlain = lastNamePlain;
  const prefix = readName(b, o + 345, 155);
  lastNamePlain &&= namePlain;
  return `${prefix}/${name}`;
}

/** Set by readName: the name just read needs no normalization and has no `..` component. */
let lastNamePlain = false;

interface SlicingBuffer extends Buffer {
  latin1Slice(start: number, end: number): string;
  utf8Slice(start: number, end: number): string;
}
// Buffer's own slicers skip toString's encoding lookup; they are what toString calls.
const hasSlicers = typeof (Buffer.prototype as Partial<SlicingBuffer>).latin1Slice === 'function';

/**
 * A NUL-terminated name field, decoded as UTF-8 (as GNU tar and bsdtar write the bytes they
 * got from the file system). One pass over the bytes also decides `lastNamePlain`, and
 * ASCII-only names (nearly all) take the cheaper one-byte decoder.
 */
function readName(b: Buffer, at: number, length: number): string {
  const limit = at + length;
  const first = b[at];
  let plain = first !== 0x2e && first !== 0x2f;
  let ascii = true;
  let previous = 0;
  let end = at;
  while (end < limit) {
    const code = b[end]!;
    if (code === 0) break;
    if (previous === 0x2f && (code === 0x2f || code === 0x2e)) plain = false;
    if (code > 0x7f) ascii = false;
    previous = code;
    end += 1;
  }
  if (previous === 0x2f) plain = false;
  lastNamePlain = plain && end > at;
  if (!hasSlicers) return b.toString('utf8', at, end);
  return ascii
    ? (b as SlicingBuffer).latin1Slice(at, end)
    : (b as SlicingBuffer).utf8Slice(at, end);
}

function readCString(b: Buffer, at: number, length: number): string {
  let end = at;
  const limit = at + length;
  while (end < limit && b[end] !== 0) end += 1;
  return b.toString('utf8', at, end);
}
