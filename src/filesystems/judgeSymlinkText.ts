/**
 * Whether a symlink's text is safe to create at `targetPath` under `root` — one rule for the
 * planner, `check` and apply (which refuses what this refuses). Stops the planted-link escape:
 * an archive member `www -> /etc` (or `../../..`) is harmless to create only if nothing ever
 * writes through it, but it hands whoever later serves the tree (a web server showing
 * pipermail archives) a way out. So a link whose text, resolved from its own directory, leaves
 * the root is refused; the text is otherwise stored verbatim.
 *
 * The text is followed component by component from the link's directory: lexical resolution
 * alone is fooled by a chain (`l1 -> ..`, then `l2 -> l1/../..` reads as inside but the kernel
 * follows l1 first and lands above the root), so a component after one that is a symlink — on
 * disk, or made by the same restore (`isSymlink`) — is refused: where it leads is not knowable
 * from the text.
 */
import path from 'node:path';

export type SymlinkRefusal = 'link-target-invalid' | 'link-outside-root' | 'link-through-symlink';

export interface SymlinkJudgement {
  reason: SymlinkRefusal;
  message: string;
}

/** `candidate` is `root` or below it (both normalized, absolute). */
export function isInside(root: string, candidate: string): boolean {
  if (root === '/') return candidate.startsWith('/');
  return candidate === root || candidate.startsWith(`${root}/`);
}

function rootDepth(root: string): number {
  return root.split('/').filter(Boolean).length;
}

/** null when the link may be made; else why not. */
export function judgeSymlinkText(
  root: string,
  targetPath: string,
  linkText: string,
  isSymlink: (candidate: string) => boolean,
): SymlinkJudgement | null {
  if (linkText === '' || linkText.includes('\0')) {
    return { reason: 'link-target-invalid', message: `${targetPath}: empty or NUL symlink text` };
  }
  const outside: SymlinkJudgement = {
    reason: 'link-outside-root',
    message: `${targetPath} -> ${linkText} points outside ${root}`,
  };
  const absolute = path.isAbsolute(linkText);
  if (absolute && !isInside(root, path.resolve(linkText))) return outside;
  let current = absolute ? '/' : path.dirname(targetPath);
  const parts = linkText.split('/').filter((part) => part !== '' && part !== '.');
  for (const [index, part] of parts.entries()) {
    current = part === '..' ? path.dirname(current) : path.join(current, part);
    if (!isInside(root, current) && !(absolute && index < rootDepth(root))) return outside;
    if (index < parts.length - 1 && isInside(root, current) && isSymlink(current)) {
      return {
        reason: 'link-through-symlink',
        message: `${targetPath} -> ${linkText} goes on through the symlink ${current}`,
      };
    }
  }
  return isInside(root, current) ? null : outside;
}
