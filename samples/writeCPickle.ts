/**
 * Writes pickles opcode for opcode as Python 2.7's cPickle.dump(obj, f, protocol) does for
 * protocols 0 and 1 — the formats Mailman 2.1 leaves on disk (config.pck: protocol 1; queue
 * files and pending.pck: protocol 0). What cPickle decides from things JavaScript does not
 * have is fixed as follows, and said here so nobody mistakes it for more:
 * - memo: cPickle memoizes (PUT) an object only when its refcount is >= 2; we write a PUT for
 *   every memoizable object, which is what cPickle writes when every object is also referenced
 *   elsewhere (true of a MailList's attributes). Ids start at 1, as cPickle's do. Repeated JS
 *   objects (arrays, Maps, instances) become memo GETs; strings never do (distinct objects).
 * - dict order: Map insertion order, not Python 2's hash-table order.
 * Everything else follows cPickle: str < 256 bytes as SHORT_BINSTRING, else BINSTRING; no
 * memo for str/unicode shorter than 2 or the empty tuple; batches of 1000 for lists and dicts
 * with a lone APPEND/SETITEM for a batch of one; ints outside 32 bits as text INT; longs as
 * text LONG with the L suffix; bools as I01/I00; floats as big-endian BINFLOAT (protocol 0:
 * %.17g text); old-style instances as MARK, GLOBAL, OBJ, PUT, state dict, BUILD.
 */

/** A Python 2 unicode object (a plain JS string is a Python 2 str, one char per byte). */
export class PyUnicode {
  constructor(readonly text: string) {}
}
/**
 * A Python 2 str that is one object wherever it appears — an interned attribute name, such as
 * the keys of every _BounceInfo's __dict__ — so cPickle writes it once and GETs it after.
 */
export class PyStrObject {
  constructor(readonly text: string) {}
}
/** A Python float that happens to be integral (a plain integral JS number is an int). */
export class PyFloat {
  constructor(readonly value: number) {}
}
export class PyTupleOut {
  constructor(readonly items: PyOut[]) {}
}
/** An instance of an old-style class (no __getinitargs__): its __dict__ is the state. */
export class PyObjectOut {
  constructor(
    readonly module: string,
    readonly name: string,
    readonly state: Map<PyOut, PyOut>,
  ) {}
}

export type PyOut =
  | null
  | boolean
  | number
  | bigint
  | string
  | PyStrObject
  | PyUnicode
  | PyFloat
  | PyTupleOut
  | PyObjectOut
  | PyOut[]
  | Map<PyOut, PyOut>;

export const u = (text: string): PyUnicode => new PyUnicode(text);
export const float = (value: number): PyFloat => new PyFloat(value);
export const tuple = (...items: PyOut[]): PyTupleOut => new PyTupleOut(items);
export const dict = (entries: Iterable<[PyOut, PyOut]>): Map<PyOut, PyOut> => new Map(entries);

const BATCHSIZE = 1000;

/** Python 2's repr() of a str, as protocol 0's STRING opcode writes it. */
export function reprPy2Str(text: string): string {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of text) {
    const code = ch.charCodeAt(0);
    if (ch === quote || ch === '\\') out += `\\${ch}`;
    else if (ch === '\t') out += '\\t';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (code < 0x20 || code >= 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return out + quote;
}

/** C's %.17g, which cPickle uses for protocol-0 floats. */
export function formatG17(value: number): string {
  if (Number.isNaN(value)) return 'nan';
  if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
  if (value === 0) return Object.is(value, -0) ? '-0' : '0';
  const [mantissa, expText] = value.toExponential(16).split('e') as [string, string];
  const exp = Number(expText);
  const strip = (s: string): string =>
    s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s;
  if (exp < -4 || exp >= 17) {
    return `${strip(mantissa)}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  return strip(value.toFixed(Math.max(0, 16 - exp)));
}

/** cPickle's raw-unicode-escape for protocol 0, which also escapes backslash and newline. */
function rawUnicodeEscape(text: string): Buffer {
  let out = '';
  for (const ch of text) {
    const code = ch.codePointAt(0) as number;
    if (code > 0xffff) out += `\\U${code.toString(16).padStart(8, '0')}`;
    else if (code >= 0x100 || ch === '\\' || ch === '\n')
      out += `\\u${code.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return Buffer.from(out, 'latin1');
}

class Writer {
  private readonly chunks: Buffer[] = [];
  private readonly memo = new Map<object, number>();
  private memoSize = 0;

  constructor(private readonly protocol: 0 | 1) {}

  bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }

  private raw(data: string | Buffer): void {
    this.chunks.push(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  }

  private put(key: object | null): void {
    const id = ++this.memoSize;
    if (key) this.memo.set(key, id);
    if (this.protocol === 0) this.raw(`p${id}\n`);
    else if (id < 256) this.raw(Buffer.from([0x71, id]));
    else {
      const b = Buffer.alloc(5);
      b[0] = 0x72;
      b.writeUInt32LE(id, 1);
      this.raw(b);
    }
  }

  private get(id: number): void {
    if (this.protocol === 0) this.raw(`g${id}\n`);
    else if (id < 256) this.raw(Buffer.from([0x68, id]));
    else {
      const b = Buffer.alloc(5);
      b[0] = 0x6a;
      b.writeUInt32LE(id, 1);
      this.raw(b);
    }
  }

  save(value: PyOut): void {
    if (
      value !== null &&
      typeof value === 'object' &&
      !(value instanceof PyUnicode) &&
      !(value instanceof PyFloat)
    ) {
      const id = this.memo.get(value);
      if (id !== undefined) return this.get(id);
    }
    if (value === null) return this.raw('N');
    if (typeof value === 'boolean') return this.raw(value ? 'I01\n' : 'I00\n');
    if (typeof value === 'bigint') return this.raw(`L${value}L\n`);
    if (typeof value === 'number')
      return Number.isInteger(value) ? this.saveInt(value) : this.saveFloat(value);
    if (value instanceof PyFloat) return this.saveFloat(value.value);
    if (typeof value === 'string') return this.saveStr(value, null);
    if (value instanceof PyStrObject) return this.saveStr(value.text, value);
    if (value instanceof PyUnicode) return this.saveUnicode(value.text);
    if (value instanceof PyTupleOut) return this.saveTuple(value);
    if (value instanceof PyObjectOut) return this.saveInstance(value);
    if (Array.isArray(value)) return this.saveList(value);
    return this.saveDict(value);
  }

  private saveInt(value: number): void {
    if (this.protocol === 0 || value > 0x7fffffff || value < -0x80000000)
      return this.raw(`I${value}\n`);
    if (value >= 0 && value < 256) return this.raw(Buffer.from([0x4b, value]));
    if (value >= 0 && value < 65536) {
      const b = Buffer.alloc(3);
      b[0] = 0x4d;
      b.writeUInt16LE(value, 1);
      return this.raw(b);
    }
    const b = Buffer.alloc(5);
    b[0] = 0x4a;
    b.writeInt32LE(value, 1);
    this.raw(b);
  }

  private saveFloat(value: number): void {
    if (this.protocol === 0) return this.raw(`F${formatG17(value)}\n`);
    const b = Buffer.alloc(9);
    b[0] = 0x47;
    b.writeDoubleBE(value, 1);
    this.raw(b);
  }

  private saveStr(text: string, identity: PyStrObject | null): void {
    const bytes = Buffer.from(text, 'latin1');
    if (this.protocol === 0) this.raw(`S${reprPy2Str(text)}\n`);
    else if (bytes.length < 256)
      this.raw(Buffer.concat([Buffer.from([0x55, bytes.length]), bytes]));
    else {
      const b = Buffer.alloc(5);
      b[0] = 0x54;
      b.writeInt32LE(bytes.length, 1);
      this.raw(Buffer.concat([b, bytes]));
    }
    if (bytes.length >= 2) this.put(identity);
  }

  private saveUnicode(text: string): void {
    if (this.protocol === 0)
      this.raw(Buffer.concat([Buffer.from('V'), rawUnicodeEscape(text), Buffer.from('\n')]));
    else {
      const bytes = Buffer.from(text, 'utf8');
      const b = Buffer.alloc(5);
      b[0] = 0x58;
      b.writeUInt32LE(bytes.length, 1);
      this.raw(Buffer.concat([b, bytes]));
    }
    if ([...text].length >= 2) this.put(null);
  }

  private saveTuple(value: PyTupleOut): void {
    if (value.items.length === 0) return this.raw(this.protocol === 0 ? '(t' : ')');
    this.raw('(');
    for (const item of value.items) this.save(item);
    this.raw('t');
    this.put(value);
  }

  private saveList(value: PyOut[]): void {
    this.raw(this.protocol === 0 ? '(l' : ']');
    this.put(value);
    if (this.protocol === 0) {
      for (const item of value) {
        this.save(item);
        this.raw('a');
      }
      return;
    }
    for (let i = 0; i < value.length; i += BATCHSIZE) {
      const batch = value.slice(i, i + BATCHSIZE);
      if (batch.length === 1) {
        this.save(batch[0] as PyOut);
        this.raw('a');
      } else {
        this.raw('(');
        for (const item of batch) this.save(item);
        this.raw('e');
      }
    }
  }

  private saveDict(value: Map<PyOut, PyOut>): void {
    this.raw(this.protocol === 0 ? '(d' : '}');
    this.put(value);
    const entries = [...value.entries()];
    if (this.protocol === 0) {
      for (const [key, item] of entries) {
        this.save(key);
        this.save(item);
        this.raw('s');
      }
      return;
    }
    for (let i = 0; i < entries.length; i += BATCHSIZE) {
      const batch = entries.slice(i, i + BATCHSIZE);
      if (batch.length === 1) {
        this.save(batch[0]?.[0] as PyOut);
        this.save(batch[0]?.[1] as PyOut);
        this.raw('s');
      } else {
        this.raw('(');
        for (const [key, item] of batch) {
          this.save(key);
          this.save(item);
        }
        this.raw('u');
      }
    }
  }

  private readonly classes = new Map<string, object>();

  private saveInstance(value: PyObjectOut): void {
    this.raw('(');
    const className = `${value.module}\n${value.name}\n`;
    if (this.protocol === 0) {
      this.raw(`i${className}`);
    } else {
      // The class object is one object however many instances refer to it: GLOBAL once, then GETs.
      let cls = this.classes.get(className);
      if (!cls) this.classes.set(className, (cls = {}));
      const id = this.memo.get(cls);
      if (id !== undefined) this.get(id);
      else {
        this.raw(`c${className}`);
        this.put(cls);
      }
      this.raw('o');
    }
    this.put(value);
    this.save(value.state);
    this.raw('b');
  }
}

/** The bytes of cPickle.dumps(value, protocol). */
export function writeCPickle(value: PyOut, protocol: 0 | 1 = 1): Buffer {
  const writer = new Writer(protocol);
  writer.save(value);
  return Buffer.concat([writer.bytes(), Buffer.from('.')]);
}
