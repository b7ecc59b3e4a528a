import { Kernel, MEMREMAP_WB, type MemoryBacking, Resource, SparseBacking } from '@daxsim/kernel';
import { describe, expect, it } from 'vitest';
import {
  createNfitTest,
  createNfitTests,
  NfitTestIomap,
  NfitTestResources,
  nfitTest0Platform,
  nfitTestDefaultBase,
} from '../src/index.js';
import { errno, GiB, MiB } from './helpers.js';

const B0 = nfitTestDefaultBase(0);
const B1 = nfitTestDefaultBase(1);
const SPA1 = B0 + GiB;

describe('resource redirection', () => {
  it('installs its lookup as the kernel redirect and removes it at dispose', () => {
    const kernel = new Kernel();
    const t = createNfitTest(kernel, { instance: 0 });
    expect(kernel.resourceRedirect).toBe(t.iomap);
    expect(t.iomap.lookup(B0)).toBe(t.resources.resources[0]);
    expect(t.iomap.lookup(SPA1 + 64 * MiB - 1)).toBe(t.resources.resources[1]);
    expect(t.iomap.lookup(B0 + 32 * MiB)).toBeNull();
    expect(t.iomap.lookup(B0 - 1)).toBeNull();
    t.dispose();
    expect(kernel.resourceRedirect).toBeNull();
    expect(t.iomap.lookup(B0)).toBeNull();
  });

  it('records requests inside a test resource on it, not in iomem, and releases them', () => {
    const kernel = new Kernel();
    using t = createNfitTest(kernel, { instance: 0 });
    const spa0 = t.resources.resources[0]!;
    const res = kernel.iomem.requestMemRegion(B0, 16 * MiB, 'namespace0.0');
    expect(res).toMatchObject({ name: 'namespace0.0', start: B0, end: B0 + 16 * MiB - 1 });
    expect(spa0.requests).toEqual([res]);
    expect(kernel.iomem.count).toBe(0);
    expect(kernel.iomem.procIomem()).toBe('');
    kernel.iomem.releaseMemRegion(B0, 16 * MiB);
    expect(spa0.requests).toEqual([]);
    expect(kernel.log.warnings).toBe(0);
  });

  it('refuses a second request at the same start with a WARN, and one running past the resource', () => {
    const kernel = new Kernel();
    using t = createNfitTest(kernel, { instance: 0 });
    const spa0 = t.resources.resources[0]!;
    expect(kernel.iomem.requestMemRegion(B0, 4096, 'a')).not.toBeNull();
    expect(kernel.iomem.requestMemRegion(B0, 8192, 'b')).toBeNull();
    expect(kernel.log.warnings).toBe(1);
    expect(kernel.dmesg().join('\n')).toContain('already busy');
    expect(kernel.iomem.requestMemRegion(B0 + 32 * MiB - 4096, 8192, 'c')).toBeNull();
    expect(spa0.requests.map((r) => r.name)).toEqual(['a']);
    kernel.iomem.releaseMemRegion(B0, 4096);
  });

  it('leaves every other address to the normal iomem path', () => {
    const kernel = new Kernel();
    using _t = createNfitTest(kernel, { instance: 0 });
    const other = B0 + 32 * MiB;
    const res = kernel.iomem.requestMemRegion(other, 4096, 'other');
    expect(res).not.toBeNull();
    expect(kernel.iomem.count).toBe(1);
    expect(kernel.iomem.requestMemRegion(other, 4096, 'again')).toBeNull();
    expect(kernel.log.warnings).toBe(0);
    kernel.iomem.releaseMemRegion(other, 4096);
    expect(kernel.iomem.count).toBe(0);
  });

  it('skips insert_resource for a range in a test resource', () => {
    const kernel = new Kernel();
    using _t = createNfitTest(kernel, { instance: 0 });
    const pmem = new Resource({ name: 'Persistent Memory', start: B0, end: B0 + 32 * MiB - 1 });
    kernel.iomem.insertResource(kernel.iomem.iomemResource, pmem);
    expect(pmem.parent).toBeNull();
    expect(kernel.iomem.count).toBe(0);
  });

  it('lands memory reads and writes in the mock backing', () => {
    const kernel = new Kernel();
    const backings: MemoryBacking[] = [];
    using t = createNfitTest(kernel, {
      instance: 0,
      backing: () => {
        const b = new SparseBacking();
        backings.push(b);
        return b;
      },
    });
    expect(t.resources.resources.map((r) => r.backing)).toEqual(backings);
    const kaddr = kernel.memremap.memremap(SPA1 + 4096, 8192, MEMREMAP_WB)!;
    kernel.memremap.memcpyTo(kaddr + 100, Uint8Array.of(1, 2, 3));
    const seen = new Uint8Array(3);
    backings[1]!.read(4096 + 100, seen);
    expect(seen).toEqual(Uint8Array.of(1, 2, 3));
    backings[0]!.write(512, Uint8Array.of(9, 8));
    const back = new Uint8Array(2);
    kernel.physmem.read(B0 + 512, back);
    expect(back).toEqual(Uint8Array.of(9, 8));
    kernel.memremap.memunmap(kaddr);
  });

  it('detaches the backings at dispose', () => {
    const kernel = new Kernel();
    const t = createNfitTest(kernel, { instance: 1 });
    kernel.physmem.write(B1 + GiB, Uint8Array.of(5));
    t.dispose();
    const b = new Uint8Array(1);
    kernel.physmem.read(B1 + GiB, b);
    expect(b).toEqual(Uint8Array.of(0));
    expect(() => kernel.physmem.attach(B1, 32 * MiB, new SparseBacking())).not.toThrow();
  });

  it('WARNs about requests left at dispose', () => {
    const kernel = new Kernel();
    const t = createNfitTest(kernel, { instance: 0 });
    kernel.iomem.requestMemRegion(SPA1, 4096, 'leaked');
    t.dispose();
    expect(kernel.log.warnings).toBe(1);
    expect(kernel.dmesg().join('\n')).toContain('released with 1 busy request(s): leaked');
    t.dispose();
    expect(kernel.log.warnings).toBe(1);
    expect(kernel.iomem.requestMemRegion(SPA1, 4096, 'real')).not.toBeNull();
    expect(kernel.iomem.count).toBe(1);
  });
});

describe('two instances in one kernel', () => {
  it('share one lookup', () => {
    const kernel = new Kernel();
    using both = createNfitTests(kernel);
    const [t0, t1] = both.tests;
    expect(t0.iomap).toBe(both.iomap);
    expect(t1.iomap).toBe(both.iomap);
    expect(kernel.resourceRedirect).toBe(both.iomap);
    expect(both.iomap.lookup(B0 + 5)).toBe(t0.resources.resources[0]);
    expect(both.iomap.lookup(B1 + GiB + 4 * MiB - 1)).toBe(t1.resources.resources[1]);
    expect(both.iomap.resources()).toHaveLength(4);
    kernel.iomem.requestMemRegion(B1, 4096, 'nfit_test.1');
    expect(t1.resources.resources[0]!.requests).toHaveLength(1);
    kernel.iomem.releaseMemRegion(B1, 4096);
  });

  it('join the installed lookup when created one by one; the last one out removes it', () => {
    const kernel = new Kernel();
    const t0 = createNfitTest(kernel, { instance: 0 });
    const t1 = createNfitTest(kernel, { instance: 1 });
    expect(t1.iomap).toBe(t0.iomap);
    expect(t0.iomap.instances).toBe(2);
    expect(kernel.resourceRedirect!.lookup(B1)).toBe(t1.resources.resources[0]);
    t0.dispose();
    expect(kernel.resourceRedirect).toBe(t1.iomap);
    expect(kernel.resourceRedirect!.lookup(B0)).toBeNull();
    t1.dispose();
    expect(kernel.resourceRedirect).toBeNull();
  });

  it('refuse to collide, leaving the first intact', () => {
    const kernel = new Kernel();
    using t0 = createNfitTest(kernel, { instance: 0 });
    expect(() => createNfitTest(kernel, { instance: 1, base: B0 })).toThrow(errno('EBUSY'));
    expect(() => createNfitTest(kernel, { instance: 0, base: B0 + GiB })).toThrow(errno('EBUSY'));
    expect(t0.iomap.instances).toBe(1);
    expect(kernel.resourceRedirect).toBe(t0.iomap);
    expect(() => kernel.physmem.attach(B1, 32 * MiB, new SparseBacking())).not.toThrow();
  });

  it('refuse a kernel where another redirect is installed, attaching nothing', () => {
    const kernel = new Kernel();
    const foreign = { lookup: () => null };
    kernel.setResourceRedirect(foreign);
    expect(() => createNfitTest(kernel, { instance: 0 })).toThrow(errno('EBUSY'));
    expect(() => createNfitTests(kernel)).toThrow(errno('EBUSY'));
    expect(kernel.resourceRedirect).toBe(foreign);
    expect(() => kernel.physmem.attach(B0, 32 * MiB, new SparseBacking())).not.toThrow();
  });
});

it('NfitTestResources unwinds a partial attach', () => {
  const kernel = new Kernel();
  kernel.physmem.attach(SPA1, 4096, new SparseBacking());
  const iomap = new NfitTestIomap(kernel);
  expect(() => new NfitTestResources(kernel, iomap, nfitTest0Platform(B0))).toThrow(errno('EBUSY'));
  expect(iomap.instances).toBe(0);
  expect(() => kernel.physmem.attach(B0, 32 * MiB, new SparseBacking())).not.toThrow();
});
