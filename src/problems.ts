/**
 * Problems are data: `{ kind, severity, message, ... }` with a stable `kind`. The catalog below
 * is typed `satisfies Record<ProblemKind, ProblemInfo>`, so a kind without a summary and a doc
 * page does not compile; each has `docs/problems/<kind>.md` for runbooks to link to.
 */
export type Severity = 'info' | 'warning' | 'critical';

export const PROBLEM_CATALOG = {
  'drain-short': {
    severity: 'warning',
    summary:
      "The repair fits, but the wave after it does not: Mailman's backlog, handed to the MTA once the lists load, would not fit in the spool's filesystem above the reserve.",
  },
  'drain-unknown': {
    severity: 'info',
    summary:
      'The MTA could not be asked where its spool is: the wave after the repair is not budgeted.',
  },
  'inodes-short': {
    severity: 'critical',
    summary: 'The restore needs more inodes than are free above the reserve on a filesystem.',
  },
  'blocks-short': {
    severity: 'critical',
    summary: 'The restore needs more blocks than are available above the reserve on a filesystem.',
  },
  'peak-short': {
    severity: 'critical',
    summary: 'The temporary files of atomic replaces would not fit while the restore runs.',
  },
  'below-reserve': {
    severity: 'warning',
    summary: 'A filesystem is already below its reserve before anything is restored.',
  },
  'inodes-low-after': {
    severity: 'warning',
    summary: 'After the restore, free inodes would fall below the --warn-inodes threshold.',
  },
  'inodes-dynamic': {
    severity: 'info',
    summary:
      'The filesystem allocates inodes on demand (XFS, btrfs, ZFS); the inode verdict follows the blocks.',
  },
  'unsafe-member': {
    severity: 'warning',
    summary:
      'An archive member would escape the target (a .. component, a symlink whose text leaves the root or goes on through another symlink); it is never restored.',
  },
  'special-member': {
    severity: 'info',
    summary:
      'Fifos and device nodes are not restored, nor setuid/setgid bits (setgid on a directory excepted), unless explicitly allowed.',
  },
  'type-conflict': {
    severity: 'warning',
    summary:
      'A member would replace an existing path of another type (a file where a directory is, or the reverse).',
  },
  'hardlink-unresolved': {
    severity: 'info',
    summary:
      'A hard link whose target is not restored is restored as a regular file and costs an inode.',
  },
  'empty-selection': {
    severity: 'info',
    summary: 'Nothing was selected: there is nothing to restore.',
  },
  'list-corrupt': {
    severity: 'critical',
    summary: 'No config file of a Mailman list loads: the list is down and its mail is shunted.',
  },
  'list-lost': {
    severity: 'critical',
    summary:
      'A list directory holds no config file at all: Mailman does not see the list, so it is down and its mail is refused.',
  },
  'list-missing': {
    severity: 'critical',
    summary:
      "A list's directory is gone while Mailman's own files (alias stanzas, shunted mail, archives) still name it: it was lost.",
  },
  'list-removed': {
    severity: 'info',
    summary:
      'A list is neither on disk nor named by an alias stanza (most likely removed with rmlist); it is restored only when named with --lists.',
  },
  'no-lists': {
    severity: 'critical',
    summary:
      "A Mailman var dir whose lists/ holds no list at all: Mailman's site list is gone too, and mailmanctl will not start without it.",
  },
  'alias-file-unreadable': {
    severity: 'warning',
    summary:
      'An alias file Mailman keeps (data/aliases, data/virtual-mailman) is there but cannot be read: a list named only by its stanza there is not found.',
  },
  'list-degraded': {
    severity: 'warning',
    summary:
      'config.pck is broken but a fallback loads; Mailman will rewrite config.pck and add config.pck.safety.',
  },
  'interrupted-save': {
    severity: 'warning',
    summary: 'A config.pck.tmp.* file remains: a save of the list was interrupted.',
  },
  'state-file-broken': {
    severity: 'warning',
    summary: "A list's request.pck or pending.pck does not load.",
  },
  'list-locked': {
    severity: 'warning',
    summary:
      "A list's lock is held by a live process; the list is not restored until it is released.",
  },
  'mailman-running': {
    severity: 'info',
    summary:
      'Mailman is running: restored configs get a fresh mtime so the running qrunners reload them.',
  },
  'no-valid-copy': {
    severity: 'critical',
    summary: 'The archive holds no valid copy of a config that must be restored.',
  },
  'queue-growing': {
    severity: 'info',
    summary: "Mailman's queues are receiving mail; the inode reserve includes a growth allowance.",
  },
  'kept-existing': {
    severity: 'info',
    summary:
      "List state and archive files already on disk are kept: they are newer than the backup's copies.",
  },
  'rewrite-in-place': {
    severity: 'warning',
    summary: 'No inode is free: existing files are repaired by rewriting their contents in place.',
  },
} as const satisfies Record<string, { severity: Severity; summary: string }>;

export type ProblemKind = keyof typeof PROBLEM_CATALOG;

export interface Problem {
  kind: ProblemKind;
  severity: Severity;
  message: string;
  targetPath?: string;
  memberPath?: string;
  mountPoint?: string;
  list?: string;
}

/** Builds a problem with the catalog's severity unless one is given. */
export function makeProblem(
  kind: ProblemKind,
  message: string,
  extra: Omit<Partial<Problem>, 'kind' | 'message'> = {},
): Problem {
  return { kind, severity: extra.severity ?? PROBLEM_CATALOG[kind].severity, message, ...extra };
}

/**
 * THE verdict of a set of problems (check, plan, the wizard): critical when any is critical,
 * warning when any is a warning, else ok. Every unrestored broken list and every shortfall is
 * a problem of its own, so the problems carry the whole verdict.
 */
export function verdictOfProblems(
  problems: readonly { severity: Severity }[],
): 'ok' | 'warning' | 'critical' {
  const severity = worstSeverity(problems);
  return severity === 'critical' ? 'critical' : severity === 'warning' ? 'warning' : 'ok';
}

export function worstSeverity(problems: readonly { severity: Severity }[]): Severity | null {
  let worst: Severity | null = null;
  for (const p of problems) {
    if (p.severity === 'critical') return 'critical';
    if (p.severity === 'warning') worst = 'warning';
    else if (worst === null) worst = 'info';
  }
  return worst;
}
