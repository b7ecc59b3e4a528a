/**
 * mm/memory_hotplug.c, mm/sparse-vmemmap.c and arch/x86/mm/init_64.c as devm_memremap_pages() drives them
 * (v4.12, SPARSEMEM_VMEMMAP): device memory is hot-added a 128 MiB section at a time, and each new section's
 * memmap (a 64-byte struct page per 4 KiB page, which is exactly one 2 MiB vmemmap PMD block per section)
 * comes from the device's vmem_altmap or from System RAM.
 *
 * Departures. The memmap is accounted, never materialized: the kernel writes the struct pages into the altmap
 * pages, i.e. into the namespace's own media, while here nothing is written anywhere, so a terabyte namespace
 * probes without host memory. A section that is already present (another pgmap in the same section) is shared
 * and its memmap goes with its last user; v4.12 ignores the EEXIST when adding and tears the section down with
 * whichever user goes first. A failed add takes back the sections it added; v4.12 leaves them behind.
 */
import { type ErrnoCode, kerr } from '../errno.js';
import { PAGE_SIZE } from '../include/pfn_t.js';
import type { Printk } from '../kernel/printk.js';
import type { VmemAltmap } from './memremap.js';
import { PMD_SIZE } from './mm_types.js';

/** SECTION_SIZE_BITS on x86-64 (PA_SECTION_SHIFT). */
export const SECTION_SIZE_BITS = 27;
export const SECTION_SIZE = 2 ** SECTION_SIZE_BITS;
export const PAGES_PER_SECTION = SECTION_SIZE / PAGE_SIZE;
/** sizeof(struct page) on x86-64. */
export const STRUCT_PAGE_SIZE = 64;

/** Pages of one vmemmap block (PMD_SIZE), which holds the memmap of exactly one section. */
const BLOCK_PFNS = PMD_SIZE / PAGE_SIZE;

/** vmem_altmap_nr_free(). */
function vmemAltmapNrFree(altmap: VmemAltmap): number {
  const allocated = altmap.alloc + altmap.align;
  return altmap.free > allocated ? altmap.free - allocated : 0;
}

/**
 * vmem_altmap_alloc(): `nrPfns` pages from the altmap, the first aligned to the lowest set bit of `nrPfns`
 * (the skipped pages go to `align`); the first pfn, or -1 when not enough are free.
 */
export function vmemAltmapAlloc(altmap: VmemAltmap, nrPfns: number): number {
  const pfn = altmap.basePfn + altmap.reserve + altmap.alloc + altmap.align;
  let unit = 1;
  while (unit < nrPfns && (nrPfns / unit) % 2 === 0) unit *= 2;
  const nrAlign = Math.ceil(pfn / unit) * unit - pfn;
  if (nrPfns + nrAlign > vmemAltmapNrFree(altmap)) return -1;
  altmap.alloc += nrPfns;
  altmap.align += nrAlign;
  return pfn + nrAlign;
}

/** A present memory section. */
interface MemSection {
  users: number;
  /** The altmap its vmemmap block came from; null for System RAM. */
  altmap: VmemAltmap | null;
}

/** The hot-added device sections of one kernel and where their memmap lives. */
export class MemoryHotplug {
  readonly #log: Printk;
  /** By section number. */
  readonly #sections = new Map<number, MemSection>();
  readonly #printedOnce = new Set<string>();
  #ramBytes = 0;
  #altmapPages = 0;

  constructor(log: Printk) {
    this.#log = log;
  }

  /**
   * arch_add_memory() + __add_pages() for the section-aligned [start, start+size). `toVmemAltmap(pfn)` is
   * to_vmem_altmap() for a section's first pfn. The altmap found for the first section is validated (based
   * at `start`, reserve + free inside the range; else EINVAL after "memory add fail, invalid altmap") and its
   * alloc reset. A section not yet present gets its vmemmap block from its altmap (none left: ENOMEM, there
   * is no fallback) or from System RAM. A failure WARNs as arch_add_memory does and is thrown after
   * everything this call added has been taken back.
   */
  archAddMemory(start: number, size: number, toVmemAltmap: (pfn: number) => VmemAltmap | null): void {
    const startPfn = start / PAGE_SIZE;
    const first = start / SECTION_SIZE;
    const end = first + size / SECTION_SIZE;
    let err: ErrnoCode | null = null;
    const altmap = toVmemAltmap(startPfn);
    if (altmap !== null) {
      if (altmap.basePfn !== startPfn || altmap.reserve + altmap.free > size / PAGE_SIZE) {
        this.#warnOnce('memory add fail, invalid altmap');
        err = 'EINVAL';
      } else altmap.alloc = 0;
    }
    let nr = first;
    if (err === null)
      for (; nr < end; nr++) {
        err = this.#addSection(nr, toVmemAltmap(nr * PAGES_PER_SECTION));
        if (err !== null) break;
      }
    if (this.#log.warnOnce(err !== null, 'arch/x86/mm/init_64.c:arch_add_memory', 'WARN_ON_ONCE(ret)')) {
      for (let i = first; i < nr; i++) this.#removeSection(i);
      throw kerr(err ?? 'EINVAL', 'arch_add_memory');
    }
  }

  /** arch_remove_memory(): drops the sections of [start, start+size) that archAddMemory() added. */
  archRemoveMemory(start: number, size: number): void {
    const first = start / SECTION_SIZE;
    const end = first + size / SECTION_SIZE;
    for (let nr = first; nr < end; nr++) this.#removeSection(nr);
  }

  /** Bytes of System RAM holding device memmaps. */
  get vmemmapRamBytes(): number {
    return this.#ramBytes;
  }

  /** Altmap pages holding device memmaps (the sum of the live blocks' share of every altmap's alloc). */
  get altmapPages(): number {
    return this.#altmapPages;
  }

  /** Device memory sections present. */
  get presentSections(): number {
    return this.#sections.size;
  }

  /** __add_section() -> sparse_add_one_section() -> vmemmap_populate(): null, or the error. */
  #addSection(nr: number, altmap: VmemAltmap | null): ErrnoCode | null {
    const present = this.#sections.get(nr);
    if (present !== undefined) {
      present.users++;
      return null;
    }
    if (altmap !== null) {
      if (vmemAltmapAlloc(altmap, BLOCK_PFNS) < 0) return 'ENOMEM';
      this.#altmapPages += BLOCK_PFNS;
    } else this.#ramBytes += PMD_SIZE;
    this.#sections.set(nr, { users: 1, altmap });
    return null;
  }

  /** sparse_remove_one_section() for the last user; the block goes back with vmem_altmap_free(). */
  #removeSection(nr: number): void {
    const section = this.#sections.get(nr);
    if (section === undefined || --section.users > 0) return;
    this.#sections.delete(nr);
    if (section.altmap !== null) {
      section.altmap.alloc -= BLOCK_PFNS;
      this.#altmapPages -= BLOCK_PFNS;
    } else this.#ramBytes -= PMD_SIZE;
  }

  /** pr_warn_once(). */
  #warnOnce(text: string): void {
    if (this.#printedOnce.has(text)) return;
    this.#printedOnce.add(text);
    this.#log.warning(text);
  }
}
