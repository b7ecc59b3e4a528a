/**
 * kernel/memremap.c: memremap(), memunmap() and devm_memremap(), which give the kernel a virtual address for
 * a physical range, and the kernel-side copies through such an address. Kernel virtual addresses are the
 * physical address plus KERNEL_VA_OFFSET (2^52 here instead of x86-64's 0xffff880000000000, which a JS number
 * cannot hold exactly); an access outside every live mapping is an oops, reported as EFAULT.
 */
import type { Device } from '../drivers/base/core.js';
import type { DriverCore } from '../drivers/base/driver_core.js';
import { kerr } from '../errno.js';
import { KERN_ALERT, type Printk } from '../kernel/printk.js';
import type { RegionIntersects } from '../kernel/resource.js';
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

export class Memremap {
  readonly #mem: PhysicalMemory;
  readonly #log: Printk;
  readonly #ramIntersects: (phys: number, size: number) => RegionIntersects;
  /** Live mappings, oldest first. */
  readonly #maps: Mapping[] = [];

  constructor(
    mem: PhysicalMemory,
    log: Printk,
    ramIntersects: (phys: number, size: number) => RegionIntersects,
  ) {
    this.#mem = mem;
    this.#log = log;
    this.#ramIntersects = ramIntersects;
  }

  /**
   * memremap(): a kernel virtual address for [offset, offset+size), or null for a zero size, a range that is
   * partly System RAM (WARN_ONCE), or System RAM asked for without MEMREMAP_WB.
   */
  memremap(offset: number, size: number, flags: number): number | null {
    if (size <= 0 || !Number.isInteger(offset) || !Number.isInteger(size)) return null;
    if (offset < 0 || offset + size > PHYS_ADDR_MAX) return null;
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
    const kaddr = KERNEL_VA_OFFSET + offset;
    this.#maps.push({ kaddr, phys: offset, size });
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
      core.devmAddAction(dev, (addr: number) => this.memunmap(addr), kaddr);
    } catch (e) {
      this.memunmap(kaddr);
      throw e;
    }
    return kaddr;
  }

  /** The physical address behind a mapped kernel address (virt_to_phys); EFAULT when not mapped. */
  virtToPhys(kaddr: number, len = 1): number {
    for (const m of this.#maps)
      if (kaddr >= m.kaddr && kaddr + len <= m.kaddr + m.size) return m.phys + (kaddr - m.kaddr);
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

  /** Live mappings (for leak checks). */
  get count(): number {
    return this.#maps.length;
  }
}

function hex(n: number): string {
  return n.toString(16).padStart(16, '0');
}
