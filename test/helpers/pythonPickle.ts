/**
 * python3 as an oracle for what Python accepts: its unpickler, with a find_class that returns
 * an inert class (nothing is imported), over many blobs in one process. Also runs small
 * generator scripts. Used by the Mailman tests; the product itself never needs Python.
 */
import { spawnSync } from 'node:child_process';

/** 'memory': python3 ran out of the memory it is given (see `classifyWithPython`). */
export type OracleKind = 'dict' | 'other' | 'truncated' | 'invalid' | 'memory';

export interface OracleAnswer {
  kind: OracleKind;
  /** Offset just past STOP for a complete pickle. */
  end?: number;
  error?: string;
}

const ORACLE = String.raw`
import sys, io, os, pickle, struct, json
if os.environ.get('ORACLE_MEMORY'):
    import resource
    limit = int(os.environ['ORACLE_MEMORY'])
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
class Inert(object):
    def __new__(cls, *a, **k): return object.__new__(cls)
    def __init__(self, *a, **k): pass
    def __setstate__(self, state): pass
    def __setitem__(self, k, v): pass
    def __call__(self, *a, **k): return Inert()
    def append(self, v): pass
    def extend(self, v): pass
class U(pickle.Unpickler):
    def find_class(self, module, name): return Inert
data = sys.stdin.buffer.read()
pos = 0; out = []
while pos < len(data):
    n, start = struct.unpack_from('<II', data, pos); pos += 8
    blob = data[pos:pos + n]; pos += n
    f = io.BytesIO(blob); f.seek(start)
    try:
        v = U(f, encoding='latin1').load()
        out.append({'kind': 'dict' if type(v) is dict else 'other', 'end': f.tell()})
    except EOFError as e:
        out.append({'kind': 'truncated', 'error': repr(e)})
    except pickle.UnpicklingError as e:
        kind = 'truncated' if 'truncated' in str(e) else 'invalid'
        out.append({'kind': kind, 'error': repr(e)})
    except MemoryError as e:
        out.append({'kind': 'memory', 'error': repr(e)})
    except Exception as e:
        out.append({'kind': 'invalid', 'error': repr(e)})
json.dump(out, sys.stdout)
`;

/** The same oracle on Python 2.7's cPickle, the unpickler Mailman 2.1 really uses. */
const ORACLE2 = String.raw`
import sys, cStringIO, cPickle, struct, json
class Inert(object):
    __safe_for_unpickling__ = True
    def __new__(cls, *a, **k): return object.__new__(cls)
    def __init__(self, *a, **k): pass
    def __setstate__(self, state): pass
    def __setitem__(self, k, v): pass
    def __call__(self, *a, **k): return Inert()
    def append(self, v): pass
    def extend(self, v): pass
def find(module, name): return Inert
data = sys.stdin.read()
pos = 0; out = []
while pos < len(data):
    n, start = struct.unpack_from('<II', data, pos); pos += 8
    blob = data[pos:pos + n]; pos += n
    f = cStringIO.StringIO(blob); f.seek(start)
    u = cPickle.Unpickler(f); u.find_global = find
    try:
        v = u.load()
        out.append({'kind': 'dict' if type(v) is dict else 'other', 'end': f.tell()})
    except EOFError as e:
        out.append({'kind': 'truncated', 'error': repr(e)})
    except cPickle.UnpicklingError as e:
        out.append({'kind': 'truncated' if 'truncated' in str(e) else 'invalid', 'error': repr(e)})
    except Exception as e:
        out.append({'kind': 'invalid', 'error': repr(e)})
json.dump(out, sys.stdout)
`;

/**
 * Asks an unpickler about each blob (reading from `start`, default 0): python3's by default, or
 * Python 2's cPickle when `python2` (from findPython2) is given.
 */
export function classifyWithPython(
  blobs: Array<Buffer | { data: Buffer; start: number }>,
  python2: { python: string; env: NodeJS.ProcessEnv } | null = null,
  /**
   * Address space python3 may use, in bytes. Its C unpickler keeps the memo in an array as
   * long as the largest BINPUT index: a mangled 4-byte index asks for gigabytes, and takes
   * seconds to fill. With a limit that is a MemoryError, answered as 'memory'.
   */
  memoryLimit?: number,
): OracleAnswer[] {
  const parts: Buffer[] = [];
  for (const item of blobs) {
    const { data, start } = Buffer.isBuffer(item) ? { data: item, start: 0 } : item;
    const header = Buffer.alloc(8);
    header.writeUInt32LE(data.length, 0);
    header.writeUInt32LE(start, 4);
    parts.push(header, data);
  }
  const result = python2
    ? spawnSync(python2.python, ['-c', ORACLE2], {
        input: Buffer.concat(parts),
        maxBuffer: 1 << 30,
        env: python2.env,
      })
    : spawnSync('python3', ['-c', ORACLE], {
        input: Buffer.concat(parts),
        maxBuffer: 1 << 30,
        env:
          memoryLimit === undefined
            ? process.env
            : { ...process.env, ORACLE_MEMORY: String(memoryLimit) },
      });
  if (result.status !== 0) throw new Error(`python3 oracle failed: ${result.stderr.toString()}`);
  return JSON.parse(result.stdout.toString()) as OracleAnswer[];
}

/** Runs a python script and returns its stdout bytes. */
export function runPython(
  script: string,
  options: { python?: string; input?: Buffer; env?: NodeJS.ProcessEnv } = {},
): Buffer {
  const result = spawnSync(options.python ?? 'python3', ['-c', script], {
    input: options.input,
    maxBuffer: 1 << 30,
    env: options.env ?? process.env,
  });
  if (result.status !== 0) throw new Error(`python failed: ${result.stderr.toString()}`);
  return result.stdout;
}

/** Python 2.7, when this machine has it (pyenv); it is the real cPickle Mailman 2.1 uses. */
export function findPython2(): { python: string; env: NodeJS.ProcessEnv } | null {
  for (const [python, env] of [
    ['python2.7', process.env],
    ['python2', process.env],
    ['python2.7', { ...process.env, PYENV_VERSION: '2.7.18' }],
  ] as const) {
    const probe = spawnSync(python, ['-c', 'import cPickle, sys; sys.stdout.write("ok")'], { env });
    if (probe.status === 0 && probe.stdout.toString() === 'ok') return { python, env };
  }
  return null;
}
