/**
 * Environment gates for tests: a test that needs root or a system tool says so ("skipped:
 * needs root") instead of failing when run unprivileged. In CI we are root and the tools are
 * installed by scripts/install-test-tools.sh, so there everything runs.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

const toolCache = new Map<string, boolean>();
export function hasTool(tool: string): boolean {
  let found = toolCache.get(tool);
  if (found === undefined) {
    found = spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status === 0;
    toolCache.set(tool, found);
  }
  return found;
}

/** Why a test cannot run here, or null when it can. */
export function missingNeeds(needs: { root?: boolean; tools?: string[] }): string | null {
  if (needs.root && !isRoot) return 'needs root';
  for (const tool of needs.tools ?? []) if (!hasTool(tool)) return `needs ${tool}`;
  return null;
}

/** Runs a command, throwing with its stderr when it fails. Returns stdout. */
export function run(
  cmd: string,
  args: string[],
  options: { cwd?: string; input?: Buffer | string } = {},
): string {
  const result = spawnSync(cmd, args, {
    cwd: options.cwd,
    input: options.input,
    maxBuffer: 1 << 30,
  });
  if (result.status !== 0) {
    throw new Error(
      `${cmd} ${args.join(' ')} failed (${result.status}): ${result.stderr?.toString().trim()}`,
    );
  }
  return result.stdout.toString();
}

/** A scratch directory removed by the returned cleanup function. */
export function makeScratch(prefix = 'restoreplan-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The `code` a promise rejects with (undefined when it resolves). */
export async function rejectionCode(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    return (error as { code?: string }).code ?? String(error);
  }
}
