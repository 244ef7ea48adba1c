/**
 * Path reservations. Stops a race between two steps of one run on the same path: a plan (or a
 * hostile archive) with `a` as a file and `a/b` as another file, or the same path twice, must
 * not have both writes in flight at once, or one step's check could be invalidated by the
 * other's write. A reservation covers a path and everything below it; a second reservation of
 * that path, an ancestor or a descendant waits until the first is released.
 */
export type Release = () => void;

export interface PathReservations {
  /** Resolves once no other held reservation overlaps any of `paths`. */
  reserve(paths: readonly string[]): Promise<Release>;
  /** Paths currently held (for tests and diagnostics). */
  held(): string[];
}

function overlaps(a: string, b: string): boolean {
  if (a === b) return true;
  const [short, long] = a.length < b.length ? [a, b] : [b, a];
  return long.startsWith(short.endsWith('/') ? short : short + '/');
}

export function createPathReservations(): PathReservations {
  const heldPaths = new Map<number, readonly string[]>();
  const waiting: Array<() => void> = [];
  let nextId = 0;

  const conflicts = (paths: readonly string[]): boolean => {
    for (const other of heldPaths.values()) {
      for (const p of paths) for (const q of other) if (overlaps(p, q)) return true;
    }
    return false;
  };

  return {
    async reserve(paths) {
      while (conflicts(paths)) await new Promise<void>((resolve) => waiting.push(resolve));
      const id = nextId++;
      heldPaths.set(id, [...paths]);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        heldPaths.delete(id);
        // Wake every waiter: each re-checks its own overlap and goes back to sleep if needed.
        for (const wake of waiting.splice(0)) wake();
      };
    },
    held() {
      return [...heldPaths.values()].flat();
    },
  };
}
