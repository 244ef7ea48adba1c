/**
 * The mail transport agent whose spool takes the backlog that repaired lists release: what
 * kind it is, where its spool is, and the settings that change how many files a queued message
 * costs there (issue 16).
 */
export type MtaKind = 'exim' | 'postfix';

/** `detected`: the MTA's own tool named the spool; `given`: the caller did (--mta-spool). */
export type MtaSpoolSource = 'detected' | 'given';

export interface EximInfo {
  kind: 'exim';
  spool: string;
  source: MtaSpoolSource;
  /** split_spool_directory: input/ and msglog/ hold one subdirectory per arrival second (≤ 62). */
  splitSpool: boolean;
  /** message_logs: one msglog/ID file per message, a third of Exim's inodes per message. */
  messageLogs: boolean;
}

export interface PostfixInfo {
  kind: 'postfix';
  spool: string;
  source: MtaSpoolSource;
  /** hash_queue_depth: levels of one-hex-digit subdirectories in the hashed queues. */
  hashQueueDepth: number;
  /** hash_queue_names: the queues stored hashed (Debian: deferred, defer). */
  hashQueueNames: string[];
  /**
   * Whether master runs: with it, a queued message settles in deferred/ plus a defer log (2
   * inodes); without it, it waits in maildrop/ (1 inode) until master starts.
   */
  masterRunning: boolean;
}

export type MtaInfo = EximInfo | PostfixInfo;

/** The Debian package of each MTA (what MTA_NOT_FOUND names). */
export const MTA_PACKAGE: Record<MtaKind, string> = { exim: 'exim4', postfix: 'postfix' };
