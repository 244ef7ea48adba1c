import { test } from 'uvu';
import * as assert from 'uvu/assert';

import type { DoctorReport } from '../../src/mailman/diagnoseMailman.js';
import type { ApplyRunResult, ListStatus, PlanDocument } from '../../src/types.js';
import { describeNextSteps } from '../../src/wizard/describeNextSteps.js';

function makePlan(overrides: Partial<PlanDocument> = {}): PlanDocument {
  return <PlanDocument>{
    schemaVersion: 1,
    createdAt: '2024-03-01T12:00:00.000Z',
    feasible: true,
    strategy: 'in-place',
    reason: 'fits',
    archive: {
      path: '/backup/mailman.tar',
      sizeBytes: 1,
      mtime: null,
      fingerprint: 'x',
      compression: 'none',
      seekable: true,
    },
    target: { path: '/var/lib/mailman', device: '8:1' },
    mailman: {
      root: '/var/lib/mailman',
      running: false,
      freshMtime: false,
      restartAdvised: false,
      note: '',
    },
    lists: [],
    stages: [{ name: 'in-place', root: '/var/lib/mailman', steps: [], budget: [] }],
    problems: [],
    ...overrides,
  };
}

function makeResult(overrides: Partial<ApplyRunResult> = {}): ApplyRunResult {
  return {
    schemaVersion: 1,
    status: 'complete',
    restored: [{ targetPath: '/var/lib/mailman/lists/a/config.pck', bytes: 10, sha256: 'x' }],
    skipped: [],
    verified: true,
    inodes: [],
    journal: '/tmp/p.json.journal',
    ...overrides,
  };
}

function makeDoctor(lists: { name: string; status: ListStatus }[], shunt = 0): DoctorReport {
  return {
    lists: lists.map((l) => ({ ...l, loadsFrom: null, files: [] })),
    queues: { shunt: { files: shunt } },
  } as unknown as DoctorReport;
}

test('a restored config needs Mailman (re)started; a running one with restartAdvised is restarted', () => {
  const stopped = describeNextSteps({
    plan: makePlan(),
    result: makeResult(),
    after: null,
    planFile: null,
  });
  assert.ok(stopped.some((s) => s.startsWith('Start Mailman')));
  const running = describeNextSteps({
    plan: makePlan({
      mailman: { root: '/m', running: true, freshMtime: true, restartAdvised: true, note: '' },
    }),
    result: makeResult(),
    after: null,
    planFile: null,
  });
  assert.ok(running.some((s) => s.startsWith('Restart Mailman')));
  assert.is(running.at(-1), 'Check again: restoreplan doctor /m', 'the doctor is always last');
});

test('shunted mail, lists still down and degraded lists each get their step', () => {
  const steps = describeNextSteps({
    plan: makePlan(),
    result: makeResult(),
    after: makeDoctor(
      [
        { name: 'a', status: 'ok' },
        { name: 'b', status: 'corrupt' },
        { name: 'c', status: 'degraded' },
        { name: 'd', status: 'lost' },
      ],
      7,
    ),
    planFile: null,
  });
  assert.ok(steps.some((s) => s.includes('7 messages were shunted') && s.includes('unshunt')));
  assert.ok(steps.some((s) => s.startsWith('Still down: b (corrupt), d (lost)')));
  assert.ok(
    steps.some(
      (s) =>
        s.includes('c.') && s.includes('/backup/mailman.tar') && s.includes('--include-degraded'),
    ),
  );
});

test('a stopped run says how to resume with the saved plan; nothing restored, no restart', () => {
  const steps = describeNextSteps({
    plan: makePlan(),
    result: makeResult({ status: 'stopped', restored: [] }),
    after: null,
    planFile: '/tmp/plan.json',
  });
  assert.ok(steps[0]?.includes('restoreplan apply /tmp/plan.json --yes'));
  assert.not.ok(steps.some((s) => /Start Mailman|Restart Mailman/.test(s)));
});

test('alternate: the live dir is untouched, the operator is told where things went', () => {
  const steps = describeNextSteps({
    plan: makePlan({
      strategy: 'alternate',
      stages: [{ name: 'alternate', root: '/srv/staging', steps: [], budget: [] }],
    }),
    result: makeResult(),
    after: null,
    planFile: null,
  });
  assert.ok(steps.some((s) => s.includes('/srv/staging') && s.includes('untouched')));
  assert.not.ok(
    steps.some((s) => /Start Mailman/.test(s)),
    'nothing live changed',
  );
});

test('an incomplete run says what was not done and how to resume; a failed one its error code', () => {
  const incomplete = describeNextSteps({
    plan: makePlan(),
    result: makeResult({
      status: 'incomplete',
      reason: '1 step of the plan not done (unsafe 1): /var/lib/mailman/lists/a/config.pck',
    }),
    after: null,
    planFile: '/tmp/wizard-plan.json',
  });
  assert.ok(
    incomplete.some(
      (s) =>
        s.startsWith('Not everything was restored: 1 step of the plan not done') &&
        s.endsWith('resume with: restoreplan apply /tmp/wizard-plan.json --yes'),
    ),
    incomplete.join('\n'),
  );
  const failed = describeNextSteps({
    plan: makePlan(),
    result: makeResult({
      status: 'failed',
      reason: '/x: EROFS: read-only file system',
      error: { code: 'WRITE_FAILED', message: '/x: EROFS: read-only file system', hint: 'remount' },
    }),
    after: null,
    planFile: null,
  });
  assert.ok(failed.some((s) => s.startsWith('The run failed (WRITE_FAILED): /x: EROFS')));
});

test('a wave that does not fit: before Mailman is started, pace the release or make room in the spool', () => {
  const drain = {
    mta: 'postfix' as const,
    spool: '/var/spool/postfix',
    mountPoint: '/',
    backlog: {
      entries: 900,
      messages: 12000,
      out: 100,
      virgin: 0,
      retry: 0,
      in: 400,
      shunt: 11500,
      shuntedLists: ['a'],
      unknownRecipients: 0,
    },
    queuedNow: 0,
    batch: null,
    peakMessages: 12000,
    inodes: 24036,
    blocks: 24000,
    bytes: 98304000,
    inodesFreeAfter: -4000,
    inodeReserve: 5000,
    blocksAvailableAfter: 100000,
    fits: false,
  };
  const steps = describeNextSteps({
    plan: makePlan({ drain }),
    result: makeResult(),
    after: makeDoctor([{ name: 'a', status: 'ok' }], 900),
    planFile: null,
  });
  const wave = steps.findIndex((s) => s.includes('12,000 messages') && s.includes('--drain-batch'));
  const start = steps.findIndex((s) => s.startsWith('Start Mailman'));
  assert.ok(wave >= 0, steps.join('\n'));
  assert.ok(wave < start, 'said before Mailman is started');
  assert.match(steps[wave]!, '/var/spool/postfix');
  const unshunt = steps.find((s) => s.includes('unshunt'))!;
  assert.match(unshunt, 'in batches');
  // A wave that fits: nothing more said.
  const fits = describeNextSteps({
    plan: makePlan({ drain: { ...drain, fits: true } }),
    result: makeResult(),
    after: makeDoctor([{ name: 'a', status: 'ok' }], 900),
    planFile: null,
  });
  assert.not.ok(fits.some((s) => s.includes('--drain-batch')));
});

test.run();
