/**
 * Names that are not valid UTF-8 come out of the tools' JSON listings lossy: restic prints each
 * bad byte as U+FFFD, borg as `?`. Two different names can then list as one path (`bad\xffname`
 * and `bad\xfename` both as `bad\ufffdname`), and the inventory, which keeps the last of two
 * members of one path (as tar extraction does), would count one file where a restore makes two,
 * and merge two directories' contents. A listing of a snapshot never holds a path twice, so a
 * lossy path seen again is another file: it gets a path of its own (`bad\ufffdname\ufffd2`), and
 * what is listed under a directory so renamed follows it (both tools list a directory before
 * what is in it, and all of it before the next name).
 *
 * Only paths containing the marker are tracked (memory: those alone). Such a member still cannot
 * be read by its listed path; counting is all this is for.
 */
export function createLossyNameResolver(
  marker: string,
): (memberPath: string, isDir: boolean) => string {
  /** Paths given out that contain the marker. */
  const seen = new Set<string>();
  /** A listed directory path holding the marker → the path it was given (its latest listing). */
  const renamed = new Map<string, string>();
  return (listed, isDir) => {
    if (!listed.includes(marker)) return listed;
    let path = listed;
    // The nearest listed ancestor that holds the marker decides where this one lands.
    let slash = listed.lastIndexOf('/');
    while (slash > 0) {
      const dir = listed.slice(0, slash);
      if (!dir.includes(marker)) break;
      const to = renamed.get(dir);
      if (to !== undefined) {
        path = to + listed.slice(slash);
        break;
      }
      slash = listed.lastIndexOf('/', slash - 1);
    }
    let unique = path;
    for (let n = 2; seen.has(unique); n += 1) unique = `${path}${marker}${n}`;
    seen.add(unique);
    if (isDir) renamed.set(listed, unique);
    return unique;
  };
}
