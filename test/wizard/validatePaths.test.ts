import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { validateArchivePath, validateTargetDir } from '../../src/wizard/validatePaths.js';
import { makeScratch } from '../helpers/env.js';

test('an archive must be an existing file; stdin is the keyboard in the wizard', async () => {
  const { dir, cleanup } = makeScratch();
  try {
    const file = path.join(dir, 'backup.tar');
    writeFileSync(file, '');
    assert.is(await validateArchivePath(file), true);
    assert.is(await validateArchivePath(`  ${file} `), true, 'typed spaces are trimmed');
    assert.match(String(await validateArchivePath('')), /needed/);
    assert.match(String(await validateArchivePath('-')), /stdin is the terminal/);
    assert.match(String(await validateArchivePath(dir)), /not a file/);
    assert.match(String(await validateArchivePath(path.join(dir, 'nope.tar'))), /ENOENT/);
    // A restic snapshot or borg archive is read through the tool (checked when it is listed).
    assert.is(await validateArchivePath('restic:latest'), true);
    assert.is(await validateArchivePath('borg:/srv/borg::host-2026-12-01'), true);
    assert.match(
      String(await validateArchivePath('restic:-r')),
      /a restic source is restic:latest/,
    );
    assert.not.match(
      String(await validateArchivePath('borg:ssh://u:pw-99@h/r')),
      /pw-99/,
      'no password in the prompt',
    );
  } finally {
    cleanup();
  }
});

test('a target must be an existing directory', async () => {
  const { dir, cleanup } = makeScratch();
  try {
    const sub = path.join(dir, 'live');
    mkdirSync(sub);
    writeFileSync(path.join(dir, 'file'), 'x');
    assert.is(await validateTargetDir(sub), true);
    assert.match(String(await validateTargetDir('')), /needed/);
    assert.match(String(await validateTargetDir(path.join(dir, 'file'))), /not a directory/);
    assert.match(String(await validateTargetDir(path.join(dir, 'missing'))), /does not exist/);
  } finally {
    cleanup();
  }
});

test.run();
