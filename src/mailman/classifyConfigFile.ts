/**
 * The state of one of a list's config files, from its bytes, in the words of the doctor
 * document: ok, missing, empty, zeroed, truncated, invalid, not-a-dict. Empty and all-NUL files
 * are named as such before any parsing because they are how a crash leaves a file (a rename
 * that reached the disk before the data did: delayed allocation).
 */
import type { FileState } from '../types.js';
import { readMarshal } from './readMarshal.js';
import { readPickle } from './readPickle.js';

export interface ConfigFileVerdict {
  state: FileState;
  detail?: string;
}

export type ConfigFormat = 'pickle' | 'marshal';

/** `config.db` and `config.db.last` are marshal (pre-2.1 Mailman); everything else is a pickle. */
export function formatOfConfigFile(name: string): ConfigFormat {
  return /\.db(\.last)?$/.test(name) ? 'marshal' : 'pickle';
}

export function isAllZero(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) if (bytes[i] !== 0) return false;
  return true;
}

/** Classifies a config file's bytes (null: the file does not exist). */
export function classifyConfigFile(
  bytes: Uint8Array | null,
  format: ConfigFormat = 'pickle',
): ConfigFileVerdict {
  if (bytes === null) return { state: 'missing' };
  if (bytes.length === 0) return { state: 'empty', detail: '0 bytes' };
  if (isAllZero(bytes)) return { state: 'zeroed', detail: `${bytes.length} NUL bytes` };
  const verdict = format === 'marshal' ? readMarshal(bytes) : readPickle(bytes);
  switch (verdict.kind) {
    case 'dict':
      return { state: 'ok' };
    case 'other':
      // Mailman: "Load() expected to return a dictionary".
      return { state: 'not-a-dict', detail: verdict.detail };
    case 'truncated':
      return { state: 'truncated', detail: `${verdict.detail} (${bytes.length} bytes)` };
    case 'invalid':
      return { state: 'invalid', detail: `at byte ${verdict.offset}: ${verdict.detail}` };
    case 'unsupported':
      // Python 2 rejects protocol 3+ and we refuse what exceeds our limits: Mailman cannot load it either way.
      return { state: 'invalid', detail: `at byte ${verdict.offset}: ${verdict.detail}` };
  }
}
