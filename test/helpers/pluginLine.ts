/**
 * The monitoring-plugin line of check --nagios and doctor --nagios, parsed by the Monitoring
 * Plugins Development Guidelines' grammar: `<PREFIX> <STATUS> - <text>[ | <perfdata>]`, one
 * line, perfdata space-separated `'label'=value[UOM];[warn];[crit];[min];[max]`: the label
 * quoted (a quote doubled), value/min/max in [-0-9.], UOM one of s ms us % B KB MB TB c,
 * thresholds in range format ([@][start:][end], start may be ~).
 */
import * as assert from 'uvu/assert';

const NUMBER = '-?[0-9]+(?:\\.[0-9]+)?';
const RANGE = `(?:@?(?:(?:${NUMBER}|~):)?(?:${NUMBER})?)`;
export const PERF_ITEM = new RegExp(
  `^'(?:[^']|'')+'=${NUMBER}(?:s|ms|us|%|B|KB|MB|TB|c)?;${RANGE};${RANGE};(?:${NUMBER})?;(?:${NUMBER})?$`,
);

export interface PluginLine {
  status: string;
  text: string;
  /** label → `value[UOM];warn;crit;min;max` */
  perf: Map<string, string>;
}

export function parsePluginLine(stdout: string, prefix = 'RESTOREPLAN'): PluginLine {
  const line = new RegExp(
    `^${prefix} (OK|WARNING|CRITICAL|UNKNOWN) - ([^|\\n]+?)(?: \\| ([^\\n]+))?\\n$`,
  ).exec(stdout);
  assert.ok(line, `a plugin line: ${JSON.stringify(stdout)}`);
  const perf = new Map<string, string>();
  for (const item of (line![3] ?? '').split(' ').filter(Boolean)) {
    assert.match(item, PERF_ITEM, `perfdata item ${item}`);
    const eq = item.lastIndexOf("'=");
    perf.set(item.slice(1, eq).replace(/''/g, "'"), item.slice(eq + 2));
  }
  return { status: line![1]!, text: line![2]!, perf };
}
