/**
 * One list, judged the way Mailman 2.1's MailList.Load() judges it: try config.pck, then
 * config.pck.last, then the legacy marshal files config.db and config.db.last; the first that
 * loads as a dict wins. Strictly read-only: Mailman itself renames config.pck to
 * config.pck.corrupt and writes config.pck and config.pck.safety when a fallback wins; we only
 * say that it will.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';

import type { ConfigFileName, ListDiagnosis, ListFileDiagnosis, ListStatus } from '../types.js';
import {
  classifyConfigFile,
  formatOfConfigFile,
  type ConfigFileVerdict,
  type ConfigFormat,
} from './classifyConfigFile.js';

/** Mailman 2.1's load order. */
export const CONFIG_FILES: readonly ConfigFileName[] = [
  'config.pck',
  'config.pck.last',
  'config.db',
  'config.db.last',
];

/** Per-list state that Mailman keeps beside the config; missing is normal. */
export const STATE_FILES = ['request.pck', 'pending.pck'] as const;

/** The decision, from the states of the four config files in load order. Pure. */
export function judgeList(files: readonly ListFileDiagnosis[]): {
  status: ListStatus;
  loadsFrom: ConfigFileName | null;
  mailmanAction: string;
} {
  const winner =
    CONFIG_FILES.find((name) => files.find((f) => f.name === name)?.state === 'ok') ?? null;
  if (winner === 'config.pck')
    return { status: 'ok', loadsFrom: winner, mailmanAction: 'loads config.pck' };
  if (winner !== null) {
    const pck = files.find((f) => f.name === 'config.pck')?.state ?? 'missing';
    const rename = pck === 'missing' ? '' : 'rename config.pck to config.pck.corrupt, ';
    return {
      status: 'degraded',
      loadsFrom: winner,
      mailmanAction: `falls back to ${winner}, then will ${rename}write config.pck and config.pck.safety`,
    };
  }
  if (files.every((f) => f.state === 'missing'))
    // Utils.list_exists is false: for Mailman the list does not exist. Its mail is refused
    // (the MTA's pipe to `mailman post` exits EX_NOUSER) and its web pages say "no such list".
    return {
      status: 'lost',
      loadsFrom: null,
      mailmanAction:
        'does not see the list (no config file at all): it is down and its mail is refused',
    };
  return {
    status: 'corrupt',
    loadsFrom: null,
    mailmanAction: 'cannot load the list: it is down and its incoming mail is shunted',
  };
}

/**
 * The verdict on one of a list's files as Mailman's open() meets it: missing, or judged from
 * its bytes. Something else where the file belongs (a directory, a fifo, a socket) does not
 * load -- Mailman's open() fails or blocks -- and is never opened here (a fifo would hang).
 */
async function judgeFile(file: string, format?: ConfigFormat): Promise<ConfigFileVerdict> {
  try {
    const stats = await stat(file).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return null;
      throw error;
    });
    if (stats === null) return classifyConfigFile(null);
    if (!stats.isFile()) {
      const kind = stats.isDirectory()
        ? 'a directory'
        : stats.isFIFO()
          ? 'a fifo'
          : 'a special file';
      return { state: 'invalid', detail: `not a regular file (${kind})` };
    }
    return classifyConfigFile(await readFile(file), format);
  } catch (error) {
    // One file the doctor may not read (run as a user other than Mailman's, a file restored
    // 0600 by root) is a finding about that file, not the end of the whole diagnosis (it was
    // INTERNAL, exit 3, for every list). It does not load here; whether it loads for Mailman
    // depends on Mailman's user, which the detail says.
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    const who =
      code === 'EACCES' || code === 'EPERM' ? " (run doctor as root or as Mailman's user)" : '';
    return { state: 'invalid', detail: `${UNREADABLE}: ${code}${who}` };
  }
}

/** The detail of a file the doctor could not read (as opposed to one it read and judged). */
export const UNREADABLE = 'cannot be read';

export interface ListDirDiagnosis extends ListDiagnosis {
  mailmanAction: string;
  interruptedSave: string[];
  stateFiles: ListFileDiagnosis[];
}

/** Reads and judges `listDir` (lists/<name>/). */
export async function diagnoseList(listDir: string): Promise<ListDirDiagnosis> {
  const name = path.basename(listDir);
  // The directory first: a file it does not hold is missing without a stat of its own (most
  // lists lack four of the six names; each failed stat cost an error object and a round trip).
  // A directory that cannot be listed (EACCES) hides its leftovers; its files are judged one by
  // one as before.
  const entries = await readdir(listDir).catch(() => null);
  const present = entries ? new Set(entries) : null;
  const judge = (file: string, format?: ConfigFormat): Promise<ConfigFileVerdict> =>
    present && !present.has(file)
      ? Promise.resolve(classifyConfigFile(null))
      : judgeFile(path.join(listDir, file), format);
  const files: ListFileDiagnosis[] = [];
  for (const file of CONFIG_FILES) {
    files.push({ name: file, ...(await judge(file, formatOfConfigFile(file))) });
  }
  const stateFiles: ListFileDiagnosis[] = [];
  for (const file of STATE_FILES) stateFiles.push({ name: file, ...(await judge(file)) });
  // Mailman saves into config.pck.tmp.<host>.<pid> and renames it over config.pck: a leftover
  // means the save was interrupted between the dump and the rename.
  const interruptedSave = (entries ?? [])
    .filter((entry) => entry.startsWith('config.pck.tmp'))
    .sort();
  const { status, loadsFrom, mailmanAction } = judgeList(files);
  // The contract's fields first, in the contract's order: people read the JSON too.
  return { name, status, loadsFrom, files, mailmanAction, stateFiles, interruptedSave };
}

/**
 * Mailman's Utils.list_exists: a list dir is a list when any of the four config files exists.
 * (The doctor also reports list dirs without any: see `listDirNamesAt`.)
 */
export function isListDirEntries(entries: readonly string[]): boolean {
  return CONFIG_FILES.some((file) => entries.includes(file));
}
