import { describe, expect, it } from 'vitest';
import {
  IORESOURCE_BUSY,
  IORESOURCE_MEM,
  IORESOURCE_SYSTEM_RAM,
  KERNEL_VA_OFFSET,
  MEMREMAP_WB,
  type RedirectedResource,
  Resource,
  type ResourceRedirect,
  resourceString,
  SparseBacking,
} from '../src/index.js';
import { Kernel } from '../src/kernel.js';
import { caught, GiB, MiB } from './toy_chrdev.js';

const errno = (code: string) => expect.objectContaining({ code });
/** Test resources at 64 GiB and 64 GiB + 64 MiB, 32 MiB each (as nfit_test's vmalloc'd buffers would be). */
const T0 = 64 * GiB;
const T1 = 64 * GiB + 64 * MiB;
const SIZE = 32 * MiB;

/** The nfit_test lookup: the test resource holding an address. */
class TestResources implements ResourceRedirect {
  readonly list: RedirectedResource[] = [
    { start: T0, end: T0 + SIZE - 1, requests: [] },
    { start: T1, end: T1 + SIZE - 1, requests: [] },
  ];
  lookups = 0;

  lookup(phys: number): RedirectedResource | null {
    this.lookups++;
    return this.list.find((r) => phys >= r.start && phys <= r.end) ?? null;
  }
}

function setup() {
  const kernel = new Kernel();
  const nfit = new TestResources();
  kernel.setResourceRedirect(nfit);
  return { kernel, nfit, iomem: kernel.iomem, root: kernel.iomem.iomemResource };
}

const warnings = (kernel: Kernel) => kernel.dmesg().filter((l) => l.includes('WARNING: at'));

describe('resource redirection (tools/testing/nvdimm/test/iomap.c)', () => {
  it('a request inside a test resource is recorded there, newest first, and is not in /proc/iomem', () => {
    const { kernel, nfit, iomem } = setup();
    expect(kernel.resourceRedirect).toBe(nfit);
    const a = iomem.requestMemRegion(T0, MiB, 'nd_pmem')!;
    const b = iomem.requestMemRegion(T0 + 2 * MiB, MiB, 'dax_pmem')!;
    expect([a.start, a.end, a.name, a.flags]).toEqual([
      T0,
      T0 + MiB - 1,
      'nd_pmem',
      (IORESOURCE_MEM | IORESOURCE_BUSY) >>> 0,
    ]);
    expect(resourceString(a)).toBe('[mem 0x1000000000-0x10000fffff flags 0x80000200]');
    expect(nfit.list[0]!.requests).toEqual([b, a]);
    expect(nfit.list[1]!.requests).toEqual([]);
    expect(a.parent).toBeNull();
    expect(iomem.count).toBe(0);
    expect(iomem.procIomem()).toBe('');
    iomem.releaseMemRegion(T0, MiB);
    expect(nfit.list[0]!.requests).toEqual([b]);
    iomem.releaseMemRegion(T0 + 2 * MiB, MiB);
    expect(nfit.list[0]!.requests).toEqual([]);
    expect(kernel.log.warnings).toBe(0);
  });

  it('conflicts are decided as nfit_test_request_region decides: same start busy, overflow refused, overlap allowed', () => {
    const { kernel, nfit, iomem } = setup();
    const first = iomem.requestMemRegion(T0, 4 * MiB, 'a')!;
    expect(iomem.requestMemRegion(T0, MiB, 'b')).toBeNull();
    expect(warnings(kernel)).toHaveLength(1);
    expect(kernel.dmesg().join('\n')).toContain(`${resourceString(first)} already busy`);
    // only starts are compared: an overlapping request elsewhere in the range succeeds
    expect(iomem.requestMemRegion(T0 + MiB, MiB, 'c')).not.toBeNull();
    // past the end of the test resource: refused without a warning
    expect(iomem.requestMemRegion(T0 + SIZE - MiB, MiB + 1, 'd')).toBeNull();
    expect(iomem.requestMemRegion(T0 + SIZE - MiB, MiB, 'e')).not.toBeNull();
    expect(nfit.list[0]!.requests.map((r) => r.name)).toEqual(['e', 'c', 'a']);
    expect(kernel.log.warnings).toBe(1);
    expect(iomem.count).toBe(0);
  });

  it('releasing what was not requested, or with another size, WARNs; the latter still drops the request', () => {
    const { kernel, nfit, iomem } = setup();
    iomem.releaseMemRegion(T1, MiB);
    expect(kernel.log.warnings).toBe(1);
    expect(kernel.dmesg().join('\n')).toContain(
      'nfit_test_release_region: start: 1004000000 n: 100000 mismatch: (null)',
    );
    iomem.requestMemRegion(T1, 2 * MiB, 'x');
    iomem.releaseMemRegion(T1, MiB);
    expect(kernel.log.warnings).toBe(2);
    expect(kernel.dmesg().join('\n')).toContain(
      'nfit_test_release_region: start: 1004000000 n: 100000 mismatch: [mem 0x1004000000-0x10041fffff flags 0x80000200]',
    );
    expect(nfit.list[1]!.requests).toEqual([]);
    expect(kernel.dmesg().join('\n')).not.toContain('Trying to free nonexistent resource');
  });

  it('devm requests go with the device; a redirect gone by then leaves a WARN_ON', async () => {
    const { kernel, nfit, iomem } = setup();
    const core = kernel.driverCore;
    const dev = await core.rootDeviceRegister('nfit_test.0');
    const res = iomem.devmRequestMemRegion(dev, T0, SIZE, 'nfit_test.0')!;
    expect(res.flags).toBe((IORESOURCE_MEM | IORESOURCE_BUSY) >>> 0);
    expect(iomem.devmRequestMemRegion(dev, T0, MiB, 'again')).toBeNull();
    expect(nfit.list[0]!.requests).toEqual([res]);
    await core.rootDeviceUnregister(dev);
    expect(nfit.list[0]!.requests).toEqual([]);
    expect(kernel.log.warnings).toBe(1); // the "already busy" one

    const dev2 = await core.rootDeviceRegister('nfit_test.1');
    iomem.devmRequestMemRegion(dev2, T1, MiB, 'nfit_test.1');
    kernel.setResourceRedirect(null);
    await core.rootDeviceUnregister(dev2);
    expect(kernel.log.warnings).toBe(2);
    expect(kernel.dmesg().join('\n')).toContain(
      'WARNING: at tools/testing/nvdimm/test/iomap.c:nfit_devres_release',
    );
    expect(nfit.list[1]!.requests).toHaveLength(1);
    expect(kernel.dmesg().join('\n')).not.toContain('Trying to free nonexistent resource');
  });

  it('insert_resource and remove_resource of a test address succeed and do nothing', () => {
    const { kernel, iomem, root } = setup();
    const res = new Resource({
      name: 'Persistent Memory',
      start: T0,
      end: T0 + SIZE - 1,
      flags: IORESOURCE_MEM,
    });
    iomem.insertResource(root, res);
    expect(res.parent).toBeNull();
    expect(iomem.count).toBe(0);
    iomem.removeResource(res);
    expect(kernel.log.warnings).toBe(0);
    // the real functions for any other address
    const other = new Resource({
      name: 'Persistent Memory',
      start: 4 * GiB,
      end: 5 * GiB - 1,
      flags: IORESOURCE_MEM,
    });
    iomem.insertResource(root, other);
    expect(iomem.procIomem()).toBe('100000000-13fffffff : Persistent Memory\n');
    expect(() => iomem.removeResource(new Resource({ start: 4 * GiB, end: 4 * GiB }))).toThrow(
      errno('EINVAL'),
    );
    iomem.removeResource(other);
    expect(iomem.count).toBe(0);
  });

  it('everything outside test resources, and under a parent other than iomem, takes the normal path', () => {
    const { kernel, nfit, iomem, root } = setup();
    iomem.insertResource(
      root,
      new Resource({ name: 'pmem', start: 4 * GiB, end: 5 * GiB - 1, flags: IORESOURCE_MEM }),
    );
    const r = iomem.requestMemRegion(4 * GiB, MiB, 'namespace0.0')!;
    expect(r.parent?.name).toBe('pmem');
    expect(iomem.requestMemRegion(4 * GiB, MiB, 'again')).toBeNull();
    expect(kernel.log.warnings).toBe(0);
    expect(iomem.procIomem()).toBe('100000000-13fffffff : pmem\n  100000000-1000fffff : namespace0.0\n');
    iomem.releaseMemRegion(4 * GiB, MiB);
    iomem.releaseMemRegion(4 * GiB, MiB);
    expect(kernel.dmesg().join('\n')).toContain(
      'Trying to free nonexistent resource <0000000100000000-00000001000fffff>',
    );
    // a test address under another parent is not redirected
    const parent = new Resource({ name: 'bus', start: T0, end: T0 + SIZE - 1, flags: IORESOURCE_MEM });
    const child = iomem.requestRegion(parent, T0, MiB, 'child')!;
    expect(child.parent).toBe(parent);
    expect(nfit.list[0]!.requests).toEqual([]);
    iomem.releaseRegion(parent, T0, MiB);
    expect(parent.children).toEqual([]);
    // and with no redirect at all, test addresses are ordinary addresses
    kernel.setResourceRedirect(null);
    expect(iomem.requestMemRegion(T0, MiB, 'plain')!.parent).toBe(root);
    expect(nfit.list[0]!.requests).toEqual([]);
    expect(kernel.log.warnings).toBe(0);
  });

  it('memremap, devm_memremap and devm_memremap_pages of a test range skip the System RAM checks and the memmap', async () => {
    const { kernel, nfit, root } = setup();
    // make the test range look mixed: System RAM in its lower half, a reserved range from its middle on
    // (laid out before nfit_test is set up, since insert_resource of a test address is a no-op after)
    kernel.setResourceRedirect(null);
    const M = T0 + SIZE / 2;
    kernel.iomem.insertResource(
      root,
      new Resource({ name: 'System RAM', start: 0, end: M - 1, flags: IORESOURCE_SYSTEM_RAM }),
    );
    kernel.iomem.insertResource(
      root,
      new Resource({ name: 'reserved', start: M, end: 128 * GiB, flags: IORESOURCE_MEM }),
    );
    kernel.setResourceRedirect(nfit);
    const mr = kernel.memremap;
    const core = kernel.driverCore;
    const dev = await core.rootDeviceRegister('nfit_test.0');
    const backing = new SparseBacking();
    kernel.physmem.attach(T0, SIZE, backing);

    const k = mr.memremap(T0, SIZE, MEMREMAP_WB)!;
    expect(k).toBe(KERNEL_VA_OFFSET + T0);
    expect(mr.memremap(T0 + MiB, MiB, 0)).toBe(KERNEL_VA_OFFSET + T0 + MiB); // the wrapper ignores flags
    mr.memcpyTo(k + 100, Uint8Array.of(7));
    expect(backing.allocatedBytes).toBeGreaterThan(0);
    const one = new Uint8Array(1);
    backing.read(100, one);
    expect(one[0]).toBe(7);
    expect(mr.devmMemremap(core, dev, T0, MiB, MEMREMAP_WB)).toBe(KERNEL_VA_OFFSET + T0);
    expect(
      mr.devmMemremapPages(
        core,
        dev,
        new Resource({ start: T0, end: T0 + SIZE - 1, flags: IORESOURCE_MEM }),
        null,
      ),
    ).toBe(KERNEL_VA_OFFSET + T0);
    // the wrapper hands back the test buffer: no pgmap, no memmap
    expect(mr.pgmapCount).toBe(0);
    expect(mr.presentSections).toBe(0);
    expect(kernel.log.warnings).toBe(0);
    expect(nfit.lookups).toBeGreaterThan(0);

    kernel.setResourceRedirect(null);
    expect(mr.memremap(T0, SIZE, MEMREMAP_WB)).toBeNull();
    const pages = new Resource({ start: T1, end: T1 + SIZE - 1, flags: IORESOURCE_MEM });
    expect(caught(() => mr.devmMemremapPages(core, dev, pages, null))).toEqual(errno('ENXIO'));
    expect(kernel.log.warnings).toBe(2);

    mr.memunmap(k);
    mr.memunmap(KERNEL_VA_OFFSET + T0 + MiB);
    await core.rootDeviceUnregister(dev);
    expect([mr.count, mr.pgmapCount, mr.presentSections, mr.vmemmapRamBytes]).toEqual([0, 0, 0, 0]);
  });
});
