/**
 * A list that is down but whose config.pck cannot be placed — a path of another type is in the
 * way — stays down whatever the plan does. It used to be planned as `restore` with no step, a
 * type-conflict warning the only trace: plan and check said WARNING (exit 1) while the list
 * stayed down. Now it is a skip with the reason, and the list's critical problem.
 */
import { copyFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { checkBudget } from '../../src/plan/checkBudget.js';
import { planRestore } from '../../src/plan/planRestore.js';
import { assertMatchesSchema } from '../helpers/assertSchema.js';
import { makeScratch, missingNeeds } from '../helpers/env.js';
import {
  buildLostListsScenario,
  LOST,
  MISSING,
  NO_VALID_COPY,
  REMOVED,
} from '../helpers/lostListsScenario.js';

const why = missingNeeds({ tools: ['tar'] });

test('a down list whose config.pck cannot be placed stays down: skip, critical, in plan and check', async () => {
  if (why) return console.log(`skipped: ${why}`);
  const { dir, cleanup } = makeScratch('restoreplan-blocked-');
  try {
    const { live, backup } = await buildLostListsScenario(path.join(dir, 'live'), dir);
    // Only the two blocked lists are down: the corrupt one is repaired by hand.
    const lists = path.join(live, 'lists');
    for (const file of ['config.pck', 'config.pck.last'])
      copyFileSync(path.join(lists, 'list001', file), path.join(lists, NO_VALID_COPY, file));
    // The missing list: a stray file where its directory goes. The lost list: a dangling
    // symlink where its config.pck goes (Mailman does not see it; nothing may write through it).
    writeFileSync(path.join(lists, MISSING), 'not a directory\n');
    symlinkSync('/nonexistent/config.pck', path.join(lists, LOST, 'config.pck'));

    const plan = await planRestore(backup, { target: live });
    assertMatchesSchema(plan, 'plan', 'plan with blocked lists');
    const byName = Object.fromEntries(plan.lists.map((l) => [l.name, l]));
    for (const name of [MISSING, LOST]) {
      assert.is(byName[name]?.action, 'skip', name);
      assert.match(byName[name]?.reason ?? '', /cannot be restored: a path of another type/);
    }
    assert.is(byName[REMOVED]?.status, 'removed');
    assert.equal(
      plan.problems
        .filter((p) => p.severity === 'critical')
        .map((p) => [p.kind, p.list])
        .sort(),
      [
        ['list-lost', LOST],
        ['list-missing', MISSING],
      ],
    );
    assert.is(plan.verdict, 'critical');
    const check = await checkBudget(backup, { target: live });
    assert.is(check.verdict, 'critical');
  } finally {
    cleanup();
  }
});

test('the same lists with nothing in the way are restored, and the plan is OK', async () => {
  if (why) return console.log(`skipped: ${why}`);
  const { dir, cleanup } = makeScratch('restoreplan-blocked-');
  try {
    const { live, backup } = await buildLostListsScenario(path.join(dir, 'live'), dir);
    const lists = path.join(live, 'lists');
    for (const file of ['config.pck', 'config.pck.last'])
      copyFileSync(path.join(lists, 'list001', file), path.join(lists, NO_VALID_COPY, file));
    rmSync(path.join(lists, MISSING), { recursive: true, force: true });
    const plan = await planRestore(backup, { target: live });
    const actions = Object.fromEntries(plan.lists.map((l) => [l.name, l.action]));
    assert.is(actions[MISSING], 'restore');
    assert.is(actions[LOST], 'restore');
    assert.is(plan.verdict, 'ok');
    assert.is((await checkBudget(backup, { target: live })).verdict, 'ok');
  } finally {
    cleanup();
  }
});

test('lists/ linked to another disk: nothing is planned through the link, as apply writes nothing through it', async () => {
  if (why) return console.log(`skipped: ${why}`);
  const { dir, cleanup } = makeScratch('restoreplan-blocked-');
  try {
    const { live, backup } = await buildLostListsScenario(path.join(dir, 'live'), dir);
    const lists = path.join(live, 'lists');
    for (const file of ['config.pck', 'config.pck.last'])
      copyFileSync(path.join(lists, 'list001', file), path.join(lists, NO_VALID_COPY, file));
    renameSync(lists, path.join(dir, 'lists-elsewhere'));
    symlinkSync(path.join(dir, 'lists-elsewhere'), lists);
    // Before: the lost list's config.pck was planned (its directory exists, through the link),
    // plan and check said OK for it, and apply skipped it as symlink-in-path: exit 0, list down.
    const plan = await planRestore(backup, { target: live, lists: [LOST] });
    assert.equal(
      plan.stages.flatMap((s) => s.steps.map((step) => step.targetPath)),
      [],
    );
    const list = plan.lists.find((l) => l.name === LOST);
    assert.is(list?.action, 'skip');
    assert.ok(
      plan.problems.some((p) => p.kind === 'type-conflict' && p.targetPath === lists),
      'the link is the conflict',
    );
    assert.is(plan.verdict, 'critical');
    assert.is((await checkBudget(backup, { target: live, lists: [LOST] })).verdict, 'critical');
  } finally {
    cleanup();
  }
});

test.run();
