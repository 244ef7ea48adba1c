/**
 * StrictModes for a root apply (issue 12): a plan file or a journal another user could have
 * written — not owned by root, group- or other-writable, or in a directory (up to /) that others
 * may write without the sticky bit — is UNTRUSTED_FILE with a chmod/chown hint, before anything
 * is read from the archive or written. The bad cases are made as they happen: files chown'ed to
 * nobody, or written by nobody itself (runuser) into a shared directory.
 */
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { applyPlan } from '../../src/apply/applyPlan.js';
import { judgeTrust } from '../../src/apply/checkFileTrust.js';
import { planRestore } from '../../src/plan/planRestore.js';
import { makeScratch, missingNeeds, run } from '../helpers/env.js';
import { cli } from '../helpers/runCli.js';

const file = (uid: number, mode: number): Parameters<typeof judgeTrust>[0] => ({
  uid,
  mode: 0o100000 | mode,
  isDirectory: () => false,
});
const directory = (uid: number, mode: number): Parameters<typeof judgeTrust>[0] => ({
  uid,
  mode: 0o040000 | mode,
  isDirectory: () => true,
});

test('the rule: root-owned, not writable by group or others; a directory may be if sticky', () => {
  assert.is(judgeTrust(file(0, 0o644)), null);
  assert.is(judgeTrust(file(0, 0o600)), null);
  assert.match(judgeTrust(file(0, 0o664)) ?? '', /writable by group \(mode 0664\)/);
  assert.match(judgeTrust(file(0, 0o646)) ?? '', /writable by others \(mode 0646\)/);
  assert.match(judgeTrust(file(0, 0o666)) ?? '', /writable by group and others/);
  assert.match(judgeTrust(file(1000, 0o600)) ?? '', /owned by uid 1000, not root/);
  // A sticky bit on a file means nothing: still writable.
  assert.match(judgeTrust(file(0, 0o1666)) ?? '', /writable/);
  assert.is(judgeTrust(directory(0, 0o755)), null);
  assert.is(judgeTrust(directory(0, 0o1777)), null);
  assert.match(judgeTrust(directory(0, 0o777)) ?? '', /without the sticky bit/);
  assert.match(judgeTrust(directory(0, 0o2775)) ?? '', /writable by group without the sticky/);
  assert.match(judgeTrust(directory(38, 0o755)) ?? '', /owned by uid 38/);
});

const why = missingNeeds({ root: true, tools: ['tar', 'runuser'] });
const NOBODY = 65534;

async function setup(dir: string): Promise<{ planPath: string; target: string }> {
  const source = path.join(dir, 'src');
  mkdirSync(source);
  writeFileSync(path.join(source, 'a.txt'), 'alpha\n');
  const archive = path.join(dir, 'backup.tar');
  run('tar', ['-cf', archive, '-C', source, 'a.txt']);
  const target = path.join(dir, 'target');
  mkdirSync(target);
  const plan = await planRestore(archive, { target, profile: 'none' });
  const planPath = path.join(dir, 'plans', 'plan.json');
  mkdirSync(path.dirname(planPath));
  writeFileSync(planPath, JSON.stringify(plan), { mode: 0o644 });
  return { planPath, target };
}

async function codeOf(
  planPath: string,
  journalPath?: string,
): Promise<{
  code?: string;
  message: string;
  details: Record<string, unknown>;
} | null> {
  return applyPlan(planPath, journalPath ? { journalPath } : {}).then(
    () => null,
    (e: { code?: string; message: string; details: Record<string, unknown> }) => e,
  );
}

if (why) {
  test.skip('as root: plan files and journals others could write are refused');
  console.log(`skipped: ${why}`);
} else {
  test('as root: a plan file another user could have written is UNTRUSTED_FILE, nothing written', async () => {
    const { dir, cleanup } = makeScratch();
    try {
      const { planPath, target } = await setup(dir);
      const plans = path.dirname(planPath);
      const cases: Array<[string, () => void, RegExp]> = [
        ['group-writable', () => chmodSync(planPath, 0o664), /writable by group \(mode 0664\)/],
        ['other-writable', () => chmodSync(planPath, 0o646), /writable by others/],
        ['owned by nobody', () => chownSync(planPath, NOBODY, NOBODY), /owned by uid 65534/],
        [
          'in a directory anyone may write, without the sticky bit',
          () => chmodSync(plans, 0o777),
          new RegExp(
            `the directory ${plans} is writable by group and others without the sticky bit`,
          ),
        ],
        [
          'in a directory owned by nobody',
          () => chownSync(plans, NOBODY, NOBODY),
          /the directory .* is owned by uid 65534/,
        ],
        [
          'two levels up, a group-writable directory',
          () => chmodSync(dir, 0o770),
          new RegExp(`the directory ${dir} is writable by group`),
        ],
      ];
      for (const [name, spoil, reason] of cases) {
        spoil();
        const error = await codeOf(planPath);
        assert.is(error?.code, 'UNTRUSTED_FILE', `${name}: ${error?.message}`);
        assert.match(error?.message ?? '', reason, name);
        assert.match(String(error?.details.hint), /chown root:root|chmod/, name);
        assert.equal(readdirSync(target), [], `${name}: nothing written`);
        assert.not.ok(existsSync(`${planPath}.journal`), `${name}: no journal`);
        // Put right again (0755: nobody may look, as below; only root may write).
        chmodSync(dir, 0o755);
        chownSync(plans, 0, 0);
        chmodSync(plans, 0o755);
        chownSync(planPath, 0, 0);
        chmodSync(planPath, 0o644);
      }
      // A sticky shared directory is fine for root's file, as /tmp is...
      chmodSync(plans, 0o1777);
      const dry = await applyPlan(planPath, { dryRun: true });
      assert.is(dry.dryRun, true);
      // ...but not for a plan nobody wrote there.
      const theirs = path.join(plans, 'theirs.json');
      const wrote = spawnSync('runuser', ['-u', 'nobody', '--', 'cp', planPath, theirs]);
      assert.is(wrote.status, 0, wrote.stderr.toString());
      const error = await codeOf(theirs);
      assert.is(error?.code, 'UNTRUSTED_FILE');
      assert.match(error?.message ?? '', /owned by uid 65534/);
      // A symlink nobody made to root's plan: judged where the plan really is.
      const link = path.join(plans, 'link.json');
      spawnSync('runuser', ['-u', 'nobody', '--', 'ln', '-s', planPath, link]);
      const viaLink = await applyPlan(link, { dryRun: true, journalPath: `${planPath}.journal` });
      assert.is(viaLink.dryRun, true);
      // The CLI: one line, the code, a hint; exit 3.
      chmodSync(planPath, 0o666);
      const out = cli(['apply', planPath, '--yes']);
      assert.is(out.code, 3);
      assert.match(
        out.stderr,
        /^restoreplan: UNTRUSTED_FILE: the plan file .* is writable by group and others \(mode 0666\)/,
      );
      assert.match(
        out.stderr,
        /\n {2}hint: check what it says, then: chown root:root .* && chmod go-w /,
      );
      assert.equal(readdirSync(target), []);
    } finally {
      cleanup();
    }
  });

  test('as root: a journal another user could have written is UNTRUSTED_FILE, nothing written', async () => {
    const { dir, cleanup } = makeScratch();
    try {
      const { planPath, target } = await setup(dir);
      const journals = path.join(dir, 'journals');
      mkdirSync(journals);
      const journal = path.join(journals, 'j.journal');
      const cases: Array<[string, () => void, RegExp]> = [
        [
          'owned by nobody',
          () => {
            writeFileSync(journal, '');
            chownSync(journal, NOBODY, NOBODY);
          },
          /the journal .*: it is owned by uid 65534/,
        ],
        [
          'other-writable',
          () => {
            writeFileSync(journal, '');
            chmodSync(journal, 0o666);
          },
          /writable by group and others/,
        ],
        [
          'a symlink',
          () => symlinkSync(path.join(dir, 'elsewhere'), journal),
          /a symlink \(never followed\)/,
        ],
        [
          'not there yet, in a directory anyone may write',
          () => chmodSync(journals, 0o777),
          /the directory .*journals is writable by group and others without the sticky bit/,
        ],
      ];
      for (const [name, spoil, reason] of cases) {
        spoil();
        for (const dryRun of [false, true]) {
          const error = await applyPlan(planPath, { journalPath: journal, dryRun }).then(
            () => null,
            (e: { code?: string; message: string }) => e,
          );
          assert.is(error?.code, 'UNTRUSTED_FILE', `${name}: ${error?.message}`);
          assert.match(error?.message ?? '', reason, name);
        }
        assert.equal(readdirSync(target), [], `${name}: nothing written`);
        rmSync(journal, { force: true });
        chmodSync(journals, 0o755);
      }
      // Root's own journal, in root's directory: the run goes on and writes it.
      const result = await applyPlan(planPath, { journalPath: journal });
      assert.is(result.status, 'complete');
      // And a re-run trusts it.
      const again = await applyPlan(planPath, { journalPath: journal });
      assert.is(again.status, 'nothing-to-do');
      // The default journal beside the plan is judged the same way.
      copyFileSync(journal, `${planPath}.journal`);
      chownSync(`${planPath}.journal`, NOBODY, NOBODY);
      const error = await codeOf(planPath);
      assert.is(error?.code, 'UNTRUSTED_FILE');
    } finally {
      cleanup();
    }
  });
}

test.run();
