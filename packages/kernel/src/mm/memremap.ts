/**
 * kernel/memremap.c (v4.12): memremap(), memunmap(), devm_memremap() and devm_memremap_pages(), which give the
 * kernel a virtual address for a physical range, and the kernel-side copies through such an address. Kernel
 * virtual addresses are the physical address plus KERNEL_VA_OFFSET (2^52 here instead of x86-64's
 * 0xffff880000000000, which a JS number cannot hold exactly). System RAM is always mapped there (the direct
 * map); any other access outside every live mapping is an oops, reported as EFAULT.
 *
 * With an nfit_test redirect installed (kernel/iomap_wrap.ts), a range starting inside a test resource is
 * mapped without the System RAM checks, as the wrapped memremap/devm_memremap_pages hand out the test buffer.
 */
import type { Device } from '../drivers/base/core.js';
import type { DriverCore } from '../drivers/base/driver_core.js';
import { errnoValue, kerr } from '../errno.js';
import { PAGE_SIZE } from '../include/pfn_t.js';
import type { IomapWrap } from '../kernel/iomap_wrap.js';
import { KERN_ALERT, type Printk } from '../kernel/printk.js';
import { type RegionIntersects, Resource, resourceString } from '../kernel/resource.js';
import type { FaultInject } from '../lib/fault-inject.js';
import { MemoryHotplug, SECTION_SIZE } from './memory_hotplug.js';
import type { PhysicalMemory } from './physmem.js';
import { PHYS_ADDR_MAX } from './physmem.js';

export const KERNEL_VA_OFFSET = PHYS_ADDR_MAX;

/** memremap() flags. */
export const MEMREMAP_WB = 1 << 0;
export const MEMREMAP_WT = 1 << 1;
export const MEMREMAP_WC = 1 << 2;

interface Mapping {
  kaddr: number;
  phys: number;
  size: number;
}

/**
 * struct vmem_altmap (include/linux/memremap.h): pages at the start of a device range lent to the memmap of
 * the range itself. The memmap may use `free` pages after the first `reserve` pages from `basePfn`; `alloc`
 * counts the pages it took and `align` those skipped to align them.
 */
export interface VmemAltmap {
  readonly basePfn: number;
  readonly reserve: number;
  free: number;
  align: number;
  alloc: number;
}

/** vmem_altmap_offset(): pages from basePfn before the first pfn that gets a struct page of its own. */
export function vmemAltmapOffset(altmap: VmemAltmap): number {
  return altmap.reserve + altmap.free;
}

/** struct dev_pagemap (v4.12): one ZONE_DEVICE range made by devm_memremap_pages(). */
export interface DevPagemap {
  /** The pgmap's own copy of the range. */
  readonly res: Resource;
  /** The pgmap's own copy of the caller's altmap (whose alloc grows as the memmap is populated), or null. */
  readonly altmap: VmemAltmap | null;
  readonly dev: Device;
}

/** struct page_map (v4.12): a pgmap with the copies it owns and the span it occupies. */
class PageMap implements DevPagemap {
  readonly res: Resource;
  readonly altmap: VmemAltmap | null;
  readonly dev: Device;
  /** [pfnStart, pfnEnd): its entries in pgmap_radix. */
  readonly pfnStart: number;
  readonly pfnEnd: number;
  /** The section-aligned span hot-added and direct-mapped for it. */
  readonly alignStart: number;
  readonly alignSize: number;

  constructor(dev: Device, res: Resource, altmap: VmemAltmap | null) {
    this.dev = dev;
    this.res = new Resource({
      name: res.name,
      start: res.start,
      end: res.end,
      flags: res.flags,
      desc: res.desc,
    });
    this.altmap = altmap === null ? null : { ...altmap };
    this.pfnStart = Math.floor(res.start / PAGE_SIZE);
    this.pfnEnd = this.pfnStart + Math.floor((res.end - res.start + 1) / PAGE_SIZE);
    this.alignStart = Math.floor(res.start / SECTION_SIZE) * SECTION_SIZE;
    this.alignSize = Math.ceil((res.end + 1) / SECTION_SIZE) * SECTION_SIZE - this.alignStart;
  }
}

/**
 * foreach_order_pgoff(): the multi-order pgmap_radix entries covering `nrPages` pfns from `firstPfn`, as
 * [first pfn, pages] pairs: each the largest power of two both aligned at its pfn and fitting what is left.
 */
function* orderChunks(firstPfn: number, nrPages: number): Generator<[number, number]> {
  for (let pgoff = 0; pgoff < nrPages; ) {
    const pfn = firstPfn + pgoff;
    let cap = 1;
    while (cap * 2 <= nrPages - pgoff) cap *= 2;
    let pages = 1;
    while (pages < cap && (pfn / pages) % 2 === 0) pages *= 2;
    yield [pfn, pages];
    pgoff += pages;
  }
}

export class Memremap {
  readonly #mem: PhysicalMemory;
  readonly #log: Printk;
  readonly #ramIntersects: (phys: number, size: number) => RegionIntersects;
  readonly #wrap: IomapWrap | null;
  /** Live mappings, oldest first. */
  readonly #maps: Mapping[] = [];
  /** pgmap_radix: live pgmaps, by pfn. */
  readonly #pgmaps: PageMap[] = [];
  readonly #hotplug: MemoryHotplug;
  readonly #inject: FaultInject | null;

  /**
   * `ramIntersects` is region_intersects() against System RAM; `wrap` the nfit_test redirection this
   * kernel's memremap functions are linked against, if any; `inject` is consulted at 'memremap' (the
   * ioremap behind a mapping of non-RAM) and 'devm_memremap_pages' (its page_map allocation).
   */
  constructor(
    mem: PhysicalMemory,
    log: Printk,
    ramIntersects: (phys: number, size: number) => RegionIntersects,
    wrap: IomapWrap | null = null,
    inject: FaultInject | null = null,
  ) {
    this.#inject = inject;
    this.#mem = mem;
    this.#log = log;
    this.#ramIntersects = ramIntersects;
    this.#wrap = wrap;
    this.#hotplug = new MemoryHotplug(log);
  }

  /**
   * memremap(): a kernel virtual address for [offset, offset+size), or null for a zero size, a range that is
   * partly System RAM (WARN_ONCE), or System RAM asked for without MEMREMAP_WB. A range starting in a
   * redirected test resource is mapped whatever the flags (__wrap_memremap).
   */
  memremap(offset: number, size: number, flags: number): number | null {
    if (size <= 0 || !Number.isInteger(offset) || !Number.isInteger(size)) return null;
    if (offset < 0 || offset + size > PHYS_ADDR_MAX) return null;
    if (this.#wrap?.getNfitRes(offset)) return this.#map(offset, size);
    if (flags === 0) return null;
    const isRam = this.#ramIntersects(offset, size);
    if (
      this.#log.warnOnce(
        isRam === 'REGION_MIXED',
        'kernel/memremap.c:memremap:mixed',
        `memremap attempted on mixed range 0x${hex(offset)} size: 0x${size.toString(16)}`,
      )
    )
      return null;
    if ((flags & (MEMREMAP_WB | MEMREMAP_WT | MEMREMAP_WC)) === 0) return null;
    if (
      this.#log.warnOnce(
        isRam === 'REGION_INTERSECTS' && (flags & MEMREMAP_WB) === 0,
        'kernel/memremap.c:memremap:ram',
        `memremap attempted on ram 0x${hex(offset)} size: 0x${size.toString(16)}`,
      )
    )
      return null;
    if (isRam !== 'REGION_INTERSECTS' && this.#inject?.should('memremap')) return null;
    return this.#map(offset, size);
  }

  #map(phys: number, size: number): number {
    const kaddr = KERNEL_VA_OFFSET + phys;
    this.#maps.push({ kaddr, phys, size });
    return kaddr;
  }

  /** memunmap(): ends a mapping made by memremap() at exactly `kaddr`. */
  memunmap(kaddr: number): void {
    const i = this.#maps.findIndex((m) => m.kaddr === kaddr);
    if (this.#log.warn(i < 0, 'kernel/memremap.c:memunmap', `memunmap of unmapped address 0x${hex(kaddr)}`))
      return;
    this.#maps.splice(i, 1);
  }

  /**
   * devm_memremap(): memremap() undone when `dev`'s resources are released; ENXIO when it fails. When the
   * devres cannot be added (ENOMEM, a released device) the mapping is undone and the error rethrown, as the
   * kernel allocates the devres before mapping.
   */
  devmMemremap(core: DriverCore, dev: Device, offset: number, size: number, flags: number): number {
    const kaddr = this.memremap(offset, size, flags);
    if (kaddr === null) throw kerr('ENXIO', 'devm_memremap');
    try {
      core.devmAddAction(dev, this.#devmMemremapRelease, kaddr);
    } catch (e) {
      this.memunmap(kaddr);
      throw e;
    }
    return kaddr;
  }

  /**
   * devm_memremap_pages() (v4.12): ZONE_DEVICE struct pages for `res` and its kernel address, all undone by a
   * devres action of `dev`. The span checked and hot-added is `res` widened to 128 MiB sections. Partly System
   * RAM: WARN_ONCE and ENXIO; all System RAM: the direct-map address, nothing done. A pgmap already holding
   * the first pfn of one of the range's radix entries: EBUSY ("collides with mapping for"); one overlapping
   * such an entry elsewhere: EEXIST (the radix insert). Each new section's memmap comes from `altmap` (the
   * pgmap keeps its own copy, whose alloc grows; exhausted: ENOMEM; inconsistent: EINVAL) or from System RAM;
   * it is only accounted, never written (see memory_hotplug.ts). Any failure leaves nothing behind. A range
   * starting in a redirected test resource is mapped as devm_memremap() maps it, with no pgmap or memmap, as
   * tools/testing/nvdimm's wrapper returns the test buffer.
   */
  devmMemremapPages(core: DriverCore, dev: Device, res: Resource, altmap: VmemAltmap | null): number {
    const op = 'devm_memremap_pages';
    const { start, end } = res;
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start)
      throw kerr('EINVAL', op);
    if (end >= PHYS_ADDR_MAX) throw kerr('EINVAL', op);
    // __wrap_devm_memremap_pages(): a test resource is its own mapping, without struct pages
    if (this.#wrap?.getNfitRes(start))
      return this.devmMemremap(core, dev, start, end - start + 1, MEMREMAP_WB);
    const pm = new PageMap(dev, res, altmap);
    {
      const isRam = this.#ramIntersects(pm.alignStart, pm.alignSize);
      if (isRam === 'REGION_MIXED') {
        this.#log.warnOnce(
          true,
          `kernel/memremap.c:${op}`,
          `${op} attempted on mixed region ${resourceString(res)}`,
        );
        throw kerr('ENXIO', op);
      }
      if (isRam === 'REGION_INTERSECTS') return KERNEL_VA_OFFSET + start;
    }
    if (this.#inject?.should(op)) throw kerr('ENOMEM', op);
    for (const [pfn, pages] of orderChunks(pm.pfnStart, pm.pfnEnd - pm.pfnStart)) {
      const dup = this.#findPgmap(pfn);
      if (dup !== null) {
        core.devErr(dev, `${op}: ${resourceString(res)} collides with mapping for ${dup.dev.name}`);
        throw kerr('EBUSY', op);
      }
      if (this.#pgmaps.some((p) => p.pfnStart < pfn + pages && pfn < p.pfnEnd)) {
        core.devErr(dev, `${op}: failed: -${errnoValue('EEXIST')}`);
        throw kerr('EEXIST', op);
      }
    }
    const at = this.#pgmaps.findIndex((p) => p.pfnStart > pm.pfnStart);
    this.#pgmaps.splice(at < 0 ? this.#pgmaps.length : at, 0, pm);
    try {
      this.#hotplug.archAddMemory(pm.alignStart, pm.alignSize, (pfn) => this.#findPgmap(pfn)?.altmap ?? null);
    } catch (e) {
      this.#pgmaps.splice(this.#pgmaps.indexOf(pm), 1);
      throw e;
    }
    try {
      core.devmAddAction(dev, this.#releasePages, pm);
    } catch (e) {
      this.#releasePages(pm);
      throw e;
    }
    return KERNEL_VA_OFFSET + start;
  }

  /** devm_memremap_pages_release(): removes the memory, its memmap and its radix entries. */
  readonly #releasePages = (pm: PageMap): void => {
    this.#hotplug.archRemoveMemory(pm.alignStart, pm.alignSize);
    const i = this.#pgmaps.indexOf(pm);
    if (i >= 0) this.#pgmaps.splice(i, 1);
  };

  /** get_dev_pagemap() without the reference: the live pgmap whose range holds `pfn`, or null. */
  getDevPagemap(pfn: number): DevPagemap | null {
    return this.#findPgmap(pfn);
  }

  #findPgmap(pfn: number): PageMap | null {
    for (const p of this.#pgmaps) if (pfn >= p.pfnStart && pfn < p.pfnEnd) return p;
    return null;
  }

  /** devm_memremap_release(). */
  readonly #devmMemremapRelease = (kaddr: number): void => this.memunmap(kaddr);

  /** devm_memunmap(): ends now a mapping `dev` made with devmMemremap; WARN when it holds none at `kaddr`. */
  async devmMemunmap(core: DriverCore, dev: Device, kaddr: number): Promise<void> {
    const found = await core.devresRelease(dev, this.#devmMemremapRelease, (addr) => addr === kaddr);
    this.#log.warn(!found, 'kernel/memremap.c:devm_memunmap', 'WARN_ON(devres_release(...))');
  }

  /** The physical address behind a mapped kernel address (virt_to_phys); EFAULT when not mapped. */
  virtToPhys(kaddr: number, len = 1): number {
    for (const m of this.#maps)
      if (kaddr >= m.kaddr && kaddr + len <= m.kaddr + m.size) return m.phys + (kaddr - m.kaddr);
    const phys = kaddr - KERNEL_VA_OFFSET;
    for (const p of this.#pgmaps)
      if (phys >= p.alignStart && phys + len <= p.alignStart + p.alignSize) return phys;
    if (
      phys >= 0 &&
      len > 0 &&
      phys + len <= PHYS_ADDR_MAX &&
      this.#ramIntersects(phys, len) === 'REGION_INTERSECTS'
    )
      return phys;
    this.#log.printk(KERN_ALERT, `BUG: unable to handle kernel paging request at ${hex(kaddr)}`);
    throw kerr('EFAULT', 'kernel paging request');
  }

  /** memcpy(dst, kaddr, dst.length). */
  memcpyFrom(dst: Uint8Array, kaddr: number): void {
    this.#mem.read(this.virtToPhys(kaddr, dst.length), dst);
  }

  /** memcpy(kaddr, src, src.length). */
  memcpyTo(kaddr: number, src: Uint8Array): void {
    this.#mem.write(this.virtToPhys(kaddr, src.length), src);
  }

  /**
   * memcpy_mcsafe(dst, kaddr, dst.length): copies up to the first poisoned cache line and returns the bytes
   * not copied (0 when all were). v4.12's version returned -EFAULT instead of a count; later kernels count.
   */
  memcpyMcsafe(dst: Uint8Array, kaddr: number): number {
    const phys = this.virtToPhys(kaddr, dst.length);
    const bad = this.#mem.hasPoison ? this.#mem.firstPoison(phys, dst.length) : -1;
    const copied = bad < 0 ? dst.length : bad - phys;
    this.#mem.read(phys, dst.subarray(0, copied));
    return dst.length - copied;
  }

  /** Live memremap() mappings (for leak checks). */
  get count(): number {
    return this.#maps.length;
  }

  /** Live devm_memremap_pages() pgmaps (for leak checks). */
  get pgmapCount(): number {
    return this.#pgmaps.length;
  }

  /** Bytes of System RAM holding ZONE_DEVICE memmaps (accounted only). */
  get vmemmapRamBytes(): number {
    return this.#hotplug.vmemmapRamBytes;
  }

  /** Altmap pages holding ZONE_DEVICE memmaps (accounted only; nothing is written to them). */
  get altmapPagesInUse(): number {
    return this.#hotplug.altmapPages;
  }

  /** Device memory sections hot-added. */
  get presentSections(): number {
    return this.#hotplug.presentSections;
  }
}

function hex(n: number): string {
  return n.toString(16).padStart(16, '0');
}
