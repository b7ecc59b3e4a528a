import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isErrno } from '../src/errno.js';
import { PAGE_SIZE } from '../src/include/pfn_t.js';
import { isSignal, SEGV_ACCERR, SEGV_MAPERR } from '../src/kernel/signal.js';
import { Kernel } from '../src/kernel.js';
import { unmapMappingRange } from '../src/mm/memory.js';
import {
  MADV_DOFORK,
  MADV_DONTFORK,
  MAP_FIXED,
  MAP_SHARED,
  PE_SIZE_PMD,
  PROT_NONE,
  PROT_READ,
  PROT_WRITE,
  VM_DONTCOPY,
  VM_READ,
  VM_WRITE,
} from '../src/mm/mm_types.js';
import { MMAP_BASE, MMAP_MIN_ADDR, type MmStruct } from '../src/mm/mmap.js';
import { loadToy, TOY_BASE } from './toy_chrdev.js';

const P = PAGE_SIZE;
const RW = PROT_READ | PROT_WRITE;
/** A window of user addresses (2 MiB aligned) for MAP_FIXED and hinted mappings. */
const W = 2 ** 40;
const WINDOW_PAGES = 2048;

/**
 * An address: a page of the window, a page offset from the start of the i-th vma (whatever is there), or a
 * page inside the i-th vma.
 */
type Addr = { r: 'w'; i: number } | { r: 'v'; i: number; off: number } | { r: 'in'; i: number; page: number };
type Op =
  | { t: 'mmap'; addr: Addr; mode: 'fixed' | 'hint' | 'none'; pages: number; pgoff: number; prot: number }
  | { t: 'munmap'; addr: Addr; pages: number }
  | { t: 'madvise'; addr: Addr; pages: number; dontfork: boolean }
  | { t: 'store'; addr: Addr; off: number; value: number }
  | { t: 'load'; addr: Addr; off: number }
  | { t: 'zap'; pgoff: number; pages: number };

const addrArb: fc.Arbitrary<Addr> = fc.oneof(
  {
    weight: 2,
    arbitrary: fc.record({
      r: fc.constant('w' as const),
      i: fc.oneof(fc.nat(WINDOW_PAGES - 1), fc.constantFrom(0, 512, 1024, 1536)),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      r: fc.constant('v' as const),
      i: fc.nat(64),
      off: fc.integer({ min: -4, max: 24 }),
    }),
  },
);
/** Accesses mostly land inside a vma. */
const accessArb: fc.Arbitrary<Addr> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ r: fc.constant('in' as const), i: fc.nat(64), page: fc.nat(1023) }) },
  { weight: 1, arbitrary: addrArb },
);
/** 2 MiB-aligned places of the window. */
const hugeAddrArb: fc.Arbitrary<Addr> = fc.record({
  r: fc.constant('w' as const),
  i: fc.constantFrom(0, 512, 1024, 1536),
});
const pagesArb = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 1, max: 16 }) },
  { weight: 1, arbitrary: fc.constant(512) },
);
const pgoffArb = fc.oneof({ weight: 4, arbitrary: fc.nat(15) }, { weight: 1, arbitrary: fc.constant(512) });

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 1,
    arbitrary: fc.record({
      t: fc.constant('mmap' as const),
      addr: hugeAddrArb,
      mode: fc.constant('fixed' as const),
      pages: fc.constantFrom(512, 1024),
      pgoff: fc.constantFrom(0, 512),
      prot: fc.constant(RW),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      t: fc.constant('mmap' as const),
      addr: addrArb,
      mode: fc.constantFrom('fixed' as const, 'hint' as const, 'none' as const),
      pages: pagesArb,
      pgoff: pgoffArb,
      prot: fc.constantFrom(RW, RW, RW, PROT_READ, PROT_NONE),
    }),
  },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('munmap' as const), addr: addrArb, pages: pagesArb }) },
  {
    weight: 1,
    arbitrary: fc.record({
      t: fc.constant('madvise' as const),
      addr: addrArb,
      pages: pagesArb,
      dontfork: fc.boolean(),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      t: fc.constant('store' as const),
      addr: accessArb,
      off: fc.nat(P - 1),
      value: fc.integer({ min: 1, max: 255 }),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({ t: fc.constant('load' as const), addr: accessArb, off: fc.nat(P - 1) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ t: fc.constant('zap' as const), pgoff: fc.nat(600), pages: pagesArb }),
  },
);

/** What the model knows of one mapped page. */
interface PageState {
  pgoff: number;
  prot: number;
  dontcopy: boolean;
}

const key = (s: PageState) => `${s.pgoff}:${s.prot}:${s.dontcopy}`;

/** The mm's vmas as the same per-page map the model keeps. */
function pagesOf(mm: MmStruct): Map<number, string> {
  const out = new Map<number, string>();
  for (const v of mm.vmas) {
    const prot = (v.flags & VM_READ ? PROT_READ : 0) | (v.flags & VM_WRITE ? PROT_WRITE : 0);
    const dontcopy = (v.flags & VM_DONTCOPY) !== 0;
    for (let a = v.start; a < v.end; a += P)
      out.set(a / P, key({ pgoff: v.pgoff + (a - v.start) / P, prot, dontcopy }));
  }
  return out;
}

/** arch_get_unmapped_area_topdown over the model's mapped pages (a second implementation, by runs of pages). */
function topDown(model: Map<number, PageState>, len: number): number {
  const sorted = [...model.keys()].sort((a, b) => a - b);
  const runs: Array<[number, number]> = [];
  for (const p of sorted) {
    const last = runs.at(-1);
    if (last !== undefined && last[1] === p) last[1] = p + 1;
    else runs.push([p, p + 1]);
  }
  let ceiling = MMAP_BASE / P;
  for (let i = runs.length - 1; i >= 0; i--) {
    const [s, e] = runs[i]!;
    if (s >= ceiling) continue;
    if (e <= ceiling && ceiling - e >= len) return (ceiling - len) * P;
    ceiling = s;
  }
  expect(ceiling - MMAP_MIN_ADDR / P).toBeGreaterThanOrEqual(len);
  return (ceiling - len) * P;
}

function outcome(fn: () => unknown): { ok: true; value: unknown } | { ok: false; error: unknown } {
  try {
    return { ok: true, value: fn() };
  } catch (error) {
    return { ok: false, error };
  }
}

describe('address space (property)', () => {
  it('mmap/munmap/madvise/store/load/unmap_mapping_range keep vmas, page tables and data consistent with a page model', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 10, maxLength: 40 }), async (ops) => {
        const kernel = new Kernel();
        const toy = await loadToy(kernel, { maxEntry: PE_SIZE_PMD });
        const task = kernel.spawn('prop');
        const fd = task.open(toy.path);
        const file = [...toy.files][0]!;
        const mm = task.mm;
        /** Mapped pages by page number. */
        const model = new Map<number, PageState>();
        /** Device bytes stored, by file offset. */
        const mem = new Map<number, number>();
        /** Pages ever accessed, whose page-table leaves are checked after every step. */
        const touched = new Set<number>();

        const resolve = (a: Addr): number => {
          if (a.r === 'w' || mm.vmas.length === 0) return W + (a.i % WINDOW_PAGES) * P;
          const v = mm.vmas[a.i % mm.vmas.length]!;
          if (a.r === 'v') return v.start + a.off * P;
          return v.start + (a.page % ((v.end - v.start) / P)) * P;
        };
        const free = (start: number, pages: number) => {
          for (let i = 0; i < pages; i++) if (model.has(start / P + i)) return false;
          return true;
        };

        for (const op of ops) {
          switch (op.t) {
            case 'mmap': {
              const at = resolve(op.addr);
              const hint = op.mode === 'none' ? 0 : at;
              const flags = MAP_SHARED | (op.mode === 'fixed' ? MAP_FIXED : 0);
              const expected =
                op.mode === 'fixed' || (op.mode === 'hint' && free(at, op.pages))
                  ? at
                  : topDown(model, op.pages);
              const r = outcome(() => task.mmap(hint, op.pages * P, op.prot, flags, fd, op.pgoff * P));
              expect(r).toEqual({ ok: true, value: expected });
              if (op.mode !== 'fixed') expect(free(expected, op.pages)).toBe(true);
              for (let i = 0; i < op.pages; i++)
                model.set(expected / P + i, { pgoff: op.pgoff + i, prot: op.prot, dontcopy: false });
              break;
            }
            case 'munmap': {
              const at = resolve(op.addr);
              task.munmap(at, op.pages * P);
              for (let i = 0; i < op.pages; i++) model.delete(at / P + i);
              break;
            }
            case 'madvise': {
              const at = resolve(op.addr);
              const r = outcome(() =>
                task.madvise(at, op.pages * P, op.dontfork ? MADV_DONTFORK : MADV_DOFORK),
              );
              let hole = false;
              for (let i = 0; i < op.pages; i++) {
                const s = model.get(at / P + i);
                if (s === undefined) hole = true;
                else s.dontcopy = op.dontfork;
              }
              if (hole) expect(r.ok === false && isErrno(r.error, 'ENOMEM')).toBe(true);
              else expect(r).toEqual({ ok: true, value: undefined });
              break;
            }
            case 'store':
            case 'load': {
              const at = resolve(op.addr);
              touched.add(at / P);
              const s = model.get(at / P);
              const write = op.t === 'store';
              const r = outcome(() =>
                write ? task.store(at + op.off, Uint8Array.of(op.value)) : task.load(at + op.off, 1)[0],
              );
              const allowed = s !== undefined && (write ? s.prot & PROT_WRITE : s.prot & RW);
              if (allowed) {
                const byte = s.pgoff * P + op.off;
                if (write) mem.set(byte, op.value);
                expect(r).toEqual({ ok: true, value: write ? undefined : (mem.get(byte) ?? 0) });
              } else {
                expect(r.ok).toBe(false);
                const e = (r as { error: unknown }).error;
                expect(isSignal(e, 'SIGSEGV')).toBe(true);
                expect(e).toMatchObject({
                  addr: at + op.off,
                  si_code: s === undefined ? SEGV_MAPERR : SEGV_ACCERR,
                });
              }
              break;
            }
            case 'zap':
              unmapMappingRange(file.mapping, op.pgoff * P, op.pages * P, false);
              break;
          }

          // vmas: sorted, disjoint, page aligned, non-empty
          for (let i = 0; i < mm.vmas.length; i++) {
            const v = mm.vmas[i]!;
            expect(v.start % P).toBe(0);
            expect(v.end % P).toBe(0);
            expect(v.end).toBeGreaterThan(v.start);
            if (i > 0) expect(mm.vmas[i - 1]!.end).toBeLessThanOrEqual(v.start);
          }
          // every page of the model in exactly one vma, with its offset, protection and advice
          const expectedPages = new Map([...model].map(([p, s]) => [p, key(s)]));
          expect(pagesOf(mm)).toEqual(expectedPages);
          // each vma holds one file reference and sits in i_mmap
          expect(file.count).toBe(1 + mm.vmas.length);
          expect(file.mapping.iMmap.size).toBe(mm.vmas.length);
          // page-table leaves only under mapped pages, mapping the device page the model expects
          for (const page of touched) {
            const walk = mm.pgtable.walk(page * P);
            const s = model.get(page);
            if (s === undefined) {
              expect(walk).toBeNull();
              continue;
            }
            if (walk === null) continue;
            expect(walk.entry.phys + (page * P - walk.base)).toBe(TOY_BASE + s.pgoff * P);
            const first = model.get(walk.base / P);
            const last = model.get((walk.base + walk.bytes) / P - 1);
            expect(first?.pgoff).toBe(s.pgoff - (page - walk.base / P));
            expect(last?.pgoff).toBe(first!.pgoff + walk.bytes / P - 1);
          }
        }

        // every stored byte is in device memory at its file offset
        for (const [byte, value] of mem) {
          const got = new Uint8Array(1);
          kernel.physmem.read(TOY_BASE + byte, got);
          expect(got[0]).toBe(value);
        }
        task.exit();
        expect(mm.vmas).toEqual([]);
        expect(mm.pgtable.counts).toEqual({ pte: 0, pmd: 0, pud: 0, pteTables: 0, pmdTables: 0 });
        expect(file.count).toBe(0);
        expect(file.mapping.iMmap.size).toBe(0);
        expect(toy.files.size).toBe(0);
        expect(toy.log.filter((l) => l === 'release')).toHaveLength(1);
        expect(toy.module.refcnt).toBe(0);
        expect(kernel.tasks.size).toBe(0);
        await kernel.modules.rmmod(toy.name);
        expect(kernel.log.warnings).toBe(0);
      }),
      { numRuns: 200 },
    );
  });
});
