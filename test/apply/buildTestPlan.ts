/**
 * Test support (not a test): turns a tar archive into a plan document the way a NAIVE planner
 * would — targetPath = `<root>/<name as stored>`, hard-link targets taken verbatim when
 * absolute — so hostile names reach apply unfiltered and apply's own guards are what is
 * tested. Member offsets come from python3's tarfile (an independent oracle for where the data
 * sits), not from our walker.
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';

import { fingerprintArchiveFile } from '../../src/archive/fingerprintArchive.js';

import { statFilesystem } from '../../src/filesystems/statFilesystem.js';
import { budgetStages } from '../../src/plan/budgetStages.js';
import type { UnpricedStep } from '../../src/plan/makeStep.js';
import type { PlanDocument, PlanStage, PlanStep, StepType } from '../../src/types.js';
import { run } from '../helpers/env.js';

export interface TarMember {
  name: string;
  type: StepType;
  size: number;
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  linkname: string;
  offset: number;
  offsetData: number;
  sparse: Array<[number, number]> | null;
}

const LIST_MEMBERS = `
import json, sys, tarfile
out = []
with tarfile.open(sys.argv[1], 'r:') as tar:
    for m in tar.getmembers():
        t = 'file' if m.isreg() else 'dir' if m.isdir() else 'symlink' if m.issym() else 'hardlink' if m.islnk() else 'fifo' if m.isfifo() else 'chardev' if m.ischr() else 'blockdev' if m.isblk() else None
        if t is None: continue
        out.append(dict(name=m.name, type=t, size=m.size, mode=m.mode, uid=m.uid, gid=m.gid, mtime=int(m.mtime),
            linkname=m.linkname, offset=m.offset, offsetData=m.offset_data,
            sparse=[[o, n] for o, n in m.sparse] if m.sparse is not None else None))
json.dump(out, sys.stdout)
`;

export function listTarMembers(archive: string): TarMember[] {
  return JSON.parse(run('python3', ['-c', LIST_MEMBERS, archive])) as TarMember[];
}

export interface TestPlanOptions {
  /** Which members to restore (default all). */
  select?: (member: TarMember) => boolean;
  /** Stage of a member (default 'all'); stages are ordered by first appearance. */
  stageOf?: (member: TarMember) => string;
  write?: (member: TarMember) => PlanStep['write'];
  /** Give steps the sha256 of their data (read from the archive at the offsets). */
  withSha256?: boolean;
  budget?: (stage: string) => PlanStage['budget'];
  mailmanRoot?: string;
  freshMtime?: boolean;
  /** The archive's fingerprint (fingerprintOf); apply refuses a plan without the right one. */
  fingerprint?: string;
}

function readMemberData(archive: string, member: TarMember): Buffer {
  const bytes = readFileSync(archive);
  if (!member.sparse) return bytes.subarray(member.offsetData, member.offsetData + member.size);
  const out = Buffer.alloc(member.size);
  let stored = member.offsetData;
  for (const [offset, length] of member.sparse) {
    bytes.copy(out, offset, stored, stored + length);
    stored += length;
  }
  return out;
}

/** The archive's fingerprint as the walk computes it (plans made by `plan` carry this). */
export async function fingerprintOf(archive: string): Promise<string> {
  const handle = await open(archive, 'r');
  try {
    const readAt = async (buffer: Buffer, length: number, position: number): Promise<number> =>
      (await handle.read(buffer, 0, length, position)).bytesRead;
    return await fingerprintArchiveFile(readAt, await handle.stat({ bigint: true }));
  } finally {
    await handle.close();
  }
}

export async function buildTestPlan(
  archive: string,
  root: string,
  options: TestPlanOptions = {},
): Promise<PlanDocument> {
  const members = listTarMembers(archive).filter(options.select ?? (() => true));
  const stages = new Map<string, UnpricedStep[]>();
  for (const member of members) {
    const stage = options.stageOf?.(member) ?? 'all';
    const storedLength = member.sparse
      ? member.sparse.reduce((sum, [, n]) => sum + n, 0)
      : member.size;
    const base = {
      memberPath: member.name,
      targetPath: `${root}/${member.name}`,
      size: member.type === 'file' ? member.size : 0,
      source: {
        headerOffset: member.offset,
        dataOffset: member.offsetData,
        dataLength: member.type === 'file' ? storedLength : 0,
        sparse: member.sparse,
      },
      mode: member.mode,
      owner: null,
      mtime: member.mtime,
      freshMtime: options.freshMtime ?? false,
    };
    const write = options.write?.(member) ?? 'create';
    const notRewrite = write === 'rewrite' ? 'replace' : write;
    let step: UnpricedStep;
    switch (member.type) {
      case 'file':
        step = { ...base, type: 'file', write };
        if (options.withSha256)
          step.sha256 = createHash('sha256').update(readMemberData(archive, member)).digest('hex');
        break;
      case 'dir':
        step = { ...base, type: 'dir', write: 'create' };
        break;
      case 'symlink':
        step = { ...base, type: 'symlink', write: notRewrite, linkTarget: member.linkname };
        break;
      case 'hardlink':
        step = {
          ...base,
          type: 'hardlink',
          write: notRewrite,
          linkTarget: member.linkname.startsWith('/')
            ? member.linkname
            : `${root}/${member.linkname}`,
        };
        break;
      default:
        step = { ...base, type: member.type, write: notRewrite };
    }
    const list = stages.get(stage) ?? [];
    list.push(step);
    stages.set(stage, list);
  }
  const stats = statSync(archive);
  return {
    schemaVersion: 1,
    createdAt: new Date().toISOString(),
    feasible: true,
    verdict: 'ok',
    strategy: 'in-place',
    reason: 'test plan',
    archive: {
      path: archive,
      sizeBytes: stats.size,
      mtime: stats.mtime.toISOString(),
      fingerprint: options.fingerprint ?? (await fingerprintOf(archive)),
      compression: 'none',
      seekable: true,
    },
    target: { path: root, device: '' },
    mailman: options.mailmanRoot
      ? {
          root: options.mailmanRoot,
          running: false,
          freshMtime: false,
          restartAdvised: false,
          note: '',
        }
      : null,
    lists: [],
    stages: await Promise.all(
      [...stages].map(async ([name, steps]) => {
        const priced = await priceSteps(root, name, steps);
        return {
          name,
          root,
          steps: priced.steps,
          budget: options.budget?.(name) ?? priced.budget,
        };
      }),
    ),
    problems: [],
  };
}

/**
 * Each step priced by the planner's own pricing (so apply's guard sees real costs), and the
 * stage budgeted with no reserve on the filesystems it touches; a hostile step that the pricing
 * cannot even place costs nothing — apply must refuse it anyway.
 */
async function priceSteps(
  root: string,
  name: string,
  steps: UnpricedStep[],
): Promise<{ steps: PlanStep[]; budget: PlanStage['budget'] }> {
  const mountPoint = (await statFilesystem(root)).mountPoint;
  const zero = { mountPoint, inodes: 0, blocks: 0, peakInodes: 0, peakBlocks: 0 };
  try {
    const [evaluation] = await budgetStages([{ name, root, steps }], {
      inodeReserve: { kind: 'count', value: 0 },
      inodeReserveGiven: true,
      blockReserve: { kind: 'count', value: 0 },
      warnInodesPercent: 0,
      growth: null,
      growthPath: root,
    });
    if (evaluation) return { steps: evaluation.steps, budget: evaluation.budget };
  } catch {
    // fall through: unpriced
  }
  return {
    steps: steps.map((step) => ({ ...step, cost: zero }) as PlanStep),
    budget: [
      {
        mountPoint,
        inodesNeeded: 0,
        inodesPeak: 0,
        inodesFree: 0,
        inodesReserve: 0,
        blocksNeeded: 0,
        blocksPeak: 0,
        blocksAvailable: 0,
        blocksReserve: 0,
      },
    ],
  };
}
