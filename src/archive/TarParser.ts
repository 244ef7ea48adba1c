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
 * The bytes themselves are decoded by pure codecs (decodeHeader, parsePaxRecords,
 * decodeSparseMap, readNumericField); this class decides what they mean for the member: which
 * of header, GNU long name and pax record names it, what a bad field costs (a warning or an
 * error), where its data lies. What is read, and how, follows GNU tar 1.34 (list.c, xheader.c,
 * sparse.c) and bsdtar 3.6, quirks included: see the comments at each.
 */
import { RestoreplanError } from '../errors.js';
import type { TarFormat, Warning } from '../types.js';
import { blankEntry, copyEntry, type ArchiveEntry, type EntryType } from './ArchiveEntry.js';
import type { ArchiveWarningCode } from './ArchiveWarningCode.js';
import {
  BLOCK,
  decodeEntryType,
  decodeHeader,
  isHeaderChecksumValid,
  isZeroBlock,
  readHeaderGid,
  readHeaderLinkName,
  readHeaderDevMajor,
  readHeaderDevMinor,
  readHeaderMode,
  readHeaderModeLowBits,
  readHeaderMtime,
  readHeaderName,
  readHeaderUid,
  readLongName,
  TarHeader,
} from './decodeHeader.js';
import {
  badSparseMap,
  decodeOldGnuSparseExtension,
  decodeOldGnuSparseHeader,
  decodePaxSparseMap,
  MAX_SPARSE_EXTENTS,
  pairExtents,
  readOldGnuRealSize,
  SparseMapDecoder,
} from './decodeSparseMap.js';
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
  /** GNU.sparse.numblocks: how many extents the map may hold (GNU tar refuses more). */
  sparseBlocks = 0;
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
    this.sparseBlocks = 0;
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
  readonly warningCounts: Partial<Record<ArchiveWarningCode, number>> = {};

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
  // The data of the member's local pax header ('x'), read when the member is.
  private paxBuffer = Buffer.alloc(4096);
  private paxLength = -1;
  private paxLocalOffset = 0;
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

  // A posix multi-volume archive's continuation (GNU.volume.filename): the next member is part of that file.
  private continuedFile: string | null = null;

  // Members named by an absolute path (tar -P): counted and reported once, at the end.
  private absoluteNames = 0;
  private firstAbsoluteName = '';
  private firstAbsoluteMember = '';

  // The header being read: one object, overwritten by every header.
  private readonly header = new TarHeader();

  // A member whose sparse map is still being read (old GNU extension blocks, pax 1.0 map).
  private sparseList: Array<[number, number]> = [];
  private readonly sparseMap = new SparseMapDecoder();
  private oldGnuMapBytes = 0;
  private memberStoredSize = 0;
  private memberHeaderOffset = 0;
  private sparseRealSize = 0;

  // Data collected for a consumer that asked for it.
  private collectBuffer: Buffer = Buffer.alloc(0);
  private collectFill = 0;

  constructor(hooks: TarParserHooks) {
    this.hooks = hooks;
    this.entry = blankEntry();
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

  warn(code: ArchiveWarningCode, message: string, memberPath?: string): void {
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
    if (total === 0)
      throw new RestoreplanError('NOT_A_TAR', 'the input is empty', { offset: 0, empty: true });
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
    if (this.absoluteNames > 0) {
      // GNU tar says this once per archive, not once per member; a `tar -P` backup of a whole
      // system would otherwise bury every other warning.
      this.warn(
        'absolute-names-stripped',
        `absolute member names or hard-link targets (${this.absoluteNames}, the first ${JSON.stringify(this.firstAbsoluteName)}): the leading '/' is removed, as GNU tar does, and they are restored under the target`,
        this.firstAbsoluteMember,
      );
      this.absoluteNames = 0;
    }
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
    const header = decodeHeader(b, o, this.header);
    this.checkChecksum(b, o, offset, header);
    const typeflag = header.typeflag;
    // GNU tar (list.c read_header) never reads a hard link's size field ("links 0 size on
    // tape"): whatever it holds, no data follows the header. A pax size record still counts.
    if (typeflag === 0x31) header.size = 0;
    const storedSize = header.size;
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
      case 0x4d: // 'M' continuation of a member from the previous volume
        this.readVolumeHeader(b, o, offset, header);
        return;
      default:
        // Old GNU tar's 'N' (a script of renames for long names) included: GNU tar 1.34 lists
        // and extracts it as a regular file of an unknown type, and so it is counted here.
        this.readMemberHeader(b, o, offset, header);
    }
  }

  /**
   * GNU tar lists a volume label ('V') and a multi-volume continuation ('M'), and extracts
   * neither: the label names the archive; the continuation is the tail of a file whose start is
   * in the previous volume ("Cannot extract -- file is continued from another volume", exit 2).
   * Neither is a member here; both are said. Metadata headers before them are theirs.
   */
  private readVolumeHeader(b: Buffer, o: number, offset: number, header: TarHeader): void {
    if (this.paxLength >= 0) this.readLocalPax();
    const name = this.local.path ?? this.longName ?? readHeaderName(b, o, header);
    this.formatBits |= formatBit(header.format);
    // GNU tar decodes these headers as any other: a bad field is complained about all the same.
    if (Number.isNaN(readHeaderMode(b, o))) this.badField('mode', Number.NaN, offset);
    if (Number.isNaN(this.local.mtime) && Number.isNaN(this.global.mtime)) {
      const mtime = readHeaderMtime(b, o);
      if (!Number.isFinite(mtime)) this.badField('mtime', mtime, offset);
    }
    if (this.local.uid < 0 && this.global.uid < 0)
      this.headerId('uid', readHeaderUid(b, o), offset);
    if (this.local.gid < 0 && this.global.gid < 0)
      this.headerId('gid', readHeaderGid(b, o), offset);
    if (header.typeflag === 0x56) {
      this.warn(
        'volume-label',
        `the archive is labelled ${JSON.stringify(name)} (a volume header at offset ${offset}): GNU tar lists it, but it is no member and nothing is restored for it`,
      );
    } else {
      // GNU tar lists where the file continues from ("--Continued at byte N--").
      const continuedAt = readNumericField(b, o + 369, 12);
      if (!(continuedAt >= 0 && continuedAt <= Number.MAX_SAFE_INTEGER))
        this.badField('continuation offset', continuedAt, offset, 'not shown');
      this.warn(
        'skipped-member',
        `${JSON.stringify(name)} at offset ${offset} continues a file from the previous volume of a multi-volume archive${Number.isFinite(continuedAt) ? ` (from its byte ${continuedAt})` : ''}: skipped, as GNU tar cannot extract it from this volume either`,
        normalizeMemberPath(name),
      );
    }
    const size = this.local.size >= 0 ? this.local.size : header.size;
    this.discardMetadata();
    this.need = offset + BLOCK + padded(size);
  }

  private checkChecksum(b: Buffer, o: number, offset: number, header: TarHeader): void {
    const stored = header.checksum;
    if (isHeaderChecksumValid(b, o, stored)) return;
    if (offset === 0 && header.format === 'v7') {
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
      computed: sumTarHeader(b, o),
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
    // GNU tar (list.c read_header) copies a long name's whole blocks and reads the name as a C
    // string: up to its NUL, whatever the size field says. pax records stop at the size.
    this.metaLength = typeflag === 0x4c || typeflag === 0x4b ? padded(size) : size;
    this.metaFill = 0;
    this.metaEnd = offset + BLOCK + padded(size);
    this.paxHeaderOffset = offset;
    if (this.metaBuffer.length < this.metaLength) {
      this.metaBuffer = Buffer.alloc(Math.max(this.metaLength, this.metaBuffer.length * 2));
    }
    this.state = ST_META;
    if (this.metaLength === 0) this.finishMetadata();
  }

  private finishMetadata(): void {
    const data = this.metaBuffer;
    const length = this.metaLength;
    switch (this.metaType) {
      case 0x4c:
        this.formatBits |= formatBit('gnu');
        this.longName = readLongName(data, length);
        break;
      case 0x4b:
        this.formatBits |= formatBit('gnu');
        this.longLink = readLongName(data, length);
        break;
      case 0x67:
        this.formatBits |= formatBit('pax');
        this.paxTarget = this.global;
        this.global.any = true;
        parsePaxRecords(data, length, this.paxHeaderOffset, this.onPaxRecord);
        // A global header describes no member: its offset is not the next member's start.
        if (this.metaStart === this.paxHeaderOffset) this.metaStart = -1;
        break;
      default: {
        // A local header is read when its member is (GNU tar's xheader_decode at decode_header):
        // a second 'x' before the member replaces the first unread, and one that describes no
        // member is never read. Its bytes move to their own buffer, out of a long name's way.
        this.formatBits |= formatBit('pax');
        const spare = this.paxBuffer;
        this.paxBuffer = data;
        this.metaBuffer = spare;
        this.paxLength = length;
        this.paxLocalOffset = this.paxHeaderOffset;
      }
    }
    this.state = ST_HEADER;
    this.need = this.metaEnd;
  }

  /** Applies the records of the member's local pax header, if it has one. */
  private readLocalPax(): void {
    const length = this.paxLength;
    this.paxLength = -1;
    this.paxTarget = this.local;
    this.local.any = true;
    this.sparseOffsetPending = -1;
    this.paxHeaderOffset = this.paxLocalOffset;
    parsePaxRecords(this.paxBuffer, length, this.paxLocalOffset, this.onPaxRecord);
  }

  private applyPaxRecord(key: string, data: Buffer, start: number, end: number): void {
    const fields = this.paxTarget;
    switch (key) {
      // GNU tar takes every value as given, an empty one too: an empty name is a name (the
      // root), an empty number is malformed.
      case 'path':
        fields.path = readPaxString(data, start, end);
        break;
      case 'linkpath':
        fields.linkpath = readPaxString(data, start, end);
        break;
      case 'size':
        fields.size = this.paxNumber(key, data, start, end);
        break;
      case 'uid':
        fields.uid = this.paxNumber(key, data, start, end, 0xffffffff);
        break;
      case 'gid':
        fields.gid = this.paxNumber(key, data, start, end, 0xffffffff);
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
      case 'GNU.sparse.minor':
        // Not needed (1.0 is the only format with a major), but GNU tar refuses a bad one.
        this.paxNumber(key, data, start, end);
        break;
      case 'GNU.sparse.name':
        fields.sparseName = readPaxString(data, start, end);
        break;
      case 'GNU.sparse.realsize':
      case 'GNU.sparse.size':
        fields.sparseRealSize = this.paxNumber(key, data, start, end);
        break;
      case 'GNU.sparse.offset':
        // Format 0.0 repeats offset/numbytes pairs: records are order-dependent here.
        this.sparseOffsetPending = this.paxNumber(key, data, start, end);
        break;
      case 'GNU.sparse.numblocks':
        fields.sparseBlocks = this.paxNumber(key, data, start, end);
        break;
      case 'GNU.sparse.numbytes': {
        if (this.sparseOffsetPending < 0)
          throw this.badPax('GNU.sparse.numbytes without GNU.sparse.offset');
        const map = (fields.sparseMap ??= []);
        if (map.length >= 2 * MAX_SPARSE_EXTENTS) throw this.badPax('too many sparse extents');
        // GNU tar's sparse_numbytes_decoder: "Malformed extended header: excess ..." past the
        // count GNU.sparse.numblocks gave.
        if (map.length >= 2 * fields.sparseBlocks) throw this.badPax('excess GNU.sparse.numbytes');
        map.push(this.sparseOffsetPending, this.paxNumber(key, data, start, end));
        this.sparseOffsetPending = -1;
        break;
      }
      case 'GNU.sparse.map': {
        const map = decodePaxSparseMap(data, start, end);
        if (map === null) throw this.badPax('GNU.sparse.map');
        if (map.length > 2 * fields.sparseBlocks) throw this.badPax('excess GNU.sparse.map');
        fields.sparseMap = map;
        break;
      }
      case 'GNU.volume.label':
        // GNU tar's --label in posix format: listed as a 'V' volume header, as in gnu format.
        this.warn(
          'volume-label',
          `the archive is labelled ${JSON.stringify(data.toString('utf8', start, end))} (a pax header at offset ${this.paxHeaderOffset}): GNU tar lists it, but it is no member and nothing is restored for it`,
        );
        break;
      case 'GNU.volume.filename':
        // A posix multi-volume archive's next volume: the member that follows is a part of it.
        this.continuedFile = data.toString('utf8', start, end);
        break;
      default:
      // atime, ctime, uname, gname, charset, SCHILY.*, LIBARCHIVE.*: nothing we report.
    }
  }

  private paxNumber(
    key: string,
    data: Buffer,
    start: number,
    end: number,
    max = Number.MAX_SAFE_INTEGER,
  ): number {
    const value = readPaxInteger(data, start, end);
    // GNU tar's decode_num: "Extended header uid=... is out of range" past uid_t.
    if (Number.isNaN(value) || value > max) throw this.badPax(key);
    return value;
  }

  private badPax(what: string): RestoreplanError {
    return new RestoreplanError(
      'ARCHIVE_HEADER',
      `malformed pax extended header at offset ${this.paxHeaderOffset}: bad ${what}`,
      { offset: this.paxHeaderOffset },
    );
  }

  /** Says why a numeric header field is not used (GNU tar: "... where numeric ... expected"). */
  private badField(field: string, value: number, offset: number, instead = '0 is used'): void {
    this.warn(
      'bad-numeric-field',
      Number.isNaN(value)
        ? `unreadable ${field} in the header at offset ${offset}: ${instead}`
        : `out-of-range ${field} (${value}) in the header at offset ${offset}: ${instead}`,
    );
  }

  /** A uid, gid or device number from the header: 0..2^32-1, as GNU tar's uid_t and major_t. */
  private headerId(field: string, value: number, offset: number): number {
    if (value >= 0 && value <= 0xffffffff) return value;
    this.badField(field, value, offset);
    return 0;
  }

  /**
   * A hard link GNU tar's extraction never makes: to itself (linkat finds the name already
   * there, the same file: nothing to do; or not there at all: an error), or to a name that ends
   * in '/' or '.' (a directory: EPERM; a file: ENOTDIR). Counting it would count a link that no
   * restore creates, or (to itself) replace the file it names by nothing. Not a member; said.
   */
  private dropHardLink(rawLink: string, offset: number, dataLength: number): void {
    const entry = this.entry;
    this.warn(
      'dropped-hardlink',
      entry.linkPath === entry.memberPath
        ? `the hard link ${JSON.stringify(entry.rawPath)} at offset ${offset} links to itself: extraction leaves that name as it was, so it is not counted`
        : `the hard link ${JSON.stringify(entry.rawPath)} at offset ${offset} links to ${JSON.stringify(rawLink)}, a directory name: no hard link can be made to it, so it is not counted`,
      entry.memberPath,
    );
    this.metaStart = -1;
    this.longName = null;
    this.longLink = null;
    this.local.reset();
    this.need = offset + BLOCK + padded(dataLength);
  }

  private discardMetadata(): void {
    this.paxLength = -1;
    this.metaStart = -1;
    this.longName = null;
    this.longLink = null;
    this.local.reset();
  }

  private readMemberHeader(b: Buffer, o: number, offset: number, header: TarHeader): void {
    if (this.paxLength >= 0) this.readLocalPax();
    const local = this.local;
    const global = this.global;
    const entry = this.entry;
    const typeflag = header.typeflag;
    const isPax = local.any || global.any;
    const format: TarFormat = isPax ? 'pax' : header.format;
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
      rawPath = readHeaderName(b, o, header);
      plainName = header.namePlain;
    }

    let rawLink: string;
    if (local.linkpath !== null) rawLink = local.linkpath;
    else if (global.linkpath !== null) rawLink = global.linkpath;
    else if (this.longLink !== null) rawLink = this.longLink;
    else rawLink = readHeaderLinkName(b, o);

    let type: EntryType | null = decodeEntryType(typeflag, rawPath);
    if (type === null) {
      // GNU tar: "Unknown file type; file ignored"? No: it extracts it as a regular file.
      type = 'file';
      this.warn(
        'unknown-typeflag',
        `unknown typeflag '${String.fromCharCode(typeflag)}' at offset ${offset}: treated as a regular file, as tar does`,
        normalizeMemberPath(rawPath),
      );
    }

    let size = local.size >= 0 ? local.size : global.size >= 0 ? global.size : header.size;
    // Which sparse format, if any, is GNU tar's (sparse.c tar_sparse_init): the old GNU map of
    // an 'S' header with GNU's magic; the pax map of a member with a local pax header and the
    // POSIX magic, when it has extents or GNU.sparse.major (1.0, the map in the data). Other
    // headers ('S' with the POSIX magic or none) are plain members.
    // A member of another type with a pax map is skipped by its stored size, as sparse.
    const oldGnuSparse = typeflag === 0x53 && header.format === 'gnu';
    let paxSparseMember = false;
    if (local.any) {
      paxSparseMember =
        !oldGnuSparse &&
        header.format === 'ustar' &&
        (local.sparseMajor > 0 || (local.sparseMap !== null && local.sparseMap.length > 0));
      // Not sparse, a GNU.sparse.size or realsize record still sets the size: of the data too.
      if (!oldGnuSparse && !paxSparseMember && local.sparseRealSize >= 0)
        size = local.sparseRealSize;
    }
    const paxSparse = paxSparseMember && type === 'file';
    let mtime = Number.isNaN(local.mtime)
      ? Number.isNaN(global.mtime)
        ? readHeaderMtime(b, o)
        : global.mtime
      : local.mtime;
    if (!Number.isFinite(mtime)) {
      this.badField('mtime', mtime, offset);
      mtime = 0;
    }
    let mode = readHeaderMode(b, o);
    if (Number.isNaN(mode)) {
      this.badField('mode', mode, offset);
      mode = 0;
    } else if (!Number.isFinite(mode)) {
      // GNU tar takes any mode value and keeps its low 12 bits.
      mode = readHeaderModeLowBits(b, o);
    }
    let uid = local.uid >= 0 ? local.uid : global.uid >= 0 ? global.uid : readHeaderUid(b, o);
    if (!(uid >= 0 && uid <= 0xffffffff)) uid = this.headerId('uid', uid, offset);
    let gid = local.gid >= 0 ? local.gid : global.gid >= 0 ? global.gid : readHeaderGid(b, o);
    if (!(gid >= 0 && gid <= 0xffffffff)) gid = this.headerId('gid', gid, offset);
    entry.uid = uid;
    entry.gid = gid;
    if ((typeflag === 0x33 || typeflag === 0x34) && header.format !== 'v7') {
      // Not kept (devices are never restored from a plan), but GNU tar reads them and refuses
      // garbage there: so is it said here.
      this.headerId('devmajor', readHeaderDevMajor(b, o), offset);
      this.headerId('devminor', readHeaderDevMinor(b, o), offset);
    }
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
    let absolute = !plainName && rawPath.charCodeAt(0) === 0x2f;
    if (type === 'hardlink') {
      entry.linkPath = normalizeMemberPath(rawLink);
      // A hard link to ../../etc/shadow puts a system file inside the target, where a later
      // member can overwrite it: the member is as unsafe as its target. A link to /etc/shadow
      // is not: like the names, its target is taken relative to the target root.
      unsafe ??= findUnsafeReason(rawLink);
      if (unsafe === null && (entry.linkPath === entry.memberPath || namesDirectory(rawLink))) {
        this.dropHardLink(rawLink, offset, size);
        return;
      }
      absolute ||= rawLink.charCodeAt(0) === 0x2f;
    } else {
      entry.linkPath = type === 'symlink' ? rawLink : '';
    }
    entry.unsafe = unsafe;
    if (absolute && this.absoluteNames++ === 0) {
      this.firstAbsoluteName = rawPath.charCodeAt(0) === 0x2f ? rawPath : rawLink;
      this.firstAbsoluteMember = entry.memberPath;
    }
    if (this.continuedFile !== null) {
      this.warn(
        'continued-member',
        `${entry.memberPath} is the part of ${JSON.stringify(this.continuedFile)} that a multi-volume archive continued in this volume (GNU tar extracts it under this name, as a file of its own): it holds only part of that file`,
        entry.memberPath,
      );
      this.continuedFile = null;
    }

    if (typeflag === 0x35 && !paxSparseMember) {
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

    if (oldGnuSparse) {
      this.startOldGnuSparse(b, o, offset);
      return;
    }
    if (paxSparse && local.sparseMajor > 0) {
      this.startSparseMap();
      return;
    }
    if (paxSparse && local.sparseMap !== null) {
      const list = pairExtents(local.sparseMap);
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
    const extended = decodeOldGnuSparseHeader(b, o, this.sparseList, offset);
    this.sparseRealSize = readOldGnuRealSize(b, o);
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
    this.oldGnuMapBytes = 0;
    if (extended) {
      this.state = ST_OLDGNU_EXT;
      return;
    }
    this.finishOldGnuSparse(offset);
  }

  private readOldGnuExtension(b: Buffer, o: number): void {
    this.oldGnuMapBytes += BLOCK;
    if (decodeOldGnuSparseExtension(b, o, this.sparseList, this.need - BLOCK)) return;
    this.state = ST_HEADER;
    this.finishOldGnuSparse(this.memberHeaderOffset);
  }

  private finishOldGnuSparse(headerOffset: number): void {
    const entry = this.entry;
    entry.dataOffset = headerOffset + BLOCK + this.oldGnuMapBytes;
    this.setSparse(this.sparseList, this.sparseRealSize, this.memberStoredSize, headerOffset);
    this.emitMember(this.memberStoredSize);
  }

  /** pax sparse 1.0: the map is decimal text, one number a line, at the start of the data. */
  private startSparseMap(): void {
    this.state = ST_SPARSE_MAP;
    this.sparseMap.start(this.memberHeaderOffset, this.memberStoredSize);
  }

  private readSparseMapBlock(b: Buffer, o: number): void {
    if (!this.sparseMap.readBlock(b, o)) return;
    const entry = this.entry;
    const headerOffset = this.memberHeaderOffset;
    const mapBytes = this.sparseMap.bytes;
    const list = this.sparseMap.extents();
    const stored = this.memberStoredSize - mapBytes;
    entry.dataOffset += mapBytes;
    const realSize = this.local.sparseRealSize;
    if (realSize < 0) throw badSparseMap(headerOffset, 'GNU.sparse.realsize is missing');
    this.state = ST_HEADER;
    this.setSparse(list, realSize, stored, headerOffset);
    this.emitMember(stored);
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

function formatBit(format: TarFormat): number {
  return 1 << FORMAT_ORDER.indexOf(format);
}

/** A pax name value as GNU tar takes it (decode_string): a C string, so a NUL ends it. */
function readPaxString(data: Buffer, start: number, end: number): string {
  for (let i = start; i < end; i += 1) if (data[i] === 0) return data.toString('utf8', start, i);
  return data.toString('utf8', start, end);
}

/**
 * A hard-link target that names a directory: empty (GNU tar substitutes '.'), '.', or ending in
 * '/' or '/.'. A hard link to it never gets made (EPERM on a directory, ENOTDIR on a file).
 */
function namesDirectory(rawLink: string): boolean {
  const length = rawLink.length;
  if (length === 0) return true;
  const last = rawLink.charCodeAt(length - 1);
  if (last === 0x2f) return true;
  return last === 0x2e && (length === 1 || rawLink.charCodeAt(length - 2) === 0x2f);
}
