/**
 * Validates a document against its committed JSON Schema (schemas/<name>.schema.json, the files
 * the package ships), with ajv and ajv-formats (date-time and the like). Tests call it wherever
 * they hold a `--json` document or an API result, so every command's output and every API
 * function's result is checked against the contract on realistic data.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import * as assert from 'uvu/assert';

export type SchemaName = 'scan' | 'check' | 'doctor' | 'plan' | 'apply' | 'index' | 'error';

export const SCHEMA_NAMES: readonly SchemaName[] = [
  'scan',
  'check',
  'doctor',
  'plan',
  'apply',
  'index',
  'error',
];

const schemaDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../schemas');

let ajv: Ajv | null = null;
const validators = new Map<SchemaName, ValidateFunction>();

/** One ajv for all schemas: strict, so a schema with an unknown keyword fails to compile. */
function createAjv(): Ajv {
  // allowUnionTypes: the generator writes `"type": ["integer", "null"]` for nullable fields.
  const instance = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
  addFormats.default(instance);
  return instance;
}

export function schemaValidator(name: SchemaName): ValidateFunction {
  let validate = validators.get(name);
  if (!validate) {
    ajv ??= createAjv();
    const schema = JSON.parse(
      readFileSync(path.join(schemaDir, `${name}.schema.json`), 'utf8'),
    ) as { $id?: string };
    try {
      validate = ajv.compile(schema);
    } catch (error) {
      // Not half-registered: the next test file gets the same error, not "already exists".
      if (schema.$id) ajv.removeSchema(schema.$id);
      throw error;
    }
    validators.set(name, validate);
  }
  return validate;
}

/** The ajv errors as readable lines: `/stages/0/steps/1/size: must be integer`. */
export function describeErrors(errors: readonly ErrorObject[] | null | undefined): string[] {
  return (errors ?? []).map((e) => {
    const where = e.instancePath || '(document)';
    const extra =
      e.keyword === 'additionalProperties' || e.keyword === 'required'
        ? ` (${JSON.stringify(e.params)})`
        : e.keyword === 'enum'
          ? ` (${JSON.stringify(e.params.allowedValues)})`
          : '';
    return `${where}: ${e.message ?? e.keyword}${extra}`;
  });
}

/** Asserts that `doc` (a parsed --json document or an API result) matches schemas/<name>. */
export function assertMatchesSchema(doc: unknown, name: SchemaName, label: string = name): void {
  const validate = schemaValidator(name);
  // Through JSON, as a script reading the CLI's stdout would see an API result.
  const value: unknown = JSON.parse(JSON.stringify(doc)) as unknown;
  if (validate(value)) return;
  const lines = describeErrors(validate.errors);
  assert.unreachable(
    `${label}: the document does not match schemas/${name}.schema.json:\n  ${lines.slice(0, 20).join('\n  ')}`,
  );
}
