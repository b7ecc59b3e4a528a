import { describe, expect, it } from 'vitest';
import type { Class } from '../src/drivers/base/class.js';
import { type AttributeGroup, Device } from '../src/drivers/base/core.js';
import { Cdev, cdevInit } from '../src/fs/char_dev.js';
import { mkdev } from '../src/include/kdev_t.js';
import { Kernel } from '../src/kernel.js';
import { FaultInject } from '../src/lib/fault-inject.js';
import { Ida } from '../src/lib/idr.js';
import { MEMREMAP_WB } from '../src/mm/memremap.js';
import { loadToy, type Toy, toyDriver } from './toy_chrdev.js';

const errno = (code: string) => expect.objectContaining({ code });

/** What a failed registration must leave exactly as it found it. */
function footprint(kernel: Kernel) {
  return {
    sysfsNodes: kernel.sysfs.nodeCount,
    liveDevices: kernel.driverCore.liveDeviceCount,
    chrdev: kernel.chrdev.counts,
    devNodes: kernel.devtmpfs.list(),
    devInodes: kernel.devtmpfs.inodes,
    modules: kernel.modules.list(),
    memremaps: kernel.memremap.count,
    warnings: kernel.log.warnings,
  };
}

const groups = (): AttributeGroup[] => [
  { attrs: [{ name: 'size', mode: 0o444, show: () => '4096\n' }] },
  { name: 'extra', attrs: [{ name: 'id', mode: 0o444, show: () => '7\n' }] },
];

describe('FaultInject (lib/fault-inject.c)', () => {
  it('arm(point) fails that point’s first call once; hits and failed record every call in order', () => {
    const fi = new FaultInject();
    fi.arm('a');
    expect([fi.should('b'), fi.should('a'), fi.should('a'), fi.should('b')]).toEqual([
      false,
      true,
      false,
      false,
    ]);
    expect(fi.hits).toEqual(['b', 'a', 'a', 'b']);
    expect(fi.failed).toEqual(['a']);
  });

  it('arm(point, nth, times): skips nth-1 calls, then fails `times` calls; -1 fails every call; 0 none', () => {
    const fi = new FaultInject();
    fi.arm('a', 3, 2);
    expect([1, 2, 3, 4, 5, 6].map(() => fi.should('a'))).toEqual([false, false, true, true, false, false]);
    fi.arm('b', 2, -1);
    expect([1, 2, 3, 4].map(() => fi.should('b'))).toEqual([false, true, true, true]);
    fi.arm('c', 1, 0);
    expect([1, 2].map(() => fi.should('c'))).toEqual([false, false]);
    // re-arming replaces the previous arming
    fi.arm('b', 1, 1);
    expect([1, 2].map(() => fi.should('b'))).toEqual([true, false]);
    expect(fi.failed).toEqual(['a', 'a', 'b', 'b', 'b', 'b']);
  });

  it('armNth(n) fails the nth call of any point counted from now; it combines with named armings', () => {
    const fi = new FaultInject();
    fi.should('x');
    fi.should('x');
    fi.armNth(3);
    expect(['p', 'q', 'r', 's', 't'].map((p) => fi.should(p))).toEqual([false, false, true, false, false]);
    fi.arm('t');
    fi.armNth(2);
    expect([fi.should('t'), fi.should('u'), fi.should('t')]).toEqual([true, true, false]);
    expect(fi.failed).toEqual(['r', 't', 'u']);
    expect(fi.hits).toHaveLength(10);
  });

  it('reset disarms everything and forgets the record', () => {
    const fi = new FaultInject();
    fi.arm('a', 1, -1);
    fi.armNth(1);
    expect(fi.should('a')).toBe(true);
    fi.reset();
    expect(fi.hits).toEqual([]);
    expect(fi.failed).toEqual([]);
    expect([fi.should('a'), fi.should('a')]).toEqual([false, false]);
  });
});

describe('fail points in the kernel', () => {
  it("'cdev_add' fails with ENOMEM before the cdev is mapped or its parent pinned; argument errors come first", () => {
    const kernel = new Kernel();
    const devt = kernel.chrdev.allocChrdevRegion(0, 1, 'fi');
    kernel.faultInject.reset();
    const before = footprint(kernel);
    let parentRefs = 0;
    const cdev = new Cdev();
    cdevInit(cdev, {});
    cdev.parent = { get: () => parentRefs++, put: () => parentRefs-- };
    kernel.faultInject.arm('cdev_add');
    expect(() => kernel.chrdev.cdevAdd(cdev, devt, 0)).toThrow(errno('EINVAL'));
    expect(kernel.faultInject.hits).toEqual([]);
    expect(() => kernel.chrdev.cdevAdd(cdev, devt, 1)).toThrow(errno('ENOMEM'));
    expect(footprint(kernel)).toEqual(before);
    expect([cdev.refs, parentRefs]).toEqual([0, 0]);
    expect(kernel.chrdev.lookup(devt)).toBeNull();
    kernel.chrdev.cdevAdd(cdev, devt, 1);
    expect(kernel.chrdev.lookup(devt)).toBe(cdev);
    expect([cdev.refs, parentRefs]).toEqual([1, 1]);
    expect(kernel.faultInject.hits).toEqual(['cdev_add', 'cdev_add']);
    expect(kernel.faultInject.failed).toEqual(['cdev_add']);
  });

  it("'cdev_add' failing a module's init leaves no module, region, cdev or /dev node", async () => {
    const kernel = new Kernel();
    const before = footprint(kernel);
    kernel.faultInject.arm('cdev_add');
    const toy = toyDriver(kernel);
    await expect(kernel.modules.insmod(toy.def)).rejects.toMatchObject({
      code: 'ENOMEM',
      syscall: 'cdev_add',
    });
    expect(footprint(kernel)).toEqual(before);
    expect(kernel.sysfs.exists('/sys/module/toy')).toBe(false);
    await kernel.modules.insmod(toy.def);
    expect(kernel.devtmpfs.list()).toEqual(['toy0']);
  });

  it("'device_add' fails device_create with ENOMEM and leaves sysfs, devices and /dev as they were", async () => {
    const kernel = new Kernel();
    const core = kernel.driverCore;
    const cls = core.classCreate('fi');
    const before = footprint(kernel);
    kernel.faultInject.arm('device_add');
    // an unnamed device fails before the fail point
    const unnamed = new Device({ release: () => {} });
    await expect(core.deviceRegister(unnamed)).rejects.toMatchObject({ code: 'EINVAL' });
    core.putDevice(unnamed);
    expect(kernel.faultInject.hits).toEqual([]);
    await expect(core.deviceCreate(cls, null, mkdev(240, 0), null, 'fi0', groups())).rejects.toMatchObject({
      code: 'ENOMEM',
      syscall: 'device_add',
    });
    expect(footprint(kernel)).toEqual(before);
    expect(kernel.sysfs.exists('/sys/class/fi/fi0')).toBe(false);
    const dev = await core.deviceCreate(cls, null, mkdev(240, 0), null, 'fi0', groups());
    expect(kernel.devtmpfs.list()).toEqual(['fi0']);
    expect(kernel.sysfs.read('/sys/class/fi/fi0/extra/id')).toBe('7\n');
    await core.deviceUnregister(dev);
    expect(footprint(kernel)).toEqual(before);
    core.classDestroy(cls);
  });

  it("'sysfs_create_group' failing the second group of device_add unwinds the first and everything else", async () => {
    const kernel = new Kernel();
    const core = kernel.driverCore;
    const cls = core.classCreate('fi');
    const before = footprint(kernel);
    kernel.faultInject.arm('sysfs_create_group', 2);
    await expect(core.deviceCreate(cls, null, mkdev(240, 1), null, 'fi1', groups())).rejects.toMatchObject({
      code: 'ENOMEM',
      syscall: 'sysfs_create_group',
    });
    expect(kernel.faultInject.hits).toEqual(['device_add', 'sysfs_create_group', 'sysfs_create_group']);
    expect(footprint(kernel)).toEqual(before);
    expect(kernel.sysfs.exists('/sys/devices/virtual/fi')).toBe(false);
    // on a registered device, a failed sysfs_create_group adds nothing
    const dev = await core.deviceCreate(cls, null, mkdev(240, 1), null, 'fi1');
    const dir = '/sys/devices/virtual/fi/fi1';
    const entries = kernel.sysfs.readdir(dir);
    kernel.faultInject.arm('sysfs_create_group');
    expect(() => core.sysfsCreateGroup(dev, groups()[1]!)).toThrow(errno('ENOMEM'));
    expect(kernel.sysfs.readdir(dir)).toEqual(entries);
    core.sysfsCreateGroup(dev, groups()[1]!);
    expect(kernel.sysfs.readdir(`${dir}/extra`)).toEqual(['id']);
    kernel.faultInject.arm('sysfs_update_group');
    expect(() => core.sysfsUpdateGroup(dev, groups()[1]!)).toThrow(errno('ENOMEM'));
    expect(kernel.sysfs.readdir(`${dir}/extra`)).toEqual(['id']);
    await core.deviceUnregister(dev);
    expect(footprint(kernel)).toEqual(before);
  });

  it("'devm_add_action' fails with ENOMEM: nothing registered, _or_reset runs the action, devm_memremap unmaps", async () => {
    const kernel = new Kernel();
    const core = kernel.driverCore;
    const dev = await core.rootDeviceRegister('fi');
    const ran: string[] = [];
    kernel.faultInject.arm('devm_add_action', 1, 3);
    expect(() => core.devmAddAction(dev, (s: string) => void ran.push(s), 'plain')).toThrow(errno('ENOMEM'));
    expect(ran).toEqual([]);
    await expect(
      core.devmAddActionOrReset(dev, (s: string) => void ran.push(s), 'reset'),
    ).rejects.toMatchObject({
      code: 'ENOMEM',
    });
    expect(ran).toEqual(['reset']);
    expect(() => kernel.memremap.devmMemremap(core, dev, 2 ** 32, 4096, MEMREMAP_WB)).toThrow(
      errno('ENOMEM'),
    );
    expect(kernel.memremap.count).toBe(0);
    expect(kernel.log.warnings).toBe(0);
    const kaddr = kernel.memremap.devmMemremap(core, dev, 2 ** 32, 4096, MEMREMAP_WB);
    core.devmAddAction(dev, (s: string) => void ran.push(s), 'later');
    expect(kernel.memremap.count).toBe(1);
    await core.rootDeviceUnregister(dev);
    expect(ran).toEqual(['reset', 'later']);
    expect(kernel.memremap.count).toBe(0);
    expect(() => kernel.memremap.virtToPhys(kaddr)).toThrow(errno('EFAULT'));
  });

  it("'ida_simple_get' fails an IDA built with the injector with ENOMEM and allocates nothing", () => {
    const kernel = new Kernel();
    const ida = new Ida(kernel.log, 'fi_ida', kernel.faultInject);
    const plain = new Ida(kernel.log, 'plain');
    kernel.faultInject.arm('ida_simple_get', 2);
    expect(ida.simpleGet()).toBe(0);
    expect(() => ida.simpleGet()).toThrow(errno('ENOMEM'));
    expect(ida.count).toBe(1);
    expect(ida.has(1)).toBe(false);
    expect(ida.simpleGet()).toBe(1);
    // ENOSPC is found before the fail point is consulted; an IDA without an injector never consults it
    kernel.faultInject.arm('ida_simple_get', 1, -1);
    expect(() => ida.simpleGet(5, 5)).toThrow(errno('ENOSPC'));
    expect(plain.simpleGet()).toBe(0);
    expect(kernel.faultInject.hits).toEqual(['ida_simple_get', 'ida_simple_get', 'ida_simple_get']);
    expect(kernel.faultInject.failed).toEqual(['ida_simple_get']);
  });
});

/**
 * A driver's probe-like registration path reaching every fail point once, unwinding in reverse on error: a
 * chrdev module (cdev_add), its class device with two groups and a /dev node (device_add, 2x
 * sysfs_create_group), a devres action (devm_add_action) and an instance id (ida_simple_get).
 */
async function registerAll(
  kernel: Kernel,
  cls: Class,
  ida: Ida,
): Promise<{ toy: Toy; dev: Device; id: number }> {
  const toy = await loadToy(kernel, { noNode: true });
  let dev: Device | null = null;
  try {
    dev = await kernel.driverCore.deviceCreate(cls, null, toy.devt, null, 'toy0', groups());
    kernel.driverCore.devmAddAction(dev, () => {});
    const id = ida.simpleGet();
    return { toy, dev, id };
  } catch (e) {
    if (dev !== null) await kernel.driverCore.deviceUnregister(dev);
    await kernel.modules.rmmod(toy.name);
    throw e;
  }
}

describe('armNth sweep over a registration path', () => {
  it('each fail point the path reaches fails it with ENOMEM and leaves the kernel as it was', async () => {
    const boot = () => {
      const kernel = new Kernel();
      const cls = kernel.driverCore.classCreate('toyclass');
      const ida = new Ida(kernel.log, 'toy_ida', kernel.faultInject, kernel.kmemleak);
      return { kernel, cls, ida };
    };
    const ref = boot();
    await registerAll(ref.kernel, ref.cls, ref.ida);
    const points = [...ref.kernel.faultInject.hits];
    expect(points).toEqual([
      'register_chrdev_region',
      'cdev_add',
      'device_add',
      'sysfs_create_group',
      'sysfs_create_group',
      'devm_add_action',
      'ida_simple_get',
    ]);
    for (let n = 1; n <= points.length; n++) {
      const { kernel, cls, ida } = boot();
      const before = footprint(kernel);
      const baseline = kernel.kmemleak.baseline();
      kernel.faultInject.armNth(n);
      await expect(registerAll(kernel, cls, ida)).rejects.toMatchObject({ code: 'ENOMEM' });
      expect([n, kernel.faultInject.failed]).toEqual([n, [points[n - 1]]]);
      expect([n, footprint(kernel)]).toEqual([n, before]);
      expect([n, baseline.diff()]).toEqual([n, []]);
      expect(ida.count).toBe(0);
      // the same path then succeeds, and a /dev node opens
      const { toy } = await registerAll(kernel, cls, ida);
      const t = kernel.spawn('sweep');
      t.close(t.open('/dev/toy0'));
      expect(toy.log).toEqual(['open', 'release']);
    }
    const { kernel, cls, ida } = boot();
    kernel.faultInject.armNth(points.length + 1);
    await registerAll(kernel, cls, ida);
    expect(kernel.faultInject.failed).toEqual([]);
  });
});
