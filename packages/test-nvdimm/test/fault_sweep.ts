/**
 * The fail-point sweep (failslab's "fail the Nth allocation" walked over every N): for one path, run it once
 * to count the fail-point calls it makes, then once per call with exactly that call failing. Every run must end
 * in a clean error (an errno-shaped kernel error, after which the path's caller has unwound everything the
 * run built, so the kernel's live-object counts equal those from before it) or in success with the failure
 * absorbed where the kernel absorbs it (a seed that could not be replenished); the fixture then unloads every
 * module and the whole kernel must be back to its state from before the first modprobe.
 */
import type { Kernel, LeakBaseline } from '@daxsim/kernel';
import { expect } from 'vitest';

/** What one run of a path left: the error it ended in, if any. */
export type SweepOutcome = { ok: true } | { ok: false; error: unknown };

/** One path under the sweep; `prepare` boots and sets up, `run` is the operation whose fail points are swept. */
export interface SweepPath<C> {
  name: string;
  /** A freshly booted kernel with everything the operation needs; disposing it unloads and leak-checks. */
  prepare(): Promise<C & AsyncDisposable & { kernel: Kernel; expectedWarnings: number }>;
  /** The operation; it throws the kernel's error, or a caller's (as ndctl reports a probe that did not bind). */
  run(ctx: C): Promise<void>;
  /** After a failed run: what the path's caller does to undo a partial operation (ndctl's rollback). */
  rollback?(ctx: C): Promise<void>;
  /**
   * False when the caller cannot put things back as they were (ndctl's reconfiguration is not atomic: the
   * old namespace is destroyed first, and an emptied namespace device stays registered, as in the kernel);
   * the rollback then only has to leave a state the operation succeeds from, and the unload check stays.
   */
  rollbackRestores?: boolean;
  /** After a successful run: checks the result, then undoes it so the fixture can unload. */
  verify(ctx: C): Promise<void>;
  /** WARNs the kernel of this era gives on purpose at some fail points (dmesg "WARNING: at <where>"). */
  allowedWarnings?: readonly string[];
}

/** The tally of one path's sweep. */
export interface SweepReport {
  path: string;
  /** Fail-point calls the path makes, each failed in one run. */
  calls: number;
  /** Distinct fail-point names among them. */
  points: string[];
  /** How the runs ended: errno code of the error, or "absorbed". */
  outcomes: Record<string, number>;
  /** "<point>: <outcome>" per run, in call order. */
  runs: string[];
}

const ERRNO_CODE = /^E[A-Z0-9]+$/;

/** A kernel error in Node's system-error shape: code, negative errno and the operation. */
export function expectKernelError(e: unknown, where: string): string {
  const err = e as { code?: unknown; errno?: unknown; syscall?: unknown };
  expect(e, where).toBeInstanceOf(Error);
  expect(
    typeof err.code === 'string' && ERRNO_CODE.test(err.code),
    `${where}: code ${String(err.code)}`,
  ).toBe(true);
  expect(typeof err.errno === 'number' && err.errno < 0, `${where}: errno ${String(err.errno)}`).toBe(true);
  expect(typeof err.syscall, `${where}: syscall`).toBe('string');
  return err.code as string;
}

/** The "WARNING: at <where>" lines of dmesg; each must be one the path allows. */
function checkWarnings(k: Kernel, allowed: readonly string[], where: string): number {
  const warned = k
    .dmesg()
    .filter((l) => l.includes('WARNING: at'))
    .map((l) => l.slice(l.indexOf('WARNING: at ') + 'WARNING: at '.length));
  for (const w of warned) expect(allowed, `${where}: unexpected WARN at ${w}`).toContain(w);
  return warned.length;
}

/** Sweeps every fail point `path.run` reaches; see the file comment for what each run must satisfy. */
export async function sweep<C>(path: SweepPath<C>): Promise<SweepReport> {
  const report: SweepReport = { path: path.name, calls: 0, points: [], outcomes: {}, runs: [] };
  for (let nth = 1; ; nth++) {
    await using ctx = await path.prepare();
    const k = ctx.kernel;
    const before: LeakBaseline = k.kmemleak.baseline();
    k.faultInject.reset();
    k.faultInject.armNth(nth);
    let outcome: SweepOutcome;
    try {
      await path.run(ctx);
      outcome = { ok: true };
    } catch (error) {
      outcome = { ok: false, error };
    }
    await k.async.synchronizeFull();
    const failed = [...k.faultInject.failed];
    k.faultInject.reset();
    const where = `${path.name}, call ${nth} (${failed[0] ?? 'none'})`;
    if (failed.length === 0) {
      if (!outcome.ok) throw outcome.error;
      await path.verify(ctx);
      ctx.expectedWarnings = checkWarnings(k, path.allowedWarnings ?? [], where);
      break;
    }
    expect(failed, where).toHaveLength(1);
    const point = failed[0]!;
    let result: string;
    if (outcome.ok) {
      result = 'absorbed';
      await path.verify(ctx);
    } else {
      result = expectKernelError(outcome.error, where);
      await path.rollback?.(ctx);
      await k.async.synchronizeFull();
      await k.rcu.barrier();
      const warned = checkWarnings(k, path.allowedWarnings ?? [], where);
      if (path.rollbackRestores !== false) {
        const moved = before.diff({ expectedWarnings: warned });
        expect(moved, `${where}: the failed operation left objects behind`).toEqual([]);
      }
      // nothing stale is left: the same operation now succeeds and its result checks out
      try {
        await path.run(ctx);
        await path.verify(ctx);
      } catch (e) {
        throw new Error(`${where}: retrying after ${result} failed: ${(e as Error).message}`, { cause: e });
      }
    }
    ctx.expectedWarnings = checkWarnings(k, path.allowedWarnings ?? [], where);
    report.calls++;
    if (!report.points.includes(point)) report.points.push(point);
    report.outcomes[result] = (report.outcomes[result] ?? 0) + 1;
    report.runs.push(`${point}: ${result}`);
  }
  return report;
}
