/**
 * Mapped access through /dev/daxR.N against plain TypedArray copies, and the cost of one fault at each entry
 * size, all measured in one process.
 * - Bandwidth: sequential 64 MiB reads and writes through a 2 MiB-aligned shared mapping, after first touch,
 *   against `Uint8Array.prototype.set` of the same 64 MiB. Ratio = mapped bandwidth / copy bandwidth.
 * - Fault cost: touching one byte per entry of a fresh mapping, minus touching the same bytes once mapped,
 *   divided by the number of faults, at align 4K (PTE), 2M (PMD) and 1G (PUD).
 * Run from the repository root: npx -y pnpm@10.34.9 --filter @daxsim/device-dax bench
 */
import { MAP_SHARED, O_RDWR, PROT_READ, PROT_WRITE, type Task } from '@daxsim/kernel';
import { bootDevDax, GiB, KiB, MiB } from '../test/fixtures.ts';

const LEN = 64 * MiB;
const ROUNDS = 15;
const WARMUP = 3;
const RW = PROT_READ | PROT_WRITE;

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const now = (): bigint => process.hrtime.bigint();
const ms = (t0: bigint): number => Number(now() - t0) / 1e6;

async function bandwidth(): Promise<{ readRatio: number; writeRatio: number; rows: string[] }> {
  await using f = await bootDevDax();
  await f.device(2 ** 40, LEN, 2 * MiB);
  const t = f.kernel.spawn('bench');
  const fd = t.open('/dev/dax0.0', O_RDWR);
  const addr = t.mmap(0, LEN, RW, MAP_SHARED, fd, 0);
  const src = new Uint8Array(LEN);
  for (let i = 0; i < LEN; i += 4096) src[i] = ((i >> 12) & 0xff) | 1;
  const dst = new Uint8Array(LEN);
  const plain = new Uint8Array(LEN);
  t.store(addr, src);
  const times = {
    copyWrite: [] as number[],
    copyRead: [] as number[],
    mapWrite: [] as number[],
    mapRead: [] as number[],
  };
  for (let r = 0; r < WARMUP + ROUNDS; r++) {
    let t0 = now();
    plain.set(src);
    const copyWrite = ms(t0);
    t0 = now();
    dst.set(plain);
    const copyRead = ms(t0);
    t0 = now();
    t.store(addr, src);
    const mapWrite = ms(t0);
    t0 = now();
    t.load(addr, dst);
    const mapRead = ms(t0);
    if (r < WARMUP) continue;
    times.copyWrite.push(copyWrite);
    times.copyRead.push(copyRead);
    times.mapWrite.push(mapWrite);
    times.mapRead.push(mapRead);
  }
  if (dst[4096] !== src[4096]) throw new Error('mapped read returned the wrong bytes');
  t.exit();
  const gbps = (t: number) => (LEN / 2 ** 30 / (t / 1000)).toFixed(2);
  const cw = median(times.copyWrite);
  const cr = median(times.copyRead);
  const mw = median(times.mapWrite);
  const mr = median(times.mapRead);
  return {
    writeRatio: cw / mw,
    readRatio: cr / mr,
    rows: [
      `| sequential write, 64 MiB | ${mw.toFixed(2)} ms (${gbps(mw)} GiB/s) | ${cw.toFixed(2)} ms (${gbps(cw)} GiB/s) | ${(cw / mw).toFixed(2)} |`,
      `| sequential read, 64 MiB | ${mr.toFixed(2)} ms (${gbps(mr)} GiB/s) | ${cr.toFixed(2)} ms (${gbps(cr)} GiB/s) | ${(cr / mr).toFixed(2)} |`,
    ],
  };
}

/** ns to load one byte from each `stride` of [addr, addr+len). */
function touch(t: Task, addr: number, len: number, stride: number): number {
  const one = new Uint8Array(1);
  const t0 = now();
  for (let off = 0; off < len; off += stride) t.load(addr + off, one);
  return Number(now() - t0);
}

async function faultCost(align: number, len: number): Promise<{ ns: number; faults: number }> {
  await using f = await bootDevDax();
  await f.device(2 ** 40, len, align);
  const t = f.kernel.spawn('faulter');
  const fd = t.open('/dev/dax0.0', O_RDWR);
  const samples: number[] = [];
  let faults = 0;
  for (let r = 0; r < 7; r++) {
    const addr = t.mmap(0, len, PROT_READ, MAP_SHARED, fd, 0);
    f.kernel.faultEvents.reset();
    const cold = touch(t, addr, len, align);
    const ev = f.kernel.faultEvents;
    faults = ev.pte.nopage + ev.pmd.nopage + ev.pud.nopage;
    const warm = touch(t, addr, len, align);
    samples.push((cold - warm) / faults);
    t.munmap(addr, len);
  }
  t.exit();
  return { ns: median(samples.slice(2)), faults };
}

const bw = await bandwidth();
const faults = [
  ['PTE (4K align)', await faultCost(4 * KiB, 256 * MiB)],
  ['PMD (2M align)', await faultCost(2 * MiB, 8 * GiB)],
  ['PUD (1G align)', await faultCost(GiB, 256 * GiB)],
] as const;

console.log('| mapped access | through /dev/dax0.0 | TypedArray copy | ratio |');
console.log('|---|---|---|---|');
for (const row of bw.rows) console.log(row);
console.log('');
console.log('| fault | cost per fault | faults per round |');
console.log('|---|---|---|');
for (const [name, r] of faults) console.log(`| ${name} | ${(r.ns / 1000).toFixed(2)} µs | ${r.faults} |`);
const ok = bw.readRatio >= 0.8 && bw.writeRatio >= 0.8;
console.log(
  `\nread ratio ${bw.readRatio.toFixed(2)}, write ratio ${bw.writeRatio.toFixed(2)}: ${ok ? 'meets' : 'MISSES'} the 0.8 target`,
);
