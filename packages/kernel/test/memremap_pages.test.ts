import { describe, expect, it } from 'vitest';
import {
  type Device,
  IORES_DESC_PERSISTENT_MEMORY,
  IORESOURCE_MEM,
  IORESOURCE_SYSTEM_RAM,
  KERNEL_VA_OFFSET,
  PAGE_SIZE,
  PAGES_PER_SECTION,
  PMD_SIZE,
  Resource,
  SECTION_SIZE,
  SPARSE_CHUNK_SIZE,
  STRUCT_PAGE_SIZE,
  type VmemAltmap,
  vmemAltmapAlloc,
  vmemAltmapOffset,
} from '../src/index.js';
import { Kernel } from '../src/kernel.js';
import { caught, GiB, MiB } from './toy_chrdev.js';

const TiB = 1024 * GiB;
const P = PAGE_SIZE;
/** Pages of memmap per section: one 2 MiB vmemmap block. */
const BLOCK = PMD_SIZE / P;
const errno = (code: string) => expect.objectContaining({ code });
const pfn = (phys: number) => phys / P;

/**
 * A kernel with System RAM at [0, 1 GiB + 64 MiB), persistent memory after it up to 2 GiB, and a device to
 * hang mappings on. (Addresses with no resource at all count as neither RAM nor not: region_intersects.)
 */
async function machine() {
  const kernel = new Kernel();
  const root = kernel.iomem.iomemResource;
  kernel.iomem.insertResource(
    root,
    new Resource({ name: 'System RAM', start: 0, end: GiB + 64 * MiB - 1, flags: IORESOURCE_SYSTEM_RAM }),
  );
  kernel.iomem.insertResource(
    root,
    new Resource({
      name: 'Persistent Memory',
      start: GiB + 64 * MiB,
      end: 2 * GiB - 1,
      flags: IORESOURCE_MEM,
      desc: IORES_DESC_PERSISTENT_MEMORY,
    }),
  );
  const core = kernel.driverCore;
  const dev = await core.rootDeviceRegister('pmem0');
  return { kernel, core, dev, mr: kernel.memremap };
}

const mem = (start: number, size: number) =>
  new Resource({ name: 'pmem', start, end: start + size - 1, flags: IORESOURCE_MEM });

function counters(kernel: Kernel) {
  const mr = kernel.memremap;
  return {
    pgmaps: mr.pgmapCount,
    ram: mr.vmemmapRamBytes,
    altmap: mr.altmapPagesInUse,
    sections: mr.presentSections,
    host: kernel.physmem.allocatedBytes,
  };
}
const BASELINE = { pgmaps: 0, ram: 0, altmap: 0, sections: 0, host: 0 };

function devresCount(dev: Device): number {
  return dev.p.devres.length;
}

describe('devm_memremap_pages (kernel/memremap.c)', () => {
  it('the memmap is 64 bytes per page in one 2 MiB vmemmap block per 128 MiB section', () => {
    expect(SECTION_SIZE).toBe(128 * MiB);
    expect(PAGES_PER_SECTION * STRUCT_PAGE_SIZE).toBe(PMD_SIZE);
    expect(BLOCK).toBe(512);
  });

  it('maps a range with a memmap from System RAM, found by pfn, undone with the device', async () => {
    const { kernel, core, dev, mr } = await machine();
    const k = mr.devmMemremapPages(core, dev, mem(4 * GiB, 256 * MiB), null);
    expect(k).toBe(KERNEL_VA_OFFSET + 4 * GiB);
    expect(counters(kernel)).toEqual({ pgmaps: 1, ram: 2 * PMD_SIZE, altmap: 0, sections: 2, host: 0 });
    const pgmap = mr.getDevPagemap(pfn(4 * GiB))!;
    expect(pgmap.dev).toBe(dev);
    expect(pgmap.altmap).toBeNull();
    expect([pgmap.res.start, pgmap.res.end]).toEqual([4 * GiB, 4 * GiB + 256 * MiB - 1]);
    expect(mr.getDevPagemap(pfn(4 * GiB + 256 * MiB) - 1)).toBe(pgmap);
    expect(mr.getDevPagemap(pfn(4 * GiB) - 1)).toBeNull();
    expect(mr.getDevPagemap(pfn(4 * GiB + 256 * MiB))).toBeNull();

    mr.memcpyTo(k + 256 * MiB - 2, Uint8Array.of(0xaa, 0xbb));
    const phys = new Uint8Array(2);
    kernel.physmem.read(4 * GiB + 256 * MiB - 2, phys);
    expect([...phys]).toEqual([0xaa, 0xbb]);
    const back = new Uint8Array(2);
    mr.memcpyFrom(back, k + 256 * MiB - 2);
    expect([...back]).toEqual([0xaa, 0xbb]);
    expect(mr.virtToPhys(k + 5)).toBe(4 * GiB + 5);
    expect(kernel.physmem.allocatedBytes).toBe(SPARSE_CHUNK_SIZE);
    expect(mr.count).toBe(0);
    expect(devresCount(dev)).toBe(1);

    await core.rootDeviceUnregister(dev);
    expect(counters(kernel)).toEqual({ ...BASELINE, host: SPARSE_CHUNK_SIZE });
    expect(mr.getDevPagemap(pfn(4 * GiB))).toBeNull();
    expect(caught(() => mr.virtToPhys(k))).toEqual(errno('EFAULT'));
    expect(kernel.log.warnings).toBe(0);
  });

  it('a 1 TiB namespace takes its memmap from the altmap and no host memory at all', async () => {
    const { kernel, core, dev, mr } = await machine();
    const sections = TiB / SECTION_SIZE;
    const need = sections * BLOCK;
    // reserve 2 pages (8 KiB): the first block must start 512-aligned, 510 pages further on
    const altmap: VmemAltmap = { basePfn: pfn(TiB), reserve: 2, free: need + 510, align: 0, alloc: 0 };
    expect(mr.devmMemremapPages(core, dev, mem(TiB, TiB), altmap)).toBe(KERNEL_VA_OFFSET + TiB);
    expect(counters(kernel)).toEqual({ pgmaps: 1, ram: 0, altmap: need, sections, host: 0 });
    const copy = mr.getDevPagemap(pfn(TiB) + 12345)!.altmap!;
    expect(copy).toEqual({ basePfn: pfn(TiB), reserve: 2, free: need + 510, align: 510, alloc: need });
    expect(altmap.alloc).toBe(0); // the pgmap works on its own copy, as v4.12 does
    expect(need * P).toBe(16 * GiB);
    await core.rootDeviceUnregister(dev);
    expect(counters(kernel)).toEqual(BASELINE);
    expect(copy.alloc).toBe(0);
    expect(kernel.log.warnings).toBe(0);
  });

  it('an altmap one page short is ENOMEM with one WARN, leaving nothing behind', async () => {
    const { kernel, core, dev, mr } = await machine();
    const sections = 8;
    const altmap: VmemAltmap = {
      basePfn: pfn(TiB),
      reserve: 2,
      free: sections * BLOCK + 509,
      align: 0,
      alloc: 0,
    };
    const e = caught(() => mr.devmMemremapPages(core, dev, mem(TiB, sections * SECTION_SIZE), altmap));
    expect(e).toEqual(errno('ENOMEM'));
    expect(counters(kernel)).toEqual(BASELINE);
    expect(devresCount(dev)).toBe(0);
    expect(kernel.log.warnings).toBe(1);
    expect(kernel.dmesg().join('\n')).toContain('WARNING: at arch/x86/mm/init_64.c:arch_add_memory');
    // the same range with enough pages then works: nothing of the failed attempt is in the way
    const ok: VmemAltmap = { ...altmap, free: sections * BLOCK + 510 };
    mr.devmMemremapPages(core, dev, mem(TiB, sections * SECTION_SIZE), ok);
    expect(counters(kernel)).toEqual({ pgmaps: 1, ram: 0, altmap: sections * BLOCK, sections, host: 0 });
    await core.rootDeviceUnregister(dev);
    expect(counters(kernel)).toEqual(BASELINE);
  });

  it('an altmap not based at the section, or larger than the range, is EINVAL', async () => {
    const { kernel, core, dev, mr } = await machine();
    const res = mem(TiB, SECTION_SIZE);
    const wrongBase: VmemAltmap = { basePfn: pfn(TiB) + 1, reserve: 0, free: BLOCK, align: 0, alloc: 0 };
    expect(caught(() => mr.devmMemremapPages(core, dev, res, wrongBase))).toEqual(errno('EINVAL'));
    const tooBig: VmemAltmap = {
      basePfn: pfn(TiB),
      reserve: 2,
      free: PAGES_PER_SECTION - 1,
      align: 0,
      alloc: 0,
    };
    expect(vmemAltmapOffset(tooBig)).toBe(PAGES_PER_SECTION + 1);
    expect(caught(() => mr.devmMemremapPages(core, dev, res, tooBig))).toEqual(errno('EINVAL'));
    expect(counters(kernel)).toEqual(BASELINE);
    expect(kernel.dmesg().filter((l) => l.endsWith('memory add fail, invalid altmap'))).toHaveLength(1);
    expect(kernel.log.warnings).toBe(1); // WARN_ON_ONCE in arch_add_memory
  });

  it('an unaligned start gets its first section from System RAM: to_vmem_altmap finds no pgmap there', async () => {
    const { kernel, core, dev, mr } = await machine();
    const start = 4 * GiB + 64 * MiB;
    const altmap: VmemAltmap = { basePfn: pfn(start), reserve: 2, free: 4 * BLOCK, align: 0, alloc: 0 };
    mr.devmMemremapPages(core, dev, mem(start, 256 * MiB), altmap);
    expect(counters(kernel)).toEqual({ pgmaps: 1, ram: PMD_SIZE, altmap: 2 * BLOCK, sections: 3, host: 0 });
    await core.rootDeviceUnregister(dev);
    expect(counters(kernel)).toEqual(BASELINE);
  });

  it('a range whose sections are partly System RAM is ENXIO with one WARN_ONCE', async () => {
    const { kernel, core, dev, mr } = await machine();
    // not RAM itself, but its section [1 GiB, 1 GiB + 128 MiB) is
    const res = mem(GiB + 64 * MiB, 64 * MiB);
    expect(caught(() => mr.devmMemremapPages(core, dev, res, null))).toEqual(errno('ENXIO'));
    expect(caught(() => mr.devmMemremapPages(core, dev, res, null))).toEqual(errno('ENXIO'));
    expect(kernel.log.warnings).toBe(1);
    expect(kernel.dmesg().join('\n')).toContain(
      'devm_memremap_pages attempted on mixed region [mem 0x44000000-0x47ffffff flags 0x200]',
    );
    expect(counters(kernel)).toEqual(BASELINE);
    expect(devresCount(dev)).toBe(0);
  });

  it('a range that is all System RAM returns its direct-map address and does nothing else', async () => {
    const { kernel, core, dev, mr } = await machine();
    const k = mr.devmMemremapPages(core, dev, mem(256 * MiB, 256 * MiB), null);
    expect(k).toBe(KERNEL_VA_OFFSET + 256 * MiB);
    expect(counters(kernel)).toEqual(BASELINE);
    expect(devresCount(dev)).toBe(0);
    kernel.physmem.write(300 * MiB, Uint8Array.of(9));
    const got = new Uint8Array(1);
    mr.memcpyFrom(got, k + 44 * MiB);
    expect(got[0]).toBe(9);
  });

  it('a range holding another pgmap at one of its radix entries is EBUSY', async () => {
    const { kernel, core, dev, mr } = await machine();
    const other = await core.rootDeviceRegister('pmem1');
    mr.devmMemremapPages(core, dev, mem(4 * GiB, 128 * MiB), null);
    expect(caught(() => mr.devmMemremapPages(core, other, mem(4 * GiB, 128 * MiB), null))).toEqual(
      errno('EBUSY'),
    );
    // radix entries [4G-64M, 4G) and [4G, 4G+64M): the second starts inside the first pgmap
    expect(caught(() => mr.devmMemremapPages(core, other, mem(4 * GiB - 64 * MiB, 128 * MiB), null))).toEqual(
      errno('EBUSY'),
    );
    expect(kernel.dmesg().filter((l) => l.includes('collides with mapping for pmem0'))).toEqual([
      expect.stringContaining(
        'pmem1: devm_memremap_pages: [mem 0x100000000-0x107ffffff flags 0x200] collides with mapping for pmem0',
      ),
      expect.stringContaining('[mem 0xfc000000-0x103ffffff flags 0x200] collides with mapping for pmem0'),
    ]);
    expect(counters(kernel)).toEqual({ pgmaps: 1, ram: PMD_SIZE, altmap: 0, sections: 1, host: 0 });
    expect(devresCount(other)).toBe(0);
    await core.rootDeviceUnregister(dev);
    await core.rootDeviceUnregister(other);
    expect(counters(kernel)).toEqual(BASELINE);
  });

  it('a range overlapping a pgmap away from its radix entries’ first pfns is EEXIST from the radix insert', async () => {
    const { kernel, core, dev, mr } = await machine();
    const other = await core.rootDeviceRegister('pmem1');
    mr.devmMemremapPages(core, dev, mem(4 * GiB + 64 * MiB, 64 * MiB), null);
    // one order-15 entry at 4 GiB; pmem0 holds its upper half
    expect(caught(() => mr.devmMemremapPages(core, other, mem(4 * GiB, 128 * MiB), null))).toEqual(
      errno('EEXIST'),
    );
    expect(kernel.dmesg().filter((l) => l.includes('pmem1: devm_memremap_pages: failed: -17'))).toHaveLength(
      1,
    );
    expect(mr.pgmapCount).toBe(1);
    await core.rootDeviceUnregister(dev);
    await core.rootDeviceUnregister(other);
    expect(counters(kernel)).toEqual(BASELINE);
  });

  it('two pgmaps in one section share it; its memmap goes with the last of them', async () => {
    const { kernel, core, dev, mr } = await machine();
    const other = await core.rootDeviceRegister('pmem1');
    const a = mr.devmMemremapPages(core, dev, mem(4 * GiB, 16 * MiB), null);
    const b = mr.devmMemremapPages(core, other, mem(4 * GiB + 16 * MiB, 16 * MiB), null);
    expect(b - a).toBe(16 * MiB);
    expect(counters(kernel)).toEqual({ pgmaps: 2, ram: PMD_SIZE, altmap: 0, sections: 1, host: 0 });
    expect(mr.getDevPagemap(pfn(4 * GiB + 16 * MiB))!.dev).toBe(other);
    await core.rootDeviceUnregister(dev);
    expect(counters(kernel)).toEqual({ pgmaps: 1, ram: PMD_SIZE, altmap: 0, sections: 1, host: 0 });
    expect(mr.virtToPhys(b)).toBe(4 * GiB + 16 * MiB);
    await core.rootDeviceUnregister(other);
    expect(counters(kernel)).toEqual(BASELINE);
    expect(kernel.log.warnings).toBe(0);
  });

  it('a devres that cannot be added undoes everything', async () => {
    const { kernel, core, dev, mr } = await machine();
    kernel.faultInject.arm('devm_add_action');
    const altmap: VmemAltmap = { basePfn: pfn(TiB), reserve: 0, free: BLOCK, align: 0, alloc: 0 };
    expect(caught(() => mr.devmMemremapPages(core, dev, mem(TiB, SECTION_SIZE), altmap))).toEqual(
      errno('ENOMEM'),
    );
    expect(counters(kernel)).toEqual(BASELINE);
    expect(mr.devmMemremapPages(core, dev, mem(TiB, SECTION_SIZE), altmap)).toBe(KERNEL_VA_OFFSET + TiB);
    expect(mr.pgmapCount).toBe(1);
    await core.rootDeviceUnregister(dev);
    expect(counters(kernel)).toEqual(BASELINE);
  });

  it('EINVAL for a range that is empty, inverted, not integral or beyond the physical address space', async () => {
    const { kernel, core, dev, mr } = await machine();
    const bad = [
      new Resource({ start: 8 * GiB, end: 8 * GiB - 2 }),
      new Resource({ start: -P, end: P - 1 }),
      new Resource({ start: 8 * GiB + 0.5, end: 9 * GiB }),
      new Resource({ start: 2 ** 52 - P, end: 2 ** 52 }),
    ];
    for (const res of bad)
      expect(caught(() => mr.devmMemremapPages(core, dev, res, null))).toEqual(errno('EINVAL'));
    expect(counters(kernel)).toEqual(BASELINE);
  });
});

describe('vmem_altmap_alloc (mm/sparse-vmemmap.c)', () => {
  it('aligns the first pfn to the request, charging the gap to align, and refuses what does not fit', () => {
    const a: VmemAltmap = { basePfn: 0x100000, reserve: 3, free: 1100, align: 0, alloc: 0 };
    expect(vmemAltmapAlloc(a, 512)).toBe(0x100000 + 512);
    expect(a).toEqual({ basePfn: 0x100000, reserve: 3, free: 1100, align: 509, alloc: 512 });
    expect(vmemAltmapAlloc(a, 64)).toBe(0x100000 + 1024);
    expect(vmemAltmapAlloc(a, 16)).toBe(-1); // 509 + 576 + 16 > 1100
    expect(vmemAltmapAlloc(a, 12)).toBe(0x100000 + 1088);
    expect(a.alloc).toBe(588);
    expect(vmemAltmapAlloc(a, 4)).toBe(-1);
  });
});
