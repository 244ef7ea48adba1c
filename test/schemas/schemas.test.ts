/**
 * The JSON Schemas in schemas/ are generated from the TypeScript types (`npm run schemas`) and
 * are the contract of every --json document and API result. Here: the committed files are
 * exactly what the types generate now (so types and schemas cannot drift), every schema is
 * well-formed for a strict validator, objects stay open, and the schemas really reject broken
 * documents — a missing required field, a count as a string or a fraction, a time that is not
 * ISO-8601, an unknown verdict — while accepting what the contract allows (optional fields
 * absent, extra fields added).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import {
  DOCUMENTS,
  generateSchemas,
  schemaDir,
  schemaFile,
  schemaId,
} from '../../scripts/schemas.js';
import type { CheckResult, DoctorResult, ScanResult } from '../../src/types.js';
import type { ErrorDocument } from '../../src/cli/output.js';
import {
  assertMatchesSchema,
  describeErrors,
  SCHEMA_NAMES,
  schemaValidator,
  type SchemaName,
} from '../helpers/assertSchema.js';

// The generator builds a TypeScript program: once for the whole file.
const generated = generateSchemas();

test('the committed schemas are what the types generate (else: npm run schemas)', () => {
  const stale: string[] = [];
  for (const [name, text] of generated) {
    const file = schemaFile(name);
    if (!existsSync(file)) stale.push(`schemas/${name}.schema.json is missing`);
    else if (readFileSync(file, 'utf8') !== text)
      stale.push(`schemas/${name}.schema.json differs from what the types generate`);
  }
  const wanted = new Set([...generated.keys()].map((name) => `${name}.schema.json`));
  for (const file of readdirSync(schemaDir))
    if (!wanted.has(file)) stale.push(`schemas/${file} is generated from no type`);
  assert.equal(
    stale,
    [],
    `${stale.join('; ')}: run \`npm run schemas\` and commit schemas/ with the type change`,
  );
});

test('one schema per document, each with $schema, $id and title, compiled by a strict ajv', () => {
  assert.equal(
    DOCUMENTS.map((d) => d.name),
    [...SCHEMA_NAMES],
  );
  for (const name of SCHEMA_NAMES) {
    const schema = JSON.parse(readFileSync(schemaFile(name), 'utf8')) as Record<string, unknown>;
    assert.is(schema.$schema, 'http://json-schema.org/draft-07/schema#', name);
    assert.is(schema.$id, schemaId(name), name);
    assert.type(schema.title, 'string', name);
    schemaValidator(name);
  }
});

test('objects stay open: no schema forbids additional properties', () => {
  for (const name of SCHEMA_NAMES) {
    const text = readFileSync(schemaFile(name), 'utf8');
    assert.not.match(text, /"additionalProperties":\s*false/, name);
  }
});

/** Hand-made documents, typed, so they are valid by the TypeScript types too. */
function scanDoc(): ScanResult {
  const counts = { entries: 3, files: 2, dirs: 1, symlinks: 0, hardlinks: 0, other: 0, bytes: 10 };
  return {
    schemaVersion: 1,
    archive: {
      path: '/b.tar',
      sizeBytes: 10240,
      compression: 'none',
      formats: ['gnu'],
      fingerprint: 'f',
    },
    totals: { ...counts, impliedDirs: 0, duplicates: 0 },
    tree: [{ path: 'etc', ...counts }],
    mailman: null,
    // memberPath is optional.
    warnings: [{ code: 'missing-eof', message: 'm' }],
  };
}

function checkDoc(): CheckResult {
  return {
    schemaVersion: 1,
    verdict: 'ok',
    selection: { entries: 1, files: 1, dirs: 0, symlinks: 0, hardlinks: 0, other: 0, bytes: 5 },
    filesystems: [
      {
        mountPoint: '/',
        fsType: 'ext4',
        device: '8:1',
        blockSize: 4096,
        inodes: {
          total: 100,
          free: 50,
          needed: 1,
          peak: 1,
          reserve: 5,
          freeAfter: 49,
          dynamic: false,
        },
        blocks: {
          total: 1000,
          free: 500,
          available: 450,
          needed: 1,
          peak: 1,
          reserve: 10,
          availableAfter: 449,
        },
        verdict: 'ok',
      },
    ],
    problems: [{ kind: 'inodes-dynamic', severity: 'info', message: 'm' }],
  };
}

function doctorDoc(): DoctorResult {
  return {
    schemaVersion: 1,
    root: '/var/lib/mailman',
    lists: [
      {
        name: 'a',
        status: 'degraded',
        loadsFrom: 'config.pck.last',
        files: [
          { name: 'config.pck', state: 'zeroed', detail: 'all zero bytes' },
          { name: 'config.pck.last', state: 'ok' },
        ],
      },
    ],
    queues: {
      in: { files: 2, oldest: '2024-03-01T10:00:00.000Z', newest: '2024-03-01T11:00:00.000Z' },
      out: { files: 0 },
    },
    mailmanRunning: false,
    filesystem: {
      mountPoint: '/',
      inodes: { total: 10, free: 5 },
      blocks: { total: 8, available: 4 },
    },
    summary: { ok: 0, degraded: 1, corrupt: 0, lost: 0, missing: 0 },
  };
}

const errorDoc = (): ErrorDocument => ({
  schemaVersion: 1,
  error: { code: 'PLAN_STALE', message: 'the archive changed since the plan was made' },
});

/** The errors a document gets, as readable lines (none: it is valid). */
function errorsOf(doc: unknown, name: SchemaName): string[] {
  const validate = schemaValidator(name);
  return validate(doc) ? [] : describeErrors(validate.errors);
}

test('valid documents pass, with optional fields absent and extra fields added', () => {
  assertMatchesSchema(scanDoc(), 'scan');
  assertMatchesSchema({ ...scanDoc(), mailman: { root: 'var/lib/mailman', lists: 6 } }, 'scan');
  assertMatchesSchema({ ...scanDoc(), addedLater: { anything: true } }, 'scan');
  assertMatchesSchema(checkDoc(), 'check');
  assertMatchesSchema(doctorDoc(), 'doctor');
  assertMatchesSchema(errorDoc(), 'error');
});

test('a missing required field is rejected', () => {
  const { totals: _totals, ...noTotals } = scanDoc();
  assert.equal(errorsOf(noTotals, 'scan'), [
    `(document): must have required property 'totals' ({"missingProperty":"totals"})`,
  ]);
  const check = checkDoc() as unknown as { filesystems: { inodes: Record<string, unknown> }[] };
  delete check.filesystems[0]!.inodes.needed;
  assert.match(
    errorsOf(check, 'check').join('\n'),
    /\/filesystems\/0\/inodes: must have required property 'needed'/,
  );
  assert.match(
    errorsOf({ schemaVersion: 1, error: { code: 'USAGE' } }, 'error').join('\n'),
    /required property 'message'/,
  );
  // uvu's assert.throws rethrows assertions: catch it by hand.
  let message = '';
  try {
    assertMatchesSchema(noTotals, 'scan');
  } catch (error) {
    message = (error as Error).message;
  }
  assert.match(
    message,
    /does not match schemas\/scan\.schema\.json:\n.*required property 'totals'/,
  );
});

test('counts and sizes are integers: a string or a fraction is rejected', () => {
  const asString = scanDoc() as unknown as { totals: Record<string, unknown> };
  asString.totals.files = '2';
  assert.equal(errorsOf(asString, 'scan'), ['/totals/files: must be integer']);
  const fraction = checkDoc();
  fraction.filesystems[0]!.inodes.needed = 1.5;
  assert.equal(errorsOf(fraction, 'check'), ['/filesystems/0/inodes/needed: must be integer']);
  const size = scanDoc();
  size.archive.sizeBytes = null;
  assert.equal(errorsOf(size, 'scan'), [], 'sizeBytes may be null (stdin)');
  (size.archive as { sizeBytes: unknown }).sizeBytes = '10240';
  assert.match(errorsOf(size, 'scan').join('\n'), /\/archive\/sizeBytes: must be integer,null/);
});

test('times are ISO-8601 date-times; enums and the schemaVersion are closed', () => {
  const doctor = doctorDoc();
  doctor.queues.in!.oldest = 'yesterday';
  assert.equal(errorsOf(doctor, 'doctor'), ['/queues/in/oldest: must match format "date-time"']);
  const verdict = { ...checkDoc(), verdict: 'fine' };
  assert.match(
    errorsOf(verdict, 'check').join('\n'),
    /^\/verdict: must be equal to one of the allowed values/,
  );
  assert.equal(errorsOf({ ...errorDoc(), schemaVersion: 2 }, 'error'), [
    '/schemaVersion: must be equal to constant',
  ]);
  assert.match(
    errorsOf({ ...errorDoc(), error: { code: 'OOPS', message: 'm' } }, 'error').join('\n'),
    /\/error\/code: must be equal to one of the allowed values/,
  );
});

test.run();
