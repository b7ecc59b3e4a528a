/**
 * The cost of an SRCU read-side section with nothing inside it: srcu_read_lock + srcu_read_unlock on the
 * kernel's SrcuStruct, and dax_read_lock + dax_read_unlock through dax.ko's exported API (which adds the call
 * through the API object). The baseline, in the same rounds, is a counter object's inc + dec method pair,
 * the least a read-side section could cost.
 */
import { type DaxCore, daxModule } from '@daxsim/dax-core';
import { Kernel, SrcuStruct } from '@daxsim/kernel';
import { nowNs, nsSince, type Rounds, sampleMany } from './harness.js';
import type { Row } from './table.js';

/** Workload of srcu(). */
export interface SrcuOptions extends Rounds {
  /** Lock/unlock pairs per round. */
  pairs: number;
}

/** The full bench's. */
export const SRCU_DEFAULTS: SrcuOptions = { pairs: 200_000, rounds: 15, warmup: 3 };

/** The baseline: a reader count moved up and down through two method calls. */
class Counter {
  #n = 0;
  inc(): number {
    return this.#n++;
  }
  dec(_idx: number): void {
    this.#n--;
  }
}

// One loop per subject, so that each call site stays monomorphic and is optimized for what it calls.

function counterPairs(c: Counter, n: number): number {
  const t0 = nowNs();
  for (let i = 0; i < n; i++) c.dec(c.inc());
  return nsSince(t0) / n;
}

function srcuPairs(ss: SrcuStruct, n: number): number {
  const t0 = nowNs();
  for (let i = 0; i < n; i++) ss.readUnlock(ss.readLock());
  return nsSince(t0) / n;
}

function daxPairs(dax: DaxCore, n: number): number {
  const t0 = nowNs();
  for (let i = 0; i < n; i++) dax.daxReadUnlock(dax.daxReadLock());
  return nsSince(t0) / n;
}

/** Rows for srcu_read_lock/unlock and dax_read_lock/unlock, each beside the counter pair. */
export async function srcu(o: SrcuOptions = SRCU_DEFAULTS): Promise<Row[]> {
  const kernel = new Kernel();
  const ss = new SrcuStruct(kernel.log, 'bench_srcu');
  const dax = await kernel.modules.modprobe(daxModule);
  const c = new Counter();
  const m = await sampleMany(o, () => ({
    counter: counterPairs(c, o.pairs),
    srcu: srcuPairs(ss, o.pairs),
    dax: daxPairs(dax, o.pairs),
  }));
  if (ss.readers !== 0 || dax.stats().readers !== 0) throw new Error('unbalanced read-side sections');
  await kernel.modules.rmmod('dax');
  const baseline = { value: m.counter, unit: 'ns', label: 'counter inc + dec' } as const;
  return [
    {
      key: 'srcu.srcu',
      measure: 'srcu_read_lock + srcu_read_unlock (SrcuStruct)',
      value: { value: m.srcu, unit: 'ns' },
      baseline,
    },
    {
      key: 'srcu.dax',
      measure: 'dax_read_lock + dax_read_unlock (dax.ko API)',
      value: { value: m.dax, unit: 'ns' },
      baseline,
    },
  ];
}
