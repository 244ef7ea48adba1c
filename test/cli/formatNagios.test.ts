/**
 * check --nagios perfdata: its thresholds are the verdict rule restated, not a second rule.
 * Over a grid of supplies, demands and reserves, the status a monitoring system derives from
 * the perfdata alone (each item's value against its warn and crit ranges, as the plugin
 * guidelines define them) must be evaluateBudget's verdict, and every item must follow the
 * guidelines' grammar.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { formatPerfdata } from '../../src/cli/commands/formatNagios.js';
import type { FilesystemInfo } from '../../src/filesystems/statFilesystem.js';
import { evaluateBudget, type BudgetPolicy } from '../../src/plan/evaluateBudget.js';
import { PERF_ITEM } from '../helpers/pluginLine.js';

/** Does `value` raise an alert against a plugin-guidelines range? (empty: never) */
export function alerts(range: string, value: number): boolean {
  if (range === '') return false;
  const inside = range.startsWith('@');
  const body = inside ? range.slice(1) : range;
  const [startText, endText] = body.includes(':') ? body.split(':') : ['0', body];
  const start = startText === '~' ? -Infinity : Number(startText || 0);
  const end = endText === '' || endText === undefined ? Infinity : Number(endText);
  const outside = value < start || value > end;
  return inside ? !outside : outside;
}

function statusOf(items: string[]): 'ok' | 'warning' | 'critical' {
  let status: 'ok' | 'warning' | 'critical' = 'ok';
  for (const item of items) {
    assert.match(item, PERF_ITEM, item);
    const [valueWithUom, warn = '', crit = ''] = item.slice(item.lastIndexOf("'=") + 2).split(';');
    const value = Number(valueWithUom!.replace(/[A-Za-z%]+$/, ''));
    if (alerts(crit, value)) return 'critical';
    if (alerts(warn, value)) status = 'warning';
  }
  return status;
}

function fsInfo(free: number, usable: number, available: number): FilesystemInfo {
  return {
    mountPoint: '/srv',
    fsType: 'ext4',
    device: '8:1',
    source: '/dev/sda1',
    blockSize: 4096,
    inodes: { total: 10000, free, usable },
    blocks: { total: 100000, free: available + 5000, available },
    dynamicInodes: false,
    probedPath: '/srv',
    xfs: null,
  };
}

const policy = (reserve: number, warn: number): BudgetPolicy => ({
  inodeReserve: { kind: 'count', value: reserve },
  inodeReserveGiven: true,
  blockReserve: { kind: 'count', value: 1000 * 4096 },
  warnInodesPercent: warn,
  growth: null,
});

test('ranges as the guidelines define them', () => {
  assert.ok(alerts('10', 11) && alerts('10', -1) && !alerts('10', 10));
  assert.ok(alerts('10:', 9) && !alerts('10:', 10));
  assert.ok(alerts('~:10', 11) && !alerts('~:10', -5));
  assert.ok(alerts('10:20', 21) && !alerts('10:20', 15));
  assert.ok(alerts('@10:20', 15) && !alerts('@10:20', 21));
});

test('the status read from the perfdata is the verdict, over a grid', () => {
  let cases = 0;
  const seen = new Set<string>();
  for (const [free, usable] of [
    [0, 0],
    [400, 400],
    [1000, 1000],
    [1001, 1001],
    [2000, 2000],
    [3000, 400],
    [3000, 3000],
  ] as const) {
    for (const inodes of [0, 1, 500, 1001, 2500]) {
      for (const replaces of [0, 1]) {
        for (const [available, blocks] of [
          [500, 0],
          [500, -10],
          [1000, 0],
          [1500, 500],
          [1500, 501],
          [55000, 2000],
          [55000, -10],
        ] as const) {
          for (const reserve of [0, 500, 1000]) {
            for (const warn of [0, 10, 25]) {
              const demand = {
                inodes,
                peakInodes: inodes + replaces,
                blocks,
                peakBlocks: blocks + replaces * 100,
              };
              const { budget } = evaluateBudget(
                fsInfo(free, usable, available),
                demand,
                policy(reserve, warn),
              );
              const items = formatPerfdata(budget, warn);
              const got = statusOf(items);
              assert.is(
                got,
                budget.verdict,
                `free ${free}/${usable} inodes ${inodes}+${replaces} blocks ${available}-${blocks} reserve ${reserve} warn ${warn}%: ${items.join(' ')}`,
              );
              seen.add(got);
              cases += 1;
            }
          }
        }
      }
    }
  }
  assert.equal([...seen].sort(), ['critical', 'ok', 'warning'], 'the grid reaches every status');
  assert.ok(cases > 1000);
});

test('never a negative "free": free now, needed and after are separate labels', () => {
  const { budget } = evaluateBudget(
    fsInfo(526, 526, 14000),
    { inodes: 668, peakInodes: 668, blocks: 717, peakBlocks: 717 },
    policy(70, 10),
  );
  const items = formatPerfdata(budget, 10);
  assert.equal(items.slice(0, 3), [
    "'inodes_free_/srv'=526;;;0;10000",
    "'inodes_needed_/srv'=668;;;0;",
    "'inodes_after_/srv'=-142;1000:;70:;;10000",
  ]);
});

test.run();
