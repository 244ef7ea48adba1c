import { RestoreplanError } from '../errors.js';

/** Receives one pax record: the keyword, and where its value lies in `data`. */
export type PaxRecordHandler = (
  key: string,
  data: Buffer,
  valueStart: number,
  valueEnd: number,
) => void;

/**
 * Splits a pax extended header (`x` or `g` data) into records, `"%d %s=%s\n"` where the decimal
 * length counts the whole record including itself. Values are handed over as byte ranges so
 * that keywords we ignore (GNU tar writes atime and ctime for every member in posix format)
 * cost no string. A value may itself contain `=` or a newline: only the length delimits it.
 * Malformed records are ARCHIVE_HEADER, as GNU tar refuses them ("Malformed extended header").
 */
export function parsePaxRecords(
  data: Buffer,
  length: number,
  headerOffset: number,
  onRecord: PaxRecordHandler,
): void {
  let pos = 0;
  while (pos < length) {
    // Some writers pad the data with NULs after the last record; GNU tar stops there too.
    if (data[pos] === 0) {
      if (isAllZero(data, pos, length)) return;
      throw malformed(headerOffset, 'NUL byte in a record');
    }
    let recordLength = 0;
    let i = pos;
    while (i < length) {
      const code = data[i] ?? 0;
      if (code < 0x30 || code > 0x39) break;
      recordLength = recordLength * 10 + (code - 0x30);
      i += 1;
    }
    if (i === pos || data[i] !== 0x20) throw malformed(headerOffset, 'record length');
    const recordEnd = pos + recordLength;
    if (recordLength < 5 || recordEnd > length) throw malformed(headerOffset, 'record length');
    if (data[recordEnd - 1] !== 0x0a)
      throw malformed(headerOffset, 'record not ended by a newline');
    const keyStart = i + 1;
    const equals = data.indexOf(0x3d, keyStart);
    if (equals === -1 || equals >= recordEnd - 1 || equals === keyStart) {
      throw malformed(headerOffset, 'record without keyword=value');
    }
    if (!isAccessOrChangeTime(data, keyStart, equals)) {
      onRecord(data.toString('utf8', keyStart, equals), data, equals + 1, recordEnd - 1);
    }
    pos = recordEnd;
  }
}

/**
 * GNU tar's posix format writes atime and ctime records for every member; nobody here wants
 * them, so they are recognised from the bytes without making a key string.
 */
function isAccessOrChangeTime(data: Buffer, start: number, end: number): boolean {
  if (end - start !== 5) return false;
  const first = data[start];
  return (
    (first === 0x61 || first === 0x63) &&
    data[start + 1] === 0x74 &&
    data[start + 2] === 0x69 &&
    data[start + 3] === 0x6d &&
    data[start + 4] === 0x65
  );
}

function isAllZero(data: Buffer, from: number, to: number): boolean {
  for (let i = from; i < to; i += 1) if (data[i] !== 0) return false;
  return true;
}

function malformed(headerOffset: number, what: string): RestoreplanError {
  return new RestoreplanError(
    'ARCHIVE_HEADER',
    `malformed pax extended header at offset ${headerOffset}: ${what}`,
    { offset: headerOffset },
  );
}

/**
 * A pax time (`mtime=1700000000.123456789`, possibly negative) as seconds, parsed from the
 * bytes. NaN when it is not a decimal number.
 */
export function readPaxTime(data: Buffer, start: number, end: number): number {
  let i = start;
  const negative = data[i] === 0x2d;
  if (negative) i += 1;
  let whole = 0;
  let digits = 0;
  while (i < end && data[i] !== 0x2e) {
    const code = data[i]!;
    if (code < 0x30 || code > 0x39) return Number.NaN;
    whole = whole * 10 + (code - 0x30);
    digits += 1;
    i += 1;
  }
  let fraction = 0;
  let scale = 1;
  if (i < end) {
    for (i += 1; i < end; i += 1) {
      const code = data[i]!;
      if (code < 0x30 || code > 0x39) return Number.NaN;
      if (scale < 1e9) {
        fraction = fraction * 10 + (code - 0x30);
        scale *= 10;
      }
    }
  }
  if (digits === 0) return Number.NaN;
  const value = whole + fraction / scale;
  return negative ? -value : value;
}

/** A pax decimal value (size, uid, gid): digits only, as GNU tar's decode_num accepts. NaN otherwise. */
export function readPaxInteger(data: Buffer, start: number, end: number): number {
  if (start === end) return Number.NaN;
  let value = 0;
  for (let i = start; i < end; i += 1) {
    const code = data[i] ?? 0;
    if (code < 0x30 || code > 0x39) return Number.NaN;
    value = value * 10 + (code - 0x30);
  }
  return value > Number.MAX_SAFE_INTEGER ? Number.NaN : value;
}
