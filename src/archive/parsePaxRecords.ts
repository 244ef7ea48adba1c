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
 *
 * What is a record follows GNU tar 1.34's decode_record (xheader.c): blanks (space, tab) may
 * lead the length and one or more follow it; a NUL where a record would start ends the records
 * (writers pad with NULs, and GNU tar reads the data as a C string); the keyword ends at the
 * first `=`, and a NUL before it is "missing equal sign". Malformed records are ARCHIVE_HEADER:
 * GNU tar says "Malformed extended header", drops the rest of the header and exits 2.
 */
export function parsePaxRecords(
  data: Buffer,
  length: number,
  headerOffset: number,
  onRecord: PaxRecordHandler,
): void {
  let pos = 0;
  while (pos < length) {
    let i = pos;
    while (i < length && (data[i] === 0x20 || data[i] === 0x09)) i += 1;
    // GNU tar stops at a NUL where a length should start, whatever follows it.
    if (i === length || data[i] === 0) return;
    let recordLength = 0;
    const digitsStart = i;
    while (i < length) {
      const code = data[i] ?? 0;
      if (code < 0x30 || code > 0x39) break;
      recordLength = recordLength * 10 + (code - 0x30);
      i += 1;
    }
    if (i === digitsStart) throw malformed(headerOffset, 'record length');
    const recordEnd = pos + recordLength;
    if (recordEnd > length) throw malformed(headerOffset, 'record length');
    if (data[i] !== 0x20 && data[i] !== 0x09) throw malformed(headerOffset, 'record length');
    while (data[i] === 0x20 || data[i] === 0x09) i += 1;
    const keyStart = i;
    let equals = keyStart;
    while (equals < recordEnd && data[equals] !== 0x3d && data[equals] !== 0) equals += 1;
    if (equals >= recordEnd || data[equals] !== 0x3d) {
      throw malformed(headerOffset, 'record without keyword=value');
    }
    if (data[recordEnd - 1] !== 0x0a || recordEnd - 1 <= equals) {
      throw malformed(headerOffset, 'record not ended by a newline');
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

function malformed(headerOffset: number, what: string): RestoreplanError {
  return new RestoreplanError(
    'ARCHIVE_HEADER',
    `malformed pax extended header at offset ${headerOffset}: ${what}`,
    { offset: headerOffset },
  );
}

/**
 * A pax time (`mtime=1700000000.123456789`, possibly negative) as seconds, parsed from the
 * bytes as GNU tar's decode_timespec does: an optional `-`, digits, an optional `.` and
 * digits; what follows the number is ignored (GNU tar reads `1x` as 1). NaN when no digit
 * starts it, or past 2^53 s.
 */
export function readPaxTime(data: Buffer, start: number, end: number): number {
  let i = start;
  const negative = data[i] === 0x2d;
  if (negative) i += 1;
  if (!(i < end && isDigit(data[i]!))) return Number.NaN;
  let whole = 0;
  while (i < end && isDigit(data[i]!)) {
    whole = whole * 10 + (data[i]! - 0x30);
    i += 1;
  }
  let fraction = 0;
  let scale = 1;
  if (i < end && data[i] === 0x2e) {
    for (i += 1; i < end && isDigit(data[i]!); i += 1) {
      if (scale < 1e9) {
        fraction = fraction * 10 + (data[i]! - 0x30);
        scale *= 10;
      }
    }
  }
  if (whole > Number.MAX_SAFE_INTEGER) return Number.NaN;
  const value = whole + fraction / scale;
  return negative ? -value : value;
}

/**
 * A pax decimal value (size, uid, gid, GNU.sparse.*) as GNU tar's decode_num takes it: digits
 * to the end of the value, which is a C string (a NUL ends it). NaN otherwise, or past 2^53.
 */
export function readPaxInteger(data: Buffer, start: number, end: number): number {
  if (start === end || !isDigit(data[start]!)) return Number.NaN;
  let value = 0;
  for (let i = start; i < end; i += 1) {
    const code = data[i] ?? 0;
    if (code === 0) break;
    if (!isDigit(code)) return Number.NaN;
    value = value * 10 + (code - 0x30);
  }
  return value > Number.MAX_SAFE_INTEGER ? Number.NaN : value;
}

function isDigit(code: number): boolean {
  return code >= 0x30 && code <= 0x39;
}
