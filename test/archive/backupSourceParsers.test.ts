/**
 * The pure parts of restic:/borg: sources (issue 15): the argument's syntax, one listing line
 * to one ArchiveEntry (the lines are those restic 0.14.0 and borg 1.2.4 really print, from the
 * issue's research), the cutting of `restic find --json`'s one-line document into its matches
 * however it is chunked, and the mapping of the tools' failures to stable codes without their
 * text. The real tools are in backupSources.realfs.test.ts.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { blankEntry } from '../../src/archive/ArchiveEntry.js';
import { createLossyNameResolver } from '../../src/archive/disambiguateLossyNames.js';
import {
  borgItemToEntry,
  classifyBorgFailure,
  modeOfString,
  type BorgItem,
} from '../../src/archive/listBorgArchive.js';
import {
  classifyResticFailure,
  createMatchSplitter,
  posixModeOf,
  resticNodeToEntry,
  type ResticNode,
} from '../../src/archive/listResticSnapshot.js';
import {
  parseBackupSource,
  redactSource,
  refuseToolSource,
  resticFilterArgs,
  toolSourceOf,
} from '../../src/archive/parseBackupSource.js';
import { createLineSplitter, runBackupTool, safeExcerpt } from '../../src/archive/runBackupTool.js';
import { rejectionCode } from '../helpers/env.js';

test('parseBackupSource: restic:SNAPSHOT, borg:REPO::ARCHIVE, anything else a file', () => {
  assert.equal(parseBackupSource('restic:latest'), {
    kind: 'restic',
    spec: 'restic:latest',
    snapshot: 'latest',
  });
  assert.equal(parseBackupSource('restic:4f2a9c1e'), {
    kind: 'restic',
    spec: 'restic:4f2a9c1e',
    snapshot: '4f2a9c1e',
  });
  assert.equal(parseBackupSource('borg:ssh://u@h:22/srv/b::host-2026-12-01'), {
    kind: 'borg',
    spec: 'borg:ssh://u@h:22/srv/b::host-2026-12-01',
    repository: 'ssh://u@h:22/srv/b',
    archive: 'host-2026-12-01',
  });
  assert.equal(parseBackupSource('borg:::a1'), {
    kind: 'borg',
    spec: 'borg:::a1',
    repository: '',
    archive: 'a1',
  });
  assert.equal(
    parseBackupSource('restic:latest?host=mail1&path=/var/lib/mailman&path=/etc%20x&tag=a+b'),
    {
      kind: 'restic',
      spec: 'restic:latest?host=mail1&path=/var/lib/mailman&path=/etc%20x&tag=a+b',
      snapshot: 'latest',
      filters: { hosts: ['mail1'], paths: ['/var/lib/mailman', '/etc x'], tags: ['a+b'] },
    },
  );
  assert.equal(resticFilterArgs({ hosts: ['-x'], paths: ['/p'], tags: ['t'] }), [
    '--host=-x',
    '--path=/p',
    '--tag=t',
  ]);
  assert.equal(resticFilterArgs(undefined), []);
  assert.equal(parseBackupSource('./restic:latest'), { kind: 'file', path: './restic:latest' });
  assert.equal(parseBackupSource('backup.tar'), { kind: 'file', path: 'backup.tar' });
  assert.is(toolSourceOf('-'), null);
  for (const bad of [
    'restic:',
    'restic:--help',
    'restic:LATEST',
    'restic:xyz',
    'restic:latest?',
    'restic:latest?host=',
    'restic:latest?hots=a',
    'restic:latest?path=relative',
    'restic:latest?host=%zz',
    'restic:latest?host=a%0Ab',
    'restic:-x?host=a',
    'borg:/r',
    'borg:/r::',
    'borg:/r::-x',
  ]) {
    let code: string | undefined;
    try {
      parseBackupSource(bad);
    } catch (error) {
      code = (error as { code?: string }).code;
    }
    assert.is(code, 'USAGE', bad);
  }
});

const resticFile = (name: string, extra: Partial<ResticNode> = {}): ResticNode => ({
  path: `/tmp/r/var/lib/mailman/data/${name}`,
  type: 'file',
  mode: 420,
  mtime: '2026-12-02T01:12:20.911141066Z',
  ctime: '2026-12-02T01:12:20.917337471Z',
  uid: 0,
  gid: 0,
  device_id: 65024,
  size: 19,
  links: 1,
  ...extra,
});

test('resticNodeToEntry: types, modes, paths without the leading /', () => {
  const entry = blankEntry();
  const inodes = new Map<string, string>();
  assert.ok(
    resticNodeToEntry(
      { path: '/tmp', type: 'dir', mode: 2148532735, mtime: '2026-12-02T01:12:25Z' },
      entry,
      inodes,
    ),
  );
  assert.is(entry.memberPath, 'tmp');
  assert.is(entry.type, 'dir');
  assert.is(entry.mode, 0o1777);
  assert.is(entry.size, 0);
  assert.is(entry.mtime, Date.parse('2026-12-02T01:12:25Z') / 1000);
  resticNodeToEntry(
    { path: '/a/sym', type: 'symlink', mode: 134218239, linktarget: '../lists/x', links: 1 },
    entry,
    inodes,
  );
  assert.equal([entry.type, entry.linkPath, entry.mode], ['symlink', '../lists/x', 0o777]);
  resticNodeToEntry({ path: '/a/fifo', type: 'fifo', mode: 33554852 }, entry, inodes);
  assert.equal([entry.type, entry.mode], ['fifo', 0o644]);
  resticNodeToEntry({ path: '/dev/sda', type: 'dev', mode: 67109296 }, entry, inodes);
  assert.is(entry.type, 'blockdev');
  resticNodeToEntry({ path: '/dev/null', type: 'chardev', mode: 69206454 }, entry, inodes);
  assert.is(entry.type, 'chardev');
  assert.not.ok(resticNodeToEntry({ path: '/run/s', type: 'socket' }, entry, inodes));
  resticNodeToEntry(resticFile('zero', { size: 0 }), entry, inodes);
  assert.equal([entry.type, entry.size, entry.storedSize], ['file', 0, 0]);
  resticNodeToEntry({ path: '/x/../etc/passwd', type: 'file', size: 1 }, entry, inodes);
  assert.is(entry.unsafe, 'dotdot');
  assert.is(posixModeOf(2147484141), 0o755);
  assert.is(posixModeOf((1 << 23) | (1 << 22) | 0o755), 0o6755);
});

test('resticNodeToEntry: a hard-linked pair is one file and a hard link to it; unrelated files sharing a ctime tick are not', () => {
  const entry = blankEntry();
  const inodes = new Map<string, string>();
  resticNodeToEntry(resticFile('hl1', { links: 2 }), entry, inodes);
  assert.equal([entry.type, entry.size], ['file', 19]);
  resticNodeToEntry(resticFile('hl2', { links: 2 }), entry, inodes);
  assert.equal(
    [entry.type, entry.size, entry.linkPath],
    ['hardlink', 0, 'tmp/r/var/lib/mailman/data/hl1'],
  );
  // Same ctime tick, same size, one link each: two files.
  resticNodeToEntry(resticFile('a'), entry, inodes);
  assert.is(entry.type, 'file');
  resticNodeToEntry(resticFile('b'), entry, inodes);
  assert.is(entry.type, 'file');
  // Another hard-linked inode, all else equal but its link count: its own file.
  resticNodeToEntry(resticFile('t1', { links: 3 }), entry, inodes);
  assert.is(entry.type, 'file');
  // Another hard-linked inode of another ctime: its own file.
  resticNodeToEntry(resticFile('c1', { links: 2, ctime: '2026-12-02T01:12:21.1Z' }), entry, inodes);
  assert.is(entry.type, 'file');
  // A restic that gives inodes is keyed by them (ctime equal or not).
  resticNodeToEntry(resticFile('i1', { links: 2, inode: 7 }), entry, inodes);
  assert.is(entry.type, 'file');
  resticNodeToEntry(resticFile('i2', { links: 2, inode: 8 }), entry, inodes);
  assert.is(entry.type, 'file');
  resticNodeToEntry(resticFile('i3', { links: 2, inode: 7 }), entry, inodes);
  assert.equal([entry.type, entry.linkPath], ['hardlink', 'tmp/r/var/lib/mailman/data/i1']);
});

test('createMatchSplitter: every match of the one-line document, cut anywhere (strings with braces, escapes, nesting), on both paths', () => {
  const matches = [
    { path: '/a', type: 'dir' },
    { path: '/a/we{ird}"[x]\\', type: 'file', size: 3, links: 1 },
    // Names that spell the boundaries the fast path searches for.
    { path: '/a/},{"path":"x', type: 'file' },
    { path: '/a/}],"hits":1', type: 'file' },
    { path: '/a/},{', type: 'file' },
    { path: '/a/x', type: 'file', extended_attributes: [{ name: 'user.k', value: 'dg==' }] },
    { path: '/a/\n', type: 'file' },
  ];
  // restic 0.14's order (path first: the fast path) and another order (the general path).
  const reordered = matches.map(({ path, ...rest }) => ({ ...rest, path }));
  for (const list of [matches, reordered]) {
    const document = JSON.stringify([
      { matches: list, hits: list.length, snapshot: 'ab'.repeat(32) },
    ]);
    for (const size of [1, 2, 7, 11, 64, document.length]) {
      const seen: unknown[] = [];
      const splitter = createMatchSplitter((node) => {
        seen.push(node);
      });
      for (let i = 0; i < document.length; i += size) splitter.push(document.slice(i, i + size));
      assert.equal(seen, list, `chunks of ${size}`);
    }
  }
  // An empty snapshot's document, an unknown snapshot's, and 'stop'.
  for (const document of ['[{"matches":[],"hits":0,"snapshot":"ab"}]', '[]']) {
    const none: unknown[] = [];
    createMatchSplitter((node) => {
      none.push(node);
    }).push(document);
    assert.equal(none, []);
  }
  let count = 0;
  const stopped = createMatchSplitter(() => {
    count += 1;
    return 'stop';
  }).push(JSON.stringify([{ matches, hits: 4, snapshot: 'ab' }]));
  assert.equal([stopped, count], ['stop', 1]);
});

test('createMatchSplitter: a listing that is not JSON fails as BACKUP_TOOL_FAILED, never a short count', () => {
  for (const document of [
    '[{"matches":[{"path":"/a","type":"dir"},{"path":"/b","type":}],"hits":2}]',
    '[{"matches":[{"path":"/a","type":"dir"},{"path":"/b",,"type":"dir"},{"path":"/c"}',
  ]) {
    const splitter = createMatchSplitter(() => undefined);
    try {
      splitter.push(document);
      assert.unreachable('accepted');
    } catch (error) {
      assert.is((error as { code?: string }).code, 'BACKUP_TOOL_FAILED');
    }
  }
});

const borgLine = (item: Partial<BorgItem>): BorgItem => ({
  type: '-',
  mode: '-rw-r--r--',
  path: 'tmp/r/var/lib/mailman/data/x',
  uid: 0,
  gid: 0,
  source: '',
  linktarget: '',
  mtime: '2026-12-02T01:12:20.897337',
  size: 19,
  ...item,
});

test('borgItemToEntry: types, modes, a hard link (mode h..., source) to its first name', () => {
  const entry = blankEntry();
  assert.ok(borgItemToEntry(borgLine({ type: 'd', mode: 'drwxr-xr-x', size: 0 }), entry));
  assert.equal(
    [entry.type, entry.mode, entry.memberPath],
    ['dir', 0o755, 'tmp/r/var/lib/mailman/data/x'],
  );
  borgItemToEntry(borgLine({}), entry);
  assert.equal([entry.type, entry.size, entry.mode], ['file', 19, 0o644]);
  borgItemToEntry(
    borgLine({
      mode: 'hrw-r--r--',
      path: 'tmp/r/data/hl1',
      source: 'tmp/r/data/hl2',
      linktarget: 'tmp/r/data/hl2',
      size: 0,
    }),
    entry,
  );
  assert.equal([entry.type, entry.size, entry.linkPath], ['hardlink', 0, 'tmp/r/data/hl2']);
  borgItemToEntry(
    borgLine({
      type: 'l',
      mode: 'lrwxrwxrwx',
      source: '../lists/t',
      linktarget: '../lists/t',
      size: 10,
    }),
    entry,
  );
  assert.equal([entry.type, entry.size, entry.linkPath], ['symlink', 0, '../lists/t']);
  borgItemToEntry(borgLine({ type: 'p', mode: 'prw-r--r--', size: 0 }), entry);
  assert.is(entry.type, 'fifo');
  borgItemToEntry(borgLine({ type: 'c', mode: 'crw-rw-rw-', size: 0 }), entry);
  assert.is(entry.type, 'chardev');
  borgItemToEntry(borgLine({ type: 'b', mode: 'brw-rw----', size: 0 }), entry);
  assert.is(entry.type, 'blockdev');
  assert.not.ok(borgItemToEntry(borgLine({ type: 's', mode: 'srwxr-xr-x' }), entry));
  assert.is(modeOfString('drwxrwxrwt'), 0o1777);
  assert.is(modeOfString('-rwsr-sr-x'), 0o6755);
  assert.is(modeOfString('-rwSr-Sr-T'), 0o7644);
});

test('classifyResticFailure / classifyBorgFailure: stable codes from what 0.14 / 1.2.4 print, no stderr text in the message', () => {
  const restic = (stderr: string) => classifyResticFailure({ code: 1, stderr }, 'deadbeef').code;
  assert.is(restic('Fatal: wrong password or no key found\n'), 'BACKUP_PASSWORD');
  assert.is(
    restic('Resolving password failed: Fatal: /nonexist does not exist\n'),
    'BACKUP_PASSWORD',
  );
  assert.is(
    restic('reading repository password from stdin\nFatal: an empty password is not a password\n'),
    'BACKUP_PASSWORD',
  );
  assert.is(
    restic(
      'Fatal: unable to open config file: stat /r/config: no such file or directory\nIs there a repository at the following location?\n/r\n',
    ),
    'BACKUP_REPOSITORY_NOT_FOUND',
  );
  assert.is(
    restic('Fatal: Please specify repository location (-r or --repository-file)\n'),
    'BACKUP_REPOSITORY_NOT_FOUND',
  );
  assert.is(
    restic('unable to create lock in backend: repository is already locked exclusively by PID 1\n'),
    'BACKUP_REPOSITORY_LOCKED',
  );
  assert.is(
    restic('Fatal: could not find snapshot: no matching ID found for prefix "deadbeef"\n'),
    'BACKUP_SNAPSHOT_NOT_FOUND',
  );
  const other = classifyResticFailure(
    { code: 1, stderr: 'Fatal: unable to open repo at rest:https://me:hunter2@host/r: 500\n' },
    'x',
  );
  assert.is(other.code, 'BACKUP_TOOL_FAILED');
  assert.not.match(other.message, /hunter2/);

  const log = (msgid: string, message = 'secret-free text'): string =>
    `${JSON.stringify({ type: 'log_message', levelname: 'ERROR', name: 'borg.archiver', message, msgid })}\n`;
  const borg = (stderr: string) => classifyBorgFailure({ code: 2, stderr }, 'a1').code;
  assert.is(borg(log('PassphraseWrong')), 'BACKUP_PASSWORD');
  assert.is(borg(log('Repository.DoesNotExist')), 'BACKUP_REPOSITORY_NOT_FOUND');
  assert.is(borg(log('Repository.InvalidRepository')), 'BACKUP_REPOSITORY_NOT_FOUND');
  assert.is(borg(log('Archive.DoesNotExist')), 'BACKUP_SNAPSHOT_NOT_FOUND');
  assert.is(borg(log('LockTimeout')), 'BACKUP_REPOSITORY_LOCKED');
  assert.is(
    borg(
      'can not acquire a passphrase: BORG_PASSPHRASE is not set. BORG_PASSCOMMAND is not set. Interactive password query failed.\n',
    ),
    'BACKUP_PASSWORD',
  );
  const aborted = classifyBorgFailure(
    { code: 2, stderr: log('Cache.RepositoryAccessAborted') },
    'a1',
  );
  assert.is(aborted.code, 'BACKUP_TOOL_FAILED');
  assert.match(aborted.message, /BORG_RELOCATED_REPO_ACCESS_IS_OK/);
  const unknown = classifyBorgFailure(
    { code: 2, stderr: log('Some.NewError', 'pw=hunter2') },
    'a1',
  );
  assert.equal(
    [unknown.code, unknown.message],
    ['BACKUP_TOOL_FAILED', 'borg failed (exit 2): Some.NewError'],
  );
});

test('createLossyNameResolver: a lossy path listed again is another member; what is under a renamed directory follows it', () => {
  const resolve = createLossyNameResolver('\ufffd');
  const listing: Array<[string, boolean]> = [
    ['d', true],
    ['d/ok', false],
    ['d/bad\ufffd', false],
    ['d/bad\ufffd', false],
    ['d/x\ufffd', true],
    ['d/x\ufffd/a', false],
    ['d/x\ufffd/sub', true],
    ['d/x\ufffd/sub/f', false],
    ['d/x\ufffd', true],
    ['d/x\ufffd/a', false],
    ['d/x\ufffd/sub', true],
    ['d/x\ufffd/sub/f', false],
    ['d/y', false],
  ];
  assert.equal(
    listing.map(([p, dir]) => resolve(p, dir)),
    [
      'd',
      'd/ok',
      'd/bad\ufffd',
      'd/bad\ufffd\ufffd2',
      'd/x\ufffd',
      'd/x\ufffd/a',
      'd/x\ufffd/sub',
      'd/x\ufffd/sub/f',
      'd/x\ufffd\ufffd2',
      'd/x\ufffd\ufffd2/a',
      'd/x\ufffd\ufffd2/sub',
      'd/x\ufffd\ufffd2/sub/f',
      'd/y',
    ],
  );
});

test('safeExcerpt: first line, URL credentials and secret variables blanked, bounded', () => {
  assert.is(
    safeExcerpt('\nFatal: rest:https://u:pw@h/r failed: hunter22\nmore', {
      RESTIC_PASSWORD: 'hunter22',
    }),
    'Fatal: rest:https://***@h/r failed: ***',
  );
  assert.is(safeExcerpt('x'.repeat(400)).length, 160);
  // A password the user did not percent-encode: a '/' or an '@' in it is still blanked whole.
  assert.is(
    safeExcerpt('Fatal: unable to open repository at rest:http://u:Pa/ss@h:8000/r: 401', {}),
    'Fatal: unable to open repository at rest:http://***@h:8000/r: 401',
  );
  assert.is(
    safeExcerpt('Fatal: parse "sftp://u:p@ss@h/r": bad', {}),
    'Fatal: parse "sftp://***@h/r": bad',
  );
});

test('classifyResticFailure: a repository location restic cannot parse quotes none of it (Go quotes a piece of the password as the "port")', () => {
  const error = classifyResticFailure(
    {
      code: 1,
      stderr:
        'Fatal: parsing repository location failed: url.Parse: parse "http://user:Hunt/er2Pass@127.0.0.1:9/": invalid port ":Hunt" after host\n',
    },
    'latest',
  );
  assert.is(error.code, 'BACKUP_REPOSITORY_NOT_FOUND');
  assert.not.match(error.message, /Hunt|er2Pass/);
  assert.match(error.message, /RESTIC_REPOSITORY/);
});

test('createLineSplitter: lines across chunks, the last one without a newline', () => {
  const lines: string[] = [];
  const splitter = createLineSplitter((line) => {
    lines.push(line);
  });
  for (const chunk of ['{"a":', '1}\n{"b"', ':2}\n\n{"c":3}\n{"d"', ':4}']) splitter.push(chunk);
  splitter.end();
  assert.equal(lines, ['{"a":1}', '{"b":2}', '{"c":3}', '{"d":4}']);
});

test('runBackupTool: a tool not installed is BACKUP_TOOL_MISSING naming the Debian package', async () => {
  let error: { code?: string; message?: string } = {};
  try {
    await runBackupTool('borg', ['--version'], { command: 'restoreplan-no-such-borg' });
  } catch (caught) {
    error = caught as typeof error;
  }
  assert.is(error.code, 'BACKUP_TOOL_MISSING');
  assert.match(error.message ?? '', /apt-get install borgbackup/);
  assert.is(
    await rejectionCode(runBackupTool('restic', [], { command: 'restoreplan-no-such-restic' })),
    'BACKUP_TOOL_MISSING',
  );
});

test("runBackupTool --relay (restic): stdout through cat, the tool's own exit status, a missing tool", async () => {
  let out = '';
  const exit = await runBackupTool('restic', ['-c', 'echo "a b"; echo err >&2; exit 5', 'x'], {
    command: 'sh',
    relay: true,
    onStdout: (text) => {
      out += text;
    },
  });
  assert.equal([out, exit.code, exit.stderr], ['a b\n', 5, 'err\n']);
  assert.is(
    await rejectionCode(
      runBackupTool('restic', ['snapshots'], {
        command: 'restoreplan-no-such-restic',
        relay: true,
      }),
    ),
    'BACKUP_TOOL_MISSING',
  );
});

test('runBackupTool: no terminal, stdin closed, the environment passed through', async () => {
  let out = '';
  process.env.RP_TEST_VAR = 'passed-through';
  const exit = await runBackupTool(
    'restic',
    ['-c', 'test -t 0 || echo no-tty; tty || true; echo "$RP_TEST_VAR"; cat'],
    {
      command: 'sh',
      onStdout: (text) => {
        out += text;
      },
    },
  ).catch((error: unknown) => ({ error }));
  delete process.env.RP_TEST_VAR;
  assert.ok(!('error' in exit), String((exit as { error?: unknown }).error));
  assert.is(out, 'no-tty\nnot a tty\npassed-through\n');
});

test('redactSource: no password of a repository URL is written down; the rest stays', () => {
  assert.is(
    redactSource('borg:ssh://backup:s3cr3t@host.example:2222/./repo::a1'),
    'borg:ssh://backup@host.example:2222/./repo::a1',
  );
  assert.is(
    redactSource('borg:ssh://backup@host/repo::a1'),
    'borg:ssh://backup@host/repo::a1',
    'no password: as it is',
  );
  assert.is(redactSource('borg:/srv/borg::host-2026-12-01'), 'borg:/srv/borg::host-2026-12-01');
  assert.is(redactSource('restic:latest'), 'restic:latest');
  assert.is(redactSource('borg:sftp://u:p%40ss@h/r::a'), 'borg:sftp://u@h/r::a');
  // An '@' the user did not percent-encode: the password is blanked whole, not up to it.
  assert.is(redactSource('borg:ssh://u:Pa@ss@h/r::a'), 'borg:ssh://u@h/r::a');
  assert.is(redactSource('borg:ssh://h:22/srv/x@y/r::a@b'), 'borg:ssh://h:22/srv/x@y/r::a@b');
});

test('index refuses a restic:/borg: source (nothing for an index to save), without the password', () => {
  let caught: unknown = null;
  try {
    refuseToolSource('borg:ssh://u:pw-1234@h/r::a', 'index');
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof Error);
  assert.is((caught as { code?: string }).code, 'BACKUP_SOURCE_UNSUPPORTED');
  assert.not.ok((caught as Error).message.includes('pw-1234'));
  assert.not.ok(JSON.stringify((caught as { details?: unknown }).details).includes('pw-1234'));
  refuseToolSource('/srv/backup.tar', 'index');
});

test.run();
