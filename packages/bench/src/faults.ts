/**
 * The cost of one device-dax fault at each entry size (dev_dax_huge_fault at PE_SIZE_PTE, PMD and PUD):
 * touching one byte per align-sized entry of a fresh read-only shared mapping, minus touching the same bytes
 * again once mapped, divided by the faults taken. The baseline is that second touch: a load through an
 * entry already in the page tables.
 */
import { type Kernel, MAP_SHARED, PROT_READ, type Task } from '@daxsim/kernel';
import { bootDevDax } from './devdax.js';
import { median, nowNs, nsSince, type Rounds } from './harness.js';
import type { Row } from './table.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

/** One fault size: the device's align and how much of it a round maps (and so how many faults it takes). */
export interface FaultCase {
  name: string;
  align: number;
  len: number;
}

/** Fault sizes and rounds of faults(). */
export interface FaultOptions extends Rounds {
  cases: FaultCase[];
}

/** The full bench's: 65,536 PTE, 16,384 PMD and 4,096 PUD faults per round. */
export const FAULT_DEFAULTS: FaultOptions = {
  rounds: 9,
  warmup: 2,
  cases: [
    { name: 'PTE, 4K align', align: 4 * KiB, len: 256 * MiB },
    { name: 'PMD, 2M align', align: 2 * MiB, len: 32 * GiB },
    { name: 'PUD, 1G align', align: GiB, len: 4096 * GiB },
  ],
};

/** ns to load one byte from each `stride` of [addr, addr + len). */
function touch(t: Task, addr: number, len: number, stride: number): number {
  const one = new Uint8Array(1);
  const t0 = nowNs();
  for (let off = 0; off < len; off += stride) t.load(addr + off, one);
  return nsSince(t0);
}

function faultsTaken(k: Kernel): number {
  const ev = k.faultEvents;
  return ev.pte.nopage + ev.pmd.nopage + ev.pud.nopage;
}

async function faultCost(c: FaultCase, r: Rounds): Promise<Row> {
  await using dev = await bootDevDax(2 ** 40, c.len, c.align);
  const t = dev.task;
  const perFault: number[] = [];
  const perLoad: number[] = [];
  let faults = 0;
  for (let i = 0; i < r.warmup + r.rounds; i++) {
    const addr = t.mmap(0, c.len, PROT_READ, MAP_SHARED, dev.fd, 0);
    dev.kernel.faultEvents.reset();
    const cold = touch(t, addr, c.len, c.align);
    faults = faultsTaken(dev.kernel);
    const warm = touch(t, addr, c.len, c.align);
    t.munmap(addr, c.len);
    if (faults !== c.len / c.align) throw new Error(`${c.name}: ${faults} faults, not ${c.len / c.align}`);
    if (i < r.warmup) continue;
    perFault.push((cold - warm) / faults);
    perLoad.push(warm / faults);
  }
  return {
    key: `faults.${c.name.slice(0, 3).toLowerCase()}`,
    measure: `fault, ${c.name} (${faults} per round)`,
    value: { value: median(perFault), unit: 'ns' },
    baseline: { value: median(perLoad), unit: 'ns', label: 'load through a mapped entry' },
  };
}

/** One row per fault size. */
export async function faults(o: FaultOptions = FAULT_DEFAULTS): Promise<Row[]> {
  const rows: Row[] = [];
  for (const c of o.cases) rows.push(await faultCost(c, o));
  return rows;
}
