import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { buildIncidentSandbox } from '../../samples/buildIncidentSandbox.js';
import { classifyConfigFile } from '../../src/mailman/classifyConfigFile.js';
import { diagnoseList } from '../../src/mailman/diagnoseList.js';
import { makeScratch, missingNeeds } from '../helpers/env.js';
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const why = missingNeeds({ tools: ['tar'] });
(why ? test.skip : test)(
  'live tree broken as in the incident, backup holds the healthy configs',
  async () => {
    const { dir, cleanup } = makeScratch();
    try {
      const started = Date.now();
      const sandbox = await buildIncidentSandbox(dir);
      assert.ok(Date.now() - started < 10_000, 'builds in seconds');
      const corrupt = sandbox.expected.corrupt[0] as string;
      assert.is((await diagnoseList(path.join(sandbox.live, 'lists', corrupt))).status, 'corrupt');
      const degraded = sandbox.expected.degraded[0] as string;
      assert.is(
        (await diagnoseList(path.join(sandbox.live, 'lists', degraded))).status,
        'degraded',
      );
      const member = `${sandbox.memberRoot}/lists/${corrupt}/config.pck`;
      const extracted = spawnSync('tar', ['-xOf', sandbox.backup, member], { maxBuffer: 1 << 26 });
      assert.is(extracted.status, 0, extracted.stderr.toString());
      assert.is(classifyConfigFile(extracted.stdout).state, 'ok', 'the backup copy is healthy');
      const listing = spawnSync('tar', ['-tvf', sandbox.backup], {
        encoding: 'utf8',
        maxBuffer: 1 << 26,
      }).stdout;
      assert.match(listing, /var\/lib\/mailman\/archives\/public\/\w+ -> \.\.\/private\//);
    } finally {
      cleanup();
    }
  },
);
if (why) console.log(`skipped: incident sandbox ${why}`);

test.run();
