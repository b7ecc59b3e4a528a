/**
 * A task's page tables (pgd -> pud -> pmd -> pte, arch/x86 include/asm/pgtable*.h) reduced to what faults
 * need: leaf entries at 4 KiB, 2 MiB and 1 GiB, and whether a lower-level table exists under a pud or pmd
 * slot (a slot with a table is not "none", so no huge entry can be installed there). Tables stay after a zap,
 * as in the kernel, and are freed only when munmap removes the range (free_pgtables).
 */
import { type PageTableEntry, PE_SIZE_PMD, PE_SIZE_PUD, PMD_SIZE, PUD_SIZE } from './mm_types.js';

const PTE_BYTES = 4096;

/** A leaf found for an address, with the address its entry starts at. */
export interface PageWalk {
  readonly entry: PageTableEntry;
  readonly base: number;
  readonly bytes: number;
}

export class PageTable {
  readonly #pud = new Map<number, PageTableEntry>();
  readonly #pmdTables = new Set<number>();
  readonly #pmd = new Map<number, PageTableEntry>();
  readonly #pteTables = new Set<number>();
  readonly #pte = new Map<number, PageTableEntry>();

  /** The leaf mapping `addr`, or null (follow_page_mask's walk, one level at a time). */
  walk(addr: number): PageWalk | null {
    const pudIdx = Math.floor(addr / PUD_SIZE);
    const pud = this.#pud.get(pudIdx);
    if (pud !== undefined) return { entry: pud, base: pudIdx * PUD_SIZE, bytes: PUD_SIZE };
    if (!this.#pmdTables.has(pudIdx)) return null;
    const pmdIdx = Math.floor(addr / PMD_SIZE);
    const pmd = this.#pmd.get(pmdIdx);
    if (pmd !== undefined) return { entry: pmd, base: pmdIdx * PMD_SIZE, bytes: PMD_SIZE };
    if (!this.#pteTables.has(pmdIdx)) return null;
    const pteIdx = Math.floor(addr / PTE_BYTES);
    const pte = this.#pte.get(pteIdx);
    return pte === undefined ? null : { entry: pte, base: pteIdx * PTE_BYTES, bytes: PTE_BYTES };
  }

  /** pud_none(): no huge entry and no pmd table under the pud slot of `addr`. */
  pudNone(addr: number): boolean {
    const idx = Math.floor(addr / PUD_SIZE);
    return !this.#pud.has(idx) && !this.#pmdTables.has(idx);
  }

  /** pmd_none(). */
  pmdNone(addr: number): boolean {
    const idx = Math.floor(addr / PMD_SIZE);
    return !this.#pmd.has(idx) && !this.#pteTables.has(idx);
  }

  /** pmd_alloc(): a pmd table under the pud slot of `addr`, unless a huge pud maps it. */
  pmdAlloc(addr: number): boolean {
    const idx = Math.floor(addr / PUD_SIZE);
    if (this.#pud.has(idx)) return false;
    this.#pmdTables.add(idx);
    return true;
  }

  /** pte_alloc(): a pte table under the pmd slot of `addr`, unless a huge pmd maps it. */
  pteAlloc(addr: number): boolean {
    if (!this.pmdAlloc(addr)) return false;
    const idx = Math.floor(addr / PMD_SIZE);
    if (this.#pmd.has(idx)) return false;
    this.#pteTables.add(idx);
    return true;
  }

  /** Installs a leaf of the entry's size at `addr`; false when something is mapped there already (EBUSY). */
  set(addr: number, entry: PageTableEntry): boolean {
    switch (entry.size) {
      case PE_SIZE_PUD: {
        const idx = Math.floor(addr / PUD_SIZE);
        if (this.#pud.has(idx) || this.#pmdTables.has(idx)) return false;
        this.#pud.set(idx, entry);
        return true;
      }
      case PE_SIZE_PMD: {
        const idx = Math.floor(addr / PMD_SIZE);
        if (!this.pmdAlloc(addr) || this.#pmd.has(idx) || this.#pteTables.has(idx)) return false;
        this.#pmd.set(idx, entry);
        return true;
      }
      default: {
        const idx = Math.floor(addr / PTE_BYTES);
        if (!this.pteAlloc(addr) || this.#pte.has(idx)) return false;
        this.#pte.set(idx, entry);
        return true;
      }
    }
  }

  /**
   * zap_page_range(): clears every leaf that maps any byte of [start, end); a huge leaf only partly inside is
   * cleared whole (a split of a device mapping just drops the entry). Returns the number cleared.
   */
  zap(start: number, end: number): number {
    if (end <= start) return 0;
    let n = 0;
    n += zapLevel(this.#pud, start, end, PUD_SIZE);
    n += zapLevel(this.#pmd, start, end, PMD_SIZE);
    n += zapLevel(this.#pte, start, end, PTE_BYTES);
    return n;
  }

  /**
   * free_pgtables() / free_pgd_range(): drops the tables whose span meets [start, end) and lies wholly in
   * [floor, ceiling), the gap between the vmas left on either side (so no remaining vma can use them), with
   * the pte tables under a pmd table that goes. Without floor and ceiling, only tables whose whole span lies
   * in [start, end) go.
   */
  freeTables(start: number, end: number, floor = start, ceiling = end): void {
    const lo = Math.min(floor, start);
    const hi = Math.max(ceiling, end);
    const fits = (s: number, bytes: number) => s < end && s + bytes > start && s >= lo && s + bytes <= hi;
    const pmdGone = new Set<number>();
    for (const idx of this.#pmdTables) if (fits(idx * PUD_SIZE, PUD_SIZE)) pmdGone.add(idx);
    for (const idx of this.#pteTables)
      if (fits(idx * PMD_SIZE, PMD_SIZE) || pmdGone.has(Math.floor((idx * PMD_SIZE) / PUD_SIZE)))
        this.#pteTables.delete(idx);
    for (const idx of pmdGone) this.#pmdTables.delete(idx);
  }

  /** Leaves and tables present, per level (for tests and /proc/<pid>/status-like accounting). */
  get counts(): { pte: number; pmd: number; pud: number; pteTables: number; pmdTables: number } {
    return {
      pte: this.#pte.size,
      pmd: this.#pmd.size,
      pud: this.#pud.size,
      pteTables: this.#pteTables.size,
      pmdTables: this.#pmdTables.size,
    };
  }
}

function zapLevel(level: Map<number, PageTableEntry>, start: number, end: number, bytes: number): number {
  const first = Math.floor(start / bytes);
  const last = Math.floor((end - 1) / bytes);
  let n = 0;
  if (last - first + 1 <= level.size) {
    for (let idx = first; idx <= last; idx++) if (level.delete(idx)) n++;
  } else {
    for (const idx of level.keys())
      if (idx >= first && idx <= last) {
        level.delete(idx);
        n++;
      }
  }
  return n;
}
