/**
 * The IDA (lib/idr.c ida_simple_get / ida_simple_remove) with 100,000 ids live, beside the same with 1,000
 * live in the same rounds: steady churn (get + remove, the live count never changes) and allocation (a batch
 * of gets grows the IDA; the batch is freed again, untimed). No operation scans the ids; the 100k tree is
 * one level taller.
 */
import { Ida, Printk } from '@daxsim/kernel';
import { nowNs, nsSince, type Rounds, sampleMany } from './harness.js';
import { formatCount, type Row } from './table.js';

/** Populations and workload of ida(). */
export interface IdaOptions extends Rounds {
  small: number;
  large: number;
  /** get + remove pairs per round. */
  churn: number;
  /** Allocations per round, in batches of `batch`. */
  allocs: number;
  batch: number;
}

/** The full bench's: 1k against 100k. */
export const IDA_DEFAULTS: IdaOptions = {
  small: 1_000,
  large: 100_000,
  churn: 100_000,
  allocs: 50_000,
  batch: 1_000,
  rounds: 15,
  warmup: 3,
};

/** An IDA holding ids 0..live-1, so that every lowest-free search has `live` taken ids below it. */
function populated(live: number): Ida {
  const ida = new Ida(new Printk(), `bench${live}`);
  for (let i = 0; i < live; i++) ida.simpleGet();
  return ida;
}

function churn(ida: Ida, n: number): number {
  const t0 = nowNs();
  for (let i = 0; i < n; i++) ida.simpleRemove(ida.simpleGet());
  return nsSince(t0) / n;
}

function allocate(ida: Ida, n: number, batch: number): number {
  const ids = new Int32Array(batch);
  let ns = 0;
  for (let done = 0; done < n; done += batch) {
    const t0 = nowNs();
    for (let i = 0; i < batch; i++) ids[i] = ida.simpleGet();
    ns += nsSince(t0);
    for (let i = 0; i < batch; i++) ida.simpleRemove(ids[i]!);
  }
  return ns / n;
}

/** Rows for churn and allocation at `large` live ids, each beside `small`. */
export async function ida(o: IdaOptions = IDA_DEFAULTS): Promise<Row[]> {
  const small = populated(o.small);
  const large = populated(o.large);
  const m = await sampleMany(o, () => ({
    churnSmall: churn(small, o.churn),
    churnLarge: churn(large, o.churn),
    allocSmall: allocate(small, o.allocs, o.batch),
    allocLarge: allocate(large, o.allocs, o.batch),
  }));
  if (small.count !== o.small || large.count !== o.large) throw new Error('ida bench leaked ids');
  return [
    {
      key: 'ida.churn',
      measure: `ida_simple_get + ida_simple_remove, ${formatCount(o.large)} live`,
      value: { value: m.churnLarge, unit: 'ns' },
      baseline: { value: m.churnSmall, unit: 'ns', label: `${formatCount(o.small)} live` },
    },
    {
      key: 'ida.alloc',
      measure: `ida_simple_get growing the IDA, ${formatCount(o.large)} live`,
      value: { value: m.allocLarge, unit: 'ns' },
      baseline: { value: m.allocSmall, unit: 'ns', label: `${formatCount(o.small)} live` },
    },
  ];
}
