import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { BusType } from '../src/drivers/base/bus.js';
import { Device } from '../src/drivers/base/core.js';
import type { DeviceDriver } from '../src/drivers/base/driver.js';
import { type KernelError, kerr } from '../src/errno.js';
import { KERN_WARNING, Printk } from '../src/kernel/printk.js';
import {
  IORES_DESC_PERSISTENT_MEMORY,
  IORESOURCE_BUSY,
  IORESOURCE_IO,
  IORESOURCE_MEM,
  IORESOURCE_SYSRAM,
  IORESOURCE_SYSTEM_RAM,
  Resource,
  ResourceTree,
  resourceSize,
} from '../src/kernel/resource.js';
import { Kernel } from '../src/kernel.js';

const TOP = 2 ** 52 - 1;

function fresh(): { log: Printk; tree: ResourceTree; root: Resource } {
  const log = new Printk();
  const tree = new ResourceTree(log);
  return { log, tree, root: tree.iomemResource };
}

function thrown(fn: () => unknown): KernelError {
  try {
    fn();
  } catch (e) {
    return e as KernelError;
  }
  throw new Error('expected a throw');
}

function mem(name: string, start: number, end: number, flags = IORESOURCE_MEM, desc?: number): Resource {
  return new Resource({ name, start, end, flags, desc });
}

/** Texts of the KERN_WARNING records. */
function warnings(log: Printk): string[] {
  return log
    .records()
    .filter((r) => r.level === KERN_WARNING)
    .map((r) => r.text);
}

/** Every list sorted, siblings disjoint and inside their parent, parent links consistent. */
function checkTree(parent: Resource): void {
  let prevEnd = parent.start - 1;
  for (const c of parent.children) {
    if (c.parent !== parent) throw new Error(`${c.name}: parent link`);
    if (c.start <= prevEnd || c.end < c.start || c.end > parent.end) throw new Error(`${c.name}: misplaced`);
    prevEnd = c.end;
    checkTree(c);
  }
}

/**
 * The tree x86 e820 and nd_pmem leave behind: reserved low memory (busy), System RAM with the kernel image
 * inserted in it, and a legacy pmem range with a namespace's busy region in it.
 */
function e820(tree: ResourceTree) {
  const root = tree.iomemResource;
  const r = {
    reserved: mem('Reserved', 0, 0xfff, IORESOURCE_MEM | IORESOURCE_BUSY),
    ram: mem('System RAM', 0x100000, 0xbfffffff, IORESOURCE_SYSTEM_RAM),
    pmem: mem('Persistent Memory', 0x100000000, 0x17fffffff, IORESOURCE_MEM, IORES_DESC_PERSISTENT_MEMORY),
    code: mem('Kernel code', 0x1000000, 0x1a031d0, IORESOURCE_SYSTEM_RAM),
    data: mem('Kernel data', 0x1a031d1, 0x211b57f, IORESOURCE_SYSTEM_RAM),
  };
  tree.requestResource(root, r.reserved);
  tree.insertResource(root, r.ram);
  tree.insertResource(root, r.pmem);
  tree.insertResource(root, r.code);
  tree.insertResource(root, r.data);
  return r;
}

describe('request_resource / release_resource', () => {
  it('nests a resource inside its parent, siblings in address order', () => {
    const { tree, root } = fresh();
    const b = mem('b', 0x2000, 0x2fff);
    const a = mem('a', 0x1000, 0x1fff);
    const a1 = mem('a1', 0x1800, 0x18ff);
    tree.requestResource(root, b);
    tree.requestResource(root, a);
    tree.requestResource(a, a1);
    expect(root.children).toEqual([a, b]);
    expect(a.children).toEqual([a1]);
    expect([a.parent, a1.parent]).toEqual([root, a]);
    expect(resourceSize(a)).toBe(0x1000);
    expect([...tree.walk()].map((r) => r.name)).toEqual(['a', 'a1', 'b']);
    expect(tree.count).toBe(3);
  });

  it('returns the conflicting sibling, or the parent when outside it; request_resource is EBUSY', () => {
    const { tree, root } = fresh();
    const a = mem('a', 0x1000, 0x1fff);
    tree.requestResource(root, a);
    const overlap = mem('overlap', 0x1fff, 0x2fff);
    expect(tree.requestResourceConflict(root, overlap)).toBe(a);
    const e = thrown(() => tree.requestResource(root, overlap));
    expect([e.code, e.syscall]).toEqual(['EBUSY', 'request_resource']);
    expect(tree.requestResourceConflict(a, mem('outside', 0x1800, 0x2000))).toBe(a);
    expect(tree.requestResourceConflict(root, mem('empty', 5, 4))).toBe(root);
    expect(tree.requestResourceConflict(root, mem('past top', TOP, TOP + 1))).toBe(root);
    expect(tree.requestResourceConflict(root, mem('fraction', 0.5, 2))).toBe(root);
    expect(tree.requestResourceConflict(root, mem('negative', -1, 2))).toBe(root);
    expect(thrown(() => tree.requestResource(root, mem('empty', 5, 4))).code).toBe('EBUSY');
    expect(tree.requestResourceConflict(root, a)).toBe(a);
    expect(overlap.parent).toBeNull();
    expect(tree.count).toBe(1);
  });

  it('release_resource takes the subtree out with it; remove_resource moves the children up', () => {
    const { tree, root } = fresh();
    const a = mem('a', 0x1000, 0x1fff);
    const a1 = mem('a1', 0x1000, 0x10ff);
    const a2 = mem('a2', 0x1100, 0x11ff);
    tree.requestResource(root, a);
    tree.requestResource(a, a1);
    tree.requestResource(a, a2);
    tree.releaseResource(a);
    expect(a.parent).toBeNull();
    expect(a.children).toEqual([a1, a2]);
    expect(tree.count).toBe(0);
    const e = thrown(() => tree.releaseResource(a));
    expect([e.code, e.syscall]).toEqual(['EINVAL', 'release_resource']);
    expect(thrown(() => tree.releaseResource(root)).code).toBe('EINVAL');

    tree.requestResource(root, a);
    expect(tree.count).toBe(3);
    tree.removeResource(a);
    expect(root.children).toEqual([a1, a2]);
    expect([a1.parent, a2.parent, a.parent]).toEqual([root, root, null]);
    expect(a.children).toEqual([]);
    expect(thrown(() => tree.removeResource(a)).syscall).toBe('remove_resource');
  });
});

describe('__request_region / __release_region', () => {
  it('creates a busy resource carrying the type bits and desc of where it lands', () => {
    const { tree, root } = fresh();
    const r = tree.requestMemRegion(0x1000, 0x100, 'nd_pmem')!;
    expect(r).toMatchObject({ name: 'nd_pmem', start: 0x1000, end: 0x10ff, parent: root });
    expect(r.flags).toBe((IORESOURCE_MEM | IORESOURCE_BUSY) >>> 0);
    const io = tree.requestRegion(root, 0x2000, 1, 'io', IORESOURCE_IO)!;
    expect(io.flags).toBe((IORESOURCE_MEM | IORESOURCE_IO | IORESOURCE_BUSY) >>> 0);
  });

  it('descends into a non-busy resource that contains the range, and nests there', () => {
    const { tree, root } = fresh();
    const r = e820(tree);
    const ns = tree.requestMemRegion(0x100000000, 0x40000000, 'namespace0.0')!;
    expect(ns.parent).toBe(r.pmem);
    expect(ns.desc).toBe(IORES_DESC_PERSISTENT_MEMORY);
    expect(ns.flags).toBe((IORESOURCE_MEM | IORESOURCE_BUSY) >>> 0);
    const k = tree.requestMemRegion(0x1000000, 0x1000, 'in kernel code')!;
    expect(k.parent).toBe(r.code);
    expect(k.flags).toBe((IORESOURCE_SYSTEM_RAM | IORESOURCE_BUSY) >>> 0);
    expect(tree.requestRegion(r.ram, 0xc0000000, 1, 'outside parent')).toBeNull();
    expect(root.children).toEqual([r.reserved, r.ram, r.pmem]);
  });

  it('returns null on a busy conflict and on a range straddling a non-busy resource, changing nothing', () => {
    const { tree } = fresh();
    const r = e820(tree);
    const ns = tree.requestMemRegion(0x100000000, 0x40000000, 'namespace0.0')!;
    const before = tree.procIomem();
    expect(tree.requestMemRegion(0x100000000, 0x1000, 'again')).toBeNull();
    expect(tree.requestMemRegion(0x13ffff000, 0x2000, 'straddles ns')).toBeNull();
    expect(tree.requestMemRegion(0x800, 0x1000, 'straddles reserved')).toBeNull();
    expect(tree.requestMemRegion(0x17ffff000, 0x2000, 'straddles pmem')).toBeNull();
    expect(tree.requestMemRegion(0xbffff000, 0x40002000, 'spans ram and pmem')).toBeNull();
    expect(tree.procIomem()).toBe(before);
    expect(ns.parent).toBe(r.pmem);
  });

  it('rejects empty, negative, fractional and overflowing ranges as the kernel does', () => {
    const { tree } = fresh();
    expect(tree.requestMemRegion(0x1000, 0, 'zero')).toBeNull();
    expect(tree.requestMemRegion(0x1000, -5, 'negative size')).toBeNull();
    expect(tree.requestMemRegion(-1, 2, 'negative start')).toBeNull();
    expect(tree.requestMemRegion(0x1000, 1.5, 'fraction')).toBeNull();
    expect(tree.requestMemRegion(Number.NaN, 1, 'nan')).toBeNull();
    expect(tree.requestMemRegion(TOP, 2, 'overflow')).toBeNull();
    expect(tree.requestMemRegion(TOP, 1, 'last byte')).not.toBeNull();
    expect(tree.count).toBe(1);
  });

  it('releases the busy region with exactly that range, descending into non-busy ones', () => {
    const { tree, log } = fresh();
    const r = e820(tree);
    tree.requestMemRegion(0x100000000, 0x40000000, 'namespace0.0');
    tree.requestMemRegion(0x140000000, 0x1000, 'namespace0.1');
    tree.releaseMemRegion(0x100000000, 0x40000000);
    expect(r.pmem.children.map((c) => c.name)).toEqual(['namespace0.1']);
    tree.releaseMemRegion(0x0, 0x1000);
    expect(tree.iomemResource.children).toEqual([r.ram, r.pmem]);
    expect(warnings(log)).toEqual([]);
  });

  it('warns "Trying to free nonexistent resource" for a range no busy resource spans exactly', () => {
    const { tree, log } = fresh();
    const r = e820(tree);
    tree.requestMemRegion(0x100000000, 0x40000000, 'namespace0.0');
    const before = tree.procIomem();
    tree.releaseMemRegion(0x100000000, 0x1000);
    tree.releaseMemRegion(0x100000, 0xbff00000);
    tree.releaseMemRegion(0x200000000, 0x10);
    tree.releaseRegion(r.ram, 0, 0);
    expect(warnings(log)).toEqual([
      'Trying to free nonexistent resource <0000000100000000-0000000100000fff>',
      'Trying to free nonexistent resource <0000000000100000-00000000bfffffff>',
      'Trying to free nonexistent resource <0000000200000000-000000020000000f>',
      'Trying to free nonexistent resource <0000000000000000-ffffffffffffffff>',
    ]);
    expect(log.dmesg()[0]).toMatch(
      /^\[ *\d+\.\d{6}\] Trying to free nonexistent resource <0000000100000000-0000000100000fff>$/,
    );
    expect(log.warnings).toBe(0);
    expect(tree.procIomem()).toBe(before);
  });
});

describe('insert_resource', () => {
  it('adopts the siblings it fully contains', () => {
    const { tree, root } = fresh();
    const a = tree.requestMemRegion(0x1000, 0x100, 'a')!;
    const b = tree.requestMemRegion(0x1200, 0x100, 'b')!;
    const c = tree.requestMemRegion(0x2000, 0x100, 'c')!;
    const region = mem('region0', 0x1000, 0x1fff);
    tree.insertResource(root, region);
    expect(root.children).toEqual([region, c]);
    expect(region.children).toEqual([a, b]);
    expect([a.parent, b.parent, region.parent]).toEqual([region, region, root]);
    expect(tree.count).toBe(4);
    tree.releaseMemRegion(0x1200, 0x100);
    expect(region.children).toEqual([a]);
  });

  it('descends into a resource containing it, and nests under an identical one', () => {
    const { tree, root } = fresh();
    const outer = mem('outer', 0x0, 0xffff);
    tree.insertResource(root, outer);
    const inner = mem('inner', 0x1000, 0x1fff);
    tree.insertResource(root, inner);
    expect(inner.parent).toBe(outer);
    const same = mem('same', 0x1000, 0x1fff);
    tree.insertResource(root, same);
    expect(same.parent).toBe(outer);
    expect(same.children).toEqual([inner]);
    expect(tree.procIomem()).toBe(
      '00000000-0000ffff : outer\n  00001000-00001fff : same\n    00001000-00001fff : inner\n',
    );
  });

  it('is EBUSY on a partial overlap and leaves the tree unchanged', () => {
    const { tree, root } = fresh();
    const a = tree.requestMemRegion(0x1000, 0x100, 'a')!;
    const b = tree.requestMemRegion(0x1f80, 0x100, 'b')!;
    const region = mem('region0', 0x1000, 0x1fff);
    expect(tree.insertResourceConflict(root, region)).toBe(b);
    const e = thrown(() => tree.insertResource(root, region));
    expect([e.code, e.syscall]).toEqual(['EBUSY', 'insert_resource']);
    expect(root.children).toEqual([a, b]);
    expect([a.parent, b.parent, region.parent]).toEqual([root, root, null]);
    expect(tree.insertResourceConflict(root, mem('past top', TOP, TOP + 1))).toBe(root);
  });

  it('warns on a duplicated insertion', () => {
    const { tree, root, log } = fresh();
    const a = mem('a', 0x1000, 0x1fff);
    tree.insertResource(root, a);
    expect(tree.insertResourceConflict(root, a)).toBe(a);
    expect(log.warnings).toBe(1);
    expect(log.dmesg().join('\n')).toContain('WARNING: at kernel/resource.c:__insert_resource');
    expect(tree.count).toBe(1);
  });
});

describe('region_intersects', () => {
  it('classifies a range by the top-level resources it touches', () => {
    const { tree } = fresh();
    e820(tree);
    const pmem = IORES_DESC_PERSISTENT_MEMORY;
    expect(tree.regionIntersects(0x1000000, 0x1000, IORESOURCE_SYSTEM_RAM)).toBe('REGION_INTERSECTS');
    expect(tree.regionIntersects(0x100000000, 0x1000, IORESOURCE_MEM, pmem)).toBe('REGION_INTERSECTS');
    expect(tree.regionIntersects(0x100000000, 0x1000, IORESOURCE_SYSTEM_RAM)).toBe('REGION_DISJOINT');
    expect(tree.regionIntersects(0x1000000, 0x1000, IORESOURCE_MEM, pmem)).toBe('REGION_DISJOINT');
    expect(tree.regionIntersects(0xbffff000, 0x2000, IORESOURCE_SYSTEM_RAM)).toBe('REGION_INTERSECTS');
    expect(tree.regionIntersects(0xbffff000, 0x40002000, IORESOURCE_SYSTEM_RAM)).toBe('REGION_MIXED');
    expect(tree.regionIntersects(0, 0x200000, IORESOURCE_SYSTEM_RAM)).toBe('REGION_MIXED');
    expect(tree.regionIntersects(0xc0000000, 0x1000, IORESOURCE_SYSTEM_RAM)).toBe('REGION_DISJOINT');
    expect(tree.regionIntersects(0, 0x1000, IORESOURCE_BUSY)).toBe('REGION_INTERSECTS');
    expect(tree.regionIntersects(0, 2 ** 40, IORESOURCE_MEM)).toBe('REGION_INTERSECTS');
    expect(tree.regionIntersects(0, 2 ** 40, IORESOURCE_SYSRAM)).toBe('REGION_MIXED');
  });
});

describe('/proc/iomem (r_show)', () => {
  it('prints each resource under its parent, two spaces per level, addresses 8 hex digits wide', () => {
    const { tree } = fresh();
    e820(tree);
    tree.requestMemRegion(0x100000000, 0x40000000, 'namespace0.0');
    expect(tree.procIomem()).toBe(
      [
        '00000000-00000fff : Reserved',
        '00100000-bfffffff : System RAM',
        '  01000000-01a031d0 : Kernel code',
        '  01a031d1-0211b57f : Kernel data',
        '100000000-17fffffff : Persistent Memory',
        '  100000000-13fffffff : namespace0.0',
        '',
      ].join('\n'),
    );
  });

  it('stops indenting at MAX_IORES_LEVEL and prints a missing name as <BAD>', () => {
    const { tree, root } = fresh();
    let parent = root;
    for (let i = 0; i < 7; i++) {
      const r = mem(`level${i}`, 0x100 + i, 0x1ff - i);
      tree.requestResource(parent, r);
      parent = r;
    }
    tree.requestResource(root, new Resource({ start: 0x200, end: 0x200 }));
    expect(tree.procIomem().split('\n')).toEqual([
      '00000100-000001ff : level0',
      '  00000101-000001fe : level1',
      '    00000102-000001fd : level2',
      '      00000103-000001fc : level3',
      '        00000104-000001fb : level4',
      '          00000105-000001fa : level5',
      '          00000106-000001f9 : level6',
      '00000200-00000200 : <BAD>',
      '',
    ]);
  });

  it('is empty for an empty tree', () => {
    expect(fresh().tree.procIomem()).toBe('');
  });
});

describe('devm_request_mem_region', () => {
  async function boot() {
    const kernel = new Kernel();
    const tree = new ResourceTree(kernel.log);
    const root = await kernel.driverCore.rootDeviceRegister('nfit_test.0');
    return { kernel, core: kernel.driverCore, tree, root };
  }

  it('releases the region when the device is deleted', async () => {
    const { kernel, core, tree, root } = await boot();
    const dev = new Device({ name: 'pmem0', parent: root, release: () => {} });
    await core.deviceRegister(dev);
    const res = tree.devmRequestMemRegion(dev, 0x100000000, 0x1000, 'pmem0');
    expect(res?.parent).toBe(tree.iomemResource);
    expect(tree.devmRequestMemRegion(dev, 0x100000800, 0x10, 'again')).toBeNull();
    expect(dev.p.devres).toHaveLength(1);
    await core.deviceUnregister(dev);
    expect(tree.count).toBe(0);
    await core.rootDeviceUnregister(root);
    expect(kernel.dmesg().join('\n')).not.toContain('nonexistent');
    expect(kernel.log.warnings).toBe(0);
  });

  it('releases the region on unbind and when the probe fails', async () => {
    const { core, tree, root } = await boot();
    const bus: BusType = { name: 'nd' };
    core.busRegister(bus);
    const drv: DeviceDriver = {
      name: 'nd_pmem',
      bus,
      probe(dev) {
        if (tree.devmRequestMemRegion(dev, 0x1000, 0x1000, dev.name) === null) throw kerr('EBUSY', 'probe');
        if (dev.name === 'fails') throw kerr('ENXIO', 'probe');
      },
    };
    await core.driverRegister(drv);
    const ok = new Device({ name: 'pmem0', bus, parent: root, release: () => {} });
    await core.deviceRegister(ok);
    expect(core.deviceIsBound(ok)).toBe(true);
    expect(tree.procIomem()).toBe('00001000-00001fff : pmem0\n');
    await core.deviceReleaseDriver(ok);
    expect(tree.count).toBe(0);
    const fails = new Device({ name: 'fails', bus, parent: root, release: () => {} });
    await core.deviceRegister(fails);
    expect(core.deviceIsBound(fails)).toBe(false);
    expect(tree.count).toBe(0);
  });

  it('releases the region again when the device is already released (ENODEV)', async () => {
    const { kernel, core, tree } = await boot();
    const dev = new Device({ name: 'gone', release: () => {} });
    core.deviceInitialize(dev);
    core.putDevice(dev);
    const e = thrown(() => tree.devmRequestMemRegion(dev, 0x1000, 0x1000, 'gone'));
    expect(e.code).toBe('ENODEV');
    expect(tree.count).toBe(0);
    expect(kernel.log.warnings).toBe(1);
  });

  it('a region released by hand before the device goes warns at devres time, as double release does', async () => {
    const { kernel, core, tree, root } = await boot();
    const dev = new Device({ name: 'pmem0', parent: root, release: () => {} });
    await core.deviceRegister(dev);
    tree.devmRequestMemRegion(dev, 0x1000, 0x1000, 'pmem0');
    tree.releaseMemRegion(0x1000, 0x1000);
    await core.deviceUnregister(dev);
    expect(kernel.dmesg().at(-1)).toContain(
      'Trying to free nonexistent resource <0000000000001000-0000000000001fff>',
    );
  });
});

type Op =
  | { t: 'req'; start: number; n: number }
  | { t: 'rel'; start: number; n: number }
  | { t: 'relHeld'; i: number }
  | { t: 'drop'; i: number };

const address = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: -2, max: 66 }) },
  { weight: 1, arbitrary: fc.integer({ min: TOP - 6, max: TOP + 2 }) },
);
const size = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: -1, max: 20 }) },
  { weight: 1, arbitrary: fc.constantFrom(0.5, Number.NaN, 2 ** 53) },
);
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ t: fc.constant('req' as const), start: address, n: size }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('rel' as const), start: address, n: size }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('relHeld' as const), i: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('drop' as const), i: fc.nat() }) },
);

interface Interval {
  start: number;
  end: number;
}

const overlaps = (a: Interval, b: Interval) => a.start <= b.end && b.start <= a.end;
const contains = (a: Interval, b: Interval) => a.start <= b.start && b.end <= a.end;

describe('resource tree (property)', () => {
  it('random request/release sequences match a naive interval model, and releasing all leaves nothing', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), fc.array(fc.nat(), { maxLength: 80 }), (ops, order) => {
        const { tree, root, log } = fresh();
        const windows = [mem('window A', 16, 31), mem('window B', 40, 47)];
        for (const w of windows) tree.requestResource(root, w);
        const held: Resource[] = [];
        let missing = 0;

        for (const o of ops) {
          if (o.t === 'req') {
            const want = { start: o.start, end: o.start + o.n - 1 };
            const valid =
              Number.isSafeInteger(o.start) &&
              Number.isSafeInteger(o.n) &&
              o.n >= 1 &&
              o.start >= 0 &&
              want.end <= TOP;
            const placeable =
              windows.some((w) => contains(w, want)) || windows.every((w) => !overlaps(w, want));
            const ok = valid && placeable && held.every((h) => !overlaps(h, want));
            const res = tree.requestMemRegion(o.start, o.n, 'r');
            expect(res !== null).toBe(ok);
            if (res !== null) {
              held.push(res);
              expect(res.parent).toBe(windows.find((w) => contains(w, want)) ?? root);
            }
          } else if (o.t === 'rel') {
            const end = o.start + o.n - 1;
            const i = held.findIndex((h) => h.start === o.start && h.end === end);
            if (i >= 0) held.splice(i, 1);
            else missing++;
            tree.releaseMemRegion(o.start, o.n);
          } else if (held.length > 0) {
            const [h] = held.splice(o.i % held.length, 1);
            if (o.t === 'relHeld') tree.releaseMemRegion(h!.start, resourceSize(h!));
            else tree.releaseResource(h!);
            expect(h!.parent).toBeNull();
          }
          checkTree(root);
          expect(tree.count).toBe(windows.length + held.length);
          expect(warnings(log)).toHaveLength(missing);
        }

        for (let k = 0; held.length > 0; k++) {
          const [h] = held.splice((order[k] ?? 0) % held.length, 1);
          tree.releaseMemRegion(h!.start, resourceSize(h!));
          checkTree(root);
        }
        expect(tree.count).toBe(windows.length);
        for (const w of windows) tree.releaseResource(w);
        expect(tree.count).toBe(0);
        expect(tree.procIomem()).toBe('');
        expect(warnings(log)).toHaveLength(missing);
      }),
      { numRuns: 300 },
    );
  });
});
