/**
 * Cost of one IDA allocation (lib/idr.c ida_simple_get / ida_simple_remove) with 1,000 and with 100,000 ids
 * live, measured in the same process; the 100k/1k ratio stays near 1 because no operation scans the ids.
 * Run from the repository root: npx tsx packages/kernel/bench/ida.bench.ts
 */
import { Printk } from '../src/kernel/printk.ts';
import { Ida } from '../src/lib/idr.ts';

const SIZES = [1_000, 100_000] as const;
const ROUNDS = 15;
const WARMUP_ROUNDS = 3;
const CHURN_OPS = 100_000;
const ALLOC_BATCH = 1_000;
const ALLOC_BATCHES = 50;

/** An IDA holding ids 0..live-1, so every lowest-free search has `live` taken ids below it. */
function populated(live: number): Ida {
  const ida = new Ida(new Printk(), `bench${live}`);
  for (let i = 0; i < live; i++) ida.simpleGet();
  return ida;
}

/** ns per simpleGet + simpleRemove pair (steady-state churn: the live count never changes). */
function churn(ida: Ida): number {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < CHURN_OPS; i++) ida.simpleRemove(ida.simpleGet());
  return Number(process.hrtime.bigint() - t0) / CHURN_OPS;
}

/** ns per simpleGet while a batch grows the IDA; each batch is freed again, untimed. */
function allocate(ida: Ida): number {
  const ids = new Int32Array(ALLOC_BATCH);
  let ns = 0n;
  for (let b = 0; b < ALLOC_BATCHES; b++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < ALLOC_BATCH; i++) ids[i] = ida.simpleGet();
    ns += process.hrtime.bigint() - t0;
    for (let i = 0; i < ALLOC_BATCH; i++) ida.simpleRemove(ids[i]!);
  }
  return Number(ns) / (ALLOC_BATCH * ALLOC_BATCHES);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

const benches = { 'simpleGet+simpleRemove (churn)': churn, 'simpleGet (allocate)': allocate };
const idas = SIZES.map(populated);
const samples = new Map<string, number[]>();

for (let round = 0; round < WARMUP_ROUNDS + ROUNDS; round++) {
  for (const [name, fn] of Object.entries(benches)) {
    idas.forEach((ida, i) => {
      const ns = fn(ida);
      if (ida.count !== SIZES[i]) throw new Error(`${name} left ${ida.count} ids live, not ${SIZES[i]}`);
      if (round < WARMUP_ROUNDS) return;
      const key = `${name}/${SIZES[i]}`;
      samples.set(key, [...(samples.get(key) ?? []), ns]);
    });
  }
}

const rows = Object.keys(benches).map((name) => {
  const [small, large] = SIZES.map((n) => median(samples.get(`${name}/${n}`)!)) as [number, number];
  return { name, small, large, ratio: large / small };
});
const w = Math.max(...rows.map((r) => r.name.length));
console.log(`ida: ns/op, median of ${ROUNDS} rounds after ${WARMUP_ROUNDS} warm-up rounds`);
console.log(
  `${'operation'.padEnd(w)}  ${'1k live'.padStart(9)}  ${'100k live'.padStart(9)}  ${'100k/1k'.padStart(7)}`,
);
for (const r of rows) {
  console.log(
    `${r.name.padEnd(w)}  ${r.small.toFixed(1).padStart(9)}  ${r.large.toFixed(1).padStart(9)}  ${`${r.ratio.toFixed(2)}x`.padStart(7)}`,
  );
}
