/**
 * The prompts the wizard shows on a terminal escape what they quote, as every screen does: a
 * list directory named with an ESC sequence set the window title (OSC 0) and coloured the
 * screen from the list picker. Driven through @inquirer on stream stand-ins for the terminal.
 */
import { PassThrough } from 'node:stream';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import type { Io } from '../../src/cli/output.js';
import { createPrompts } from '../../src/wizard/createPrompts.js';

test('a list name with ESC sequences reaches the terminal escaped; its value stays whole', async () => {
  let shown = '';
  const stdout = Object.assign(new PassThrough(), { isTTY: true, columns: 80, rows: 25 });
  stdout.on('data', (chunk: Buffer) => (shown += chunk.toString('utf8')));
  const stdin = Object.assign(new PassThrough(), { isTTY: true, setRawMode: () => stdin });
  const io: Io = { stdout, stderr: new PassThrough(), stdin };
  const evil = 'evil\x1b[31mred\x1b]0;pwned\x07';
  const answer = createPrompts(io).checkbox<string>({
    message: 'Lists to restore:',
    choices: [
      { value: evil, name: `${evil} (ok)`, description: `why: ${evil}`, checked: true },
      { value: 'announce', name: 'announce (corrupt)' },
    ],
  });
  await new Promise((resolve) => setTimeout(resolve, 100));
  stdin.write('\r');
  const chosen = await answer;
  assert.equal(chosen, [evil]);
  assert.ok(shown.includes('evil\\x1b[31mred\\x1b]0;pwned\\x07'), JSON.stringify(shown));
  assert.not.ok(shown.includes('\x1b]0;pwned'), 'the title sequence reached the terminal raw');
  assert.not.ok(shown.includes('\x1b[31mred'), 'the colour sequence reached the terminal raw');
});

test.run();
