import type { Verdict } from '../types.js';

/** The monitoring-plugin convention (CONTRACT.md), used by every command. */
export const EXIT = { OK: 0, WARNING: 1, CRITICAL: 2, UNKNOWN: 3 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export function exitCodeForVerdict(verdict: Verdict): ExitCode {
  return verdict === 'ok' ? EXIT.OK : verdict === 'warning' ? EXIT.WARNING : EXIT.CRITICAL;
}
