/**
 * How a run ends before its last step without being an error of apply itself: the budget guard
 * or a full disk stops it (`stopped`: make room and re-run), a write that cannot succeed fails
 * it (`failed`). The orchestrator turns a StopRun into the result's status and reason; any other
 * exception is a real error and propagates with its code.
 */
import { isRestoreplanError } from '../errors.js';
import { errnoCode } from './fsOps.js';

export class StopRun extends Error {
  constructor(
    readonly status: 'stopped' | 'failed',
    readonly reason: string,
  ) {
    super(reason);
  }
}

/** One line for a reason or a skip: the errno or error code first, so runbooks can grep it. */
export function describeError(error: unknown): string {
  const code = errnoCode(error) ?? (isRestoreplanError(error) ? error.code : undefined);
  const message = error instanceof Error ? error.message : String(error);
  return code ? `${code}: ${message}` : message;
}
