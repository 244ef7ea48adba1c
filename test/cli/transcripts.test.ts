/**
 * CLI transcripts: the built binary run the way a runbook runs it (no terminal, no colour) on
 * the incident sandbox, compared with committed transcripts of command line, output and exit
 * code (test/cli/transcripts/*.txt). `UPDATE_TRANSCRIPTS=1` rewrites them; review the diff.
 *
 * The sandbox lives on a tmpfs with a fixed size and inode count, so free inodes and blocks
 * are the same on every machine and stay in the transcripts as printed. What is normalized:
 * the six random characters of the scratch dir (always /tmp/rp-tx-XXXXXX, so the paths in
 * tables keep their width and the tables their alignment) and the tmpfs device number, both
 * handed out at run time. Without root (no mount) only the transcripts that do not show a
 * filesystem run. The same commands with --json, on the same sandbox, print documents that
 * match their schemas.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { buildIncidentSandbox } from '../../samples/buildIncidentSandbox.js';
import { assertMatchesSchema, type SchemaName } from '../helpers/assertSchema.js';
import { isRoot, run } from '../helpers/env.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const bin = path.join(repo, 'dist', 'cli', 'bin.js');
const dir = path.join(repo, 'test', 'cli', 'transcripts');
const update = process.env.UPDATE_TRANSCRIPTS === '1';

/**
 * 1400 inodes: the sandbox takes about 870, so a second, full copy of the backup (about 650
 * members) does not fit above the 5% reserve — the incident in miniature — while restoring
 * the one corrupt list's config does.
 */
const TMPFS = 'size=64m,nr_inodes=1400,mode=755';
const NOW = new Date('2024-03-01T12:00:00Z');

interface Case {
  name: string;
  args: string[];
  /** Shows a filesystem's numbers: needs the fixed tmpfs (root). */
  fs: boolean;
}

const CASES: Case[] = [
  { name: 'scan', args: ['scan', '<SANDBOX>/backup.tar', '--depth', '2'], fs: false },
  { name: 'scan-missing', args: ['scan', '<SANDBOX>/no-such.tar'], fs: false },
  { name: 'doctor', args: ['doctor', '<SANDBOX>/live'], fs: true },
  { name: 'doctor-verbose', args: ['doctor', '<SANDBOX>/live', '--verbose'], fs: true },
  { name: 'doctor-quiet', args: ['doctor', '<SANDBOX>/live', '--quiet'], fs: false },
  {
    name: 'check-everything',
    args: [
      'check',
      '<SANDBOX>/backup.tar',
      '--target',
      '<SANDBOX>/fresh',
      '--member-root',
      'var/lib/mailman',
    ],
    fs: true,
  },
  {
    name: 'check-everything-nagios',
    args: [
      'check',
      '<SANDBOX>/backup.tar',
      '--target',
      '<SANDBOX>/fresh',
      '--member-root',
      'var/lib/mailman',
      '--nagios',
    ],
    fs: true,
  },
  {
    name: 'check-mailman',
    args: ['check', '<SANDBOX>/backup.tar', '--target', '<SANDBOX>/live', '--profile', 'mailman'],
    fs: true,
  },
  {
    name: 'plan',
    args: [
      'plan',
      '<SANDBOX>/backup.tar',
      '--target',
      '<SANDBOX>/live',
      '--out',
      '<SANDBOX>/plan.json',
    ],
    fs: true,
  },
  { name: 'apply-dry-run', args: ['apply', '<SANDBOX>/plan.json', '--dry-run'], fs: true },
  { name: 'apply-unattended-without-yes', args: ['apply', '<SANDBOX>/plan.json'], fs: true },
];

/** Not os.tmpdir(): the path's length must not depend on the machine's TMPDIR. */
const SCRATCH_PREFIX = '/tmp/rp-tx-';
const SCRATCH_SHOWN = `${SCRATCH_PREFIX}XXXXXX`;

/** The environment without $COLUMNS: a transcript is laid out for 80 columns, as any pipe. */
function withoutColumns(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { COLUMNS: _columns, ...rest } = env;
  return rest;
}

function runCase(c: Case, sandbox: string, scratch: string): string {
  const args = c.args.map((a) => a.replaceAll('<SANDBOX>', sandbox));
  const shown = c.args.map((a) =>
    a.replaceAll('<SANDBOX>', sandbox.replace(scratch, SCRATCH_SHOWN)),
  );
  const result = spawnSync(process.execPath, [bin, ...args], {
    encoding: 'utf8',
    input: '',
    env: { ...withoutColumns(process.env), NO_COLOR: '1', FORCE_COLOR: '0' },
  });
  const normalize = (text: string): string =>
    text
      .replaceAll(scratch, SCRATCH_SHOWN)
      // tmpfs device numbers (0:NN) are handed out at mount time.
      .replace(/\b0:\d+\b/g, '0:<DEV>');
  let transcript = `$ restoreplan ${shown.join(' ')}\n${normalize(result.stdout)}`;
  if (result.stderr) transcript += `--- stderr\n${normalize(result.stderr)}`;
  return `${transcript}--- exit ${result.status}\n`;
}

let scratch = '';
let sandbox = '';
let mounted = false;

test.before(async () => {
  if (!existsSync(bin)) throw new Error('dist/ is missing: npm run build');
  scratch = mkdtempSync(SCRATCH_PREFIX);
  const fsRoot = path.join(scratch, 'fs');
  mkdirSync(fsRoot);
  if (isRoot) {
    run('mount', ['-t', 'tmpfs', '-o', TMPFS, 'tmpfs', fsRoot]);
    mounted = true;
  } else {
    console.log('skipped: transcripts that show a filesystem need root (a fixed-size tmpfs)');
  }
  sandbox = path.join(fsRoot, 'sb');
  await buildIncidentSandbox(sandbox, { now: NOW, seed: 7 });
  mkdirSync(path.join(sandbox, 'fresh'));
});

test.after(() => {
  if (mounted) spawnSync('umount', [path.join(scratch, 'fs')]);
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

test('transcripts of scan, doctor, check (--nagios), plan and apply', () => {
  assert.is(scratch.length, SCRATCH_SHOWN.length);
  const mismatches: string[] = [];
  for (const c of CASES) {
    if (c.fs && !mounted) continue;
    const actual = runCase(c, sandbox, scratch);
    // Off a terminal every screen fits 80 columns (an 80×25 console reads the log later). Not
    // the error line on stderr nor a monitoring plugin's line: each is one line by contract.
    const stdout = actual.split(/\n--- (?:stderr|exit)/)[0] ?? '';
    const wide = c.args.includes('--nagios')
      ? []
      : stdout
          .split('\n')
          .slice(1) // the command line
          .filter((line) => [...line].length > 80);
    if (wide.length > 0) mismatches.push(`${c.name}: lines wider than 80:\n${wide.join('\n')}`);
    const file = path.join(dir, `${c.name}.txt`);
    if (update) {
      writeFileSync(file, actual);
      continue;
    }
    if (!existsSync(file)) {
      mismatches.push(`${c.name}: no transcript (run with UPDATE_TRANSCRIPTS=1)`);
      continue;
    }
    const expected = readFileSync(file, 'utf8');
    if (actual !== expected) {
      mismatches.push(`${c.name}:\n--- expected\n${expected}--- actual\n${actual}`);
    }
  }
  assert.equal(mismatches, [], mismatches.join('\n'));
});

/**
 * The same commands with --json on the same sandbox: each prints one document that matches its
 * schema (the numbers depend on the filesystem, the shape does not, so these run without root
 * too). Plan writes the plan file the apply cases read outside the tmpfs, whose free inodes the
 * transcripts show.
 */
const JSON_CASES: { args: string[]; schema: SchemaName; exit: number }[] = [
  { args: ['scan', '<SANDBOX>/backup.tar'], schema: 'scan', exit: 0 },
  { args: ['scan', '<SANDBOX>/no-such.tar'], schema: 'error', exit: 3 },
  { args: ['doctor', '<SANDBOX>/live'], schema: 'doctor', exit: 2 },
  {
    args: ['check', '<SANDBOX>/backup.tar', '--target', '<SANDBOX>/fresh'],
    schema: 'check',
    exit: -1,
  },
  {
    args: ['check', '<SANDBOX>/backup.tar', '--target', '<SANDBOX>/live', '--profile', 'mailman'],
    schema: 'check',
    exit: -1,
  },
  {
    args: ['plan', '<SANDBOX>/backup.tar', '--target', '<SANDBOX>/live', '--out', '<OUT>/p.json'],
    schema: 'plan',
    exit: 0,
  },
  { args: ['apply', '<OUT>/p.json', '--dry-run'], schema: 'apply', exit: 0 },
  { args: ['apply', '<OUT>/p.json'], schema: 'error', exit: 3 },
];

test('--json: every command prints one document that matches its schema', () => {
  for (const c of JSON_CASES) {
    const args = c.args.map((a) => a.replaceAll('<SANDBOX>', sandbox).replaceAll('<OUT>', scratch));
    args.push('--json');
    const result = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', input: '' });
    const label = `restoreplan ${c.args.join(' ')} --json`;
    // check's verdict (exit 0, 1 or 2) depends on the filesystem the sandbox is on.
    if (c.exit >= 0) assert.is(result.status, c.exit, `${label}: ${result.stderr}`);
    else assert.ok(result.status !== 3, `${label}: ${result.stderr}`);
    assertMatchesSchema(JSON.parse(result.stdout), c.schema, label);
  }
  // The plan file --out wrote is the same document.
  assertMatchesSchema(JSON.parse(readFileSync(path.join(scratch, 'p.json'), 'utf8')), 'plan');
});

test.run();
