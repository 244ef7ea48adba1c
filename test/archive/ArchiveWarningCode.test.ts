/**
 * Output and runbooks link to docs/warnings/<code>.md: a code without a page is a dead link, a
 * page (or a catalogued code) nothing emits is a lie. The type system already refuses a code
 * that is not catalogued; this checks the pages and the sources against the catalog.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { ARCHIVE_WARNING_CATALOG } from '../../src/archive/ArchiveWarningCode.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const dir = path.join(repo, 'docs/warnings');
const codes = Object.keys(ARCHIVE_WARNING_CATALOG).sort();
const pages = readdirSync(dir)
  .filter((name) => name.endsWith('.md') && name !== 'README.md')
  .map((name) => name.slice(0, -3))
  .sort();

test('every code in the catalog has a page, and every page is a code', () => {
  assert.equal(
    codes.filter((c) => !pages.includes(c)),
    [],
    'codes without a page',
  );
  assert.equal(
    pages.filter((p) => !codes.includes(p)),
    [],
    'pages without a code',
  );
});

test('each page has the operator sections and an example warning of its code', () => {
  for (const code of codes) {
    const text = readFileSync(path.join(dir, `${code}.md`), 'utf8');
    assert.ok(text.startsWith(`# \`${code}\``), `${code}: title names the code`);
    for (const section of [
      '## What it means',
      '## Why it matters',
      '## What restoreplan does',
      '## What to do',
      '## Example',
    ])
      assert.ok(text.includes(section), `${code}: ${section}`);
    const json = /```json\n([\s\S]*?)```/.exec(text)?.[1];
    assert.ok(json, `${code}: has a JSON example`);
    const example = JSON.parse(json) as Record<string, unknown>;
    assert.is(example.code, code);
    assert.type(example.message, 'string');
    assert.equal(
      Object.keys(example).filter((k) => !['code', 'message', 'memberPath'].includes(k)),
      [],
      `${code}: only the fields of a Warning`,
    );
  }
});

test('the index lists every code with a link and its catalog summary', () => {
  const index = readFileSync(path.join(dir, 'README.md'), 'utf8');
  for (const [code, info] of Object.entries(ARCHIVE_WARNING_CATALOG)) {
    const row = index.split('\n').find((line) => line.startsWith(`| [${code}](${code}.md) `));
    assert.ok(row, `${code}: a row`);
    assert.ok(row.includes(`| ${info.summary} `), `${code}: the catalog's summary`);
  }
});

test('every catalogued code is emitted somewhere in src/', () => {
  const sources: string[] = [];
  const visit = (at: string): void => {
    for (const entry of readdirSync(at, { withFileTypes: true })) {
      const full = path.join(at, entry.name);
      if (entry.isDirectory()) visit(full);
      else if (entry.name.endsWith('.ts') && entry.name !== 'ArchiveWarningCode.ts')
        sources.push(readFileSync(full, 'utf8'));
    }
  };
  visit(path.join(repo, 'src'));
  for (const code of codes) {
    assert.ok(
      sources.some((text) => text.includes(`'${code}'`)),
      `${code}: no source emits it`,
    );
  }
});

test.run();
