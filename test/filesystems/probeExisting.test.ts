import { mkdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { createExistingProbe } from '../../src/filesystems/probeExisting.js';
import { formatDevice } from '../../src/filesystems/statFilesystem.js';
import { makeScratch, run } from '../helpers/env.js';

test('answers by directory: one readdir per directory, lstat only for existing non-directories', () => {
  const scratch = makeScratch();
  try {
    const d = path.join(scratch.dir, 'd');
    mkdirSync(path.join(d, 'sub'), { recursive: true });
    for (let i = 0; i < 50; i += 1) writeFileSync(path.join(d, `f${i}`), 'x'.repeat(5000));
    symlinkSync('f0', path.join(d, 'link'));
    run('mkfifo', [path.join(d, 'pipe')]);
    const probe = createExistingProbe();
    const dir = probe.probeDirectory(d);
    assert.ok(dir.exists);
    if (!dir.exists) return;
    assert.is(dir.names.length, 53);
    assert.is(dir.device, formatDevice(statSync(d, { bigint: true }).dev));
    for (let i = 0; i < 200; i += 1) assert.is(probe.probeEntry(d, `new${i}`).kind, 'absent');
    assert.is(probe.probeEntry(d, 'sub').kind, 'dir');
    const file = probe.probeEntry(d, 'f3');
    assert.is(file.kind, 'file');
    assert.is(file.blocks512, statSync(path.join(d, 'f3')).blocks);
    assert.is(probe.probeEntry(d, 'link').kind, 'symlink');
    assert.is(probe.probeEntry(d, 'pipe').kind, 'other');
    // 1 readdir for 200 + 4 lookups; lstat: the directory itself + f3, link, pipe.
    assert.equal(probe.stats, { readdirs: 1, lstats: 4 });
  } finally {
    scratch.cleanup();
  }
});

test('missing directories, and a file or a symlink where a directory belongs', () => {
  const scratch = makeScratch();
  try {
    writeFileSync(path.join(scratch.dir, 'file'), '');
    mkdirSync(path.join(scratch.dir, 'real'));
    symlinkSync('real', path.join(scratch.dir, 'link'));
    const probe = createExistingProbe();
    assert.equal(probe.probeDirectory(path.join(scratch.dir, 'nope')), {
      exists: false,
      blocked: false,
    });
    assert.equal(probe.probeDirectory(path.join(scratch.dir, 'file', 'below')), {
      exists: false,
      blocked: false,
    });
    assert.equal(probe.probeDirectory(path.join(scratch.dir, 'file')), {
      exists: false,
      blocked: true,
    });
    // Never through a symlink: the restore would not write through it.
    assert.equal(probe.probeDirectory(path.join(scratch.dir, 'link')), {
      exists: false,
      blocked: true,
    });
  } finally {
    scratch.cleanup();
  }
});

test('the listing cache is bounded (LRU) and re-reads an evicted directory', () => {
  const scratch = makeScratch();
  try {
    const dirs = [0, 1, 2].map((i) => path.join(scratch.dir, `d${i}`));
    for (const d of dirs) mkdirSync(d);
    const probe = createExistingProbe({ maxDirectories: 2 });
    for (const d of dirs) probe.probeEntry(d, 'x');
    probe.probeEntry(dirs[2]!, 'x'); // cached
    assert.is(probe.stats.readdirs, 3);
    probe.probeEntry(dirs[0]!, 'x'); // evicted: read again
    assert.is(probe.stats.readdirs, 4);
  } finally {
    scratch.cleanup();
  }
});

test.run();
