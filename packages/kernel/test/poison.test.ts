import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BUS_MCEERR_AR,
  isSignal,
  KERNEL_VA_OFFSET,
  L1_CACHE_BYTES,
  MAP_FIXED,
  MAP_SHARED,
  MEMREMAP_WB,
  PAGE_SIZE,
  PE_SIZE_PMD,
  PE_SIZE_PTE,
  PhysicalMemory,
  PROT_READ,
  PROT_WRITE,
  SIGBUS,
  SignalError,
} from '../src/index.js';
import { Kernel } from '../src/kernel.js';
import { caught, loadToy, MiB, TOY_BASE, type ToyOptions } from './toy_chrdev.js';

const P = PAGE_SIZE;
const L = L1_CACHE_BYTES;
const RW = PROT_READ | PROT_WRITE;
const X = 2 ** 40;
const errno = (code: string) => expect.objectContaining({ code });

function sigbus(fn: () => unknown): SignalError {
  const e = caught(fn);
  expect(e).toBeInstanceOf(SignalError);
  expect(isSignal(e, 'SIGBUS')).toBe(true);
  return e as SignalError;
}

/** A toy device mapped at X in a fresh task; device memory holds byte (offset & 0xff) + 1 in its first 2 MiB. */
async function mapped(options: ToyOptions = {}) {
  const kernel = new Kernel();
  const toy = await loadToy(kernel, options);
  const task = kernel.spawn('mce');
  const fd = task.open(toy.path);
  expect(task.mmap(X, 4 * MiB, RW, MAP_SHARED | MAP_FIXED, fd, 0)).toBe(X);
  const pattern = new Uint8Array(2 * MiB).map((_, i) => (i & 0xff) + 1);
  kernel.physmem.write(TOY_BASE, pattern);
  return { kernel, task, pattern };
}

describe('PhysicalMemory poison (cache-line granular)', () => {
  it('poisons every line a range touches and merges touching runs', () => {
    const m = new PhysicalMemory();
    expect(m.hasPoison).toBe(false);
    m.poison(100, 1);
    expect(m.poisonRanges()).toEqual([{ start: 64, end: 128 }]);
    m.poison(190, 70); // lines 128..256 (190 -> 128, 260 -> 320)
    expect(m.poisonRanges()).toEqual([{ start: 64, end: 320 }]);
    m.poison(0x1000, 1);
    m.poison(0x800, 0x40);
    expect(m.poisonRanges()).toEqual([
      { start: 64, end: 320 },
      { start: 0x800, end: 0x840 },
      { start: 0x1000, end: 0x1040 },
    ]);
    m.poison(0x840, 0x7c0); // fills the gap exactly: all three but the first become one run
    expect(m.poisonRanges()).toEqual([
      { start: 64, end: 320 },
      { start: 0x800, end: 0x1040 },
    ]);
    m.poison(0, 0);
    expect(m.poisonRanges()).toHaveLength(2);
    expect(m.hasPoison).toBe(true);
    expect(m.allocatedBytes).toBe(0);
  });

  it('firstPoison finds the lowest poisoned byte in a range, or -1', () => {
    const m = new PhysicalMemory();
    m.poison(128, 64);
    m.poison(0x2000, 1);
    expect(m.firstPoison(0, 128)).toBe(-1);
    expect(m.firstPoison(0, 129)).toBe(128);
    expect(m.firstPoison(150, 10)).toBe(150);
    expect(m.firstPoison(191, 1)).toBe(191);
    expect(m.firstPoison(192, 0x2000 - 192)).toBe(-1);
    expect(m.firstPoison(192, 0x2000 - 191)).toBe(0x2000);
    expect(m.firstPoison(0x2000 + L, 1000)).toBe(-1);
    expect(m.firstPoison(0, 0)).toBe(-1);
  });

  it('clearPoison clears only whole lines inside the range, splitting runs', () => {
    const m = new PhysicalMemory();
    m.poison(0, 8 * L);
    m.clearPoison(L + 1, 2 * L); // only line 2 is wholly inside [65, 193)
    expect(m.poisonRanges()).toEqual([
      { start: 0, end: 2 * L },
      { start: 3 * L, end: 8 * L },
    ]);
    m.clearPoison(0, L - 1); // no whole line
    expect(m.poisonRanges()).toHaveLength(2);
    m.clearPoison(L, 6 * L); // lines 1..6
    expect(m.poisonRanges()).toEqual([
      { start: 0, end: L },
      { start: 7 * L, end: 8 * L },
    ]);
    m.clearPoison(0, 1 << 20);
    expect(m.poisonRanges()).toEqual([]);
    expect(m.hasPoison).toBe(false);
  });

  it('EINVAL for ranges outside [0, 2^52) or not integral, changing nothing', () => {
    const m = new PhysicalMemory();
    m.poison(0, 1);
    for (const [a, n] of [
      [-1, 2],
      [0.5, 1],
      [0, -1],
      [2 ** 52 - 1, 2],
    ] as const) {
      expect(() => m.poison(a, n)).toThrow(errno('EINVAL'));
      expect(() => m.clearPoison(a, n)).toThrow(errno('EINVAL'));
      expect(() => m.firstPoison(a, n)).toThrow(errno('EINVAL'));
    }
    expect(m.poisonRanges()).toEqual([{ start: 0, end: L }]);
  });

  it('behaves as a set of poisoned lines (property)', () => {
    const LINES = 64;
    const op = fc.record({
      kind: fc.constantFrom('poison', 'clear', 'first'),
      at: fc.integer({ min: 0, max: LINES * L - 1 }),
      len: fc.integer({ min: 0, max: 12 * L }),
    });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        const m = new PhysicalMemory();
        const model = new Set<number>();
        for (const { kind, at, len } of ops) {
          if (kind === 'poison') {
            m.poison(at, len);
            if (len > 0) for (let l = Math.floor(at / L); l * L < at + len; l++) model.add(l);
          } else if (kind === 'clear') {
            m.clearPoison(at, len);
            for (let l = Math.ceil(at / L); (l + 1) * L <= at + len; l++) model.delete(l);
          } else {
            let want = -1;
            for (let b = at; b < at + len; b++)
              if (model.has(Math.floor(b / L))) {
                want = b;
                break;
              }
            expect(m.firstPoison(at, len)).toBe(want);
          }
          const runs = m.poisonRanges();
          const lines = runs.flatMap((r) =>
            Array.from({ length: (r.end - r.start) / L }, (_, i) => r.start / L + i),
          );
          expect(lines).toEqual([...model].sort((a, b) => a - b));
          for (let i = 1; i < runs.length; i++) expect(runs[i]!.start).toBeGreaterThan(runs[i - 1]!.end);
        }
      }),
    );
  });
});

describe('machine check on a user load (BUS_MCEERR_AR)', () => {
  it('a load that meets a poisoned line gets SIGBUS si_code 4 at the address that met it', async () => {
    const { kernel, task, pattern } = await mapped();
    kernel.physmem.poison(TOY_BASE + 5 * P + 100, 1); // the line at page 5 + 64
    const buf = new Uint8Array(P);
    const e = sigbus(() => task.load(X + 5 * P, buf));
    expect(e.signo).toBe(SIGBUS);
    expect(e.si_code).toBe(BUS_MCEERR_AR);
    expect(BUS_MCEERR_AR).toBe(4);
    expect(e.addr).toBe(X + 5 * P + 64);
    expect(e.message).toBe(`SIGBUS: bus error (BUS_MCEERR_AR) at 0x${(X + 5 * P + 64).toString(16)} in mce`);
    // the bytes before the poisoned line arrived; nothing after it did
    expect([...buf.subarray(0, 64)]).toEqual([...pattern.subarray(5 * P, 5 * P + 64)]);
    expect(buf.subarray(64).every((b) => b === 0)).toBe(true);
    // starting inside the poisoned line: the first byte faults
    expect(sigbus(() => task.load(X + 5 * P + 70, 4)).addr).toBe(X + 5 * P + 70);
    // around the line, loads work
    expect([...task.load(X + 5 * P + 60, 4)]).toEqual([...pattern.subarray(5 * P + 60, 5 * P + 64)]);
    expect([...task.load(X + 5 * P + 128, 4)]).toEqual([...pattern.subarray(5 * P + 128, 5 * P + 132)]);
  });

  it.each([
    ['4 KiB', PE_SIZE_PTE],
    ['2 MiB', PE_SIZE_PMD],
  ] as const)(
    'a load across pages (%s entries) reports the poisoned address in a later page; earlier bytes arrived',
    async (_, maxEntry) => {
      const { kernel, task, pattern } = await mapped({ maxEntry });
      kernel.physmem.poison(TOY_BASE + 3 * P + 2 * L, L);
      const buf = new Uint8Array(4 * P);
      const e = sigbus(() => task.load(X + P, buf));
      expect(e.si_code).toBe(BUS_MCEERR_AR);
      expect(e.addr).toBe(X + 3 * P + 2 * L);
      expect([...buf.subarray(0, 2 * P + 2 * L)]).toEqual([...pattern.subarray(P, 3 * P + 2 * L)]);
      expect(buf.subarray(2 * P + 2 * L).every((b) => b === 0)).toBe(true);
    },
  );

  it('stores do not signal and do not clear poison; clearing it makes loads work again', async () => {
    const { kernel, task } = await mapped();
    const line = TOY_BASE + 7 * P + 3 * L;
    kernel.physmem.poison(line, L);
    task.store(X + 7 * P + 3 * L, new Uint8Array(L).fill(0x5a));
    const raw = new Uint8Array(L);
    kernel.physmem.read(line, raw);
    expect(raw.every((b) => b === 0x5a)).toBe(true);
    expect(kernel.physmem.firstPoison(line, L)).toBe(line);
    expect(sigbus(() => task.load(X + 7 * P + 3 * L, 1)).si_code).toBe(BUS_MCEERR_AR);
    kernel.physmem.clearPoison(line, L);
    expect(kernel.physmem.hasPoison).toBe(false);
    expect(task.load(X + 7 * P + 3 * L, L).every((b) => b === 0x5a)).toBe(true);
  });

  it('poison outside what a task touches costs its loads nothing', async () => {
    const { kernel, task, pattern } = await mapped();
    kernel.physmem.poison(TOY_BASE + 64 * MiB + P, L); // beyond the toy device
    expect([...task.load(X, 2 * P)]).toEqual([...pattern.subarray(0, 2 * P)]);
  });
});

describe('memcpy_mcsafe (Memremap.memcpyMcsafe)', () => {
  it('copies up to the first poisoned line and returns the bytes not copied', () => {
    const kernel = new Kernel();
    const phys = 8 * 2 ** 30;
    const k = kernel.memremap.memremap(phys, MiB, MEMREMAP_WB)!;
    expect(k).toBe(KERNEL_VA_OFFSET + phys);
    const data = new Uint8Array(P).map((_, i) => (i % 251) + 1);
    kernel.physmem.write(phys, data);

    const all = new Uint8Array(P);
    expect(kernel.memremap.memcpyMcsafe(all, k)).toBe(0);
    expect(all).toEqual(data);

    kernel.physmem.poison(phys + 1000, 1); // the line [960, 1024)
    const dst = new Uint8Array(P);
    expect(kernel.memremap.memcpyMcsafe(dst, k)).toBe(P - 960);
    expect(dst.subarray(0, 960)).toEqual(data.subarray(0, 960));
    expect(dst.subarray(960).every((b) => b === 0)).toBe(true);
    expect(kernel.memremap.memcpyMcsafe(new Uint8Array(10), k + 960)).toBe(10);
    expect(kernel.memremap.memcpyMcsafe(new Uint8Array(10), k + 1024)).toBe(0);
    expect(kernel.memremap.memcpyMcsafe(new Uint8Array(0), k + 1000)).toBe(0);
    expect(() => kernel.memremap.memcpyMcsafe(new Uint8Array(2), k + MiB - 1)).toThrow(errno('EFAULT'));
  });
});
