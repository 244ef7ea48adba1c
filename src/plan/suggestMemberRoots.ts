/**
 * When a --member-root or a glob selects nothing (a typo: `var/lib/mailmen`), the error names
 * the directories the archive does hold at that depth, closest first. Watching costs one
 * `startsWith` per member: archives are grouped by directory, so the prefix seen last is
 * almost always the prefix of the next member, and only a new prefix is sliced and kept.
 */

/** Directories kept per depth (an archive with more siblings than this gets a sample). */
const MAX_KEPT = 64;

export interface RootSuggester {
  observe(memberPath: string): void;
  /** Up to `count` directories at the member root's depth, those sharing most with it first. */
  suggest(count?: number): string[];
}

function prefixAt(memberPath: string, depth: number): string | null {
  let index = -1;
  for (let d = 0; d < depth; d += 1) {
    index = memberPath.indexOf('/', index + 1);
    if (index === -1) return null;
  }
  return memberPath.slice(0, index);
}

function sharedComponents(a: string, b: string): number {
  const x = a.split('/');
  const y = b.split('/');
  let n = 0;
  while (n < x.length && n < y.length && x[n] === y[n]) n += 1;
  return n;
}

export function createRootSuggester(memberRoot: string): RootSuggester {
  const depth = Math.max(1, memberRoot === '' ? 1 : memberRoot.split('/').length);
  const seen = new Set<string>();
  let last = '\0';
  return {
    observe(memberPath) {
      if (memberPath.startsWith(last) && memberPath.charCodeAt(last.length - 1) === 0x2f) return;
      const prefix = prefixAt(memberPath, depth);
      if (prefix === null) return;
      last = `${prefix}/`;
      if (seen.size < MAX_KEPT) seen.add(prefix);
    },
    suggest(count = 5) {
      return [...seen]
        .map((dir) => ({ dir, shared: sharedComponents(dir, memberRoot) }))
        .sort((a, b) => b.shared - a.shared || a.dir.localeCompare(b.dir))
        .slice(0, count)
        .map((s) => s.dir);
    },
  };
}
