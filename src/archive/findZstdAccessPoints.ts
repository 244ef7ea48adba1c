import type { AccessPoint } from './AccessPoint.js';
import type { ReadAt } from './openArchive.js';

/**
 * Access points of a .zst file made of several frames (RFC 8878): one per zstd frame, at the
 * frame's magic number. Frames are independent, so zstd can start at any of them.
 *
 * Who writes several frames: `pzstd` (in Debian's zstd package; one frame per 8 MiB of input
 * at its default level, each after a 12-byte skippable frame holding its compressed size — but
 * without Frame_Content_Size, see below), `cat a.zst b.zst` and the tools that append (`zstd`
 * of a file records Frame_Content_Size; of a pipe it does not), and the zstd seekable format
 * (zstd's contrib/seekable_format, t2sz; not packaged in Debian 12), whose seek table at the
 * end gives every frame's decompressed size. `zstd -T#` and `zstd -B#` (1.5.4) write one frame.
 *
 * A point needs the output offset of its frame, so the sizes of all the frames before it:
 * from each frame's Frame_Content_Size, or from the seekable format's seek table (both when
 * present must agree). The frames are walked by their headers — the frame header, then each
 * 3-byte block header up to the last block, then the optional checksum — by positional reads
 * (one read-ahead buffer serves every header it covers), and the walk stops at the first frame
 * whose size is unknown: its point is the last one (what follows it is not looked at).
 *
 * Returns [] when fewer than two points are known (a single frame, or a first frame of
 * unknown size: pzstd's output, a zstd of a pipe), or when anything walked is not well-formed
 * zstd (a legacy v0.x frame, a reserved bit or block type, a frame cut by the end of the
 * file, sizes that disagree). Never throws for the file's content; a failing `readAt` rejects.
 */
export async function findZstdAccessPoints(
  readAt: ReadAt,
  sizeBytes: number,
): Promise<AccessPoint[]> {
  try {
    const points = await walkFrames(readAt, sizeBytes);
    return points.length > 1 ? points : [];
  } catch (error) {
    if (error instanceof NotZstd) return [];
    throw error;
  }
}

class NotZstd extends Error {}

function fail(): never {
  throw new NotZstd();
}

const FRAME_MAGIC = 0xfd2fb528;
const SKIPPABLE_MAGIC_MASK = 0xfffffff0;
const SKIPPABLE_MAGIC = 0x184d2a50;
const SEEK_TABLE_MAGIC = 0x184d2a5e;
const SEEKABLE_FOOTER_MAGIC = 0x8f92eab1;
/** Bytes read at once while walking headers: small blocks cost no read of their own. */
const READ_AHEAD_BYTES = 16 * 1024;

/** Positional reads through one read-ahead buffer. */
class HeaderReader {
  private buffer = Buffer.alloc(0);
  private bufferStart = 0;

  constructor(
    private readonly readAt: ReadAt,
    readonly sizeBytes: number,
  ) {}

  /** `length` bytes at `position`; fails past the end of the file. */
  async bytes(position: number, length: number): Promise<Buffer> {
    if (position < 0 || position + length > this.sizeBytes) fail();
    const offset = position - this.bufferStart;
    if (offset >= 0 && offset + length <= this.buffer.length) {
      return this.buffer.subarray(offset, offset + length);
    }
    const want = Math.min(Math.max(length, READ_AHEAD_BYTES), this.sizeBytes - position);
    const buffer = Buffer.alloc(want);
    let done = 0;
    while (done < want) {
      const bytesRead = await this.readAt(buffer.subarray(done), want - done, position + done);
      if (bytesRead <= 0) fail();
      done += bytesRead;
    }
    this.buffer = buffer;
    this.bufferStart = position;
    return buffer.subarray(0, length);
  }
}

async function walkFrames(readAt: ReadAt, sizeBytes: number): Promise<AccessPoint[]> {
  if (!Number.isSafeInteger(sizeBytes) || sizeBytes < 8) fail();
  const reader = new HeaderReader(readAt, sizeBytes);
  const table = await readSeekTable(reader, sizeBytes);
  const points: AccessPoint[] = [];
  let position = 0;
  let outputOffset = 0;
  let frameNumber = 0;
  while (position < sizeBytes) {
    const magic = (await reader.bytes(position, 4)).readUInt32LE(0);
    if ((magic & SKIPPABLE_MAGIC_MASK) >>> 0 === SKIPPABLE_MAGIC) {
      const length = (await reader.bytes(position + 4, 4)).readUInt32LE(0);
      position += 8 + length;
      if (position > sizeBytes) fail();
      continue;
    }
    if (magic !== FRAME_MAGIC) fail();
    points.push({ outputOffset, inputOffset: position, bits: 0, window: null });
    const frame = await readFrameHeader(reader, position);
    const entry = table?.[frameNumber];
    if (table && !entry) fail();
    if (entry && frame.contentSize !== null && entry.decompressedSize !== frame.contentSize) fail();
    const size = frame.contentSize ?? entry?.decompressedSize ?? null;
    // The next frame's output offset is unknown: no need to walk this frame's blocks.
    if (size === null) return points;
    const end = await findFrameEnd(reader, frame);
    if (entry && entry.compressedSize !== end - position) fail();
    outputOffset += size;
    if (!Number.isSafeInteger(outputOffset)) fail();
    position = end;
    frameNumber += 1;
  }
  if (position !== sizeBytes) fail();
  if (table && frameNumber !== table.length) fail();
  return points;
}

interface FrameHeader {
  /** Frame_Content_Size; null when the header has none. */
  contentSize: number | null;
  /** Offset of the first block header. */
  blocksStart: number;
  hasChecksum: boolean;
}

async function readFrameHeader(reader: HeaderReader, start: number): Promise<FrameHeader> {
  const descriptor = (await reader.bytes(start + 4, 1))[0]!;
  const fcsFlag = descriptor >> 6;
  const singleSegment = (descriptor & 0x20) !== 0;
  if ((descriptor & 0x08) !== 0) fail(); // reserved bit
  const hasChecksum = (descriptor & 0x04) !== 0;
  const dictIdBytes = [0, 1, 2, 4][descriptor & 0x03]!;
  const fcsBytes = [singleSegment ? 1 : 0, 2, 4, 8][fcsFlag]!;
  const fcsAt = start + 5 + (singleSegment ? 0 : 1) + dictIdBytes;
  let contentSize: number | null = null;
  if (fcsBytes > 0) {
    const field = await reader.bytes(fcsAt, fcsBytes);
    if (fcsBytes === 1) contentSize = field[0]!;
    else if (fcsBytes === 2) contentSize = field.readUInt16LE(0) + 256;
    else if (fcsBytes === 4) contentSize = field.readUInt32LE(0);
    else {
      const big = field.readBigUInt64LE(0);
      if (big > BigInt(Number.MAX_SAFE_INTEGER)) fail();
      contentSize = Number(big);
    }
  }
  return { contentSize, blocksStart: fcsAt + fcsBytes, hasChecksum };
}

/** Offset just past the frame: its block headers walked to the last block, then its checksum. */
async function findFrameEnd(reader: HeaderReader, frame: FrameHeader): Promise<number> {
  let at = frame.blocksStart;
  for (;;) {
    const header = await reader.bytes(at, 3);
    const value = header[0]! | (header[1]! << 8) | (header[2]! << 16);
    const last = (value & 1) !== 0;
    const type = (value >> 1) & 3;
    const blockSize = value >>> 3;
    if (type === 3) fail(); // reserved
    at += 3 + (type === 1 ? 1 : blockSize); // an RLE block stores its one byte
    if (at > reader.sizeBytes) fail();
    if (last) break;
  }
  return frame.hasChecksum ? at + 4 : at;
}

interface SeekEntry {
  compressedSize: number;
  decompressedSize: number;
}

/**
 * The seekable format's seek table (a skippable frame, magic 0x184D2A5E, last in the file,
 * ending in a 9-byte footer: Number_Of_Frames, Seek_Table_Descriptor, 0x8F92EAB1); null when
 * the file does not end in one.
 */
async function readSeekTable(reader: HeaderReader, sizeBytes: number): Promise<SeekEntry[] | null> {
  if (sizeBytes < 17) return null;
  const footer = await reader.bytes(sizeBytes - 9, 9);
  if (footer.readUInt32LE(5) !== SEEKABLE_FOOTER_MAGIC) return null;
  const count = footer.readUInt32LE(0);
  const descriptor = footer[4]!;
  if ((descriptor & 0x7c) !== 0) fail(); // reserved bits
  const entryBytes = descriptor & 0x80 ? 12 : 8;
  const tableBytes = 8 + count * entryBytes + 9;
  const tableStart = sizeBytes - tableBytes;
  if (tableStart < 0) fail();
  const head = await reader.bytes(tableStart, 8);
  if (head.readUInt32LE(0) !== SEEK_TABLE_MAGIC) fail();
  if (head.readUInt32LE(4) !== tableBytes - 8) fail();
  const entries: SeekEntry[] = [];
  for (let i = 0; i < count; i += 1) {
    const entry = await reader.bytes(tableStart + 8 + i * entryBytes, 8);
    entries.push({
      compressedSize: entry.readUInt32LE(0),
      decompressedSize: entry.readUInt32LE(4),
    });
  }
  return entries;
}
