/**
 * Reads a plan document and checks it as untrusted input (validatePlan): apply executes data
 * it did not make — possibly edited by hand, truncated by a full disk, or written by another
 * version — so anything off is PLAN_INVALID before a single byte is written. Run as root, the
 * file itself must be one only root could have written (checkFileTrust).
 */
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';

import { RestoreplanError } from '../errors.js';
import type { PlanDocument } from '../types.js';
import { checkOpenedFile } from './checkFileTrust.js';
import { validatePlan } from './validatePlan.js';
import { sha256Of } from './verifyOnDisk.js';

export { validatePlan };

export interface LoadedPlan {
  plan: PlanDocument;
  /** The file it came from, or null for a plan passed as an object. */
  planPath: string | null;
  /** sha256 of the file's bytes (what `sha256sum PLAN` prints: the audit trail names it), or null. */
  sha256: string | null;
}

function unreadable(planPath: string, error: unknown): RestoreplanError {
  return new RestoreplanError(
    'PLAN_INVALID',
    `cannot read ${planPath}: ${(error as Error).message}`,
    { path: planPath },
  );
}

export async function loadPlan(planOrPath: string | PlanDocument): Promise<LoadedPlan> {
  if (typeof planOrPath !== 'string')
    return { plan: validatePlan(planOrPath), planPath: null, sha256: null };
  const planPath = path.resolve(planOrPath);
  let bytes: Buffer;
  let handle;
  try {
    handle = await open(planPath, constants.O_RDONLY);
  } catch (error) {
    throw unreadable(planPath, error);
  }
  try {
    // Judged by what was opened, then read from it: no swap in between.
    await checkOpenedFile('plan file', planPath, await handle.stat());
    bytes = await handle.readFile();
  } catch (error) {
    if (error instanceof RestoreplanError) throw error;
    throw unreadable(planPath, error);
  } finally {
    await handle.close().catch(() => {});
  }
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new RestoreplanError(
      'PLAN_INVALID',
      `${planPath} is not JSON: ${(error as Error).message}`,
      {
        path: planPath,
      },
    );
  }
  return {
    plan: validatePlan(value),
    planPath,
    sha256: sha256Of(bytes),
  };
}
