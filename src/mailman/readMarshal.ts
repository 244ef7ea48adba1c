/**
 * Python 2 marshal, enough to judge Mailman's legacy `config.db` / `config.db.last` (Mailman
 * before 2.1 saved the list dict with marshal.dump; 2.1 still falls back to them). Like the
 * pickle reader it answers a verdict: a complete object whose top level is a dict, something
 * else, truncated, or invalid (an unknown type code). Code objects are walked, never run.
 */
import type { PickleKind } from './readPickle.js';

export interface MarshalVerdict {
  kind: Exclude<PickleKind, 'unsupported'> | 'unsupported';
  /** Complete objects: the offset just past the object; otherwise where the fault is. */
  offset: number;
  detail: string;
}

/** Python 2's MAX_MARSHAL_STACK_DEPTH: deeper data is refused by Python too. */
const MAX_DEPTH = 2000;

class Fault extends Error {
  constructor(
    readonly kind: MarshalVerdict['kind'],
    readonly at: number,
    message: string,
  ) {
    super(message);
  }
}

type Top = 'dict' | 'other';

/** Reads one Python 2 marshal object from `data` at `start`. Never throws on bad data. */
export function readMarshal(data: Uint8Array, start = 0): MarshalVerdict {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  let pos = start;
  // Interned strings ('t') are numbered as they come; 'R' refers back to one by number.
  let interned = 0;

  const need = (n: number, at: number): number => {
    if (n < 0) throw new Fault('invalid', at, 'negative length');
    if (pos + n > buf.length)
      throw new Fault('truncated', at, `data ends inside the object at ${at}`);
    const from = pos;
    pos += n;
    return from;
  };
  const readInt32 = (at: number): number => buf.readInt32LE(need(4, at));

  const readObject = (depth: number): Top | 'null' => {
    const at = pos;
    if (depth > MAX_DEPTH)
      throw new Fault('unsupported', at, 'nested deeper than Python 2 marshal allows');
    if (pos >= buf.length) throw new Fault('truncated', at, 'EOF read where object expected');
    const code = buf[need(1, at)] as number;
    switch (String.fromCharCode(code)) {
      case '0': // NULL: ends a dict
        return 'null';
      case 'N':
      case 'F':
      case 'T':
      case 'S': // StopIteration
      case '.': // Ellipsis
        return 'other';
      case 'i':
        need(4, at);
        return 'other';
      case 'I':
        need(8, at);
        return 'other';
      case 'f':
      case 'x': {
        // text float / complex: one (or two) length-prefixed decimal strings
        need(buf[need(1, at)] as number, at);
        if (code === 0x78) need(buf[need(1, at)] as number, at);
        return 'other';
      }
      case 'g':
        need(8, at);
        return 'other';
      case 'y':
        need(16, at);
        return 'other';
      case 'l': {
        const digits = readInt32(at);
        need(Math.abs(digits) * 2, at);
        return 'other';
      }
      case 't':
        need(readInt32(at), at);
        interned += 1;
        return 'other';
      case 's':
      case 'u':
        need(readInt32(at), at);
        return 'other';
      case 'R': {
        const index = readInt32(at);
        if (index < 0 || index >= interned)
          throw new Fault('invalid', at, 'bad marshal data (string ref)');
        return 'other';
      }
      case '(':
      case '[':
      case '<':
      case '>': {
        const n = readInt32(at);
        if (n < 0) throw new Fault('invalid', at, 'bad marshal data (negative size)');
        for (let i = 0; i < n; i++) {
          if (readObject(depth + 1) === 'null')
            throw new Fault('invalid', at, 'NULL object in a sequence');
        }
        return 'other';
      }
      case '{': {
        while (true) {
          if (readObject(depth + 1) === 'null') return 'dict';
          if (readObject(depth + 1) === 'null')
            throw new Fault('invalid', at, 'NULL value in a dict');
        }
      }
      case 'c': {
        // Python 2.7 code object: 4 ints, then code, consts, names, varnames, freevars,
        // cellvars, filename, name, an int, lnotab.
        need(16, at);
        for (let i = 0; i < 8; i++) readObject(depth + 1);
        need(4, at);
        readObject(depth + 1);
        return 'other';
      }
      default:
        throw new Fault(
          'invalid',
          at,
          `bad marshal data (unknown type code 0x${code.toString(16).padStart(2, '0')})`,
        );
    }
  };

  try {
    const top = readObject(0);
    if (top === 'null')
      return { kind: 'invalid', offset: start, detail: 'bad marshal data (NULL object)' };
    return {
      kind: top,
      offset: pos,
      detail: top === 'dict' ? 'marshalled dict' : 'marshalled non-dict',
    };
  } catch (error) {
    if (error instanceof Fault)
      return { kind: error.kind, offset: error.at, detail: error.message };
    throw error;
  }
}
