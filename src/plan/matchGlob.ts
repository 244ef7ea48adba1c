/**
 * Globs for --include / --exclude, matched against whole memberPaths relative to the member
 * root: `*` and `?` stay within one path component, `**` crosses components (`a/**` is
 * everything under a, `**\/x` is x at any depth), `[abc]`, `[a-z]`, `[!x]` / `[^x]` classes.
 * A path is also matched when one of its ancestors is (excluding a directory excludes what is
 * in it, as with tar --exclude).
 */
function escapeRegExp(char: string): string {
  return /[\\^$.*+?()[\]{}|/]/.test(char) ? `\\${char}` : char;
}

export function compileGlob(pattern: string): RegExp {
  const glob = pattern.replace(/^\.\//, '').replace(/\/+$/, '');
  let source = '';
  for (let i = 0; i < glob.length; i += 1) {
    const char = glob[i] ?? '';
    if (char === '*') {
      if (glob[i + 1] === '*') {
        const slashAfter = glob[i + 2] === '/';
        // `**/` also matches no directory at all (`**/x` matches `x`).
        source += slashAfter ? '(?:.*/)?' : '.*';
        i += slashAfter ? 2 : 1;
      } else {
        source += '[^/]*';
      }
    } else if (char === '?') {
      source += '[^/]';
    } else if (char === '[') {
      const close = glob.indexOf(']', i + 2);
      if (close < 0) {
        source += '\\[';
        continue;
      }
      let body = glob.slice(i + 1, close);
      const negated = body.startsWith('!') || body.startsWith('^');
      if (negated) body = body.slice(1);
      body = body.replace(/[\\\]^]/g, (c) => `\\${c}`);
      source += negated ? `[^/${body}]` : `[${body}]`;
      i = close;
    } else {
      source += escapeRegExp(char);
    }
  }
  return new RegExp(`^${source}$`);
}

/** A predicate over relative memberPaths: included (or no includes) and not excluded. */
export function createSelector(
  include: readonly string[] = [],
  exclude: readonly string[] = [],
): (relPath: string) => boolean {
  const includes = include.map(compileGlob);
  const excludes = exclude.map(compileGlob);
  const matchesSelfOrAncestor = (patterns: RegExp[], relPath: string): boolean => {
    if (patterns.length === 0) return false;
    let current = relPath;
    for (;;) {
      if (patterns.some((re) => re.test(current))) return true;
      const slash = current.lastIndexOf('/');
      if (slash < 0) return false;
      current = current.slice(0, slash);
    }
  };
  return (relPath) => {
    if (includes.length > 0 && !matchesSelfOrAncestor(includes, relPath)) return false;
    return !matchesSelfOrAncestor(excludes, relPath);
  };
}
