/**
 * The pickle reader against Python's unpicklers, on mutants of real pickles (issue 12's
 * acceptance: a seeded, bounded fuzz test). Pickles of protocols 0–2 from python3's pickler
 * and from Python 2.7's cPickle (test/helpers/pickleFuzz.ts) are mutated: bytes changed,
 * inserted, deleted, the data cut, text opcodes added with arguments the two Pythons read
 * differently. Each mutant is unpickled by cPickle (Python 2.7, Mailman 2.1's interpreter,
 * when this machine has it) and by python3, with an inert find_class, and read by readPickle.
 *
 * cPickle is the reference: it loads ⇔ the reader loads; when both load, the same kind (a
 * dict or not) and the same end offset. Which error a corrupt pickle gives must match too,
 * but for these intended kind differences:
 * - `empty-text-argument`: an INT, LONG, FLOAT, STRING, GET, PUT, GLOBAL or INST line with
 *   nothing on it. cPickle says "pickle data was truncated"; the data is not cut (it goes on
 *   after the newline), so the reader says invalid.
 * - `text-argument-cut`: the data ends inside a text argument (no newline before the end).
 *   cPickle parses what is there as the line and often says ValueError; the reader says
 *   truncated, as for every other cut (and as every strict prefix of a pickle reads).
 * - `unsupported`: protocol 3+ opcodes, or a limit; cPickle says "invalid load key".
 *
 * python3 differs from cPickle in ways the reader does not follow (the table in the last test
 * shows each: underscores in numbers, a lowercase l after a LONG, a NUL in a FLOAT line, module
 * names as UTF-8, integer PUT keys, a STRING's trailing bytes, marks as fences, a DICT's odd
 * last key, a NUL opcode). So against python3: when both load, the same kind and end offset,
 * always; when one loads and the other does not, cPickle must side with the reader (without
 * python2.7 such cases are counted, not judged). python3's C unpickler sizes its memo by the
 * largest BINPUT index, so it runs under a memory limit and a mangled index is not compared.
 *
 * RESTOREPLAN_FUZZ_SEED=N replays a run (the seed is printed); RESTOREPLAN_FUZZ_CASES=N
 * changes how many mutants (default 2500, a few seconds).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { readPickle, type PickleVerdict } from '../../src/mailman/readPickle.js';
import { createRng } from '../helpers/differentialCases.js';
import { missingNeeds } from '../helpers/env.js';
import { generatePickles, mutatePickle, type PickleMutant } from '../helpers/pickleFuzz.js';
import { classifyWithPython, findPython2, type OracleAnswer } from '../helpers/pythonPickle.js';

const SEED = Number(process.env.RESTOREPLAN_FUZZ_SEED ?? 20_260_612) >>> 0;
const CASES = Number(process.env.RESTOREPLAN_FUZZ_CASES ?? 2500);
const PYTHON3_MEMORY = 600 * 1024 * 1024;

const why = missingNeeds({ tools: ['python3'] });
const py2 = why ? null : findPython2();

const loads = (kind: string): boolean => kind === 'dict' || kind === 'other';

/** The intended kind differences with cPickle (see above), or null. */
function kindDifference(ours: PickleVerdict, theirs: OracleAnswer): string | null {
  if (ours.kind === 'unsupported' && !loads(theirs.kind)) return 'unsupported';
  if (
    ours.kind === 'invalid' &&
    theirs.kind === 'truncated' &&
    ours.detail === 'empty text argument'
  )
    return 'empty-text-argument';
  if (
    ours.kind === 'truncated' &&
    theirs.kind === 'invalid' &&
    ours.detail.startsWith('data ends inside the text argument')
  )
    return 'text-argument-cut';
  return null;
}

/** How the reader and cPickle compare on one pickle: 'agree', a named difference, or DIFFERENT. */
function judgeWithCPickle(ours: PickleVerdict, theirs: OracleAnswer): string {
  if (loads(ours.kind) !== loads(theirs.kind)) return kindDifference(ours, theirs) ?? 'DIFFERENT';
  if (loads(ours.kind))
    return ours.kind === theirs.kind && ours.offset === theirs.end ? 'agree' : 'DIFFERENT';
  if (ours.kind === theirs.kind) return 'agree';
  return kindDifference(ours, theirs) ?? 'DIFFERENT';
}

let mutants: PickleMutant[] = [];
let cpickle: OracleAnswer[] | null = null;

function prepare(): void {
  if (mutants.length > 0) return;
  console.log(
    `  pickle fuzz seed ${SEED} (RESTOREPLAN_FUZZ_SEED=${SEED} replays it)${py2 ? '' : '; no python2.7: cPickle not compared'}`,
  );
  const bases = generatePickles(SEED, 60, py2);
  const rng = createRng(SEED);
  mutants = [
    ...bases.map((bytes, i) => ({ bytes, recipe: `pickle ${i} as written` })),
    ...Array.from({ length: CASES }, () => mutatePickle(rng, bases)),
  ];
  if (py2)
    cpickle = classifyWithPython(
      mutants.map((m) => m.bytes),
      py2,
    );
}

const show = (m: PickleMutant, ours: PickleVerdict, theirs: OracleAnswer): string =>
  `${m.recipe}: we ${ours.kind} (${ours.detail}) at ${ours.offset}, Python ${theirs.kind} ${theirs.error ?? ''} end ${theirs.end}\n      near ${JSON.stringify(
    m.bytes.toString('latin1', Math.max(0, ours.offset - 20), ours.offset + 20),
  )}`;

(why || !py2 ? test.skip : test)(
  `the reader agrees with Python 2.7's cPickle on ${CASES} mutated pickles`,
  () => {
    prepare();
    const started = Date.now();
    const counts = new Map<string, number>();
    const different: string[] = [];
    mutants.forEach((mutant, i) => {
      const ours = readPickle(mutant.bytes);
      const theirs = (cpickle as OracleAnswer[])[i] as OracleAnswer;
      const verdict = judgeWithCPickle(ours, theirs);
      const label =
        verdict === 'agree' ? (loads(ours.kind) ? 'both load' : 'both refuse') : verdict;
      counts.set(label, (counts.get(label) ?? 0) + 1);
      if (verdict === 'DIFFERENT') different.push(show(mutant, ours, theirs));
    });
    console.log(
      `  cPickle: ${mutants.length} pickles in ${((Date.now() - started) / 1000).toFixed(1)} s: ${[
        ...counts,
      ]
        .map(([k, n]) => `${k} ${n}`)
        .join(', ')}`,
    );
    assert.equal(different.slice(0, 10), [], `${different.length} disagreements (seed ${SEED})`);
  },
);
if (!why && !py2) console.log('skipped: the cPickle fuzz needs python2.7');

(why ? test.skip : test)(
  `the reader and python3 agree on ${CASES} mutated pickles but where python3 is not cPickle`,
  () => {
    prepare();
    const started = Date.now();
    const python3 = classifyWithPython(
      mutants.map((m) => m.bytes),
      null,
      PYTHON3_MEMORY,
    );
    const counts = new Map<string, number>();
    const count = (label: string): void => {
      counts.set(label, (counts.get(label) ?? 0) + 1);
    };
    const different: string[] = [];
    mutants.forEach((mutant, i) => {
      const ours = readPickle(mutant.bytes);
      const theirs = python3[i] as OracleAnswer;
      if (theirs.kind === 'memory') return count('python3 out of memory (not compared)');
      if (ours.kind === 'unsupported') return count('unsupported');
      if (loads(ours.kind) && loads(theirs.kind)) {
        if (ours.kind === theirs.kind && ours.offset === theirs.end) return count('both load');
        different.push(show(mutant, ours, theirs));
        return;
      }
      if (loads(ours.kind) === loads(theirs.kind)) return count('both refuse');
      // One loads, the other does not: python3 is not Mailman's Python. cPickle decides.
      if (!cpickle) return count('one loads (not judged without python2.7)');
      const reference = cpickle[i] as OracleAnswer;
      if (loads(reference.kind) === loads(ours.kind)) return count('python3 is not cPickle here');
      different.push(
        `${show(mutant, ours, theirs)}\n      cPickle: ${reference.kind} ${reference.error ?? ''}`,
      );
    });
    console.log(
      `  python3: ${mutants.length} pickles in ${((Date.now() - started) / 1000).toFixed(1)} s: ${[
        ...counts,
      ]
        .map(([k, n]) => `${k} ${n}`)
        .join(', ')}`,
    );
    assert.equal(different.slice(0, 10), [], `${different.length} disagreements (seed ${SEED})`);
  },
);
if (why) console.log(`skipped: pickle fuzz ${why}`);

/**
 * Where python3 and cPickle part, and what the reader does (cPickle's answer, but for the
 * intended kind differences above). Each row is checked against python3, and against cPickle
 * when this machine has Python 2.7.
 */
const PYTHONS_DIFFER: Array<{
  bytes: string;
  what: string;
  python3: string;
  cpickle: string;
  ours: string;
}> = [
  {
    bytes: 'I1_000\n.',
    what: 'underscores in a number (Python 3.6+)',
    python3: 'other',
    cpickle: 'invalid',
    ours: 'invalid',
  },
  {
    bytes: 'L5l\n.',
    what: 'a lowercase l after a LONG',
    python3: 'invalid',
    cpickle: 'other',
    ours: 'other',
  },
  {
    bytes: 'F1.5\0\n.',
    what: 'a NUL in a FLOAT line',
    python3: 'other',
    cpickle: 'invalid',
    ours: 'invalid',
  },
  {
    bytes: 'c\xff\nx\n.',
    what: 'module and class names are bytes, not UTF-8',
    python3: 'invalid',
    cpickle: 'other',
    ours: 'other',
  },
  {
    bytes: 'Np1)\n.',
    what: 'a PUT key is any text, not an integer',
    python3: 'invalid',
    cpickle: 'other',
    ours: 'other',
  },
  {
    bytes: "S'a' \n.",
    what: "STRING's trailing blanks stripped",
    python3: 'invalid',
    cpickle: 'other',
    ours: 'other',
  },
  {
    bytes: "S'a'\xf5\n.",
    what: "STRING's trailing bytes >= 0x80 stripped (signed chars)",
    python3: 'invalid',
    cpickle: 'other',
    ours: 'other',
  },
  {
    bytes: 'K\x01(.',
    what: 'a mark is no fence: STOP takes the object under it',
    python3: 'invalid',
    cpickle: 'other',
    ours: 'other',
  },
  {
    bytes: ']K\x01(a.',
    what: 'APPEND reaches under a mark',
    python3: 'invalid',
    cpickle: 'other',
    ours: 'other',
  },
  {
    bytes: 'K\x01(2\x86.',
    what: 'DUP reaches under a mark',
    python3: 'invalid',
    cpickle: 'other',
    ours: 'other',
  },
  {
    bytes: "(S'a'\nd.",
    what: 'DICT drops an odd last key',
    python3: 'invalid',
    cpickle: 'dict',
    ours: 'dict',
  },
  {
    bytes: '\0',
    what: 'a NUL opcode is the end of the data (EOFError)',
    python3: 'invalid',
    cpickle: 'truncated',
    ours: 'truncated',
  },
  {
    bytes: '\x80\x03N.',
    what: 'protocol 3',
    python3: 'other',
    cpickle: 'invalid',
    ours: 'unsupported',
  },
  // The same in both, and in the reader: issue 12's case, and the intended kind differences.
  {
    bytes: 'F1e999\n}.',
    what: 'a FLOAT too big for a double: OverflowError',
    python3: 'invalid',
    cpickle: 'invalid',
    ours: 'invalid',
  },
  {
    bytes: 'cmod\n\n.',
    what: 'an empty text argument',
    python3: 'truncated',
    cpickle: 'truncated',
    ours: 'invalid',
  },
  {
    bytes: 'I-1.',
    what: 'a text argument cut by the end of the data',
    python3: 'truncated',
    cpickle: 'invalid',
    ours: 'truncated',
  },
];

(why ? test.skip : test)('where python3 and cPickle differ, the reader follows cPickle', () => {
  const blobs = PYTHONS_DIFFER.map((row) => Buffer.from(row.bytes, 'latin1'));
  const python3 = classifyWithPython(blobs);
  const reference = py2 ? classifyWithPython(blobs, py2) : null;
  PYTHONS_DIFFER.forEach((row, i) => {
    assert.is(readPickle(blobs[i] as Buffer).kind, row.ours, `${row.what}: the reader`);
    assert.is(python3[i]?.kind, row.python3, `${row.what}: python3 ${python3[i]?.error ?? ''}`);
    if (reference)
      assert.is(
        reference[i]?.kind,
        row.cpickle,
        `${row.what}: cPickle ${reference[i]?.error ?? ''}`,
      );
  });
});

test.run();
