/**
 * Real Exim 4 and Postfix for the MTA-spool tests (issue 16), unpacked by
 * scripts/install-test-tools.sh into /opt/restoreplan-test (neither is installed as the
 * system MTA: their packages conflict and would start daemons). Each test runs them with a
 * private configuration and a spool on its own filesystem, queue-only: Exim with
 * `queue_only`, Postfix with `defer_transports = smtp` and no listener, and the only route a
 * TEST-NET address (192.0.2.1) that nothing ever connects to.
 */
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statfsSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { missingNeeds, run } from './env.js';
import { MOUNT_TOOLS } from './mountFs.js';

export const MTA_PREFIX = '/opt/restoreplan-test';
export const EXIM_BINARY = `${MTA_PREFIX}/exim4/usr/sbin/exim4`;
export const POSTFIX_PREFIX = `${MTA_PREFIX}/postfix`;
const POSTFIX_BIN = `${POSTFIX_PREFIX}/usr/sbin`;

function hasAccount(kind: 'passwd' | 'group', name: string): boolean {
  return spawnSync('getent', [kind, name], { stdio: 'ignore' }).status === 0;
}

/** Why the real-MTA tests cannot run here, or null. */
export function missingMtaNeeds(kind: 'exim' | 'postfix'): string | null {
  const why = missingNeeds({ root: true, tools: ['getent', ...MOUNT_TOOLS.ext4] });
  if (why) return why;
  if (kind === 'exim') {
    if (!existsSync(EXIM_BINARY)) return `needs ${MTA_PREFIX}/exim4`;
    if (!hasAccount('passwd', 'Debian-exim')) return 'needs the Debian-exim user';
  } else {
    if (!existsSync(`${POSTFIX_BIN}/postconf`)) return `needs ${MTA_PREFIX}/postfix`;
    if (!hasAccount('passwd', 'postfix') || !hasAccount('group', 'postdrop'))
      return 'needs the postfix user and the postdrop group';
  }
  return null;
}

export interface TestMessage {
  text: string;
  bytes: number;
  headerBytes: number;
  lines: number;
}

/**
 * A message of about `bodyBytes`, shaped like the research's: 4 headers, 76-character lines.
 * The Message-ID varies per call, as it would per message; its length does not.
 */
export function makeTestMessage(bodyBytes: number, serial = 0): TestMessage {
  const headers =
    'From: list-bounces@example.invalid\n' +
    'To: someone@example.invalid\n' +
    'Subject: test message\n' +
    `Message-ID: <${String(serial).padStart(10, '0')}@example.invalid>\n`;
  const lines: string[] = [];
  for (let left = bodyBytes; left > 0; left -= 76) lines.push('x'.repeat(Math.min(76, left)));
  const text = `${headers}\n${lines.join('\n')}\n`;
  return {
    text,
    bytes: Buffer.byteLength(text),
    headerBytes: Buffer.byteLength(headers),
    lines: text.split('\n').length - 1,
  };
}

/** Used blocks and inodes of the filesystem at `dir`, as `df` and `df -i` count them. */
export function usedOnFs(dir: string): { blocks: number; inodes: number; blockSize: number } {
  spawnSync('sync', ['-f', dir]);
  const s = statfsSync(dir);
  return { blocks: s.blocks - s.bfree, inodes: s.files - s.ffree, blockSize: s.bsize };
}

/** Subdirectories of `dir` (none when it does not exist). */
export function countSubdirectories(dir: string): number {
  if (!existsSync(dir)) return 0;
  return readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).length;
}

/** Regular files below `dir`, recursively. */
export function countFiles(dir: string): number {
  if (!existsSync(dir)) return 0;
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) n += countFiles(path.join(dir, e.name));
    else if (e.isFile()) n++;
  }
  return n;
}

/**
 * The MTA's daemons (running as Debian-exim or postfix) must reach a spool under the test's
 * scratch directories, which mkdtemp makes 0700.
 */
export function openPathTo(dir: string): void {
  const tmp = os.tmpdir();
  for (let d = dir; d.startsWith(`${tmp}/`); d = path.dirname(d)) chmodSync(d, 0o755);
}

function writeWrapper(dir: string, name: string, target: string, args: string[]): void {
  mkdirSync(dir, { recursive: true });
  const quoted = [target, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  writeFileSync(path.join(dir, name), `#!/bin/sh\nexec ${quoted} "$@"\n`, { mode: 0o755 });
}

export interface TestExim {
  config: string;
  spool: string;
  /** A directory holding an `exim4` wrapper that runs the private binary with this config. */
  wrapperDir: string;
  submit(message: TestMessage): void;
}

/** A private Exim, queue-only, its spool at `spool` (created, owned by Debian-exim). */
export function setUpExim(
  scratch: string,
  spool: string,
  options: { split: boolean; messageLogs?: boolean },
): TestExim {
  mkdirSync(spool, { recursive: true });
  run('chown', ['Debian-exim:Debian-exim', spool]);
  const logs = path.join(scratch, 'exim-log');
  mkdirSync(logs, { recursive: true });
  run('chown', ['Debian-exim', logs]);
  openPathTo(logs);
  openPathTo(spool);
  const config = path.join(scratch, 'exim.conf');
  writeFileSync(
    config,
    [
      `spool_directory = ${spool}`,
      `log_file_path = ${logs}/%slog`,
      'primary_hostname = test.invalid',
      'queue_only = true',
      `split_spool_directory = ${options.split}`,
      `message_logs = ${options.messageLogs ?? true}`,
      // Silences "purging the environment", which also tries to log.
      'keep_environment =',
      'begin routers',
      'smarthost:',
      '  driver = manualroute',
      '  route_list = * 192.0.2.1',
      '  transport = remote_smtp',
      'begin transports',
      'remote_smtp:',
      '  driver = smtp',
      '',
    ].join('\n'),
  );
  const wrapperDir = path.join(scratch, 'exim-bin');
  writeWrapper(wrapperDir, 'exim4', EXIM_BINARY, ['-C', config]);
  return {
    config,
    spool,
    wrapperDir,
    submit(message) {
      run(
        EXIM_BINARY,
        [
          '-C',
          config,
          '-odq',
          '-i',
          '-f',
          'list-bounces@example.invalid',
          'someone@example.invalid',
        ],
        { input: message.text },
      );
    },
  };
}

export interface TestPostfix {
  confDir: string;
  queue: string;
  /** A directory holding a `postconf` wrapper that reads this configuration. */
  wrapperDir: string;
  submit(message: TestMessage): void;
  start(): void;
  /** Stops master if this helper started it; safe to call twice. */
  stop(): void;
  /** Waits until `n` messages sit in deferred/ with their defer logs, and nothing in flight. */
  waitDeferred(n: number): Promise<void>;
  postsuper(args: string[]): void;
  postqueue(args: string[]): string;
}

/**
 * A private Postfix whose queue directory is `queue`, with every smtp delivery deferred and no
 * listener. `postfix check` creates the queue directories; `start()` runs master.
 */
export function setUpPostfix(scratch: string, queue: string): TestPostfix {
  const confDir = path.join(scratch, 'pf-conf');
  const data = path.join(scratch, 'pf-data');
  const logs = path.join(scratch, 'pf-log');
  for (const d of [confDir, data, logs, queue]) mkdirSync(d, { recursive: true });
  chownSync(data, Number(run('id', ['-u', 'postfix']).trim()), -1);
  run('chown', ['postfix', logs]);
  openPathTo(logs);
  openPathTo(queue);
  copyFileSync(
    path.join(POSTFIX_PREFIX, 'usr/share/postfix/master.cf.dist'),
    path.join(confDir, 'master.cf'),
  );
  writeFileSync(path.join(confDir, 'main.cf'), '');
  const postconf = (args: string[]): string =>
    run(`${POSTFIX_BIN}/postconf`, ['-c', confDir, ...args]);
  postconf([
    '-e',
    `queue_directory = ${queue}`,
    `data_directory = ${data}`,
    `command_directory = ${POSTFIX_BIN}`,
    `daemon_directory = ${POSTFIX_PREFIX}/usr/lib/postfix/sbin`,
    `meta_directory = ${POSTFIX_PREFIX}/etc/postfix`,
    `shlib_directory = ${POSTFIX_PREFIX}/usr/lib/postfix`,
    `sendmail_path = ${POSTFIX_BIN}/sendmail`,
    'mail_owner = postfix',
    'setgid_group = postdrop',
    'compatibility_level = 3.6',
    'myhostname = test.invalid',
    'mydomain = test.invalid',
    'mydestination =',
    'inet_interfaces = loopback-only',
    'inet_protocols = ipv4',
    'alias_maps =',
    'alias_database =',
    'local_recipient_maps =',
    'default_transport = smtp',
    'defer_transports = smtp',
    'relayhost = [192.0.2.1]',
    // Postfix logs to syslog otherwise; a file keeps the test's noise off the host's log.
    `maillog_file = ${logs}/maillog`,
    `maillog_file_prefixes = ${logs}`,
  ]);
  // Debian's master.cf chroots the services into the queue directory; no listener on port 25.
  postconf(['-F', '*/*/chroot = n']);
  postconf(['-M#', 'smtp/inet']);
  run(`${POSTFIX_BIN}/postfix`, ['-c', confDir, 'check']);
  const wrapperDir = path.join(scratch, 'pf-bin');
  writeWrapper(wrapperDir, 'postconf', `${POSTFIX_BIN}/postconf`, ['-c', confDir]);
  let started = false;
  const files = (d: string): number => countFiles(path.join(queue, d));
  return {
    confDir,
    queue,
    wrapperDir,
    submit(message) {
      run(
        `${POSTFIX_BIN}/sendmail`,
        ['-C', confDir, '-f', 'list-bounces@example.invalid', '-i', 'someone@example.invalid'],
        { input: message.text },
      );
    },
    start() {
      run(`${POSTFIX_BIN}/postfix`, ['-c', confDir, 'start']);
      started = true;
    },
    stop() {
      if (!started) return;
      started = false;
      const pidFile = path.join(queue, 'pid', 'master.pid');
      const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, 'latin1').trim()) : 0;
      spawnSync(`${POSTFIX_BIN}/postfix`, ['-c', confDir, 'stop'], { stdio: 'ignore' });
      // `postfix stop` signals master and returns; master and its children leave a moment
      // later, and the filesystem cannot be unmounted while they hold the queue directory.
      const deadline = Date.now() + 20_000;
      while (pid > 0 && existsSync(`/proc/${pid}`) && Date.now() < deadline)
        spawnSync('sleep', ['0.1']);
    },
    async waitDeferred(n) {
      const deadline = Date.now() + 120_000;
      while (Date.now() < deadline) {
        if (
          files('maildrop') + files('incoming') + files('active') === 0 &&
          files('deferred') === n &&
          files('defer') === n
        )
          return;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      throw new Error(
        `postfix did not settle at ${n} deferred: maildrop ${files('maildrop')} incoming ${files('incoming')} active ${files('active')} deferred ${files('deferred')} defer ${files('defer')}`,
      );
    },
    postsuper(args) {
      // postsuper logs as postfix and may complain about its log file; the work is what counts.
      spawnSync(`${POSTFIX_BIN}/postsuper`, ['-c', confDir, ...args], { stdio: 'ignore' });
    },
    postqueue(args) {
      return spawnSync(`${POSTFIX_BIN}/postqueue`, ['-c', confDir, ...args]).stdout.toString();
    },
  };
}
