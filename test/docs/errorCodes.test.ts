/** Every stable error code is explained in docs/error-codes.md, and nothing else is. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { ERROR_CODES } from '../../src/errors.js';

const file = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../docs/error-codes.md',
);
const text = readFileSync(file, 'utf8');
const codes = Object.keys(ERROR_CODES);

test('every code has a section with what to do, and a row in the table', () => {
  for (const code of codes) {
    const section = new RegExp(`^## \`${code}\`\\n([\\s\\S]*?)(?=^## |$(?![\\s\\S]))`, 'm').exec(
      text,
    );
    assert.ok(section, `${code}: section`);
    assert.ok(section[1]?.includes('**Do:**'), `${code}: says what to do`);
    assert.match(text, new RegExp(`^\\| \`${code}\`\\s+\\|`, 'm'), `${code}: table row`);
  }
});

test('no section documents a code that does not exist', () => {
  const documented = [...text.matchAll(/^## `([A-Z_]+)`$/gm)].map((m) => m[1]);
  assert.equal(
    documented.filter((c) => !codes.includes(c as string)),
    [],
  );
  assert.is(documented.length, codes.length);
});

test.run();
