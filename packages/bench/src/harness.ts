/**
 * How every measurement here is taken: the median of N timed rounds after W untimed warm-up rounds; heap
 * figures are read after a full GC (node runs with --expose-gc). Timed rounds never force a GC: forcing one
 * before each round made the dax inode ratio swing by a third from run to run.
 */

/** Rounds of one measurement: `warmup` untimed ones first, then `rounds` timed ones. */
export interface Rounds {
  rounds: number;
  warmup: number;
}

/** The middle sample (the mean of the two middle ones for an even count). */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new Error('median of no samples');
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Nanoseconds on the monotonic clock. */
export function nowNs(): bigint {
  return process.hrtime.bigint();
}

/** Milliseconds elapsed since `t0` (from nowNs()). */
export function msSince(t0: bigint): number {
  return Number(nowNs() - t0) / 1e6;
}

/** Nanoseconds elapsed since `t0` (from nowNs()). */
export function nsSince(t0: bigint): number {
  return Number(nowNs() - t0);
}

/** Whether node was started with --expose-gc. */
export function gcExposed(): boolean {
  return typeof globalThis.gc === 'function';
}

/** A full collection when node runs with --expose-gc; nothing otherwise. */
export function collect(): void {
  globalThis.gc?.();
}

/** Bytes of JS heap in use after a full collection (when one can be forced). */
export function heapUsed(): number {
  collect();
  return process.memoryUsage().heapUsed;
}

/**
 * Runs `round` warmup + rounds times. Each round reports several figures at once (a value and its baseline,
 * taken back to back so that both see the same machine load); the result is the median of each figure over
 * the timed rounds.
 */
export async function sampleMany<K extends string>(
  r: Rounds,
  round: (i: number) => Record<K, number> | Promise<Record<K, number>>,
): Promise<Record<K, number>> {
  const samples = new Map<K, number[]>();
  for (let i = 0; i < r.warmup + r.rounds; i++) {
    const got = await round(i);
    if (i < r.warmup) continue;
    for (const [k, v] of Object.entries(got) as [K, number][]) samples.set(k, [...(samples.get(k) ?? []), v]);
  }
  return Object.fromEntries([...samples].map(([k, xs]) => [k, median(xs)])) as Record<K, number>;
}
