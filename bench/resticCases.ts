/**
 * The restic cases of issue 15, on the shape's restic repository (resticRepo.ts): the check of
 * the runbook against restic's own listing (the floor: restoreplan lists the snapshot through
 * restic), and apply of the 4 broken configs against `restic dump` of those 4 files.
 */
import path from 'node:path';
import type { Live } from './cases.js';
import { rp, sh, work, type Case } from './measure.js';
import type { ResticRepo } from './resticRepo.js';

export function resticCases(live: Live, repo: ResticRepo): Case[] {
  const source = `restic:${repo.id}`;
  const planFile = path.join(work, `plan-${live.shape}-restic.json`);
  const plan = `${repo.env} ${rp(`plan --json '${source}' --target '${live.dir}' --out '${planFile}'`)}`;
  const apply = `${repo.env} ${rp(`apply --json --yes '${planFile}'`)}`;
  const dumps = live.memberPaths
    .map((member) => {
      const out = path.join(live.out, member);
      return `mkdir -p '${path.dirname(out)}' && ${repo.env} restic --no-lock dump ${repo.id} '/${member}' > '${out}'`;
    })
    .join(' && ');
  return [
    {
      key: 'restic-check',
      name: 'check --nagios, restic snapshot',
      ours: {
        prepare: live.breakAll,
        // 0, 1 and 2 are verdicts (the 4 broken lists make a selection); 3 is a failure.
        command: `${repo.env} ${rp(`check --profile mailman --nagios '${source}' --target '${live.dir}'`)}; test $? -le 2`,
      },
      theirs: { command: `${repo.env} restic --no-lock ls --json ${repo.id}` },
      baseline: 'restic ls --json',
      goal: 1.2,
      rssOfTool: 'restic',
    },
    {
      key: 'restic-apply',
      name: 'apply: restore 4 configs, restic snapshot',
      setup: () => {
        sh(`${live.breakAll}; ${plan}`);
        live.checkPlan(planFile);
      },
      ours: {
        prepare: `${live.breakAll}; rm -f '${planFile}.journal'`,
        command: apply,
        check: live.checkRestored,
      },
      theirs: { command: dumps, check: live.checkExtracted },
      baseline: 'restic dump ×4',
      goal: 1.5,
      rssOfTool: 'restic',
    },
  ];
}
