/**
 * The answers of the MTAs' configuration tools, parsed. Both tools print one line per name
 * asked, in the order asked; a value that is not there is a failed query, never a default,
 * because a wrong spool would budget the wrong filesystem.
 */
import path from 'node:path';

export interface EximSettings {
  spoolDirectory: string;
  splitSpoolDirectory: boolean;
  messageLogs: boolean;
}

/**
 * `exim -bP spool_directory split_spool_directory message_logs`: `spool_directory = /var/spool/exim4`,
 * then each boolean as `name` or `no_name` (Exim prints booleans that way even with -n). The
 * value is already expanded (macros, ${primary_hostname}). Null when a line is missing.
 */
export function parseEximSettings(stdout: string): EximSettings | null {
  let spoolDirectory: string | null = null;
  const flags = new Map<string, boolean>();
  for (const raw of stdout.split('\n')) {
    const line = raw.trim();
    const valued = /^spool_directory\s*=\s*(.*)$/.exec(line);
    if (valued) {
      spoolDirectory = valued[1]!.trim();
      continue;
    }
    const flag = /^(no_)?(split_spool_directory|message_logs)$/.exec(line);
    if (flag) flags.set(flag[2]!, flag[1] === undefined);
  }
  const split = flags.get('split_spool_directory');
  const logs = flags.get('message_logs');
  if (
    !spoolDirectory ||
    !path.isAbsolute(spoolDirectory) ||
    split === undefined ||
    logs === undefined
  )
    return null;
  return { spoolDirectory, splitSpoolDirectory: split, messageLogs: logs };
}

export interface PostfixSettings {
  queueDirectory: string;
  hashQueueDepth: number;
  hashQueueNames: string[];
}

/**
 * `postconf -xh queue_directory hash_queue_depth hash_queue_names`: three bare values, one a
 * line. postconf answers an unknown name with a warning on stderr, nothing on stdout and exit
 * 0, so a short answer is a failure. Names are separated by commas and/or whitespace.
 */
export function parsePostconfSettings(stdout: string): PostfixSettings | null {
  // Exactly three lines: an empty hash_queue_names is a line of its own, a missing one is not.
  const lines = stdout
    .replace(/\n$/, '')
    .split('\n')
    .map((l) => l.trim());
  if (lines.length !== 3) return null;
  const [queueDirectory, depthText, namesText] = lines;
  if (!queueDirectory || !path.isAbsolute(queueDirectory)) return null;
  if (depthText === undefined || !/^\d+$/.test(depthText)) return null;
  if (namesText === undefined) return null;
  const hashQueueDepth = Number(depthText);
  // Postfix clamps the depth to 1..(queue id length); 0 is not a valid setting.
  if (hashQueueDepth < 1 || hashQueueDepth > 8) return null;
  return {
    queueDirectory,
    hashQueueDepth,
    hashQueueNames: namesText.split(/[\s,]+/).filter((n) => n !== ''),
  };
}
