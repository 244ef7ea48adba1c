/**
 * The Prometheus text exposition format read by Prometheus' own Python client parser
 * (prometheus_client.parser.text_string_to_metric_families, Debian's python3-prometheus-client,
 * installed by scripts/install-test-tools.sh): what our text means to a real consumer, not to
 * a regex of ours.
 */
import { spawnSync } from 'node:child_process';

export interface ParsedSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}
export interface ParsedFamily {
  name: string;
  type: string;
  documentation: string;
  samples: ParsedSample[];
}

const SCRIPT = `
import json, sys
from prometheus_client.parser import text_string_to_metric_families
out = []
for f in text_string_to_metric_families(sys.stdin.read()):
    out.append({"name": f.name, "type": f.type, "documentation": f.documentation,
                "samples": [{"name": s.name, "labels": s.labels, "value": s.value} for s in f.samples]})
print(json.dumps(out))
`;

/** A python3 that imports prometheus_client (Debian's, which a pyenv python3 in PATH hides), or null. */
export function findPrometheusPython(): string | null {
  for (const python of ['/usr/bin/python3', 'python3']) {
    const r = spawnSync(python, ['-c', 'import prometheus_client'], { encoding: 'utf8' });
    if (r.status === 0) return python;
  }
  return null;
}

/** Parses the text; throws what the parser says when it is not valid exposition format. */
export function parsePrometheusText(python: string, text: string): Map<string, ParsedFamily> {
  const r = spawnSync(python, ['-c', SCRIPT], { input: text, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`prometheus_client rejected the text: ${r.stderr}`);
  const families = JSON.parse(r.stdout) as ParsedFamily[];
  return new Map(families.map((f) => [f.name, f]));
}
