/**
 * The package as a recovery script sees it: `npm pack` of the built tree installed as
 * node_modules/restoreplan, a strict TypeScript consumer (module nodenext) compiled with the
 * repo's tsc (together with docs/runbook.md's recovery script) and run against a tiny GNU tar
 * archive. What the script reports is checked against GNU tar's own listing and the bytes on
 * disk, not against restoreplan itself; the results it got match the schemas, and the schemas
 * are reachable through the package's exports (`restoreplan/schemas/<name>.schema.json`).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { assertMatchesSchema, SCHEMA_NAMES } from '../helpers/assertSchema.js';
import { makeScratch, missingNeeds, run } from '../helpers/env.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

const CONSUMER = `
import {
  scanArchive,
  checkBudget,
  diagnoseMailman,
  planRestore,
  applyPlan,
  RestoreplanError,
  ERROR_CODES,
  PROBLEM_CATALOG,
  SCHEMA_VERSION,
  type ErrorCode,
  type PlanDocument,
  type ProgressEvent,
  type ApplyResult,
} from 'restoreplan';
// @ts-expect-error -- internal modules are not part of the package's exports
import type { walkArchive } from 'restoreplan/dist/archive/walkArchive.js';

const [archive, target] = process.argv.slice(2) as [string, string];
const events: ProgressEvent['phase'][] = [];
const onProgress = (event: ProgressEvent): void => {
  events.push(event.phase);
};

const scan = await scanArchive(archive, { onProgress });
const check = await checkBudget(archive, { target, profile: 'none', reserveInodes: 0 });
const plan: PlanDocument = await planRestore(archive, { target, profile: 'none', strategy: 'auto' });
const applied: ApplyResult = await applyPlan(plan, { journalPath: target + '.journal' });

let doctorCode: ErrorCode | null = null;
try {
  await diagnoseMailman(target);
} catch (error) {
  if (error instanceof RestoreplanError) doctorCode = error.code;
  else throw error;
}

let abortCode: ErrorCode | null = null;
const controller = new AbortController();
controller.abort();
try {
  await scanArchive(archive, { signal: controller.signal });
} catch (error) {
  if (error instanceof RestoreplanError) abortCode = error.code;
  else throw error;
}

process.stdout.write(
  JSON.stringify({
    schemaVersion: SCHEMA_VERSION,
    files: scan.totals.files,
    dirs: scan.totals.dirs,
    bytes: scan.totals.bytes,
    compression: scan.archive.compression,
    checkVerdict: check.verdict,
    inodesNeeded: check.filesystems.map((fs) => fs.inodes.needed),
    feasible: plan.feasible,
    steps: plan.stages.flatMap((s) => s.steps.map((step) => step.targetPath)),
    applyStatus: applied.status,
    verified: applied.verified,
    doctorCode,
    abortCode,
    hasCodeDocs: typeof ERROR_CODES.PLAN_STALE === 'string',
    hasKindDocs: typeof PROBLEM_CATALOG['inodes-short'].summary === 'string',
    sawProgress: events.length > 0,
    // The results themselves, for the schemas.
    documents: { scan, check, plan, applied },
  }) + '\\n',
);
`;

const TSCONFIG = {
  compilerOptions: {
    target: 'ES2022',
    module: 'nodenext',
    moduleResolution: 'nodenext',
    strict: true,
    noUncheckedIndexedAccess: true,
    exactOptionalPropertyTypes: true,
    types: ['node'],
    outDir: 'out',
    // The consumer's own compile must also check the shipped .d.ts files.
    skipLibCheck: false,
  },
  files: ['consumer.mts', 'runbook.mts'],
};

function installPackage(dir: string): string {
  const packed = run('npm', ['pack', '--silent', '--pack-destination', dir], { cwd: repo })
    .trim()
    .split('\n')
    .pop();
  assert.ok(packed, 'npm pack names the tarball');
  const installed = path.join(dir, 'node_modules', 'restoreplan');
  mkdirSync(installed, { recursive: true });
  run('tar', ['-xzf', path.join(dir, packed), '-C', installed, '--strip-components=1']);
  // Type declarations only: the library itself needs no runtime dependency.
  symlinkSync(path.join(repo, 'node_modules', '@types'), path.join(dir, 'node_modules', '@types'));
  return installed;
}

const why = missingNeeds({ tools: ['tar', 'npm'] });
if (why || !existsSync(path.join(repo, 'dist', 'index.js'))) {
  test.skip('a strict ESM TypeScript consumer compiles and runs against the packed package');
  console.log(`skipped: ${why ?? 'needs npm run build (dist/)'}`);
} else {
  test('a strict ESM TypeScript consumer compiles and runs against the packed package', () => {
    const { dir, cleanup } = makeScratch('restoreplan-consumer-');
    try {
      const installed = installPackage(dir);
      assert.ok(existsSync(path.join(installed, 'dist', 'index.d.ts')), '.d.ts shipped');

      const data = path.join(dir, 'data');
      mkdirSync(path.join(data, 'etc', 'app'), { recursive: true });
      writeFileSync(path.join(data, 'etc', 'app', 'a.conf'), 'alpha\n');
      writeFileSync(path.join(data, 'etc', 'app', 'b.conf'), 'beta beta\n'.repeat(300));
      writeFileSync(path.join(data, 'top.txt'), '');
      const archive = path.join(dir, 'backup.tar');
      run('tar', ['--format=gnu', '-C', data, '-cf', archive, '.']);
      const listing = run('tar', ['-tvf', archive])
        .split('\n')
        .filter(Boolean)
        .map((line) => ({ kind: line[0], size: Number(line.split(/\s+/)[2]) }));
      const target = path.join(dir, 'target');
      mkdirSync(target);

      writeFileSync(path.join(dir, 'consumer.mts'), CONSUMER);
      // docs/runbook.md's recovery script is compiled too: a documented example that no longer
      // type-checks against the API is a broken runbook.
      const runbook = readFileSync(path.join(repo, 'docs', 'runbook.md'), 'utf8');
      const script = /```ts\n([\s\S]*?)```/.exec(runbook)?.[1];
      assert.ok(script?.includes("from 'restoreplan'"), 'the runbook has the API script');
      writeFileSync(path.join(dir, 'runbook.mts'), script ?? '');
      writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify(TSCONFIG, null, 2));
      writeFileSync(path.join(dir, 'package.json'), '{"type":"module","private":true}\n');
      const tsc = spawnSync(
        process.execPath,
        [path.join(repo, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'],
        { cwd: dir, encoding: 'utf8' },
      );
      assert.is(tsc.status, 0, `tsc: ${tsc.stdout}${tsc.stderr}`);

      const ran = spawnSync(process.execPath, ['out/consumer.mjs', archive, target], {
        cwd: dir,
        encoding: 'utf8',
      });
      assert.is(ran.status, 0, ran.stderr);
      assert.is(ran.stderr, '', 'the library never prints');
      const out = JSON.parse(ran.stdout);

      const regular = listing.filter((l) => l.kind === '-');
      assert.is(out.schemaVersion, 1);
      assert.is(out.files, regular.length);
      // GNU tar lists `./` too; the archive root is the target, never counted.
      assert.is(out.dirs, listing.filter((l) => l.kind === 'd').length - 1);
      assert.is(
        out.bytes,
        regular.reduce((n: number, l) => n + l.size, 0),
      );
      assert.is(out.compression, 'none');
      assert.is(out.checkVerdict, 'ok');
      assert.is(out.feasible, true);
      assert.is(out.applyStatus, 'complete');
      assert.is(out.verified, true);
      assert.is(out.doctorCode, 'MAILMAN_NOT_FOUND');
      assert.is(out.abortCode, 'ABORTED');
      assert.ok(out.hasCodeDocs && out.hasKindDocs);
      assert.ok(out.sawProgress, 'onProgress is called');
      assertMatchesSchema(out.documents.scan, 'scan', 'scanArchive()');
      assertMatchesSchema(out.documents.check, 'check', 'checkBudget()');
      assertMatchesSchema(out.documents.plan, 'plan', 'planRestore()');
      assertMatchesSchema(out.documents.applied, 'apply', 'applyPlan()');
      for (const file of ['etc/app/a.conf', 'etc/app/b.conf', 'top.txt']) {
        assert.equal(
          readFileSync(path.join(target, file)),
          readFileSync(path.join(data, file)),
          `${file} restored byte for byte`,
        );
      }

      // The exports map is the boundary: internal modules cannot be reached at run time either.
      const deep = spawnSync(
        process.execPath,
        ['--input-type=module', '-e', "await import('restoreplan/dist/archive/walkArchive.js')"],
        { cwd: dir, encoding: 'utf8' },
      );
      assert.is.not(deep.status, 0);
      assert.match(deep.stderr, /ERR_PACKAGE_PATH_NOT_EXPORTED/);
      // ...but the schemas are: restoreplan/schemas/<name>.schema.json, the committed files.
      const resolved = spawnSync(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          `import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
console.log(JSON.stringify(${JSON.stringify(SCHEMA_NAMES)}.map((n) => require.resolve('restoreplan/schemas/' + n + '.schema.json'))));`,
        ],
        { cwd: dir, encoding: 'utf8' },
      );
      assert.is(resolved.status, 0, resolved.stderr);
      const files = JSON.parse(resolved.stdout) as string[];
      for (const [i, name] of SCHEMA_NAMES.entries()) {
        assert.is(
          readFileSync(files[i]!, 'utf8'),
          readFileSync(path.join(repo, 'schemas', `${name}.schema.json`), 'utf8'),
          `${name}.schema.json shipped`,
        );
      }
      const root = spawnSync(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          "const m = await import('restoreplan'); console.log(Object.keys(m).sort().join(','))",
        ],
        { cwd: dir, encoding: 'utf8' },
      );
      assert.is(root.status, 0, root.stderr);
      assert.equal(
        root.stdout.trim().split(','),
        [
          'ARCHIVE_WARNING_CATALOG',
          'ERROR_CODES',
          'PROBLEM_CATALOG',
          'RestoreplanError',
          'SCHEMA_VERSION',
          'applyPlan',
          'checkBudget',
          'diagnoseMailman',
          'indexArchive',
          'isRestoreplanError',
          'judgePlan',
          'planRestore',
          'scanArchive',
          'verdictOfProblems',
          'worstSeverity',
        ],
        'the runtime surface is exactly the documented API',
      );
    } finally {
      cleanup();
    }
  });
}

test.run();
