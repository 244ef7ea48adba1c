/**
 * A bounded, non-executing reader for Python pickles of protocols 0–2, the ones Mailman 2.1
 * (Python 2's cPickle) writes. It is an opcode machine over a byte buffer: GLOBAL/INST/OBJ/
 * REDUCE/NEWOBJ only build inert placeholders, so nothing is ever imported or called, and
 * limits on size, mark depth and memo keep a hostile file from costing more than its bytes.
 *
 * The verdict is what matters: a complete pickle whose top level is a dict (what Mailman's
 * loader accepts), a complete pickle of something else (Mailman rejects it: "Load() expected
 * to return a dictionary"), truncated (the data ends before STOP: Python raises EOFError),
 * invalid (an unknown opcode or a bad argument: UnpicklingError/ValueError/TypeError), or
 * unsupported (protocol 3+ opcodes, or a limit was hit). Data after STOP is ignored, as
 * Python's load() ignores it; queue files rely on that (two pickles back to back).
 *
 * Where Python versions differ, this follows Python 2.7's cPickle (Mailman 2.1's interpreter),
 * checked opcode by opcode against it (test/mailman/fuzz.test.ts): its stack model (marks are
 * positions, not fences), a FLOAT too big for a double is an OverflowError, a text argument
 * may not be empty, STRING's trailing bytes are stripped as signed chars, memo keys of PUT/GET
 * are strings. Python 3's unpickler differs on each of these; the fuzz test names them.
 */

export type PickleKind = 'dict' | 'other' | 'truncated' | 'invalid' | 'unsupported';

export interface PickleVerdict {
  kind: PickleKind;
  /** Complete pickles: the offset just past STOP (where a following pickle starts). Otherwise the offset of the opcode at fault. */
  offset: number;
  detail: string;
  /** The highest PROTO seen (0 when none: protocols 0 and 1 have no header). */
  protocol: number;
  /** The decoded value, only with `decode: true` and a complete pickle. */
  value?: PyValue;
}

export interface ReadPickleOptions {
  /** Where the pickle starts in the buffer (queue files hold two back to back). */
  start?: number;
  /** Refuse (as `unsupported`) a pickle longer than this. */
  maxBytes?: number;
  /** Refuse a pickle nesting more MARKs than this (Python's own recursion limit keeps real pickles far below). */
  maxDepth?: number;
  /** Refuse a pickle storing more memo entries than this. */
  maxMemo?: number;
  /** Return the decoded value (placeholders for globals and instances). */
  decode?: boolean;
}

export const PICKLE_LIMITS = {
  maxBytes: 256 * 1024 * 1024,
  maxDepth: 10_000,
  maxMemo: 4_000_000,
} as const;

/** A Python tuple (a JS array is a Python list). */
export class PyTuple {
  constructor(readonly items: PyValue[]) {}
}

/** A `module name` reference; never resolved. */
export class PyGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}
}

/** An object built by INST/OBJ/REDUCE/NEWOBJ: the callable and arguments are kept, nothing runs. */
export class PyInstance {
  state: PyValue = null;
  /** Items set or appended on an object whose class we cannot know (a dict or list subclass). */
  readonly items: PyValue[] = [];
  constructor(
    readonly cls: PyValue,
    readonly args: PyValue[],
  ) {}
}

export type PyValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | PyValue[]
  | Map<PyValue, PyValue>
  | PyTuple
  | PyGlobal
  | PyInstance;

class Stop extends Error {
  constructor(
    readonly kind: PickleKind,
    readonly at: number,
    message: string,
  ) {
    super(message);
  }
}

/** What Python's float() accepts from a FLOAT line. */
const FLOAT_TEXT = /^[+-]?((\d+\.?\d*|\.\d+)([eE][+-]?\d+)?|inf(inity)?|nan)$/i;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Opcodes of protocols 3–5: Python 2 does not know them, so Mailman 2.1 cannot load them. */
const NEWER_OPCODES = new Set([
  0x42, 0x43, 0x8c, 0x8d, 0x8e, 0x8f, 0x90, 0x91, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98,
]);

/** Reads one pickle from `data` (at `options.start`) and says what it is. Never throws on bad data. */
export function readPickle(data: Uint8Array, options: ReadPickleOptions = {}): PickleVerdict {
  const start = options.start ?? 0;
  const maxBytes = options.maxBytes ?? PICKLE_LIMITS.maxBytes;
  const maxDepth = options.maxDepth ?? PICKLE_LIMITS.maxDepth;
  const maxMemo = options.maxMemo ?? PICKLE_LIMITS.maxMemo;
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const end = Math.min(buf.length, start + maxBytes);
  // cPickle's two stacks: the objects, and the marks as positions in it. A mark is no fence:
  // APPEND, SETITEM, DUP, STOP and the TUPLEn opcodes reach below it, as in cPickle.
  const stack: PyValue[] = [];
  const marks: number[] = [];
  const memo = new Map<number | string, PyValue>();
  let pos = start;
  let op = start;
  let protocol = 0;

  const need = (n: number): number => {
    if (pos + n > end) {
      if (end < buf.length)
        throw new Stop('unsupported', op, `pickle longer than the ${maxBytes}-byte limit`);
      throw new Stop('truncated', op, `data ends inside the opcode at ${op}`);
    }
    const at = pos;
    pos += n;
    return at;
  };
  const readLine = (): string => {
    const nl = buf.indexOf(0x0a, pos);
    if (nl < 0 || nl >= end) {
      if (end < buf.length && nl >= 0)
        throw new Stop('unsupported', op, `pickle longer than the ${maxBytes}-byte limit`);
      throw new Stop('truncated', op, `data ends inside the text argument of the opcode at ${op}`);
    }
    const line = buf.toString('latin1', pos, nl);
    pos = nl + 1;
    return line;
  };
  /** A text argument cPickle needs at least one character of ("pickle data was truncated"). */
  const readArgument = (): string => {
    const line = readLine();
    if (line === '') bad('empty text argument');
    return line;
  };
  const bad = (message: string): never => {
    throw new Stop('invalid', op, message);
  };
  const push = (value: PyValue): void => {
    stack.push(value);
  };
  // cPickle's PDATA_POP: the top object, whatever marks lie above it.
  const pop = (): PyValue => {
    if (stack.length === 0) bad('bad pickle data (empty stack)');
    return stack.pop() as PyValue;
  };
  const top = (): PyValue => {
    if (stack.length === 0) bad('stack underflow');
    return stack[stack.length - 1] as PyValue;
  };
  const marker = (): number => {
    const at = marks.pop();
    if (at === undefined) bad('could not find MARK');
    return at as number;
  };
  // Pdata_popTuple/popList: a mark above the stack's top (objects popped from under it) makes
  // cPickle ask for a tuple of negative length: an error.
  const popFrom = (at: number): PyValue[] => {
    if (at > stack.length) bad('mark above the top of the stack');
    return stack.splice(at);
  };
  // cPickle keys the memo by the raw text of PUT/GET lines (a string) and by the integer of
  // BINPUT/BINGET: the two never meet, and "p1" is a different key from "p01".
  const memoPut = (key: number | string): void => {
    if (stack.length === 0) bad('stack underflow');
    if (!memo.has(key) && memo.size >= maxMemo)
      throw new Stop('unsupported', op, `more than ${maxMemo} memo entries`);
    memo.set(key, stack[stack.length - 1] as PyValue);
  };
  const memoGet = (key: number | string): void => {
    if (!memo.has(key)) bad(`memo key ${JSON.stringify(key)} not found`);
    push(memo.get(key) as PyValue);
  };
  // cPickle's do_setitems: the target is below position x, the pairs above it; no pairs, no
  // look at the target.
  const setItems = (x: number): void => {
    const length = stack.length;
    if (!(length >= x && x > 0)) bad('stack underflow');
    if ((length - x) % 2 !== 0) bad('odd number of items for SETITEMS');
    const target = stack[x - 1] as PyValue;
    for (let i = x + 1; i < length; i += 2) {
      if (target instanceof Map) {
        const key = stack[i - 1] as PyValue;
        checkHashable(key);
        target.set(key, stack[i] as PyValue);
      } else if (target instanceof PyInstance) {
        target.items.push(stack[i - 1] as PyValue, stack[i] as PyValue);
      } else {
        bad('SETITEM on an object that is not a dict');
      }
    }
    stack.length = x;
  };
  // cPickle's do_append, the same way.
  const appendItems = (x: number): void => {
    const length = stack.length;
    if (!(length >= x && x > 0)) bad('stack underflow');
    if (length === x) return;
    const target = stack[x - 1] as PyValue;
    if (Array.isArray(target)) {
      for (let i = x; i < length; i += 1) target.push(stack[i] as PyValue);
    } else if (target instanceof PyInstance) {
      for (let i = x; i < length; i += 1) target.items.push(stack[i] as PyValue);
    } else {
      bad('APPEND on an object that is not a list');
    }
    stack.length = x;
  };
  // Tuples are immutable, so one found hashable stays so. Without this a hostile pickle that
  // nests memo-shared tuples (a few bytes a level) makes every check re-walk an exponential
  // tree: hours of CPU from a 300-byte config.
  const hashableTuples = new WeakSet<PyTuple>();
  const checkHashable = (key: PyValue): void => {
    // Python raises TypeError for a list or dict used as a dict key (Mailman catches it).
    if (Array.isArray(key) || key instanceof Map) bad('unhashable dict key');
    if (key instanceof PyTuple && !hashableTuples.has(key)) {
      for (const item of key.items) checkHashable(item);
      hashableTuples.add(key);
    }
  };
  const instantiate = (cls: PyValue, args: PyValue[]): PyInstance => {
    if (!(cls instanceof PyGlobal || cls instanceof PyInstance))
      bad('the class of an instance is not a global');
    return new PyInstance(cls, args);
  };
  // cPickle's load_build: an instance takes any state (its class's __setstate__, or the
  // default); anything else has no __setstate__ and no __dict__, so only a state of None, or
  // (None, {}), leaves it as it is, and any other state is an error.
  const build = (target: PyValue, state: PyValue): void => {
    if (target instanceof PyInstance) {
      target.state = state;
      return;
    }
    if (target instanceof PyGlobal) bad('BUILD on a class');
    let dictState: PyValue = state;
    let slotState: PyValue | undefined;
    if (state instanceof PyTuple && state.items.length === 2) {
      [dictState, slotState] = state.items as [PyValue, PyValue];
    }
    if (dictState !== null) bad('BUILD with a state on an object that is not an instance');
    if (slotState !== undefined && !(slotState instanceof Map && slotState.size === 0))
      bad('BUILD with a slot state on an object that is not an instance');
  };

  try {
    while (true) {
      op = pos;
      const code = buf[need(1)] as number;
      switch (code) {
        case 0x28: // ( MARK
          if (marks.length >= maxDepth)
            throw new Stop('unsupported', op, `more than ${maxDepth} nested MARKs`);
          marks.push(stack.length);
          break;
        case 0x2e: {
          // . STOP
          const value = pop();
          const kind: PickleKind = value instanceof Map ? 'dict' : 'other';
          const verdict: PickleVerdict = { kind, offset: pos, detail: describe(value), protocol };
          if (options.decode) verdict.value = value;
          return verdict;
        }
        case 0x30: // 0 POP: the topmost mark when it is at the top of the stack, else an item
          if (marks.length > 0 && marks[marks.length - 1] === stack.length) marks.pop();
          else if (stack.length > 0) stack.pop();
          else bad('stack underflow');
          break;
        case 0x31: {
          // 1 POP_MARK
          const at = marker();
          if (at < stack.length) stack.length = at;
          break;
        }
        case 0x32: // 2 DUP
          push(top());
          break;
        case 0x46: {
          // F FLOAT (text)
          // cPickle wants the whole line to be the float: no whitespace, and a NUL is an error.
          const text = readArgument();
          if (!FLOAT_TEXT.test(text))
            bad(`bad FLOAT argument ${JSON.stringify(text.slice(0, 40))}`);
          const lower = text.toLowerCase();
          const value = lower.includes('inf')
            ? lower.startsWith('-')
              ? -Infinity
              : Infinity
            : lower.includes('nan')
              ? NaN
              : Number(text);
          // Python 2.7's cPickle reads it with PyOS_string_to_double(..., OverflowError): a
          // number too big for a double is an OverflowError (1e-999 is 0.0, no error). Both
          // round correctly, so they agree on where too big starts.
          if (!Number.isFinite(value) && !lower.includes('inf') && !lower.includes('nan'))
            bad(`FLOAT argument ${JSON.stringify(text.slice(0, 40))} overflows a double`);
          push(value);
          break;
        }
        case 0x49: {
          // I INT (text); Python 2 writes booleans as I01 / I00
          const text = readArgument();
          const value =
            parseIntText(text) ?? bad(`bad INT argument ${JSON.stringify(text.slice(0, 40))}`);
          // cPickle's load_int: a 2-character text strtol reads whole as 0 or 1 is a bool
          // (I01, I00, and so also "I 1", "I+1", "I-0").
          if (
            text.length === 2 &&
            /^[ \t\v\f\r+\-0][01]$/.test(text) &&
            (value === 0 || value === 1)
          )
            push(value === 1);
          else push(value);
          break;
        }
        case 0x4c: {
          // L LONG (text, Python 2 appends an L)
          const text = readArgument();
          const value = parseIntText(text);
          if (value === null) bad(`bad LONG argument ${JSON.stringify(text.slice(0, 40))}`);
          push(typeof value === 'bigint' ? value : BigInt(value as number));
          break;
        }
        case 0x4e: // N NONE
          push(null);
          break;
        case 0x50: // P PERSID: Python raises without a persistent_load, and Mailman has none
        case 0x51: // Q BINPERSID
          bad('persistent id without a persistent_load');
          break;
        case 0x52: {
          // R REDUCE
          const args = pop();
          const callable = pop();
          if (!(args instanceof PyTuple)) bad('REDUCE arguments are not a tuple');
          push(instantiate(callable, (args as PyTuple).items));
          break;
        }
        case 0x53: {
          // S STRING (a quoted Python 2 repr)
          const text = readArgument();
          push(decodeStringRepr(text) ?? bad('the STRING argument must be a quoted string'));
          break;
        }
        case 0x54: {
          // T BINSTRING: 4-byte signed length
          const at = need(4);
          const length = buf.readInt32LE(at);
          if (length < 0) bad('BINSTRING has a negative length');
          const from = need(length);
          push(buf.toString('latin1', from, from + length));
          break;
        }
        case 0x55: {
          // U SHORT_BINSTRING
          const length = buf[need(1)] as number;
          const from = need(length);
          push(buf.toString('latin1', from, from + length));
          break;
        }
        case 0x56: // V UNICODE (raw-unicode-escape text; may be empty)
          push(decodeRawUnicodeEscape(readLine()) ?? bad('bad UNICODE argument'));
          break;
        case 0x58: {
          // X BINUNICODE: 4-byte signed length (cPickle: "negative byte count"), UTF-8
          const length = buf.readInt32LE(need(4));
          if (length < 0) bad('BINUNICODE has a negative length');
          const from = need(length);
          try {
            push(utf8.decode(buf.subarray(from, from + length)));
          } catch {
            bad('BINUNICODE is not valid UTF-8');
          }
          break;
        }
        case 0x61: // a APPEND
          appendItems(stack.length - 1);
          break;
        case 0x62: {
          // b BUILD: state goes onto the placeholder; nothing like __setstate__ runs
          if (stack.length < 2) bad('stack underflow');
          const state = pop();
          build(top(), state);
          break;
        }
        case 0x63: {
          // c GLOBAL module\nname\n
          const module = readArgument();
          const name = readArgument();
          push(new PyGlobal(module, name));
          break;
        }
        case 0x64: {
          // d DICT: pairs from the mark on; an odd last key is dropped, as cPickle drops it
          const at = marker();
          const length = stack.length;
          const dict = new Map<PyValue, PyValue>();
          for (let i = at + 1; i < length; i += 2) {
            const key = stack[i - 1] as PyValue;
            checkHashable(key);
            dict.set(key, stack[i] as PyValue);
          }
          if (at < length) stack.length = at;
          push(dict);
          break;
        }
        case 0x7d: // } EMPTY_DICT
          push(new Map());
          break;
        case 0x65: // e APPENDS
          appendItems(marker());
          break;
        case 0x67: // g GET
          memoGet(readArgument());
          break;
        case 0x68: // h BINGET
          memoGet(buf[need(1)] as number);
          break;
        case 0x6a: // j LONG_BINGET
          memoGet(buf.readUInt32LE(need(4)));
          break;
        case 0x69: {
          // i INST module\nname\n
          const at = marker();
          const module = readArgument();
          const name = readArgument();
          push(new PyInstance(new PyGlobal(module, name), popFrom(at)));
          break;
        }
        case 0x6c: // l LIST
          push(popFrom(marker()));
          break;
        case 0x5d: // ] EMPTY_LIST
          push([]);
          break;
        case 0x6f: {
          // o OBJ: class and arguments after the mark
          const at = marker();
          const args = popFrom(at + 1);
          push(instantiate(pop(), args));
          break;
        }
        case 0x70: // p PUT
          memoPut(readArgument());
          break;
        case 0x71: // q BINPUT
          memoPut(buf[need(1)] as number);
          break;
        case 0x72: // r LONG_BINPUT
          memoPut(buf.readUInt32LE(need(4)));
          break;
        case 0x73: // s SETITEM
          setItems(stack.length - 2);
          break;
        case 0x75: // u SETITEMS
          setItems(marker());
          break;
        case 0x74: // t TUPLE
          push(new PyTuple(popFrom(marker())));
          break;
        case 0x29: // ) EMPTY_TUPLE
          push(new PyTuple([]));
          break;
        case 0x4a: // J BININT
          push(buf.readInt32LE(need(4)));
          break;
        case 0x4b: // K BININT1
          push(buf[need(1)] as number);
          break;
        case 0x4d: // M BININT2
          push(buf.readUInt16LE(need(2)));
          break;
        case 0x47: // G BINFLOAT (big-endian)
          push(buf.readDoubleBE(need(8)));
          break;
        case 0x80: {
          // PROTO
          const version = buf[need(1)] as number;
          if (version > 2)
            throw new Stop('unsupported', op, `pickle protocol ${version} (Python 2 reads 0–2)`);
          protocol = Math.max(protocol, version);
          break;
        }
        case 0x81: {
          // NEWOBJ: cls.__new__(cls, *args); an instance is no class ("isn't a type object")
          const args = pop();
          if (!(args instanceof PyTuple)) bad('NEWOBJ arguments are not a tuple');
          const cls = pop();
          if (!(cls instanceof PyGlobal)) bad('NEWOBJ class argument is not a class');
          push(new PyInstance(cls, (args as PyTuple).items));
          break;
        }
        case 0x82: // EXT1/2/4: Mailman registers no extension codes, so Python raises ValueError
        case 0x83:
        case 0x84:
          need(code === 0x82 ? 1 : code === 0x83 ? 2 : 4);
          bad('extension code not registered');
          break;
        case 0x85: // TUPLE1
          push(new PyTuple([pop()]));
          break;
        case 0x86: {
          // TUPLE2
          const b = pop();
          const a = pop();
          push(new PyTuple([a, b]));
          break;
        }
        case 0x87: {
          // TUPLE3
          const c = pop();
          const b = pop();
          const a = pop();
          push(new PyTuple([a, b, c]));
          break;
        }
        case 0x88: // NEWTRUE
          push(true);
          break;
        case 0x89: // NEWFALSE
          push(false);
          break;
        case 0x8a: {
          // LONG1: little-endian two's complement
          const length = buf[need(1)] as number;
          const from = need(length);
          push(decodeLong(buf.subarray(from, from + length)));
          break;
        }
        case 0x8b: {
          // LONG4
          const length = buf.readInt32LE(need(4));
          if (length < 0) bad('LONG4 has a negative length');
          const from = need(length);
          push(decodeLong(buf.subarray(from, from + length)));
          break;
        }
        case 0x00:
          // cPickle reads a NUL opcode as the end of the data (EOFError): a file whose tail was
          // never written (delayed allocation after a crash) reads as truncated, not as garbage.
          throw new Stop(
            'truncated',
            op,
            `NUL byte where an opcode should be at ${op} (read as end of data)`,
          );
        default:
          if (NEWER_OPCODES.has(code)) {
            throw new Stop(
              'unsupported',
              op,
              `opcode 0x${code.toString(16)} belongs to pickle protocol 3 or later`,
            );
          }
          bad(`invalid load key 0x${code.toString(16).padStart(2, '0')}`);
      }
    }
  } catch (error) {
    if (error instanceof Stop)
      return { kind: error.kind, offset: error.at, detail: error.message, protocol };
    if (error instanceof RangeError)
      return { kind: 'invalid', offset: op, detail: error.message, protocol };
    throw error;
  }
}

/**
 * Integers in text opcodes as Python 2's cPickle reads them: C strings, so a NUL ends the text;
 * surrounding whitespace is allowed; base 0 (0x.., 0o.., 0b.., and a leading 0 means octal); an
 * optional L suffix (PyLong_FromString accepts it, and LONG lines carry it).
 */
export function parseIntText(text: string): number | bigint | null {
  const nul = text.indexOf('\0');
  const trimmed = (nul >= 0 ? text.slice(0, nul) : text)
    .replace(/^[ \t\n\r\f\v]+|[ \t\n\r\f\v]+$/g, '')
    .replace(/[lL]$/, '');
  const match = /^([+-]?)(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9]\d*)$/.exec(
    trimmed,
  );
  if (!match) return null;
  const digits = match[2] as string;
  const magnitude = /^0[0-7]+$/.test(digits) ? BigInt(`0o${digits.slice(1)}`) : BigInt(digits);
  const value = match[1] === '-' ? -magnitude : magnitude;
  return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(value)
    : value;
}

function decodeLong(bytes: Buffer): bigint {
  let value = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[i] as number);
  if (bytes.length > 0 && ((bytes[bytes.length - 1] as number) & 0x80) !== 0)
    value -= 1n << BigInt(bytes.length * 8);
  return value;
}

const SIMPLE_ESCAPES: Record<string, string> = {
  '\\': '\\',
  "'": "'",
  '"': '"',
  n: '\n',
  t: '\t',
  r: '\r',
  a: '\x07',
  b: '\b',
  f: '\f',
  v: '\v',
  '\n': '',
};

/** Python 2's string-escape codec over a quoted repr, as cPickle's STRING opcode requires. */
export function decodeStringRepr(text: string): string | null {
  // cPickle's load_string strips trailing chars <= ' ' as signed C chars: control characters,
  // space, NUL, and every byte of 0x80 and up (negative as a char).
  let length = text.length;
  while (length > 0 && (text.charCodeAt(length - 1) <= 0x20 || text.charCodeAt(length - 1) >= 0x80))
    length -= 1;
  const trimmed = text.slice(0, length);
  const quote = trimmed[0];
  if (
    trimmed.length < 2 ||
    (quote !== "'" && quote !== '"') ||
    trimmed[trimmed.length - 1] !== quote
  )
    return null;
  const body = trimmed.slice(1, -1);
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const ch = body[i] as string;
    if (ch !== '\\') {
      out += ch;
      continue;
    }
    const next = body[i + 1];
    if (next === undefined) return null; // a trailing lone backslash: "Trailing \ in string"
    if (next in SIMPLE_ESCAPES) {
      out += SIMPLE_ESCAPES[next];
      i += 1;
    } else if (next === 'x') {
      const hex = body.slice(i + 2, i + 4);
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) return null;
      out += String.fromCharCode(parseInt(hex, 16));
      i += 3;
    } else if (/[0-7]/.test(next)) {
      const oct = /^[0-7]{1,3}/.exec(body.slice(i + 1))?.[0] ?? '';
      out += String.fromCharCode(parseInt(oct, 8) & 0xff);
      i += oct.length;
    } else {
      out += '\\';
    }
  }
  return out;
}

/** The raw-unicode-escape codec: only \uXXXX and \UXXXXXXXX are escapes; other bytes are Latin-1. */
export function decodeRawUnicodeEscape(text: string): string | null {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (ch === '\\') {
      // An odd run of backslashes before u/U starts an escape.
      let run = 1;
      while (text[i + run] === '\\') run++;
      const after = text[i + run];
      if (run % 2 === 1 && (after === 'u' || after === 'U')) {
        out += '\\'.repeat(run - 1);
        const width = after === 'u' ? 4 : 8;
        const hex = text.slice(i + run + 1, i + run + 1 + width);
        if (hex.length !== width || !/^[0-9a-fA-F]+$/.test(hex)) return null;
        const codePoint = parseInt(hex, 16);
        if (codePoint > 0x10ffff) return null;
        out += String.fromCodePoint(codePoint);
        i += run + width;
      } else {
        out += '\\'.repeat(run);
        i += run - 1;
      }
    } else {
      out += ch;
    }
  }
  return out;
}

function describe(value: PyValue): string {
  if (value instanceof Map) return `dict of ${value.size} keys`;
  if (value === null) return 'None';
  if (Array.isArray(value)) return `list of ${value.length} items`;
  if (value instanceof PyTuple) return `tuple of ${value.items.length} items`;
  if (value instanceof PyGlobal) return `global ${value.module}.${value.name}`;
  if (value instanceof PyInstance) {
    const cls = value.cls instanceof PyGlobal ? `${value.cls.module}.${value.cls.name}` : 'object';
    return `instance of ${cls}`;
  }
  if (typeof value === 'string') return `string of ${value.length} characters`;
  return typeof value === 'bigint' ? 'long' : typeof value;
}
