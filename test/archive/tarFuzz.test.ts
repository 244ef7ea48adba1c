/**
 * The tar parser against GNU tar 1.34, on mutants of real archives (issue 12's acceptance: a
 * seeded, bounded fuzz test). test/helpers/tarFuzz.ts makes archives of one small tree with
 * GNU tar and bsdtar in every format they write, plus a volume label, the second volume of
 * multi-volume archives, an incremental dump and an old GNU `N` member; then mutants of them:
 * header fields rewritten with their checksum fixed (blanks, garbage, base-256, base-64, other
 * type flags, names with `.`/`..`/`/`), bytes of pax records and long names changed, bytes
 * flipped, the archive cut, blocks dropped or repeated, things appended after the end.
 *
 * Each mutant is listed by GNU tar (`tar --no-seek -tvf`: with seeking, GNU tar's listing
 * jumps past the end of a cut archive without noticing) and read by the parser. They must agree:
 * GNU tar lists it without an error ⇔ the parser reads it; the same members, in order, with the
 * same names, types, file sizes and link targets; GNU tar's complaints about numeric fields ⇔
 * `bad-numeric-field` warnings. The parser also reads every mutant in 1..4096-byte chunks and
 * must say the same as in one piece.
 *
 * Known, intended differences (each a named verdict of `compareWithGnu`, counted here):
 * - `cut-inside-a-header`: the input ends inside a header block, or right after metadata
 *   headers. GNU tar drops a partial last block and takes the end of the data at a header
 *   boundary for the end of the archive (exit 0); a partial header proves the archive was cut,
 *   and we say ARCHIVE_TRUNCATED (a cut exactly between members is the `missing-eof` warning).
 * - `sparse-map-must-add-up`: an old GNU sparse map that does not account for every stored byte
 *   (say an 'S' type flag on a plain member). GNU tar extracts what the map maps and skips the
 *   rest, which is not the file that was archived; we say ARCHIVE_HEADER.
 * - `unused-pax-record`: a pax record we never use (atime, ctime, GNU.volume.size/offset,
 *   SCHILY.*) is malformed: GNU tar exits 2, we do not read it. A malformed pax mtime is a
 *   `bad-pax-mtime` warning here and keeps the header's mtime, as GNU tar keeps it.
 * - members GNU tar lists and we do not count, each with its warning: volume labels
 *   (`volume-label`), 'M' continuations (`skipped-member`), hard links extraction never makes
 *   (`dropped-hardlink`).
 * - numeric fields: a header field a pax record replaces is never read (GNU tar still reads
 *   and checks it); GNU tar reads a uid/gid field only when the user or group name does not
 *   resolve on the machine running it (so the uid/gid complaints may differ either way); an
 *   mtime past 2^53 s is out of range here, GNU tar takes up to 2^63.
 * - names: GNU tar lists a hard link's target with what precedes `..` removed; such members
 *   are never restored here, and their targets are not compared. The archive root's type
 *   (`./`, `/`) is not compared: it is never counted.
 *
 * RESTOREPLAN_FUZZ_SEED=N replays a run (the seed is printed); RESTOREPLAN_FUZZ_CASES=N
 * changes how many mutants (default 2500, about 10 s on 2 cores).
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { createRng } from '../helpers/differentialCases.js';
import { makeScratch, missingNeeds } from '../helpers/env.js';
import {
  buildFuzzBases,
  compareWithGnu,
  listWithGnuTar,
  mutate,
  readWithParser,
  type Mutant,
  type OurReading,
} from '../helpers/tarFuzz.js';

const SEED = Number(process.env.RESTOREPLAN_FUZZ_SEED ?? 20_260_612) >>> 0;
const CASES = Number(process.env.RESTOREPLAN_FUZZ_CASES ?? 2500);

const why = missingNeeds({ tools: ['tar', 'bsdtar', 'mkfifo', 'truncate', 'xargs'] });

/** What must not depend on how the bytes arrive. */
function summary(reading: OurReading): string {
  return JSON.stringify([
    reading.error,
    reading.entries.map((e) => [e.memberPath, e.type, e.size, e.linkPath, e.dataOffset]),
    reading.warnings.map((w) => w.code),
  ]);
}

(why ? test.skip : test)(
  `GNU tar and the parser agree on ${CASES} mutated archives (seed ${SEED})`,
  () => {
    console.log(`  tar fuzz seed ${SEED} (RESTOREPLAN_FUZZ_SEED=${SEED} replays it)`);
    const started = Date.now();
    const scratch = makeScratch('restoreplan-tarfuzz-');
    try {
      const bases = buildFuzzBases(scratch.dir);
      const rng = createRng(SEED);
      const cases: Array<{ file: string; mutant: Mutant }> = bases.map((base) => ({
        file: path.join(scratch.dir, `base-${base.id}.tar`),
        mutant: { bytes: base.bytes, recipe: [base.id, 'as written'] },
      }));
      for (let i = 0; i < CASES; i += 1)
        cases.push({
          file: path.join(scratch.dir, `m${i}.tar`),
          mutant: mutate(rng, rng.pick(bases)),
        });
      for (const { file, mutant } of cases) writeFileSync(file, mutant.bytes);
      const listings = listWithGnuTar(
        scratch.dir,
        cases.map((c) => c.file),
      );

      const verdicts = new Map<string, number>();
      const different: string[] = [];
      cases.forEach(({ mutant }, i) => {
        const ours = readWithParser(mutant.bytes);
        const chunk = 1 + Math.floor(rng.next() * 4096);
        const chunked = readWithParser(mutant.bytes, chunk);
        if (summary(chunked) !== summary(ours))
          different.push(`${mutant.recipe.join(' | ')}: read in ${chunk}-byte chunks it differs`);
        const { verdict, detail } = compareWithGnu(listings[i]!, ours);
        verdicts.set(verdict, (verdicts.get(verdict) ?? 0) + 1);
        if (verdict === 'DIFFERENT')
          different.push(`${mutant.recipe.join(' | ')}\n      ${detail}`);
        // As written, every archive reads as GNU tar reads it; the one intended difference
        // there is the posix volume that a multi-volume archive ends after a pax header.
        else if (i < bases.length && verdict !== 'agree' && verdict !== 'cut-inside-a-header')
          different.push(`${mutant.recipe.join(' | ')}: ${verdict}: ${detail}`);
      });

      const seconds = (Date.now() - started) / 1000;
      console.log(
        `  ${cases.length} archives (${bases.length} as written, ${CASES} mutants) in ${seconds.toFixed(1)} s: ${[
          ...verdicts,
        ]
          .sort((a, b) => b[1] - a[1])
          .map(([v, n]) => `${v} ${n}`)
          .join(', ')}`,
      );
      assert.equal(
        different.slice(0, 10),
        [],
        `${different.length} disagreements (seed ${SEED}); the first ones above`,
      );
      // The mutations reach what they are meant to: both sides refuse some, both read most.
      assert.ok((verdicts.get('agree') ?? 0) > CASES / 2);
    } finally {
      scratch.cleanup();
    }
  },
);
if (why) console.log(`skipped: tar fuzz ${why}`);

test.run();
