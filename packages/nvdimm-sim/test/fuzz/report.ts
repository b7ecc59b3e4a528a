/** What a fuzz run found: outcome counts, finer counters, and the failures with what replays them. */
import { caseSeed } from './prng.js';

/** One case that threw something other than the reference's errnos, or broke a post-condition. */
export interface FuzzFailure {
  target: string;
  /** The run's seed and the case's place in it. */
  seed: number;
  iteration: number;
  /** Replays the case alone: replayPfnSb(caseSeed) / replayLabelArea(caseSeed). */
  caseSeed: number;
  message: string;
  /** The mutations applied to the seed input, in order. */
  mutations: string[];
}

export interface FuzzReport {
  target: string;
  seed: number;
  count: number;
  /** One outcome per case (an errno, 'valid', ...): the values sum to count. */
  outcomes: Record<string, number>;
  /** Finer counters (which check failed, departures taken, post-conditions met); a case may add to several. */
  details: Record<string, number>;
  failureCount: number;
  /** The first MAX_KEPT_FAILURES failures. */
  failures: FuzzFailure[];
}

export const MAX_KEPT_FAILURES = 20;

export function newReport(target: string, seed: number): FuzzReport {
  return { target, seed, count: 0, outcomes: {}, details: {}, failureCount: 0, failures: [] };
}

export function bump(counts: Record<string, number>, key: string, by = 1): void {
  counts[key] = (counts[key] ?? 0) + by;
}

export function addFailure(report: FuzzReport, failure: FuzzFailure): void {
  report.failureCount++;
  if (report.failures.length < MAX_KEPT_FAILURES) report.failures.push(failure);
}

/** A post-condition that did not hold. */
export class PostconditionError extends Error {}

/** Throws PostconditionError(message) unless `cond`. */
export function check(cond: boolean, message: () => string): asserts cond {
  if (!cond) throw new PostconditionError(message());
}

function rows(counts: Record<string, number>, total: number | null): string[] {
  return Object.keys(counts)
    .sort()
    .map((k) => {
      const n = counts[k]!;
      const share = total !== null && total > 0 ? `${((100 * n) / total).toFixed(2)}%` : '';
      return `    ${k.padEnd(68)} ${String(n).padStart(9)} ${share.padStart(8)}`.trimEnd();
    });
}

/** The report as the text table run.ts prints. */
export function formatReport(report: FuzzReport, ms?: number): string {
  const time = ms === undefined ? '' : `, ${(ms / 1000).toFixed(1)} s`;
  const out = [
    `${report.target}: ${report.count} cases, seed ${report.seed}${time}`,
    '  outcomes (one per case)',
  ];
  out.push(...rows(report.outcomes, report.count), '  details (events; a case can count several)');
  out.push(...rows(report.details, null));
  out.push(`  failures ${report.failureCount}`);
  for (const f of report.failures)
    out.push(
      `    #${f.iteration} caseSeed ${f.caseSeed}: ${f.message}`,
      `      mutations: ${f.mutations.join('; ')}`,
    );
  return out.join('\n');
}

/**
 * The fuzz loop: case i is `makeCase(caseSeed(seed, i))`, judged by `runCase`; any exception (a post-condition,
 * a disagreement with the oracle, or a parser throwing something else) is a failure recorded with its caseSeed.
 */
export function runFuzz<C extends { mutations: string[] }>(
  target: string,
  seed: number,
  count: number,
  makeCase: (cs: number) => C,
  runCase: (c: C) => { outcome: string; details: string[] },
): FuzzReport {
  const report = newReport(target, seed);
  for (let i = 0; i < count; i++) {
    const cs = caseSeed(seed, i);
    let c: C | null = null;
    try {
      c = makeCase(cs);
      const { outcome, details } = runCase(c);
      bump(report.outcomes, outcome);
      for (const d of details) bump(report.details, d);
    } catch (e) {
      bump(report.outcomes, 'FAILURE');
      addFailure(report, {
        target,
        seed,
        iteration: i,
        caseSeed: cs,
        message: e instanceof Error ? `${e.name}: ${e.message}` : String(e),
        mutations: c?.mutations ?? [],
      });
    }
    report.count++;
  }
  return report;
}
