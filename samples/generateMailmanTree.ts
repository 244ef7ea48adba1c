/**
 * Generates a realistic Mailman 2.1 var dir, deterministically from a seed: list configs as
 * cPickle protocol 1 (see writeCPickle.ts), config.pck.last from the save before, request.pck
 * and pending.pck, pipermail archives (one HTML file per post in per-month dirs, indexes,
 * attachments), the .mbox, public-archive symlinks, queue files (two protocol-0 pickles back to
 * back), held messages, logs, lock files hard-linked to their claim file as LockFile does.
 */
import { createHash } from 'node:crypto';
import { link, mkdir, symlink, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';

import {
  dict,
  float,
  tuple,
  u,
  writeCPickle,
  PyObjectOut,
  PyStrObject,
  type PyOut,
} from './writeCPickle.js';

/** Attribute names are interned in Python: one object across all _BounceInfo instances. */
const BOUNCE_ATTRS = Object.fromEntries(
  ['member', 'score', 'date', 'noticesleft', 'lastnotice', 'cookie'].map((name) => [
    name,
    new PyStrObject(name),
  ]),
) as Record<'member' | 'score' | 'date' | 'noticesleft' | 'lastnotice' | 'cookie', PyStrObject>;

export interface ListSpec {
  name: string;
  members?: number;
  posts?: number;
}

export interface GenerateOptions {
  lists?: Array<string | ListSpec>;
  /** Members per list when a list does not say (a big list gives batches of 1000). */
  members?: number;
  postsPerList?: number;
  /** Files spread over the queues (most in `in`), mtimes over the last `queueSpreadHours`. */
  queueFiles?: number;
  queueSpreadHours?: number;
  seed?: number;
  now?: Date;
  /** Write data/master-qrunner.pid with this pid. */
  runningPid?: number;
  /** Lock files to create: `locks/<list>.lock` hard-linked to its claim file naming host and pid. */
  locks?: Array<{ list: string; pid: number; host?: string; expiresInSeconds?: number }>;
  /** Make archives/public/<list> absolute symlinks as Mailman does (default: relative). */
  absoluteSymlinks?: boolean;
}

export interface GeneratedTree {
  root: string;
  lists: string[];
  files: number;
  queueFiles: number;
}

export const DEFAULT_LISTS = ['mailman', 'announce', 'users', 'devel', 'board', 'support'];
export const QUEUES = [
  'in',
  'out',
  'bounces',
  'virgin',
  'shunt',
  'archive',
  'commands',
  'news',
  'retry',
  'bad',
];
export const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];
const WORDS =
  'the list server mail config restore backup inode queue archive member digest bounce moderator subject thread reply meeting agenda release patch build test notes minutes question answer'.split(
    ' ',
  );

/** mulberry32: small, fast, deterministic. */
export function makeRandom(seed: number): {
  next: () => number;
  int: (n: number) => number;
  pick: <T>(a: readonly T[]) => T;
} {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number): number => Math.floor(next() * n);
  return { next, int, pick: (a) => a[int(a.length)] as (typeof a)[number] };
}

type Random = ReturnType<typeof makeRandom>;

function sentence(rng: Random, words: number): string {
  const out: string[] = [];
  for (let i = 0; i < words; i++) out.push(rng.pick(WORDS));
  const text = out.join(' ');
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function memberAddress(list: string, i: number): string {
  return `user${i}.${list}@example.${['org', 'com', 'net'][i % 3]}`;
}

/** The attribute dict Mailman's MailList.__save pickles, with realistic keys and shapes. */
export function makeListConfig(
  name: string,
  options: { members: number; rng: Random; now: Date; version?: number },
): Map<PyOut, PyOut> {
  const { rng, now } = options;
  const t = now.getTime() / 1000;
  const addrs = Array.from({ length: options.members }, (_, i) => memberAddress(name, i));
  const digestCut = Math.floor(addrs.length * 0.1);
  const regular = addrs.slice(digestCut);
  const digest = addrs.slice(0, digestCut);
  const bouncing = addrs.filter((_, i) => i % 17 === 3);
  const sha = (text: string): string => createHash('sha1').update(text).digest('hex');
  return dict([
    ['real_name', name.charAt(0).toUpperCase() + name.slice(1)],
    ['host_name', 'lists.example.org'],
    ['web_page_url', 'http://lists.example.org/mailman/'],
    ['description', `${sentence(rng, 4)}`],
    ['info', sentence(rng, 30)],
    ['subject_prefix', `[${name}] `],
    ['owner', [`${name}-admin@example.org`, 'postmaster@example.org']],
    ['moderator', [`moderator@example.org`]],
    ['preferred_language', 'en'],
    ['available_languages', ['en']],
    ['members', dict(regular.map((a) => [a, 0]))],
    ['digest_members', dict(digest.map((a) => [a, 0]))],
    ['passwords', dict(addrs.map((a) => [a, sha(a).slice(0, 8)]))],
    ['user_options', dict(addrs.filter((_, i) => i % 5 === 0).map((a) => [a, 264]))],
    ['language', dict(addrs.filter((_, i) => i % 7 === 0).map((a) => [a, 'en']))],
    [
      'usernames',
      dict(addrs.filter((_, i) => i % 2 === 0).map((a, i) => [a, u(`Member N\u00famero ${i}`)])),
    ],
    [
      'bounce_info',
      dict(
        bouncing.map((a, i) => [
          a,
          new PyObjectOut(
            'Mailman.Bouncer',
            '_BounceInfo',
            dict([
              [BOUNCE_ATTRS.member, a],
              [BOUNCE_ATTRS.score, float(1 + (i % 4))],
              [BOUNCE_ATTRS.date, tuple(now.getUTCFullYear(), now.getUTCMonth() + 1, 1 + (i % 28))],
              [BOUNCE_ATTRS.noticesleft, 3],
              [BOUNCE_ATTRS.lastnotice, tuple(1970, 1, 2)],
              [BOUNCE_ATTRS.cookie, null],
            ]),
          ),
        ]),
      ),
    ],
    ['delivery_status', dict(bouncing.slice(0, 2).map((a) => [a, tuple(3, float(t - 86400 * 3))]))],
    ['topics', [tuple('releases', 'release|version', 'Release announcements', false)]],
    ['topics_enabled', 0],
    ['topics_bodylines_limit', 5],
    ['topics_userinterest', dict([])],
    ['hold_and_cmd_autoresponses', dict([])],
    ['accept_these_nonmembers', []],
    ['hold_these_nonmembers', []],
    ['reject_these_nonmembers', []],
    ['discard_these_nonmembers', []],
    ['ban_list', ['^.*@spam\\.example$']],
    ['pass_mime_types', ['multipart/mixed', 'multipart/alternative', 'text/plain']],
    ['filter_mime_types', []],
    ['header_filter_rules', []],
    ['msg_header', ''],
    [
      'msg_footer',
      `_______________________________________________\n${name} mailing list\n${name}@lists.example.org\n%(web_page_url)slistinfo%(cgiext)s/%(_internal_name)s\n`,
    ],
    ['digest_header', ''],
    ['digest_footer', `_______________________________________________\n${name} mailing list\n`],
    ['reply_goes_to_list', 0],
    ['reply_to_address', ''],
    ['first_strip_reply_to', 0],
    ['administrivia', 1],
    ['send_reminders', 1],
    ['send_welcome_msg', true],
    ['send_goodbye_msg', true],
    ['max_message_size', 40],
    ['max_num_recipients', 10],
    ['admin_immed_notify', 1],
    ['admin_notify_mchanges', 0],
    ['archive', 1],
    ['archive_private', 1],
    ['archive_volume_frequency', 1],
    ['advertised', 1],
    ['subscribe_policy', 1],
    ['unsubscribe_policy', 0],
    ['private_roster', 1],
    ['obscure_addresses', 1],
    ['generic_nonmember_action', 1],
    ['member_moderation_action', 0],
    ['default_member_moderation', 0],
    ['digestable', 1],
    ['nondigestable', 1],
    ['digest_is_default', 0],
    ['mime_is_default_digest', 0],
    ['digest_size_threshhold', 30],
    ['digest_send_periodic', 1],
    ['next_digest_number', 1 + rng.int(40)],
    ['volume', 1 + rng.int(12)],
    ['bounce_processing', 1],
    ['bounce_score_threshold', float(5)],
    ['bounce_info_stale_after', 7],
    ['bounce_you_are_disabled_warnings', 3],
    ['bounce_you_are_disabled_warnings_interval', 7],
    ['include_rfc2369_headers', 1],
    ['include_list_post_header', 1],
    ['personalize', 0],
    ['new_member_options', 256],
    ['data_version', 110],
    ['created_at', float(t - 86400 * (400 + rng.int(2000)))],
    ['last_post_time', float(t - rng.int(86400))],
    ['post_id', 1000 + rng.int(50000) + (options.version ?? 0)],
    ['password', sha(`${name}-owner`)],
    ['mod_password', sha(`${name}-moderator`)],
    ['emergency', 0],
    ['encode_ascii_prefixes', 0],
    ['scrub_nondigest', false],
    ['dmarc_moderation_action', 0],
  ]);
}

/** A message as Mailman queues it: RFC 2822 text. */
function makeMessage(rng: Random, list: string, index: number, date: Date): string {
  return [
    `From user${index}@example.com  ${date.toUTCString()}`,
    `Return-Path: <user${index}@example.com>`,
    `From: User ${index} <user${index}@example.com>`,
    `To: ${list}@lists.example.org`,
    `Subject: ${sentence(rng, 4)}`,
    `Date: ${date.toUTCString()}`,
    `Message-ID: <${index}.${list}.${date.getTime()}@example.com>`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset="us-ascii"',
    '',
    ...Array.from({ length: 3 + rng.int(8) }, () => sentence(rng, 8 + rng.int(8))),
    '',
  ].join('\n');
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export async function generateMailmanTree(
  root: string,
  options: GenerateOptions = {},
): Promise<GeneratedTree> {
  const rng = makeRandom(options.seed ?? 1);
  const now = options.now ?? new Date('2024-06-15T12:00:00Z');
  const nowSec = now.getTime() / 1000;
  const specs: ListSpec[] = (options.lists ?? DEFAULT_LISTS).map((l) =>
    typeof l === 'string' ? { name: l } : l,
  );
  let files = 0;
  const touched: Array<[string, number]> = [];
  const write = async (
    file: string,
    data: string | Buffer,
    mtimeSec = nowSec - 3600,
  ): Promise<void> => {
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, data);
    touched.push([file, mtimeSec]);
    files++;
  };

  for (const dir of [
    'lists',
    'archives/private',
    'archives/public',
    'qfiles',
    'data',
    'locks',
    'logs',
    'spam',
  ]) {
    await mkdir(path.join(root, dir), { recursive: true });
  }

  for (const spec of specs) {
    const members = spec.members ?? options.members ?? 40 + rng.int(200);
    const listDir = path.join(root, 'lists', spec.name);
    // config.pck.last is the save before: the same list one member short.
    const previous = makeListConfig(spec.name, {
      members: Math.max(0, members - 1),
      rng: makeRandom(rng.int(1 << 30)),
      now,
      version: 0,
    });
    const current = makeListConfig(spec.name, {
      members,
      rng: makeRandom(rng.int(1 << 30)),
      now,
      version: 1,
    });
    await write(path.join(listDir, 'config.pck.last'), writeCPickle(previous, 1), nowSec - 7200);
    await write(path.join(listDir, 'config.pck'), writeCPickle(current, 1), nowSec - 3600);
    await write(
      path.join(listDir, 'request.pck'),
      writeCPickle(dict([['version', tuple(0, 1)]]), 1),
    );
    await write(
      path.join(listDir, 'pending.pck'),
      writeCPickle(
        dict([
          ['evictions', dict([])],
          ['version', 2],
        ]),
        0,
      ),
    );

    // Pipermail: one HTML file per post in per-month dirs, indexes, attachments, the mbox.
    const posts = spec.posts ?? options.postsPerList ?? 40;
    const archive = path.join(root, 'archives', 'private', spec.name);
    const mbox: string[] = [];
    const months = new Map<string, string[]>();
    for (let i = 0; i < posts; i++) {
      const date = new Date(
        now.getTime() - Math.floor(((posts - i) / posts) * 86400 * 1000 * 120) - rng.int(3600_000),
      );
      const month = `${date.getUTCFullYear()}-${MONTHS[date.getUTCMonth()]}`;
      const message = makeMessage(rng, spec.name, i, date);
      mbox.push(message);
      const number = String(i + 1).padStart(6, '0');
      const subject = /^Subject: (.*)$/m.exec(message)?.[1] ?? '';
      await write(
        path.join(archive, month, `${number}.html`),
        `<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 3.2//EN">\n<HTML><HEAD><TITLE> [${spec.name}] ${escapeHtml(subject)}</TITLE></HEAD>\n<BODY><H1>[${spec.name}] ${escapeHtml(subject)}</H1>\n<PRE>${escapeHtml(message.split('\n\n').slice(1).join('\n\n'))}</PRE>\n</BODY></HTML>\n`,
        date.getTime() / 1000,
      );
      if (!months.has(month)) months.set(month, []);
      months.get(month)?.push(`<LI><A HREF="${number}.html">${escapeHtml(subject)}</A>`);
      if (i % 10 === 9) {
        const stamp = date.toISOString().slice(0, 10).replace(/-/g, '');
        const hash = createHash('md5').update(message).digest('hex');
        await write(
          path.join(archive, 'attachments', stamp, hash, 'attachment.bin'),
          Buffer.alloc(512 + rng.int(4096), i),
          date.getTime() / 1000,
        );
      }
    }
    for (const [month, items] of months) {
      for (const index of ['date', 'thread', 'subject', 'author']) {
        await write(
          path.join(archive, month, `${index}.html`),
          `<HTML><BODY><UL>\n${items.join('\n')}\n</UL></BODY></HTML>\n`,
        );
      }
      await write(
        path.join(archive, `${month}.txt`),
        mbox.filter((m) => m.includes(month.split('-')[1]?.slice(0, 3) ?? '')).join('\n'),
      );
    }
    await write(
      path.join(archive, 'index.html'),
      `<HTML><BODY>${[...months.keys()].map((m) => `<A HREF="${m}/thread.html">${m}</A>`).join('\n')}</BODY></HTML>\n`,
    );
    await write(
      path.join(root, 'archives', 'private', `${spec.name}.mbox`, `${spec.name}.mbox`),
      mbox.join('\n'),
    );
    const publicLink = path.join(root, 'archives', 'public', spec.name);
    await symlink(
      options.absoluteSymlinks ? path.resolve(archive) : path.join('..', 'private', spec.name),
      publicLink,
    );
    files++;
    await write(
      path.join(root, 'data', `heldmsg-${spec.name}-${1 + rng.int(50)}.pck`),
      writeCPickle(makeMessage(rng, spec.name, 9999, now), 1),
    );
  }

  // Queue files: Switchboard.enqueue writes the message text and the metadata dict as two
  // protocol-0 pickles into <time>+<sha1>.pck.
  const queueFiles = options.queueFiles ?? 30;
  const spreadSec = (options.queueSpreadHours ?? 3) * 3600;
  for (let i = 0; i < queueFiles; i++) {
    const queue = i % 4 === 0 ? rng.pick(QUEUES) : 'in';
    const list = (specs[i % Math.max(1, specs.length)] as ListSpec | undefined)?.name ?? 'mailman';
    const when = nowSec - ((i + 0.5) / queueFiles) * spreadSec;
    const text = makeMessage(rng, list, i, new Date(when * 1000));
    const meta = dict([
      ['_parsemsg', false],
      ['listname', list],
      ['received_time', float(when)],
      ['tolist', 1],
      ['version', 3],
    ]);
    const base = `${when.toFixed(6)}+${createHash('sha1').update(`${i}:${text}`).digest('hex')}`;
    await write(
      path.join(root, 'qfiles', queue, `${base}.pck`),
      Buffer.concat([writeCPickle(text, 0), writeCPickle(meta, 0)]),
      when,
    );
  }
  for (const queue of QUEUES) await mkdir(path.join(root, 'qfiles', queue), { recursive: true });

  await write(path.join(root, 'logs', 'error'), `${now.toUTCString()} mailmanctl(1): started\n`);
  await write(
    path.join(root, 'logs', 'post'),
    specs
      .map(
        (s) =>
          `${now.toUTCString()} (1) post to ${s.name} from user1@example.com, size=1234, success\n`,
      )
      .join(''),
  );
  await write(
    path.join(root, 'logs', 'qrunner'),
    `${now.toUTCString()} (1) Master qrunner detected subprocess exit\n`,
  );

  if (options.runningPid !== undefined)
    await write(path.join(root, 'data', 'master-qrunner.pid'), `${options.runningPid}\n`);
  for (const lock of options.locks ?? []) {
    // LockFile: the claim file names itself; the lock file is a hard link to it (nlink 2) whose
    // mtime is when the lock expires.
    const lockFile = path.join(root, 'locks', `${lock.list}.lock`);
    const claim = `${lockFile}.${lock.host ?? 'localhost'}.${lock.pid}.${rng.int(1 << 30)}`;
    await write(claim, claim, nowSec + (lock.expiresInSeconds ?? 900));
    await link(claim, lockFile);
  }

  for (const [file, mtime] of touched) await utimes(file, mtime, mtime);
  return { root, lists: specs.map((s) => s.name), files, queueFiles };
}
