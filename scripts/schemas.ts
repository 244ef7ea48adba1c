/**
 * `npm run schemas`: the JSON Schemas of the documents, generated from their TypeScript types
 * (src/types.ts, and the --json error document in src/cli/output.ts) by ts-json-schema-generator
 * and written to schemas/<name>.schema.json. The schemas are the contract of the --json output
 * and the API results; test/schemas/schemas.test.ts fails when a committed schema differs from
 * what the types generate now, so run this after changing a type and commit the result.
 *
 * What a type cannot say is said in its JSDoc: `@asType integer` for counts and sizes, `@format
 * date-time` for ISO-8601 times; on a nullable number, `@asType integer @nullable` (`@asType`
 * alone replaces the type and silently drops the null). Objects stay open (no
 * `additionalProperties: false`): fields may be added to a document without a new
 * schemaVersion.
 *
 * The generator is pinned to ts-json-schema-generator ~2.4: 2.5 and later require Node 22, and
 * this project supports Node 20. It reads unions (discriminated or not) as `anyOf`, extended
 * interfaces as one object, `Record<string, X>` as `additionalProperties: X`, optional
 * properties (also under exactOptionalPropertyTypes) as not required, and `typeof
 * SCHEMA_VERSION` as `const: 1`.
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createGenerator, type Config } from 'ts-json-schema-generator';

export const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const schemaDir = path.join(repo, 'schemas');

export interface DocumentSchema {
  /** The file name stem: schemas/<name>.schema.json, and assertMatchesSchema(doc, name). */
  name: string;
  /** The TypeScript type it is generated from. */
  type: string;
  title: string;
}

export const DOCUMENTS = [
  { name: 'scan', type: 'ScanResult', title: 'restoreplan scan --json / scanArchive()' },
  { name: 'check', type: 'CheckResult', title: 'restoreplan check --json / checkBudget()' },
  { name: 'doctor', type: 'DoctorResult', title: 'restoreplan doctor --json / diagnoseMailman()' },
  { name: 'plan', type: 'PlanDocument', title: 'restoreplan plan --json / planRestore()' },
  { name: 'apply', type: 'ApplyResult', title: 'restoreplan apply --json / applyPlan()' },
  { name: 'index', type: 'IndexResult', title: 'restoreplan index --json / indexArchive()' },
  { name: 'error', type: 'ErrorDocument', title: 'restoreplan --json error document' },
] as const satisfies readonly DocumentSchema[];

export type DocumentName = (typeof DOCUMENTS)[number]['name'];

export function schemaFile(name: string): string {
  return path.join(schemaDir, `${name}.schema.json`);
}

export function schemaId(name: string): string {
  return `urn:restoreplan:schema:${name}`;
}

/** Every document's schema as the text `npm run schemas` writes (one generator, one program). */
export function generateSchemas(): Map<DocumentName, string> {
  const config: Config = {
    path: path.join(repo, 'src/{types.ts,cli/output.ts}'),
    tsconfig: path.join(repo, 'tsconfig.json'),
    // npm run typecheck checks the types; here they are only read.
    skipTypeCheck: true,
    // Open objects: the contract lets fields be added to a document.
    additionalProperties: true,
    // The document itself at the top level, the types it uses under definitions.
    topRef: false,
    expose: 'export',
    jsDoc: 'extended',
    sortProps: true,
  };
  const generator = createGenerator(config);
  const out = new Map<DocumentName, string>();
  for (const doc of DOCUMENTS) {
    const generated = generator.createSchema(doc.type) as Record<string, unknown>;
    const { $schema, ...rest } = generated;
    // $id and title first, so a reader sees what the file is before its body.
    const schema = { $schema, $id: schemaId(doc.name), title: doc.title, ...rest };
    out.set(doc.name, `${JSON.stringify(schema, null, 2)}\n`);
  }
  return out;
}

function main(): void {
  const schemas = generateSchemas();
  mkdirSync(schemaDir, { recursive: true });
  const wanted = new Set([...schemas.keys()].map((name) => path.basename(schemaFile(name))));
  for (const file of readdirSync(schemaDir)) {
    if (file.endsWith('.schema.json') && !wanted.has(file)) rmSync(path.join(schemaDir, file));
  }
  for (const [name, text] of schemas) writeFileSync(schemaFile(name), text);
  console.log(`wrote ${[...wanted].map((f) => `schemas/${f}`).join(', ')}`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
