/**
 * The pickle half of the fuzz tests (test/mailman/pickleFuzz.test.ts): pickles of protocols
 * 0–2 made by python3's pickler and by Python 2.7's cPickle (Mailman's own writer: old-style
 * instances, longs, str and unicode), and seeded mutations of them.
 */
import type { Rng } from './differentialCases.js';
import { runPython } from './pythonPickle.js';

/** python3's pickler, protocols 0, 1 and 2 in turn; length-prefixed blobs on stdout. */
const GENERATE_PY3 = String.raw`
import pickle, random, struct, sys
class Thing(object):
    def __init__(self, a): self.a = a
rng = random.Random(int(sys.argv[1]))
def make(d):
    r = rng.random()
    if d > 2 or r < 0.4:
        return rng.choice([None, True, False, 0, 1, 255, 65536, -1, 2**31, 2**63, -2**70, 1.5,
            -0.0, 1e300, float('inf'), '', 'a', 'h\xe9llo \u20ac', 'x' * 300, b'b\x00\xff', (),
            'line\nbreak', "q'\"s", 'back\\slash'])
    if r < 0.6: return {('k%d' % i): make(d + 1) for i in range(rng.randrange(0, 4))}
    if r < 0.75: return [make(d + 1) for _ in range(rng.randrange(0, 4))]
    if r < 0.85: return tuple(make(d + 1) for _ in range(rng.randrange(0, 4)))
    if r < 0.93: s = make(d + 1); return [s, s]
    return Thing(make(d + 1))
out = sys.stdout.buffer
for i in range(int(sys.argv[2])):
    blob = pickle.dumps({'top': make(0), 'n': i} if i % 2 else make(0), protocol=i % 3)
    out.write(struct.pack('<I', len(blob)) + blob)
`;

/** Python 2.7's cPickle, as Mailman 2.1 writes its files. */
const GENERATE_PY2 = String.raw`
import cPickle, random, struct, sys
class Old:
    def __init__(self, a): self.a = a; self.score = 1.5
class New(object):
    def __init__(self, a): self.a = a
rng = random.Random(int(sys.argv[1]))
def make(d):
    r = rng.random()
    if d > 2 or r < 0.4:
        return rng.choice([None, True, False, 0, 1, 255, 65536, -1, 2**31, 2**63, -2**70, 1.5,
            -0.0, 1e300, float('inf'), '', 'a', u'h\xe9llo \u20ac', 'x' * 300, 'b\x00\xff', (),
            'line\nbreak', "q'\"s", 'back\\slash', 12345678901234567890L])
    if r < 0.6: return dict(('k%d' % i, make(d + 1)) for i in range(rng.randrange(0, 4)))
    if r < 0.75: return [make(d + 1) for _ in range(rng.randrange(0, 4))]
    if r < 0.85: return tuple(make(d + 1) for _ in range(rng.randrange(0, 4)))
    if r < 0.9: s = make(d + 1); return [s, s]
    if r < 0.95: return Old(make(d + 1))
    return New(make(d + 1))
for i in range(int(sys.argv[2])):
    blob = cPickle.dumps({'top': make(0), 'n': i} if i % 2 else make(0), i % 3)
    sys.stdout.write(struct.pack('<I', len(blob)) + blob)
`;

function split(out: Buffer): Buffer[] {
  const blobs: Buffer[] = [];
  for (let pos = 0; pos < out.length;) {
    const n = out.readUInt32LE(pos);
    blobs.push(out.subarray(pos + 4, pos + 4 + n));
    pos += 4 + n;
  }
  return blobs;
}

/** `count` pickles from python3, and as many from cPickle when `python2` is given. */
export function generatePickles(
  seed: number,
  count: number,
  python2: { python: string; env: NodeJS.ProcessEnv } | null,
): Buffer[] {
  const args = `import sys; sys.argv = ['g', '${seed}', '${count}']\n`;
  const blobs = split(runPython(args + GENERATE_PY3));
  if (python2)
    blobs.push(
      ...split(runPython(args + GENERATE_PY2, { python: python2.python, env: python2.env })),
    );
  return blobs;
}

/** Opcode bytes, and the bytes text arguments are made of. */
const INTERESTING = [
  0x28, 0x2e, 0x30, 0x31, 0x32, 0x46, 0x47, 0x49, 0x4a, 0x4b, 0x4c, 0x4d, 0x4e, 0x52, 0x53, 0x54,
  0x55, 0x56, 0x58, 0x61, 0x62, 0x63, 0x64, 0x7d, 0x65, 0x67, 0x68, 0x69, 0x6a, 0x6c, 0x5d, 0x6f,
  0x70, 0x71, 0x72, 0x73, 0x74, 0x29, 0x75, 0x80, 0x81, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8b,
  0x0a, 0x00, 0x20, 0x27, 0x22, 0x5c, 0x2d, 0x2b, 0x78,
];

/** Arguments for the text opcodes: what Python 2 and 3 read differently, and edge values. */
const LINES: Record<string, string[]> = {
  F: [
    '1e999',
    '-1e999',
    'inf',
    '-inf',
    'nan',
    'infinity',
    '1e-999',
    ' 1.5',
    '1.5 ',
    '',
    '1.7976931348623157e308',
    '1.7976931348623159e308',
    '0x10',
    '1_0',
    '1.5\0',
    '.',
    '-',
    '1e',
    '+1.5',
    '1E5',
    '00001.5',
    '9'.repeat(400),
  ],
  I: [
    '',
    ' 5',
    '5 ',
    '0x1f',
    '0o17',
    '017',
    '08',
    '99999999999999999999',
    '-0',
    '+5',
    '5L',
    '01',
    '00',
    '1\0',
    '0b101',
    '--1',
    '1_000',
    '\t7\t',
    '0X1F',
    '010',
    '-01',
    ' 1',
  ],
  L: [
    '',
    '5',
    '5L',
    '5l',
    ' 5L',
    '0x1fL',
    '017L',
    '-5L',
    '9'.repeat(23) + 'L',
    'L',
    '1_0L',
    '0b1L',
  ],
  S: [
    "''",
    '""',
    "'a'",
    "'a",
    "a'",
    "'\\x4'",
    "'\\x41'",
    "'\\777'",
    "'\\q'",
    "'a\\'",
    "'tab\t'",
    "'a' ",
    "'a'\u00f5",
    "'\\n'",
    "'\"'",
    '"\'"',
  ],
  V: ['', 'abc', '\\u20ac', '\\u12', '\\U0001F600', '\\U00110000', '\\\\u20ac', '\\x41', '\u00e9'],
  g: ['', '0', '1', '01', 'x', ' 1', '99'],
  p: ['', '0', '1', '01', 'x', ' 1', '99', '1)'],
  c: ['', '__builtin__\nset', 'a b\nc', 'mod\n', '\u00ff\nx'],
};

export interface PickleMutant {
  bytes: Buffer;
  recipe: string;
}

/** One mutant of one of `bases`: bytes changed, inserted, deleted, cut, or text opcodes added. */
export function mutatePickle(rng: Rng, bases: readonly Buffer[]): PickleMutant {
  const index = rng.int(0, bases.length - 1);
  let bytes = Buffer.from(bases[index] as Buffer);
  const recipe: string[] = [`pickle ${index}`];
  const steps = rng.chance(0.7) ? 1 : rng.int(2, 3);
  for (let s = 0; s < steps; s += 1) {
    const kind = rng.int(0, 99);
    if (kind < 30 && bytes.length > 0) {
      const at = rng.int(0, bytes.length - 1);
      const value = rng.chance(0.6) ? rng.pick(INTERESTING) : rng.int(0, 255);
      bytes[at] = value;
      recipe.push(`byte ${at}=0x${value.toString(16)}`);
    } else if (kind < 40) {
      const cut = rng.int(0, bytes.length);
      bytes = bytes.subarray(0, cut);
      recipe.push(`cut ${cut}`);
    } else if (kind < 50) {
      const at = rng.int(0, bytes.length);
      const value = rng.pick(INTERESTING);
      bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from([value]), bytes.subarray(at)]);
      recipe.push(`insert ${at}=0x${value.toString(16)}`);
    } else if (kind < 58 && bytes.length > 0) {
      const at = rng.int(0, bytes.length - 1);
      bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + 1)]);
      recipe.push(`delete ${at}`);
    } else {
      const op = rng.pick(Object.keys(LINES));
      const line = `${op}${rng.pick(LINES[op] as string[])}\n`;
      const stop = bytes.lastIndexOf(0x2e);
      const where = rng.int(0, 2);
      if (where === 0 && stop > 0 && op !== 'p' && op !== 'g') {
        // Pushed and popped before the final STOP: the pickle's value is unchanged.
        bytes = Buffer.concat([
          bytes.subarray(0, stop),
          Buffer.from(`${line}0`, 'latin1'),
          bytes.subarray(stop),
        ]);
        recipe.push(`push-pop ${JSON.stringify(line)} at ${stop}`);
      } else if (where === 1) {
        bytes = Buffer.from(`(${line}t.`, 'latin1');
        recipe.push(`alone ${JSON.stringify(line)}`);
      } else {
        const at = rng.int(0, bytes.length);
        bytes = Buffer.concat([
          bytes.subarray(0, at),
          Buffer.from(line, 'latin1'),
          bytes.subarray(at),
        ]);
        recipe.push(`line ${JSON.stringify(line)} at ${at}`);
      }
    }
  }
  return { bytes, recipe: recipe.join(' | ') };
}
