/**
 * lib/klist.c: walking a list that may change while it is walked. An entry removed during the walk is
 * skipped once reached; entries added during it are not visited.
 */

/** klist_iter over `list` after `start`: calls `fn` per entry until it returns a truthy value, which it returns. */
export function klistWalk<T>(
  list: readonly T[],
  fn: (entry: T) => number | boolean | void,
  start: T | null = null,
): number | boolean {
  const snapshot = [...list];
  for (const entry of snapshot.slice(start === null ? 0 : snapshot.indexOf(start) + 1)) {
    if (!list.includes(entry)) continue;
    const r = fn(entry);
    if (r) return r;
  }
  return 0;
}

/** The first entry after `start` that `match` accepts. */
export function klistFind<T>(
  list: readonly T[],
  match: (entry: T) => boolean,
  start: T | null = null,
): T | undefined {
  return list.slice(start === null ? 0 : list.indexOf(start) + 1).find(match);
}
