/** doctor --nagios on reports a var dir on disk cannot easily give: btrfs, a full filesystem, many lists down. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { formatDoctorNagios } from '../../src/cli/commands/formatDoctorNagios.js';
import { judgeDoctor } from '../../src/cli/commands/judgeDoctor.js';
import { renderDoctor } from '../../src/cli/commands/renderDoctor.js';
import { readDoctorThresholds } from '../../src/cli/commands/monitorFlags.js';
import type { DoctorReport, ListReport } from '../../src/mailman/diagnoseMailman.js';
import { forecastExhaustion } from '../../src/mailman/forecastExhaustion.js';
import { makeProblem } from '../../src/problems.js';
import type { ListStatus } from '../../src/types.js';
import { captureIo } from '../helpers/captureIo.js';
import { parsePluginLine } from '../helpers/pluginLine.js';

const T = { warnHours: 24, critHours: 4 };

function report(
  lists: Array<[string, ListStatus]>,
  fs: { inodesFree: number; dynamic?: boolean; inflow: number; bytesAvailable?: number },
): DoctorReport {
  const summary = { ok: 0, degraded: 0, corrupt: 0, lost: 0, missing: 0 };
  for (const [, status] of lists) summary[status] += 1;
  return {
    schemaVersion: 1,
    root: '/var/lib/mailman',
    lists: lists.map(([name, status]) => ({ name, status }) as ListReport),
    queues: { in: { files: 10, inflowLastHour: fs.inflow, inflowBytesLastHour: fs.inflow * 4096 } },
    mailmanRunning: false,
    mailmanPid: null,
    qrunnerPidStale: false,
    forecast: forecastExhaustion({
      inodesFree: fs.inodesFree,
      limitedInodes: !fs.dynamic,
      bytesAvailable: fs.bytesAvailable ?? 1e12,
      inflowFilesPerHour: fs.inflow,
      inflowBytesPerHour: fs.inflow * 4096,
    }),
    locks: [],
    queueInflowPerHour: fs.inflow,
    growthAllowance: 0,
    growthMeasured: 0,
    growthWindowHours: 12,
    filesystem: {
      mountPoint: '/var',
      fsType: fs.dynamic ? 'btrfs' : 'ext4',
      device: '8:1',
      blockSize: 4096,
      inodes: { total: fs.dynamic ? 0 : 10000, free: fs.inodesFree },
      blocks: { total: 1e9, free: 5e8, available: 4e8 },
      dynamicInodes: fs.dynamic ?? false,
    },
    summary,
    problems: [],
  };
}

test('no inode free: CRITICAL even with nothing arriving', () => {
  const r = formatDoctorNagios(report([['a', 'ok']], { inodesFree: 0, inflow: 0 }), T);
  assert.is(r.exitCode, 2);
  const line = parsePluginLine(`${r.line}\n`, 'RESTOREPLAN-MAILMAN');
  assert.is(line.text, 'no inode free');
  assert.is(line.perf.get('inodes_hours_left'), '0;24:;4:;0;');
});

test('huge thresholds: perfdata numbers by the grammar, never 1e+22; flags past 2^53 refused', () => {
  const t = { warnHours: Number.MAX_SAFE_INTEGER, critHours: 4, warnQueue: 2 ** 52 };
  const r = formatDoctorNagios(report([['a', 'ok']], { inodesFree: 5000, inflow: 1000 }), t);
  const line = parsePluginLine(`${r.line}\n`, 'RESTOREPLAN-MAILMAN');
  assert.match(line.perf.get('bytes_avail') ?? '', /^\d+B;\d{21,}:;\d+:;0;\d+$/);
  assert.is(line.perf.get('queue_in'), '10;4503599627370496;;0;');
  for (const flag of ['warnQueue', 'critHours'])
    assert.throws(
      () => readDoctorThresholds({ [flag]: '99999999999999999999999' }),
      (e: Error) =>
        /USAGE/.test(String((e as { code?: string }).code)) && /too large/.test(e.message),
    );
});

test('btrfs: no inode forecast nor inode perfdata, the space still judged', () => {
  const r = formatDoctorNagios(
    report([['a', 'ok']], {
      inodesFree: 0,
      dynamic: true,
      inflow: 100,
      bytesAvailable: 4096 * 1000,
    }),
    T,
  );
  const line = parsePluginLine(`${r.line}\n`, 'RESTOREPLAN-MAILMAN');
  assert.is(r.exitCode, 1, r.line);
  assert.is(line.text, 'space exhausted in 10.0 h at 400.0 KiB/h');
  assert.not.ok(line.perf.has('inodes_free') || line.perf.has('inodes_hours_left'));
  assert.is(line.perf.get('bytes_avail'), '4096000B;9830400:;1638400:;0;4096000000000');
});

test('many lists down: five named, the rest counted', () => {
  const lists = Array.from({ length: 8 }, (_, i) => [`l${i}`, 'lost'] as [string, ListStatus]);
  const r = formatDoctorNagios(report(lists, { inodesFree: 5000, inflow: 0 }), T);
  assert.is(r.exitCode, 2);
  assert.match(
    r.line,
    ' - 8 lists down: l0 (lost), l1 (lost), l2 (lost), l3 (lost), l4 (lost) and 3 more | ',
  );
});

test('an alias file it cannot read: WARNING, never OK (a missing list would go unseen)', () => {
  const r = report([['a', 'ok']], { inodesFree: 5000, inflow: 0 });
  r.problems.push(
    makeProblem('alias-file-unreadable', 'data/aliases could not be read (EACCES)', {
      targetPath: '/var/lib/mailman/data/aliases',
    }),
  );
  const line = formatDoctorNagios(r, T);
  assert.is(line.exitCode, 1);
  assert.match(
    line.line,
    "WARNING - cannot read data/aliases: a list named only there goes unseen (run as root or Mailman's user) | ",
  );
  // The screen and --json say the same with their exit code: 0 there was green while broken.
  assert.is(judgeDoctor(r).exitCode, 1);
});

test('the plugin status and the exit code of the screen and --json agree on the var dir', () => {
  const cases: Array<[Array<[string, ListStatus]>, string | null]> = [
    [[['a', 'ok']], null],
    [[['a', 'degraded']], null],
    [
      [
        ['a', 'lost'],
        ['b', 'degraded'],
      ],
      null,
    ],
    [[['a', 'ok']], 'alias-file-unreadable'],
    [[], 'no-lists'],
  ];
  for (const [lists, kind] of cases) {
    const r = report(lists, { inodesFree: 5000, inflow: 0 });
    if (kind === 'alias-file-unreadable')
      r.problems.push(makeProblem(kind, 'x', { targetPath: '/var/lib/mailman/data/aliases' }));
    if (kind === 'no-lists') r.problems.push(makeProblem(kind, 'x'));
    assert.is(
      judgeDoctor(r).exitCode,
      formatDoctorNagios(r, T).exitCode,
      JSON.stringify([lists, kind]),
    );
  }
});

test('stale qrunners, a locked list, inodes out within hours: the screen says it and exits as the plugin does', () => {
  const cases: Array<{ name: string; make: () => DoctorReport; code: number; says: RegExp }> = [
    {
      name: 'stale master-qrunner.pid',
      make: () => ({
        ...report([['a', 'ok']], { inodesFree: 5000, inflow: 0 }),
        qrunnerPidStale: true,
        mailmanPid: 4242,
      }),
      code: 2,
      says: /^CRITICAL: qrunners not running \(stale data\/master-qrunner\.pid, pid 4242\)$/m,
    },
    {
      name: 'a list locked by a live process (docs/problems: a warning is exit 1)',
      make: () => {
        const r = report([['a', 'ok']], { inodesFree: 5000, inflow: 0 });
        r.problems.push(makeProblem('list-locked', 'a: its lock is held', { list: 'a' }));
        return r;
      },
      code: 1,
      says: /^WARNING: list-locked: a$/m,
    },
    {
      name: 'inodes gone in 2 h at the inflow',
      make: () => report([['a', 'ok']], { inodesFree: 2000, inflow: 1000 }),
      code: 2,
      says: /^CRITICAL: inodes exhausted in 2(\.0)? h at 1,?000 files\/h$/m,
    },
    {
      name: 'healthy',
      make: () => report([['a', 'ok']], { inodesFree: 5000, inflow: 0 }),
      code: 0,
      says: /^Lists: 1 ok/m,
    },
  ];
  for (const c of cases) {
    const r = c.make();
    const nagios = formatDoctorNagios(r, T);
    assert.is(nagios.exitCode, c.code, c.name);
    assert.is(judgeDoctor(r, T).exitCode, c.code, `${c.name}: the screen's exit code`);
    const screen = captureIo();
    renderDoctor(screen.io, r, { judgement: judgeDoctor(r, T) });
    assert.match(screen.out(), c.says, c.name);
    if (c.code === 0) assert.not.match(screen.out(), /^(WARNING|CRITICAL):/m, c.name);
    const quiet = captureIo();
    renderDoctor(quiet.io, r, { judgement: judgeDoctor(r, T), verbosity: 'quiet' });
    assert.is(quiet.out().split('\n').filter(Boolean).length, c.code === 0 ? 1 : 2, c.name);
  }
});

test.run();
