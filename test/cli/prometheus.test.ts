/**
 * --prometheus FILE on doctor and check: the text exposition format for node_exporter's
 * textfile collector, read back by Prometheus' own parser (python3-prometheus-client), with the
 * families, labels and values expected; label values from hostile list names escaped; the file
 * replaced whole (never half-written, no temp file left, the previous metrics intact when the
 * write fails).
 */
import { spawnSync } from 'node:child_process';
import {
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { breakMailmanTree } from '../../samples/breakMailmanTree.js';
import { generateMailmanTree } from '../../samples/generateMailmanTree.js';
import type { CheckResult, DoctorResult } from '../../src/types.js';
import { makeScratch, missingNeeds, run } from '../helpers/env.js';
import { withMountedFs } from '../helpers/mountFs.js';
import {
  findPrometheusPython,
  parsePrometheusText,
  type ParsedFamily,
} from '../helpers/parsePrometheus.js';
import { cli } from '../helpers/runCli.js';

const python = findPrometheusPython();
const skip = python ? null : 'needs python3-prometheus-client (scripts/install-test-tools.sh)';
const HOSTILE = 'q"u\\o\nte';

function sample(
  family: ParsedFamily | undefined,
  labels: Record<string, string>,
): number | undefined {
  return family?.samples.find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    ?.value;
}

test('doctor --prometheus FILE: families, labels and values, hostile list names escaped', async () => {
  if (skip) return void console.log(`skipped: ${skip}`);
  const { dir, cleanup } = makeScratch();
  try {
    const varDir = path.join(dir, 'mailman');
    await generateMailmanTree(varDir, {
      lists: ['alpha', 'beta', HOSTILE],
      members: 2,
      postsPerList: 0,
      queueFiles: 0,
    });
    await breakMailmanTree(varDir, [
      { list: 'beta', shape: 'zeroed' },
      { list: HOSTILE, shape: 'empty' },
      { list: HOSTILE, shape: 'empty', file: 'config.pck.last' },
    ]);
    const out = path.join(dir, 'textfile', 'restoreplan.prom');
    mkdirSync(path.dirname(out));
    const before = Math.floor(Date.now() / 1000);
    const quiet = cli(['doctor', varDir, '--prometheus', out, '--json']);
    assert.is(quiet.code, 2, quiet.stderr);
    const doc = JSON.parse(quiet.stdout) as DoctorResult;
    const after = Math.ceil(Date.now() / 1000);
    const families = parsePrometheusText(python!, readFileSync(out, 'utf8'));

    const status = families.get('restoreplan_mailman_list_status');
    assert.is(status?.type, 'gauge');
    assert.is(sample(status, { list: HOSTILE, status: 'corrupt' }), 1);
    assert.is(sample(status, { list: HOSTILE, status: 'ok' }), 0);
    assert.is(sample(status, { list: 'beta', status: 'degraded' }), 1);
    assert.is(sample(status, { list: 'alpha', status: 'ok' }), 1);
    assert.is(status?.samples.length, 3 * 5, 'one sample per list and status');
    const lists = families.get('restoreplan_mailman_lists');
    assert.equal(Object.fromEntries(lists!.samples.map((s) => [s.labels.status, s.value])), {
      ok: 1,
      degraded: 1,
      corrupt: 1,
      lost: 0,
      missing: 0,
    });
    const queues = families.get('restoreplan_mailman_queue_files');
    for (const [queue, count] of Object.entries(doc.queues))
      assert.is(sample(queues, { queue }), count.files, queue);

    const fs = doc.filesystem;
    const where = { mountpoint: fs.mountPoint };
    const free = families.get('restoreplan_mailman_filesystem_files_free');
    assert.ok(
      free?.samples[0]?.labels.device && free.samples[0].labels.fstype,
      'node_exporter labels',
    );
    assert.is(sample(free, where), doc.forecast!.inodes.free);
    assert.is(sample(families.get('restoreplan_mailman_filesystem_files'), where), fs.inodes.total);
    assert.ok(families.has('restoreplan_mailman_filesystem_avail_bytes'));
    assert.ok(families.has('restoreplan_mailman_filesystem_size_bytes'));
    // Nothing arrived in the last hour: no forecast, and no sample (not +Inf, not 0).
    assert.is(families.get('restoreplan_mailman_exhaustion_seconds')?.samples.length ?? 0, 0);
    assert.is(sample(families.get('restoreplan_mailman_qrunner_running'), {}), 0);
    assert.is(sample(families.get('restoreplan_mailman_qrunner_pid_stale'), {}), 0);
    // The verdict the exit code has (a list down: critical), for one alert rule on it.
    assert.is(sample(families.get('restoreplan_mailman_verdict'), { verdict: 'critical' }), 2);
    const at = sample(families.get('restoreplan_last_run_timestamp_seconds'), {
      command: 'doctor',
    });
    assert.ok(at !== undefined && at >= before && at <= after, String(at));
    // Readable by node_exporter's user; nothing but the file in its directory.
    assert.is(statSync(out).mode & 0o777, 0o644);
    assert.equal(readdirSync(path.dirname(out)), ['restoreplan.prom']);

    // Mail arriving: the forecast in seconds, per resource.
    for (let i = 0; i < 6; i += 1) {
      const file = path.join(varDir, 'qfiles', 'in', `new${i}.pck`);
      writeFileSync(file, 'x');
      const t = Date.now() / 1000 - i * 60;
      utimesSync(file, t, t);
    }
    const again = cli(['doctor', varDir, '--prometheus', out, '--json']);
    const grown = JSON.parse(again.stdout) as DoctorResult;
    const seconds = parsePrometheusText(python!, readFileSync(out, 'utf8')).get(
      'restoreplan_mailman_exhaustion_seconds',
    );
    assert.is(sample(seconds, { resource: 'inodes' }), grown.forecast!.inodes.hours! * 3600);
    assert.is(sample(seconds, { resource: 'bytes' }), grown.forecast!.bytes.hours! * 3600);
    assert.is(
      sample(
        parsePrometheusText(python!, readFileSync(out, 'utf8')).get(
          'restoreplan_mailman_queue_inflow_files_per_second',
        ),
        { queue: 'in' },
      ),
      6 / 3600,
    );
    assert.equal(readdirSync(path.dirname(out)), ['restoreplan.prom'], 'replaced, no temp file');

    // "-": the exposition on stdout, the exit code still the doctor's.
    const stdout = cli(['doctor', varDir, '--prometheus', '-']);
    assert.is(stdout.code, 2);
    assert.ok(parsePrometheusText(python!, stdout.stdout).has('restoreplan_mailman_lists'));
  } finally {
    cleanup();
  }
});

test('check --prometheus FILE: needed per filesystem and the verdict', () => {
  if (skip) return void console.log(`skipped: ${skip}`);
  const { dir, cleanup } = makeScratch();
  try {
    const tree = path.join(dir, 'tree');
    mkdirSync(path.join(tree, 'd'), { recursive: true });
    for (let i = 0; i < 10; i += 1) writeFileSync(path.join(tree, 'd', `f${i}`), 'x'.repeat(5000));
    const archive = path.join(dir, 'a.tar');
    run('tar', ['-cf', archive, '-C', tree, '.']);
    const target = path.join(dir, 'target');
    mkdirSync(target);
    const out = path.join(dir, 'check.prom');
    const r = cli(['check', archive, '--target', target, '--json', '--prometheus', out]);
    assert.is(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as CheckResult;
    const fs = doc.filesystems[0]!;
    const families = parsePrometheusText(python!, readFileSync(out, 'utf8'));
    const labels = { mountpoint: fs.mountPoint, device: fs.device, fstype: fs.fsType };
    assert.is(sample(families.get('restoreplan_check_inodes_needed'), labels), fs.inodes.needed);
    assert.is(fs.inodes.needed, 11);
    assert.is(
      sample(families.get('restoreplan_check_bytes_needed'), labels),
      fs.blocks.needed * fs.blockSize,
    );
    assert.is(sample(families.get('restoreplan_check_verdict'), { verdict: 'ok' }), 0);
    assert.is(
      sample(families.get('restoreplan_check_filesystem_verdict'), { ...labels, verdict: 'ok' }),
      0,
    );
    assert.ok(sample(families.get('restoreplan_last_run_timestamp_seconds'), { command: 'check' }));

    // One document on stdout: --json with --prometheus - is the JSON usage error.
    const both = cli(['check', archive, '--target', target, '--json', '--prometheus', '-']);
    assert.is(both.code, 3);
    assert.is((JSON.parse(both.stdout) as { error: { code: string } }).error.code, 'USAGE');
    const nagios = cli(['check', archive, '--target', target, '--nagios', '--prometheus', '-']);
    assert.is(nagios.code, 3);
    assert.is(
      nagios.stdout,
      'RESTOREPLAN UNKNOWN - USAGE: --prometheus - and --nagios exclude each other\n',
    );
  } finally {
    cleanup();
  }
});

test('a write that fails: WRITE_FAILED in one line, the previous metrics intact, no temp file', async () => {
  if (skip) return void console.log(`skipped: ${skip}`);
  const { dir, cleanup } = makeScratch();
  try {
    const varDir = path.join(dir, 'mailman');
    await generateMailmanTree(varDir, { lists: ['alpha'], members: 2, postsPerList: 0 });
    const nowhere = cli(['doctor', varDir, '--prometheus', path.join(dir, 'no', 'such.prom')]);
    assert.is(nowhere.code, 3);
    assert.match(
      nowhere.stderr,
      /^restoreplan: WRITE_FAILED: cannot write the metrics to \S+such\.prom: ENOENT \(its directory does not exist\)\n {2}hint: /,
    );
    assert.is(nowhere.stdout, '', 'no half of the human output before the error');

    const why = missingNeeds({ root: true });
    if (why) return void console.log(`skipped (the full filesystem): ${why}`);
    // The incident's filesystem: no inode left, so not even the temp file can be created.
    await withMountedFs({ type: 'tmpfs', sizeMiB: 1, inodes: 8 }, async (mnt) => {
      const out = path.join(mnt, 'restoreplan.prom');
      assert.is(cli(['doctor', varDir, '--prometheus', out, '--nagios']).code, 0);
      const previous = readFileSync(out, 'utf8');
      let n = 0;
      try {
        for (;;) writeFileSync(path.join(mnt, `fill${n++}`), '');
      } catch {
        // ENOSPC: every inode taken.
      }
      const full = cli(['doctor', varDir, '--prometheus', out, '--nagios']);
      assert.is(full.code, 3);
      assert.match(
        full.stdout,
        /^RESTOREPLAN-MAILMAN UNKNOWN - WRITE_FAILED: cannot write the metrics to [^\n]+: ENOSPC \([^\n]+\)\n$/,
      );
      assert.is(readFileSync(out, 'utf8'), previous);
      assert.ok(
        readdirSync(mnt).every((name) => !name.endsWith('.tmp')),
        'no temp file left',
      );
    });
  } finally {
    cleanup();
  }
});

test('--prometheus on a device, a fifo or a link to one (/dev/stdout): WRITE_FAILED, left as it was', async () => {
  const { dir, cleanup } = makeScratch();
  try {
    const varDir = path.join(dir, 'mailman');
    await generateMailmanTree(varDir, { lists: ['alpha'], members: 2, postsPerList: 0 });
    // The rename replaced whatever was at FILE: `--prometheus /dev/stdout` put a regular file in
    // place of the symlink, `/dev/null` in place of the device (as root). Our own, here.
    const fifo = path.join(dir, 'fifo');
    run('mkfifo', [fifo]);
    const cases: [string, string][] = [[fifo, 'it is a fifo']];
    const device = path.join(dir, 'null');
    if (process.getuid?.() === 0 && spawnSync('mknod', [device, 'c', '1', '3']).status === 0) {
      cases.push([device, 'it is a character device']);
      symlinkSync(device, path.join(dir, 'stdout'));
      cases.push([path.join(dir, 'stdout'), `${device} is a character device`]);
    } else console.log('skipped: --prometheus on a device needs root (mknod)');
    for (const [out, what] of cases) {
      const before = lstatSync(out);
      const r = cli(['doctor', varDir, '--prometheus', out, '--nagios']);
      assert.is(r.code, 3, r.stdout);
      assert.match(
        r.stdout,
        `RESTOREPLAN-MAILMAN UNKNOWN - WRITE_FAILED: cannot write the metrics to ${out}: ${what}`,
      );
      assert.match(r.stderr, /hint: --prometheus names a regular file; --prometheus - prints/);
      const after = lstatSync(out);
      assert.is(after.ino, before.ino, `${out} is left as it was`);
      assert.is(after.mode, before.mode);
      assert.equal(
        readdirSync(dir).filter((name) => name.endsWith('.tmp')),
        [],
      );
    }
    // A link to a regular file: written through, the link stays.
    writeFileSync(path.join(dir, 'real.prom'), '');
    symlinkSync('real.prom', path.join(dir, 'link.prom'));
    assert.is(cli(['doctor', varDir, '--prometheus', path.join(dir, 'link.prom')]).code, 0);
    assert.ok(lstatSync(path.join(dir, 'link.prom')).isSymbolicLink(), 'the link stays');
    assert.match(readFileSync(path.join(dir, 'real.prom'), 'utf8'), /restoreplan_mailman_lists/);
  } finally {
    cleanup();
  }
});

test.run();
