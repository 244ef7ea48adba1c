/**
 * What a restore makes only when the operator allowed it (`--allow-special` when planning, and
 * again when applying): fifos and device nodes, and setuid/setgid bits. One rule for the
 * planner (which leaves them out, or clears the bits, without it) and for apply (which refuses
 * a plan that holds them without saying it was made with it).
 */
import type { PlanStep } from '../types.js';

/**
 * The largest |mtime| (seconds) a plan step may hold: apply hands it to utimes, which libuv
 * converts to a 64-bit time_t (beyond ~9.2e18 the kernel sees garbage); safe integers are far
 * inside that, and beyond any time a filesystem stores (it clamps to its own range).
 */
export const MAX_PLAN_TIME = Number.MAX_SAFE_INTEGER;

export const S_ISUID = 0o4000;
export const S_ISGID = 0o2000;

/** What a step needs --allow-special for, or null: its type (a special file), or its mode bits. */
export function specialOf(step: Pick<PlanStep, 'type' | 'mode'>): 'type' | 'mode' | null {
  if (step.type === 'fifo' || step.type === 'chardev' || step.type === 'blockdev') return 'type';
  // A setgid directory is how Mailman keeps its group on new files (lists/, archives/: 02775):
  // ordinary, and harmless. On anything else — and setuid on anything — the bits hand the
  // rights of a file's owner or group to whoever runs it.
  if (step.mode & S_ISUID) return 'mode';
  if (step.mode & S_ISGID && step.type !== 'dir') return 'mode';
  return null;
}

/** The mode without the bits that need --allow-special (setgid stays on a directory). */
export function withoutSpecialBits(step: Pick<PlanStep, 'type' | 'mode'>): number {
  return step.mode & ~(step.type === 'dir' ? S_ISUID : S_ISUID | S_ISGID);
}
