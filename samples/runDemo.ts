/**
 * `npm start`: the incident, replayed on the bundled sample, through the real CLI. A live
 * Mailman 2.1 var dir broken as the crash left it (one list corrupt, one degraded, one with an
 * interrupted save, mail piling up in qfiles/in) and the backup taken before, built fresh into
 * samples/.sandbox/ (unprivileged; nothing outside it is touched). Then what an operator does:
 * scan → doctor → check → plan → apply → doctor.
 */
import { spawnSync } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { buildIncidentSandbox } from './buildIncidentSandbox.js';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const bin = path.join(root, 'dist/cli/bin.js');
const sandboxDir = path.join(root, 'samples/.sandbox');

function say(text: string): void {
  process.stdout.write(`\n${text}\n`);
}

/** Runs `restoreplan ARGS` as an operator would, showing the command line and its exit code. */
function restoreplan(args: string[]): number {
  const shown = args.map((a) => (a.startsWith(sandboxDir) ? path.relative(root, a) : a));
  process.stdout.write(`\n$ restoreplan ${shown.join(' ')}\n`);
  const result = spawnSync(process.execPath, [bin, ...args], { stdio: 'inherit', cwd: root });
  const code = result.status ?? 3;
  process.stdout.write(`(exit ${code})\n`);
  return code;
}

async function main(): Promise<void> {
  const sandbox = await buildIncidentSandbox(sandboxDir);
  const broken = sandbox.expected;
  say(
    [
      '== The incident ==',
      `A list server crashed. In the live Mailman var dir (${path.relative(root, sandbox.live)}):`,
      `  ${broken.corrupt.join(', ')}: every config file is broken — the list is down and its mail is shunted;`,
      `  ${broken.degraded.join(', ')}: config.pck is zeroed but config.pck.last loads (degraded);`,
      `  ${broken.interrupted.join(', ')}: an interrupted save left a config.pck.tmp.* behind;`,
      '  and mail keeps piling up in qfiles/in, one inode per message.',
      `The backup (${path.relative(root, sandbox.backup)}) holds the whole var dir. Restoring all of it is what`,
      'exhausted the inodes last time. restoreplan restores only what is broken, and only if it fits.',
    ].join('\n'),
  );

  say('== 1. What is in the backup? (read-only) ==');
  restoreplan(['scan', sandbox.backup, '--depth', '2']);

  say('== 2. Which lists are broken, exactly as Mailman 2.1 would load them? (read-only) ==');
  restoreplan(['doctor', sandbox.live]);

  say(
    '== 3. Pre-flight: what would a full restore to a scratch dir cost, and what does repairing only the broken lists cost? ==',
  );
  const scratch = path.join(sandboxDir, 'scratch');
  await mkdir(scratch, { recursive: true });
  restoreplan(['check', sandbox.backup, '--target', scratch, '--member-root', sandbox.memberRoot]);
  restoreplan([
    'check',
    sandbox.backup,
    '--target',
    sandbox.live,
    '--profile',
    'mailman',
    '--nagios',
  ]);

  say('== 4. Plan the restore (read-only; the plan is data) ==');
  const planFile = path.join(sandboxDir, 'plan.json');
  restoreplan(['plan', sandbox.backup, '--target', sandbox.live, '--out', planFile]);

  say('== 5. Carry it out (--yes: no terminal prompt in a demo) ==');
  restoreplan(['apply', planFile, '--yes']);

  say('== 6. Diagnose again ==');
  const after = restoreplan(['doctor', sandbox.live]);
  say(
    after <= 1
      ? `Done: no list is down any more. ${broken.degraded.join(', ')} stays degraded on purpose — Mailman repairs it on its next load; restoreplan plan --include-degraded would restore its config.pck too. Try the wizard: node dist/cli/bin.js wizard --archive ${path.relative(root, sandbox.backup)} --target ${path.relative(root, sandbox.live)}`
      : 'The demo did not end as expected: see the output above.',
  );
  process.exitCode = after <= 1 ? 0 : 1;
}

main().catch((error: unknown) => {
  process.stderr.write(`demo failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
