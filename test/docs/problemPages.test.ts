/**
 * Output and runbooks link to docs/problems/<kind>.md: a kind without a page is a dead link at
 * 3 a.m., a page without a kind is a lie. Both directions are checked against the catalog.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { PROBLEM_CATALOG } from '../../src/problems.js';

const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../docs/problems');
const kinds = Object.keys(PROBLEM_CATALOG).sort();
const pages = readdirSync(dir)
  .filter((name) => name.endsWith('.md') && name !== 'README.md')
  .map((name) => name.slice(0, -3))
  .sort();

test('every kind in the catalog has a page, and every page is a kind', () => {
  assert.equal(
    kinds.filter((k) => !pages.includes(k)),
    [],
    'kinds without a page',
  );
  assert.equal(
    pages.filter((p) => !kinds.includes(p)),
    [],
    'pages without a kind',
  );
});

test('each page has the operator sections, its severity, and example JSON of its kind', () => {
  for (const kind of kinds) {
    const text = readFileSync(path.join(dir, `${kind}.md`), 'utf8');
    assert.ok(text.startsWith(`# \`${kind}\``), `${kind}: title names the kind`);
    for (const section of [
      '## What it means',
      '## Why it matters',
      '## What restoreplan does',
      '## What to do',
      '## Example',
    ])
      assert.ok(text.includes(section), `${kind}: ${section}`);
    const severity = PROBLEM_CATALOG[kind as keyof typeof PROBLEM_CATALOG].severity;
    assert.ok(text.includes(`Severity: **${severity}**`), `${kind}: severity ${severity}`);
    const json = /```json\n([\s\S]*?)```/.exec(text)?.[1];
    assert.ok(json, `${kind}: has a JSON example`);
    const example = JSON.parse(json) as { kind: string; severity: string; message: string };
    assert.is(example.kind, kind);
    assert.is(example.severity, severity, `${kind}: example severity matches the catalog`);
    assert.type(example.message, 'string');
  }
});

test('the index lists every kind with a link', () => {
  const index = readFileSync(path.join(dir, 'README.md'), 'utf8');
  for (const kind of kinds) assert.ok(index.includes(`[${kind}](${kind}.md)`), kind);
});

test.run();
