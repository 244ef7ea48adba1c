/**
 * Test support (not a test): plan steps, plans and run contexts made in memory, for the unit
 * tests of apply's phases. Classify and the cost model never read the archive, and execute
 * reads it only through a MemberReader, so a small tree on disk plus a fake reader is enough.
 */
import type { Stats } from 'node:fs';
import { readdirSync, lstatSync, readlinkSync, readFileSync } from 'node:fs';
import path from 'node:path';

import { createRunContext, type RunContext } from '../../src/apply/createRunContext.js';
import type { ApplyOptions } from '../../src/apply/applyPlan.js';
import type { MemberReader } from '../../src/apply/openMemberReader.js';
import { readMountInfo } from '../../src/filesystems/readMountInfo.js';
import type { PlanDocument, PlanStage, PlanStep, WriteMode } from '../../src/types.js';

/**
 * A step as a test builds it: any type's fields may be set (the unions' narrowing is what apply
 * must not rely on for untrusted plans), with `sha256` and `linkTarget` writable.
 */
export type TestStep = PlanStep & { sha256?: string; linkTarget?: string };

type StepOverrides = Partial<Omit<PlanStep, 'type' | 'write'>> & {
  type?: PlanStep['type'];
  write?: WriteMode;
  linkTarget?: string;
  sha256?: string;
};

/** A step for `targetPath` (memberPath: its last two components), a 0o644 file unless told. */
export function makeStep(targetPath: string, over: StepOverrides = {}): TestStep {
  const size = over.size ?? 0;
  return <TestStep>{
    memberPath: targetPath.split('/').slice(-2).join('/'),
    targetPath,
    type: 'file',
    size,
    write: 'create',
    source: { headerOffset: 0, dataOffset: 512, dataLength: size, sparse: null },
    mode: 0o644,
    owner: null,
    mtime: 1_000_000_000,
    freshMtime: false,
    cost: { mountPoint: '/', inodes: 1, blocks: 0, peakInodes: 0, peakBlocks: 0 },
    ...over,
  };
}

export function makeStage(name: string, root: string, steps: PlanStep[]): PlanStage {
  return { name, root, steps, budget: [] };
}

export function makePlan(root: string, stages: PlanStage[], mailmanRoot?: string): PlanDocument {
  return {
    schemaVersion: 1,
    createdAt: '2024-05-01T00:00:00.000Z',
    feasible: true,
    verdict: 'ok',
    strategy: 'in-place',
    reason: 'test plan',
    archive: {
      path: '/nonexistent.tar',
      sizeBytes: 0,
      mtime: null,
      fingerprint: 'test',
      compression: 'none',
      seekable: true,
    },
    target: { path: root, device: '0:0' },
    mailman: mailmanRoot
      ? { root: mailmanRoot, running: false, freshMtime: false, restartAdvised: false, note: '' }
      : null,
    lists: [],
    stages,
    problems: [],
  };
}

export async function makeContext(
  plan: PlanDocument,
  options: ApplyOptions = {},
): Promise<RunContext> {
  return createRunContext(plan, await readMountInfo(), options);
}

/** A reader over in-memory member data, by memberPath (seekable: prepare is a no-op). */
export function makeReader(data: ReadonlyMap<string, Buffer>): MemberReader {
  return {
    seekable: true,
    prepare: async () => {},
    read: (step) => [data.get(step.memberPath) ?? Buffer.alloc(0)],
    release: () => {},
    close: async () => {},
  };
}

/** lstat-shaped facts of a path that does not need to exist (for the cost model). */
export function fakeStats(kind: 'file' | 'dir' | 'symlink', size = 0): Stats {
  return {
    size,
    isFile: () => kind === 'file',
    isDirectory: () => kind === 'dir',
    isSymbolicLink: () => kind === 'symlink',
    isFIFO: () => false,
  } as Stats;
}

/** Every path under dir (relative) -> 'dir' / 'link:<text>' / '<mode>:<content>', to compare trees. */
export function snapshotTree(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (current: string): void => {
    for (const name of readdirSync(current)) {
      const full = path.join(current, name);
      const rel = path.relative(dir, full);
      const stats = lstatSync(full);
      if (stats.isSymbolicLink()) out.set(rel, `link:${readlinkSync(full)}`);
      else if (stats.isDirectory()) {
        out.set(rel, `dir:${(stats.mode & 0o7777).toString(8)}`);
        walk(full);
      } else if (stats.isFile())
        out.set(rel, `${(stats.mode & 0o7777).toString(8)}:${readFileSync(full, 'latin1')}`);
      else out.set(rel, 'other');
    }
  };
  walk(dir);
  return out;
}
