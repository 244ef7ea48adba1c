import type { Warning } from '../types.js';

export interface WarningList {
  add(warning: Warning): void;
  list(): Warning[];
}

/**
 * Warnings are data, but a hostile or damaged archive can produce millions of them: keep the
 * first `perCode` of each code and close each capped code with one summary warning, so memory
 * stays bounded and the count stays exact.
 */
export function createWarningList(perCode = 100): WarningList {
  const kept: Warning[] = [];
  const counts = new Map<Warning['code'], number>();
  return {
    add(warning) {
      const seen = (counts.get(warning.code) ?? 0) + 1;
      counts.set(warning.code, seen);
      if (seen <= perCode) kept.push(warning);
    },
    list() {
      const out = [...kept];
      for (const [code, seen] of counts) {
        if (seen > perCode) {
          out.push({
            code,
            message: `${seen - perCode} more ${code} warnings not listed (${seen} in all)`,
          });
        }
      }
      return out;
    },
  };
}
