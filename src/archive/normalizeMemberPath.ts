import type { UnsafeReason } from './ArchiveEntry.js';

const SLASH = 0x2f;
const DOT = 0x2e;

/**
 * The memberPath of a raw archive name (CONTRACT.md): leading `./` and `/` stripped repeatedly,
 * `//` and `.` components collapsed, trailing `/` dropped; the archive root (`./`, `/`, `.`)
 * becomes `''`. `..` components are KEPT (they are what makes a member unsafe, see
 * `findUnsafeReason`); resolving them here would silently turn `a/../../etc/x` into a path
 * that looks harmless.
 *
 * Called once per member on the walk's hot path: names that are already normal (nearly all of
 * them) are returned as the same string without splitting.
 */
export function normalizeMemberPath(rawPath: string): string {
  if (isNormalMemberPath(rawPath)) return rawPath;
  // An absolute name (every name of a restic listing, tar -P): one slice, no split.
  if (rawPath.charCodeAt(0) === SLASH && rawPath.charCodeAt(1) !== SLASH) {
    const rest = rawPath.slice(1);
    if (isNormalMemberPath(rest)) return rest;
  }
  const parts = rawPath.split('/');
  const kept: string[] = [];
  for (const part of parts) {
    if (part === '' || part === '.') continue;
    kept.push(part);
  }
  return kept.join('/');
}

/**
 * Why restoring this raw name could escape the target root: any `..` component (the classic tar
 * path-traversal attack). Checked on the raw name: normalization must not hide it. A leading
 * `/` is not a reason: normalization removes it, as GNU tar does on extraction unless -P
 * ("Removing leading `/' from member names"), so `/etc/passwd` from a `tar -P` backup is
 * restored as `<target>/etc/passwd` — while `/../etc/passwd` is still `dotdot`.
 */
export function findUnsafeReason(rawPath: string): UnsafeReason | null {
  if (rawPath.indexOf('..') === -1) return null;
  const length = rawPath.length;
  let start = 0;
  while (start <= length) {
    let end = rawPath.indexOf('/', start);
    if (end === -1) end = length;
    if (
      end - start === 2 &&
      rawPath.charCodeAt(start) === DOT &&
      rawPath.charCodeAt(start + 1) === DOT
    ) {
      return 'dotdot';
    }
    start = end + 1;
  }
  return null;
}

/** True when `path` has no leading `/` or `./`, no `//`, no `.` component and no trailing `/`. */
function isNormalMemberPath(path: string): boolean {
  const length = path.length;
  if (length === 0) return true;
  // Native substring searches settle the common case without a per-character loop.
  const first = path.charCodeAt(0);
  if (
    first !== SLASH &&
    first !== DOT &&
    path.charCodeAt(length - 1) !== SLASH &&
    path.indexOf('/.') === -1 &&
    path.indexOf('//') === -1
  ) {
    return true;
  }
  let componentStart = 0;
  for (let i = 0; i <= length; i += 1) {
    const code = i === length ? SLASH : path.charCodeAt(i);
    if (code !== SLASH) continue;
    const componentLength = i - componentStart;
    if (componentLength === 0) return false;
    if (componentLength === 1 && path.charCodeAt(componentStart) === DOT) return false;
    componentStart = i + 1;
  }
  return true;
}
