/**
 * The Mailman profile's selection: which lists need restoring (diagnosed on disk), and for each
 * the members to restore from the archive — the newest valid copy of its config, its list
 * directory when it is gone, list state and archives when asked. The drafts go through the same
 * placement, pricing and verdict as any other selection.
 */
import path from 'node:path';

import { copyEntry, type ArchiveEntry } from '../archive/ArchiveEntry.js';
import type { WalkResult } from '../archive/walkArchive.js';
import { RestoreplanError } from '../errors.js';
import { diagnoseMailman, type DoctorReport } from '../mailman/diagnoseMailman.js';
import { makeProblem, type Problem } from '../problems.js';
import type { CommonOptions } from '../progress.js';
import type { PlanDocument, PlanList } from '../types.js';
import { chooseConfigSource, lastValidCopy } from './chooseConfigSource.js';
import { collectMailmanMembers } from './collectMailmanMembers.js';
import { normalizeMemberRoot, relativeToRoot } from './memberRoot.js';
import type { Draft } from './placeDrafts.js';
import type { GrowthAllowance } from './reservePolicy.js';
import { isListDown, selectListNames } from './selectListNames.js';

/** The problem that names a list left down. */
const DOWN_PROBLEM = {
  corrupt: 'list-corrupt',
  lost: 'list-lost',
  missing: 'list-missing',
} as const;

export interface MailmanSelectOptions extends CommonOptions {
  lists?: string[];
  includeDegraded?: boolean;
  withState?: boolean;
  withArchives?: boolean;
  memberRoot?: string;
  growthWindowHours?: number;
  now?: Date;
}

/** What a selection hands to placement, pricing and the verdict. */
export interface RestoreSelection {
  walk: WalkResult;
  /** The directory the member root maps onto (Mailman: the var dir). */
  targetRoot: string;
  drafts: Draft[];
  lists: PlanList[];
  problems: Problem[];
  mailman: PlanDocument['mailman'];
  /** What the live system takes meanwhile, on the target's filesystem (null: nothing known). */
  growth: GrowthAllowance | null;
}

export async function selectMailmanLists(
  archive: string | NodeJS.ReadableStream,
  target: string,
  options: MailmanSelectOptions,
): Promise<RestoreSelection> {
  const report: DoctorReport = await diagnoseMailman(target, {
    ...(options.now ? { now: options.now } : {}),
    ...(options.growthWindowHours !== undefined
      ? { growthWindowHours: options.growthWindowHours }
      : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const varDir = report.root;
  const onDisk = new Map(report.lists.map((list) => [list.name, list]));
  const wanted = selectListNames(report.lists, {
    ...(options.lists ? { lists: options.lists } : {}),
    ...(options.includeDegraded !== undefined ? { includeDegraded: options.includeDegraded } : {}),
  });
  // A list that is gone as a whole (lost: no config file; missing: no directory) is restored
  // whole: its request.pck and pending.pck come back with it, not only on --with-state.
  const whole = new Set(
    [...wanted].filter((name) => {
      const status = onDisk.get(name)?.status;
      return status === undefined || status === 'lost' || status === 'missing';
    }),
  );
  const collection = await collectMailmanMembers(archive, {
    lists: wanted,
    stateLists: options.withState ? wanted : whole,
    withArchives: options.withArchives ?? false,
    ...(options.memberRoot !== undefined
      ? { memberRoot: normalizeMemberRoot(options.memberRoot) }
      : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    ...(options.index !== undefined ? { index: options.index } : {}),
    targets: [varDir],
  });
  if (
    collection.root === null ||
    (options.memberRoot !== undefined && collection.archiveLists.length === 0)
  ) {
    // Even with nothing broken: a backup that holds no var dir (or a mistyped --member-root)
    // could restore nothing, and a pre-flight must not call that OK.
    throw new RestoreplanError(
      'MAILMAN_NOT_FOUND',
      options.memberRoot !== undefined
        ? `the archive holds no Mailman var dir at ${normalizeMemberRoot(options.memberRoot) || 'its root'}`
        : 'the archive holds no Mailman var dir (no lists/<name>/config.pck)',
      {
        hint: 'name the var dir inside the archive with --member-root (restoreplan scan ARCHIVE shows it), or use --profile none',
      },
    );
  }
  // A --lists name that is a list neither on disk nor in the archive is a typo: it selects
  // nothing, and a restore command at 3 a.m. must not half-run (or call that OK).
  const unknown = (options.lists ?? []).filter((name) => {
    const collected = collection.lists.get(name);
    return !onDisk.has(name) && !collected?.listDir && !collected?.files.size;
  });
  if (unknown.length > 0) {
    const known = [...new Set([...onDisk.keys(), ...collection.archiveLists])].sort();
    throw new RestoreplanError(
      'SELECTION_EMPTY',
      `--lists ${unknown.join(',')}: no such list on disk or in the archive`,
      { hint: `the lists are ${known.join(', ') || 'none'}` },
    );
  }
  const root = collection.root;
  // What the diagnosis could not read may hide a list that is down: said here as in doctor.
  const problems: Problem[] = report.problems.filter((p) => p.kind === 'alias-file-unreadable');
  const lists: PlanList[] = [];
  const drafts: Draft[] = [];
  const running = report.mailmanRunning;

  for (const list of report.lists) {
    if (wanted.has(list.name)) continue;
    lists.push({
      name: list.name,
      status: list.status,
      action: 'skip',
      reason:
        list.status === 'ok'
          ? 'config.pck loads'
          : list.status === 'degraded'
            ? `degraded: Mailman ${list.mailmanAction} (add --include-degraded to restore config.pck instead)`
            : `not selected (--lists): Mailman ${list.mailmanAction}`,
      ...(list.evidence ? { evidence: list.evidence } : {}),
    });
    // A list that stays down is never an OK plan, even when the operator chose the others.
    if (isListDown(list.status)) {
      problems.push(
        makeProblem(
          DOWN_PROBLEM[list.status as keyof typeof DOWN_PROBLEM],
          `${list.name}: stays down, not selected by --lists (Mailman ${list.mailmanAction})`,
          { list: list.name },
        ),
      );
    }
  }
  // Lists the backup holds that are neither on disk nor named by Mailman's other files: most
  // likely removed on purpose (rmlist), so never restored unasked — but always named, with the
  // way to restore one.
  for (const name of collection.archiveLists) {
    if (onDisk.has(name) || wanted.has(name)) continue;
    const reason = `in the backup, but neither on disk nor named by Mailman's files (removed with rmlist?): restore it with --lists ${name}`;
    lists.push({ name, status: 'removed', action: 'skip', reason });
    problems.push(makeProblem('list-removed', `${name}: ${reason}`, { list: name }));
  }
  // No list on disk at all is an outage, not a server whose every list was rmlist'ed: a plan
  // that restores none of them is never OK (doctor's `no-lists`), and names the way out.
  const noLists = report.problems.find((p) => p.kind === 'no-lists');
  if (noLists && wanted.size === 0) {
    const names = [...collection.archiveLists].sort();
    problems.push({
      ...noLists,
      message: `${noLists.message}; nothing is restored unasked${names.length > 0 ? `: restore them with --lists ${names.join(',')}` : ''}`,
    });
  }
  for (const name of [...wanted].sort()) {
    const disk = onDisk.get(name);
    // Not on disk and not named by Mailman's files: named with --lists (a removed list).
    const status: PlanList['status'] = disk?.status ?? 'removed';
    const evidence = disk?.evidence ? { evidence: disk.evidence } : {};
    const collected = collection.lists.get(name);
    if (disk?.locked) {
      lists.push({
        name,
        status,
        action: 'skip',
        reason: `locks/${name}.lock is held by a live process`,
        ...evidence,
      });
      problems.push(
        makeProblem(
          'list-locked',
          `${name}: its lock is held by a live process; not restored until it is released${isListDown(status) ? ', and the list stays down' : ''}`,
          // A down list that cannot be restored now keeps the outage going: critical.
          { list: name, ...(isListDown(status) ? { severity: 'critical' as const } : {}) },
        ),
      );
      continue;
    }
    const chosen = chooseConfigSource(collected?.files);
    if (!chosen) {
      const seen = [
        ...(collected?.files.get('config.pck') ?? []),
        ...(collected?.files.get('config.pck.last') ?? []),
      ];
      const why =
        seen.length === 0
          ? 'the archive has no config.pck or config.pck.last for it'
          : `no copy in the archive loads (${seen.map((c) => `${c.entry.memberPath}: ${c.detail}`).join('; ')})`;
      lists.push({ name, status, action: 'skip', reason: why, ...evidence });
      problems.push(makeProblem('no-valid-copy', `${name}: ${why}`, { list: name }));
      continue;
    }
    const source = chosen.copy;
    const listRel = `lists/${name}`;
    if (!disk || disk.status === 'missing') {
      const dirEntry = collected?.listDir ?? {
        ...copyEntry(source.entry),
        type: 'dir' as const,
        size: 0,
        storedSize: 0,
        mode: 0o2775,
      };
      drafts.push({ stage: 'configs', rel: listRel, entry: dirEntry });
    }
    drafts.push({
      stage: 'configs',
      rel: `${listRel}/config.pck`,
      entry: source.entry,
      sha256: source.sha256,
      modeFrom: path.join(varDir, listRel, 'config.pck.last'),
      // Mailman caches configs by mtime: what it loads gets the apply time while it runs.
      freshMtime: running,
    });
    const stateRestored: string[] = [];
    const stateKept: string[] = [];
    if (options.withState || whole.has(name)) {
      for (const file of ['request.pck', 'pending.pck'] as const) {
        const copy = lastValidCopy(collected?.files.get(file));
        // A state file that loads on disk is newer than the backup's: kept. A broken or
        // missing one is restored.
        const stateOnDisk = disk?.stateFiles.find((f) => f.name === file);
        if (stateOnDisk?.state === 'ok') {
          stateKept.push(file);
          continue;
        }
        if (!copy) continue;
        stateRestored.push(file);
        drafts.push({
          stage: 'state',
          rel: `${listRel}/${file}`,
          entry: copy.entry,
          sha256: copy.sha256,
          freshMtime: running,
        });
      }
    }
    const then = [
      stateRestored.length > 0 ? `, then its ${stateRestored.join(' and ')}` : '',
      whole.has(name) && stateKept.length > 0
        ? ` (${stateKept.join(' and ')} on disk ${stateKept.length === 1 ? 'loads' : 'load'}: kept)`
        : '',
    ].join('');
    lists.push({
      name,
      status,
      action: 'restore',
      source: source.entry.memberPath,
      reason: `${disk ? `Mailman ${disk.mailmanAction}` : 'not on disk (named with --lists)'}; config.pck from ${source.entry.memberPath}${chosen.fromPck ? '' : ' (the archive has no valid config.pck)'}${then}`,
      ...evidence,
    });
    if (options.withArchives) {
      // Archive pages keep the dates pipermail gave them. The last occurrence of a path wins.
      const latest = new Map<string, ArchiveEntry>();
      for (const entry of collected?.bulk ?? []) latest.set(entry.memberPath, entry);
      for (const entry of latest.values()) {
        const rel = relativeToRoot(entry.memberPath, root);
        if (rel === null || rel === '') continue;
        const draft: Draft = { stage: 'archives', rel, entry, onlyIfMissing: true };
        if (entry.type === 'hardlink') {
          const linkRel = relativeToRoot(entry.linkPath, root);
          if (linkRel === null) continue;
          draft.linkRel = linkRel;
        }
        drafts.push(draft);
      }
    }
  }
  if (running) {
    problems.push(
      makeProblem(
        'mailman-running',
        'Mailman is running: restored configs get the apply time as mtime so the qrunners reload them',
      ),
    );
  }
  return {
    walk: collection.walk,
    targetRoot: varDir,
    drafts,
    lists,
    problems,
    growth: {
      inflowPerHour: report.queueInflowPerHour,
      windowHours: report.growthWindowHours,
      measured: report.growthMeasured,
      inodes: report.growthAllowance,
    },
    mailman: {
      root: varDir,
      running,
      freshMtime: running,
      restartAdvised: false,
      note: running
        ? 'Mailman is running: restored configs get a fresh mtime, so the running qrunners reload them; no restart is needed'
        : 'Mailman is not running: start it after apply; the restored configs keep their mtime from the backup',
    },
  };
}

/**
 * A list the selection restores whose config.pck cannot be placed — a path of another type is
 * in the way (a file or a dangling symlink where `lists/NAME` or its `config.pck` goes, a
 * directory named config.pck, a symlinked list directory) — stays as it is: its "restore"
 * writes nothing. It is said as such: action skip with the reason, and a list that stays down
 * is critical, as when its lock is held (the type-conflict warning alone read as a plan that
 * brings the list back). `placed`: the target paths placement made steps for.
 */
export function markBlockedLists(selection: RestoreSelection, placed: ReadonlySet<string>): void {
  for (const list of selection.lists) {
    if (list.action !== 'restore') continue;
    const config = path.join(selection.targetRoot, 'lists', list.name, 'config.pck');
    if (placed.has(config)) continue;
    list.action = 'skip';
    list.reason = `config.pck cannot be restored: a path of another type, or a symlink apply never writes through, is in the way of ${config} (see type-conflict)`;
    if (isListDown(list.status)) {
      selection.problems.push(
        makeProblem(
          DOWN_PROBLEM[list.status as keyof typeof DOWN_PROBLEM],
          `${list.name}: stays down, its config.pck cannot be restored: a path of another type, or a symlink apply never writes through, is in the way of ${config}`,
          { list: list.name, targetPath: config },
        ),
      );
    }
  }
}
