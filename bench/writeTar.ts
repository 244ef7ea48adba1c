/**
 * A minimal GNU-format tar writer for the benchmark archive only: writing 700,000 members
 * straight into one file takes seconds, where creating them on disk for GNU tar takes minutes
 * and 700,000 inodes. The tests build their fixtures with real GNU tar and bsdtar; the bench
 * checks its archive once with `tar -tf` (see bench/README.md).
 */
import { closeSync, openSync, writeSync } from 'node:fs';

export type BenchMemberType = 'file' | 'dir' | 'symlink' | 'hardlink';

const TYPEFLAG: Record<BenchMemberType, number> = {
  file: 0x30,
  hardlink: 0x31,
  symlink: 0x32,
  dir: 0x35,
};
const CHUNK = 4 << 20;

export class TarWriter {
  private readonly fd: number;
  private buffer = Buffer.alloc(CHUNK);
  private used = 0;
  bytes = 0;
  members = 0;

  constructor(path: string) {
    this.fd = openSync(path, 'w');
  }

  add(
    name: string,
    type: BenchMemberType,
    data: Buffer | null,
    options: { link?: string; mtime?: number; mode?: number } = {},
  ): void {
    const nameBytes = Buffer.from(type === 'dir' ? `${name}/` : name);
    const link = Buffer.from(options.link ?? '');
    if (nameBytes.length > 100) this.writeLongName(0x4c, nameBytes);
    if (link.length > 100) this.writeLongName(0x4b, link);
    const size = type === 'file' && data ? data.length : 0;
    this.writeHeader(
      nameBytes.subarray(0, 100),
      TYPEFLAG[type],
      size,
      link.subarray(0, 100),
      options.mode ?? (type === 'dir' ? 0o2775 : 0o664),
      options.mtime ?? 1_700_000_000,
    );
    if (size > 0 && data) this.writeData(data);
    this.members += 1;
  }

  close(): void {
    this.reserve(1024);
    this.buffer.fill(0, this.used, this.used + 1024);
    this.used += 1024;
    // GNU tar pads the archive to a whole record (20 blocks of 512 bytes).
    const total = this.bytes + this.used;
    const padded = Math.ceil(total / 10240) * 10240;
    this.reserve(padded - total);
    this.buffer.fill(0, this.used, this.used + padded - total);
    this.used += padded - total;
    this.flush();
    closeSync(this.fd);
  }

  private writeLongName(flag: number, bytes: Buffer): void {
    const data = Buffer.concat([bytes, Buffer.alloc(1)]);
    this.writeHeader(Buffer.from('././@LongLink'), flag, data.length, Buffer.alloc(0), 0o644, 0);
    this.writeData(data);
  }

  private writeHeader(
    name: Buffer,
    flag: number,
    size: number,
    link: Buffer,
    mode: number,
    mtime: number,
  ): void {
    this.reserve(512);
    const h = this.buffer.subarray(this.used, this.used + 512);
    h.fill(0);
    name.copy(h, 0);
    octal(h, 100, 8, mode);
    octal(h, 108, 8, 1000);
    octal(h, 116, 8, 1000);
    octal(h, 124, 12, size);
    octal(h, 136, 12, mtime);
    h.fill(0x20, 148, 156);
    h[156] = flag;
    link.copy(h, 157);
    h.write('ustar  \0', 257, 'latin1');
    h.write('list', 265, 'latin1');
    h.write('list', 297, 'latin1');
    let sum = 0;
    for (let i = 0; i < 512; i += 1) sum += h[i] ?? 0;
    octal(h, 148, 7, sum);
    h[155] = 0x20;
    this.used += 512;
  }

  private writeData(data: Buffer): void {
    const padded = Math.ceil(data.length / 512) * 512;
    if (padded > CHUNK) {
      this.flush();
      writeSync(this.fd, data);
      if (padded > data.length) writeSync(this.fd, Buffer.alloc(padded - data.length));
      this.bytes += padded;
      return;
    }
    this.reserve(padded);
    data.copy(this.buffer, this.used);
    this.buffer.fill(0, this.used + data.length, this.used + padded);
    this.used += padded;
  }

  private reserve(n: number): void {
    if (this.used + n > CHUNK) this.flush();
  }

  private flush(): void {
    if (this.used > 0) writeSync(this.fd, this.buffer, 0, this.used);
    this.bytes += this.used;
    this.used = 0;
  }
}

function octal(h: Buffer, offset: number, length: number, value: number): void {
  h.write(value.toString(8).padStart(length - 1, '0'), offset, length - 1, 'latin1');
  h[offset + length - 1] = 0;
}
