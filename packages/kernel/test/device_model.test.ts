import { describe, expect, it } from 'vitest';
import type { BusType } from '../src/drivers/base/bus.js';
import { type AttributeGroup, Device, devAttrDriverOverride } from '../src/drivers/base/core.js';
import type { DeviceDriver } from '../src/drivers/base/driver.js';
import { kerr } from '../src/errno.js';
import { mkdev } from '../src/include/kdev_t.js';
import { Kernel } from '../src/kernel.js';

function boot() {
  const kernel = new Kernel();
  return { kernel, core: kernel.driverCore, sysfs: kernel.sysfs };
}

/** A promise and the function that resolves it. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

const tick = (ms = 1) => new Promise<void>((r) => setTimeout(r, ms));

async function expectErrno(p: Promise<unknown>, code: string): Promise<void> {
  await expect(p).rejects.toMatchObject({ code });
}

describe('kobjects and the /sys skeleton', () => {
  it('creates /sys/devices, /sys/devices/virtual, /sys/bus, /sys/class and /sys/dev/{block,char}', () => {
    const { sysfs } = boot();
    expect(sysfs.readdir('/sys')).toEqual(expect.arrayContaining(['bus', 'class', 'dev', 'devices']));
    expect(sysfs.readdir('/sys/devices')).toEqual(['virtual']);
    expect(sysfs.readdir('/sys/dev')).toEqual(['block', 'char']);
  });
});

describe('device_add / device_del', () => {
  it('root_device_register adds /sys/devices/<name> with uevent and removes exactly what it added', async () => {
    const { core, sysfs } = boot();
    const before = sysfs.nodeCount;
    const root = await core.rootDeviceRegister('nfit_test.0');
    expect(root.kobj.sysfsPath).toBe('/sys/devices/nfit_test.0');
    expect(sysfs.readdir('/sys/devices/nfit_test.0')).toEqual(['uevent']);
    expect(sysfs.read('/sys/devices/nfit_test.0/uevent')).toBe('');
    expect(sysfs.nodeCount).toBe(before + 2);
    expect(core.liveDeviceCount).toBe(1);
    await core.rootDeviceUnregister(root);
    expect(sysfs.exists('/sys/devices/nfit_test.0')).toBe(false);
    expect(sysfs.nodeCount).toBe(before);
    expect(core.liveDeviceCount).toBe(0);
  });

  it('creates attribute groups, named ones as subdirectories, honouring isVisible', async () => {
    const { core, sysfs, kernel } = boot();
    const root = await core.rootDeviceRegister('root');
    let size = 4096;
    const groups: AttributeGroup[] = [
      {
        attrs: [
          {
            name: 'size',
            mode: 0o644,
            show: () => `${size}\n`,
            store: (_d, v) => {
              size = Number(v);
            },
          },
          { name: 'hidden', mode: 0o444, show: () => 'no\n' },
          { name: 'ro', mode: 0o644, show: (d) => `${d.name}\n` },
        ],
        isVisible: (_dev, attr) => (attr.name === 'hidden' ? 0 : attr.name === 'ro' ? 0o444 : attr.mode),
      },
      { name: 'dax_region', attrs: [{ name: 'id', mode: 0o444, show: () => '7\n' }] },
    ];
    const before = sysfs.nodeCount;
    const dev = new Device({ name: 'region0', parent: root, groups, release: () => {} });
    await core.deviceRegister(dev);
    const dir = '/sys/devices/root/region0';
    expect(dev.kobj.sysfsPath).toBe(dir);
    expect(sysfs.readdir(dir)).toEqual(['dax_region', 'ro', 'size', 'uevent']);
    expect(sysfs.read(`${dir}/dax_region/id`)).toBe('7\n');
    expect(sysfs.read(`${dir}/ro`)).toBe('region0\n');
    await expectErrno(sysfs.write(`${dir}/ro`, 'x'), 'EACCES');
    await sysfs.write(`${dir}/size`, '8192\n');
    expect(size).toBe(8192);
    expect(sysfs.read(`${dir}/size`)).toBe('8192\n');
    expect(sysfs.nodeCount).toBe(before + 6);
    expect(core.deviceFindChild(root, 'region0')).toBe(dev);
    core.putDevice(dev);
    await core.deviceUnregister(dev);
    expect(sysfs.nodeCount).toBe(before);
    expect(core.deviceFindChild(root, 'region0')).toBe(null);
    await core.rootDeviceUnregister(root);
    expect(kernel.log.warnings).toBe(0);
  });

  it('passes the raw written text to store and its error code to the writer', async () => {
    const { core, sysfs } = boot();
    const seen: string[] = [];
    const dev = new Device({
      name: 'dev0',
      release: () => {},
      groups: [
        {
          attrs: [
            {
              name: 'mode',
              mode: 0o644,
              show: () => 'raw\n',
              store: async (_d, v) => {
                seen.push(v);
                await tick();
                if (v.trim() !== 'raw') throw kerr('EINVAL', 'mode_store');
              },
            },
          ],
        },
      ],
    });
    await core.deviceRegister(dev);
    await sysfs.write('/sys/devices/dev0/mode', 'raw\n');
    await expect(sysfs.write('/sys/devices/dev0/mode', 'fsdax\n')).rejects.toMatchObject({
      code: 'EINVAL',
      errno: -22,
      syscall: 'mode_store',
    });
    expect(seen).toEqual(['raw\n', 'fsdax\n']);
    await core.deviceUnregister(dev);
  });

  it('sysfs_update_group re-evaluates is_visible; sysfs_remove_group removes only that group', async () => {
    const { core, sysfs } = boot();
    let visible = false;
    const grp: AttributeGroup = {
      attrs: [{ name: 'resource', mode: 0o444, show: () => '0x1000\n' }],
      isVisible: (_d, a) => (visible ? a.mode : 0),
    };
    const dev = new Device({ name: 'ndbus0', release: () => {} });
    await core.deviceRegister(dev);
    core.sysfsCreateGroup(dev, grp);
    expect(sysfs.exists('/sys/devices/ndbus0/resource')).toBe(false);
    visible = true;
    core.sysfsUpdateGroup(dev, grp);
    expect(sysfs.read('/sys/devices/ndbus0/resource')).toBe('0x1000\n');
    core.deviceCreateFile(dev, { name: 'extra', mode: 0o444, show: () => 'e\n' });
    core.sysfsRemoveGroup(dev, grp);
    expect(sysfs.readdir('/sys/devices/ndbus0')).toEqual(['extra', 'uevent']);
    core.deviceRemoveFile(dev, { name: 'extra', mode: 0o444 });
    expect(sysfs.readdir('/sys/devices/ndbus0')).toEqual(['uevent']);
    await core.deviceUnregister(dev);
  });

  it('a duplicate name fails with EEXIST, warns, and leaves no sysfs node behind', async () => {
    const { core, sysfs, kernel } = boot();
    const root = await core.rootDeviceRegister('root');
    const a = new Device({ name: 'dev0', parent: root, release: () => {} });
    await core.deviceRegister(a);
    const before = sysfs.nodeCount;
    let released = 0;
    const b = new Device({
      name: 'dev0',
      parent: root,
      groups: [{ attrs: [{ name: 'x', mode: 0o444, show: () => '' }] }],
      release: () => released++,
    });
    await expectErrno(core.deviceRegister(b), 'EEXIST');
    expect(sysfs.nodeCount).toBe(before);
    expect(core.deviceIsRegistered(b)).toBe(false);
    expect(kernel.dmesg().join('\n')).toContain(
      "sysfs: cannot create duplicate filename '/sys/devices/root/dev0'",
    );
    expect(kernel.dmesg().join('\n')).toContain('kobject_add_internal failed for dev0 with -EEXIST');
    core.putDevice(b);
    expect(released).toBe(1);
    await core.deviceUnregister(a);
    await core.rootDeviceUnregister(root);
    expect(core.liveDeviceCount).toBe(0);
  });

  it('a name clash found late (the bus devices link) unwinds every earlier step', async () => {
    const { core, sysfs } = boot();
    const bus: BusType = { name: 'nd' };
    core.busRegister(bus);
    const r1 = await core.rootDeviceRegister('r1');
    const r2 = await core.rootDeviceRegister('r2');
    const cls = core.classCreate('nd_test');
    const a = new Device({ name: 'region0', parent: r1, bus, release: () => {} });
    await core.deviceRegister(a);
    const before = sysfs.nodeCount;
    const b = new Device({
      name: 'region0',
      parent: r2,
      bus,
      groups: [{ name: 'g', attrs: [{ name: 'x', mode: 0o444, show: () => '' }] }],
      release: () => {},
    });
    await expectErrno(core.deviceRegister(b), 'EEXIST');
    expect(sysfs.nodeCount).toBe(before);
    expect(sysfs.readdir('/sys/devices/r2')).toEqual(['uevent']);
    core.putDevice(b);
    // the same clash on a class device also removes the glue directory it created
    const c1 = new Device({ name: 'x0', parent: r1, class: cls, release: () => {} });
    await core.deviceRegister(c1);
    const before2 = sysfs.nodeCount;
    const c2 = new Device({ name: 'x0', parent: r2, class: cls, release: () => {} });
    await expectErrno(core.deviceRegister(c2), 'EEXIST');
    expect(sysfs.nodeCount).toBe(before2);
    expect(sysfs.exists('/sys/devices/r2/nd_test')).toBe(false);
    core.putDevice(c2);
    await core.deviceUnregister(c1);
    await core.deviceUnregister(a);
    await core.rootDeviceUnregister(r1);
    await core.rootDeviceUnregister(r2);
    core.classDestroy(cls);
    core.busUnregister(bus);
    expect(core.liveDeviceCount).toBe(0);
  });

  it('a device without a name is EINVAL', async () => {
    const { core, sysfs } = boot();
    const before = sysfs.nodeCount;
    const dev = new Device({ release: () => {} });
    await expectErrno(core.deviceRegister(dev), 'EINVAL');
    expect(sysfs.nodeCount).toBe(before);
    core.putDevice(dev);
    expect(core.liveDeviceCount).toBe(0);
  });

  it('dev_set_name turns / into !, and the /dev node turns it back', async () => {
    const { core, kernel, sysfs } = boot();
    const cls = core.classCreate('usbmisc');
    const dev = new Device({ class: cls, devt: mkdev(180, 3), release: () => {} });
    core.deviceInitialize(dev);
    core.devSetName(dev, 'usb/hiddev0');
    await core.deviceAdd(dev);
    expect(sysfs.exists('/sys/class/usbmisc/usb!hiddev0')).toBe(true);
    expect(kernel.devtmpfs.lookup('/dev/usb/hiddev0')).toBe(mkdev(180, 3));
    await core.deviceUnregister(dev);
    expect(kernel.devtmpfs.list()).toEqual([]);
    core.classDestroy(cls);
  });
});

describe('reference counting and release', () => {
  it('calls release exactly once, on the last put', async () => {
    const { core } = boot();
    let released = 0;
    const dev = new Device({ name: 'dev0', release: () => released++ });
    await core.deviceRegister(dev);
    core.getDevice(dev);
    await core.deviceUnregister(dev);
    expect(released).toBe(0);
    expect(core.liveDevices).toEqual([dev]);
    core.putDevice(dev);
    expect(released).toBe(1);
    expect(core.liveDevices).toEqual([]);
  });

  it('prefers dev.release, then type.release, then class.devRelease', async () => {
    const { core } = boot();
    const calls: string[] = [];
    const cls = { name: 'c', devRelease: () => calls.push('class') };
    core.classRegister(cls);
    const type = { name: 't', release: () => calls.push('type') };
    const d1 = new Device({ name: 'a', class: cls, type, release: () => calls.push('dev') });
    const d2 = new Device({ name: 'b', class: cls, type });
    const d3 = new Device({ name: 'c', class: cls });
    for (const d of [d1, d2, d3]) await core.deviceRegister(d);
    for (const d of [d1, d2, d3]) await core.deviceUnregister(d);
    expect(calls).toEqual(['dev', 'type', 'class']);
    core.classUnregister(cls);
  });

  it('warns like the kernel when a device has no release function', async () => {
    const { core, kernel } = boot();
    const dev = new Device({ name: 'broken' });
    await core.deviceRegister(dev);
    await core.deviceUnregister(dev);
    expect(kernel.log.warnings).toBe(1);
    expect(kernel.dmesg().join('\n')).toContain(
      "Device 'broken' does not have a release() function, it is broken and must be fixed.",
    );
  });

  it("a registered child pins its parent, even past the parent's unregistration", async () => {
    const { core, sysfs } = boot();
    const before = sysfs.nodeCount;
    let parentReleased = 0;
    const parent = new Device({ name: 'p', release: () => parentReleased++ });
    await core.deviceRegister(parent);
    const child = new Device({ name: 'c', parent, release: () => {} });
    await core.deviceRegister(child);
    await core.deviceUnregister(parent);
    expect(parentReleased).toBe(0);
    expect(sysfs.exists('/sys/devices/p')).toBe(false);
    await core.deviceUnregister(child);
    expect(parentReleased).toBe(1);
    expect(sysfs.nodeCount).toBe(before);
  });
});

describe('classes, dev_t, devtmpfs', () => {
  it('class devices without a parent live in /sys/devices/virtual/<class> with dev, subsystem and class link', async () => {
    const { core, sysfs, kernel } = boot();
    const before = sysfs.nodeCount;
    const dax = core.classCreate('dax');
    expect(sysfs.readdir('/sys/class/dax')).toEqual([]);
    await expectErrno(
      Promise.resolve().then(() => core.classCreate('dax')),
      'EEXIST',
    );
    const devt = mkdev(252, 0);
    const dev = new Device({ name: 'dax0.0', class: dax, devt, release: () => {} });
    await core.deviceRegister(dev);
    const dir = '/sys/devices/virtual/dax/dax0.0';
    expect(dev.kobj.sysfsPath).toBe(dir);
    expect(sysfs.readdir(dir)).toEqual(['dev', 'subsystem', 'uevent']);
    expect(sysfs.read(`${dir}/dev`)).toBe('252:0\n');
    expect(sysfs.readlink('/sys/class/dax/dax0.0')).toBe('../../devices/virtual/dax/dax0.0');
    expect(sysfs.readlink(`${dir}/subsystem`)).toBe('../../../../class/dax');
    expect(sysfs.realpath('/sys/dev/char/252:0')).toBe(dir);
    expect(sysfs.read('/sys/class/dax/dax0.0/uevent')).toBe('MAJOR=252\nMINOR=0\nDEVNAME=dax0.0\n');
    expect(kernel.devtmpfs.lookup('/dev/dax0.0')).toBe(devt);
    expect(kernel.devtmpfs.list()).toEqual(['dax0.0']);
    expect(core.classFindDevice(dax, 'dax0.0')).toBe(dev);
    core.putDevice(dev);
    await core.deviceUnregister(dev);
    expect(kernel.devtmpfs.lookup('/dev/dax0.0')).toBe(undefined);
    expect(sysfs.exists('/sys/dev/char/252:0')).toBe(false);
    expect(sysfs.exists('/sys/devices/virtual/dax')).toBe(false);
    expect(sysfs.readdir('/sys/class/dax')).toEqual([]);
    core.classDestroy(dax);
    expect(sysfs.nodeCount).toBe(before);
    expect(kernel.log.warnings).toBe(2);
  });

  it('class devices under a non-class parent share a glue directory removed with the last of them', async () => {
    const { core, sysfs } = boot();
    const dax = core.classCreate('dax');
    const region = await core.rootDeviceRegister('dax0.1');
    const before = sysfs.nodeCount;
    const devs = [0, 1].map(
      (i) =>
        new Device({ name: `dax0.${i}`, parent: region, class: dax, devt: mkdev(252, i), release: () => {} }),
    );
    for (const d of devs) await core.deviceRegister(d);
    expect(sysfs.readdir('/sys/devices/dax0.1/dax')).toEqual(['dax0.0', 'dax0.1']);
    expect(sysfs.realpath('/sys/devices/dax0.1/dax/dax0.0/device')).toBe('/sys/devices/dax0.1');
    expect(sysfs.realpath('/sys/class/dax/dax0.1')).toBe('/sys/devices/dax0.1/dax/dax0.1');
    await core.deviceUnregister(devs[0]!);
    expect(sysfs.readdir('/sys/devices/dax0.1/dax')).toEqual(['dax0.1']);
    await core.deviceUnregister(devs[1]!);
    expect(sysfs.exists('/sys/devices/dax0.1/dax')).toBe(false);
    expect(sysfs.nodeCount).toBe(before);
    await core.rootDeviceUnregister(region);
    core.classDestroy(dax);
  });

  it('a dev_t already in /sys/dev/char fails the add with EEXIST after every other step, and unwinds them', async () => {
    const { core, sysfs, kernel } = boot();
    const dax = core.classCreate('dax');
    const a = await core.deviceCreate(dax, null, mkdev(252, 0), null, 'dax0.0');
    const before = sysfs.nodeCount;
    await expectErrno(core.deviceCreate(dax, null, mkdev(252, 0), null, 'dax1.0'), 'EEXIST');
    expect(sysfs.nodeCount).toBe(before);
    expect(kernel.devtmpfs.list()).toEqual(['dax0.0']);
    expect(core.liveDevices).toEqual([a]);
    await core.deviceUnregister(a);
    core.classDestroy(dax);
  });

  it('a class device under a class device sits directly in its directory', async () => {
    const { core, sysfs } = boot();
    const c = core.classCreate('c');
    const a = await core.deviceCreate(c, null, 0, null, 'a');
    const b = await core.deviceCreate(c, a, mkdev(10, 1), 'drvdata', 'b');
    expect(b.kobj.sysfsPath).toBe('/sys/devices/virtual/c/a/b');
    expect(b.driverData).toBe('drvdata');
    await core.deviceDestroy(c, mkdev(10, 1));
    expect(sysfs.exists('/sys/devices/virtual/c/a/b')).toBe(false);
    await core.deviceUnregister(a);
    core.classDestroy(c);
    expect(core.liveDeviceCount).toBe(0);
  });
});

interface Fixture {
  kernel: Kernel;
  core: Kernel['driverCore'];
  sysfs: Kernel['sysfs'];
  bus: BusType;
  log: string[];
}

/** A bus whose match pairs a device "<prefix><n>" with driver "<prefix>_drv". */
function busFixture(options: Partial<BusType> = {}): Fixture {
  const { kernel, core, sysfs } = boot();
  const log: string[] = [];
  const bus: BusType = {
    name: 'tbus',
    match: (dev, drv) => drv.name === `${dev.name.replace(/\d+$/, '')}_drv`,
    devGroups: [{ attrs: [devAttrDriverOverride] }],
    ...options,
  };
  core.busRegister(bus);
  return { kernel, core, sysfs, bus, log };
}

function driver(f: Fixture, name: string, extra: Partial<DeviceDriver> = {}): DeviceDriver {
  return {
    name,
    bus: f.bus,
    probe: (dev) => void f.log.push(`probe ${name} ${dev.name}`),
    remove: (dev) => void f.log.push(`remove ${name} ${dev.name}`),
    ...extra,
  };
}

function busDevice(f: Fixture, name: string, parent: Device | null = null): Device {
  return new Device({ name, bus: f.bus, parent, release: () => {} });
}

describe('buses and drivers', () => {
  it('bus_register builds /sys/bus/<bus> and bus_unregister removes it', async () => {
    const { core, sysfs } = boot();
    const before = sysfs.nodeCount;
    const bus: BusType = { name: 'nd' };
    core.busRegister(bus);
    expect(sysfs.readdir('/sys/bus/nd')).toEqual([
      'devices',
      'drivers',
      'drivers_autoprobe',
      'drivers_probe',
      'uevent',
    ]);
    expect(sysfs.read('/sys/bus/nd/drivers_autoprobe')).toBe('1\n');
    expect(() => sysfs.read('/sys/bus/nd/drivers_probe')).toThrow(
      expect.objectContaining({ code: 'EACCES' }),
    );
    expect(() => core.busRegister({ name: 'nd' })).toThrow(expect.objectContaining({ code: 'EEXIST' }));
    core.busUnregister(bus);
    expect(sysfs.nodeCount).toBe(before);
  });

  it('adds devices to the bus with a devices link and subsystem link, and probes on add', async () => {
    const f = busFixture();
    const { core, sysfs } = f;
    const drv = driver(f, 'ns_drv');
    await core.driverRegister(drv);
    expect(sysfs.readdir('/sys/bus/tbus/drivers/ns_drv')).toEqual(['bind', 'uevent', 'unbind']);
    const before = sysfs.nodeCount;
    const dev = busDevice(f, 'ns0');
    await core.deviceRegister(dev);
    expect(f.log).toEqual(['probe ns_drv ns0']);
    expect(dev.driver).toBe(drv);
    expect(sysfs.readlink('/sys/bus/tbus/devices/ns0')).toBe('../../../devices/ns0');
    expect(sysfs.readlink('/sys/devices/ns0/subsystem')).toBe('../../bus/tbus');
    expect(sysfs.readlink('/sys/devices/ns0/driver')).toBe('../../bus/tbus/drivers/ns_drv');
    expect(sysfs.realpath('/sys/bus/tbus/drivers/ns_drv/ns0')).toBe('/sys/devices/ns0');
    expect(sysfs.read('/sys/devices/ns0/uevent')).toBe('DRIVER=ns_drv\n');
    expect(sysfs.readdir('/sys/devices/ns0')).toEqual(['driver', 'driver_override', 'subsystem', 'uevent']);
    expect(core.busFindDeviceByName(f.bus, 'ns0\n')).toBe(dev);
    core.putDevice(dev);
    await core.deviceUnregister(dev);
    expect(f.log).toEqual(['probe ns_drv ns0', 'remove ns_drv ns0']);
    expect(sysfs.nodeCount).toBe(before);
    expect(sysfs.readdir('/sys/bus/tbus/drivers/ns_drv')).toEqual(['bind', 'uevent', 'unbind']);
    await core.driverUnregister(drv);
    expect(sysfs.readdir('/sys/bus/tbus/drivers')).toEqual([]);
  });

  it('driver_register attaches to existing devices; a second driver of that name is EBUSY', async () => {
    const f = busFixture();
    const { core, kernel } = f;
    const devs = [busDevice(f, 'ns0'), busDevice(f, 'ns1'), busDevice(f, 'pfn0')];
    for (const d of devs) await core.deviceRegister(d);
    expect(f.log).toEqual([]);
    const drv = driver(f, 'ns_drv');
    await core.driverRegister(drv);
    expect(f.log).toEqual(['probe ns_drv ns0', 'probe ns_drv ns1']);
    await expectErrno(core.driverRegister(driver(f, 'ns_drv')), 'EBUSY');
    expect(kernel.dmesg().join('\n')).toContain("Error: Driver 'ns_drv' is already registered, aborting...");
    await core.driverUnregister(drv);
    expect(f.log.slice(2)).toEqual(['remove ns_drv ns1', 'remove ns_drv ns0']);
    expect(devs.map((d) => d.driver)).toEqual([null, null, null]);
    expect(f.sysfs.exists('/sys/devices/ns0/driver')).toBe(false);
    for (const d of devs) await core.deviceUnregister(d);
    expect(core.liveDeviceCount).toBe(0);
  });

  it('bind and unbind through sysfs return the errnos of v4.12 bus.c', async () => {
    const f = busFixture();
    const { core, sysfs } = f;
    await core.driverRegister(driver(f, 'ns_drv'));
    const pfnDrv = driver(f, 'pfn_drv');
    await core.driverRegister(pfnDrv);
    const ns0 = busDevice(f, 'ns0');
    const pfn0 = busDevice(f, 'pfn0');
    await sysfs.write('/sys/bus/tbus/drivers_autoprobe', '0\n');
    expect(sysfs.read('/sys/bus/tbus/drivers_autoprobe')).toBe('0\n');
    await core.deviceRegister(ns0);
    await core.deviceRegister(pfn0);
    expect(ns0.driver).toBe(null);
    const bind = '/sys/bus/tbus/drivers/ns_drv/bind';
    const unbind = '/sys/bus/tbus/drivers/ns_drv/unbind';
    expect(() => sysfs.read(bind)).toThrow(expect.objectContaining({ code: 'EACCES' }));
    await expectErrno(sysfs.write(bind, 'nosuch\n'), 'ENODEV');
    await expectErrno(sysfs.write(bind, 'pfn0\n'), 'ENODEV');
    await expectErrno(sysfs.write(unbind, 'ns0\n'), 'ENODEV');
    await sysfs.write(bind, 'ns0\n');
    expect(ns0.driver?.name).toBe('ns_drv');
    await expectErrno(sysfs.write(bind, 'ns0'), 'ENODEV');
    await expectErrno(sysfs.write('/sys/bus/tbus/drivers/pfn_drv/unbind', 'ns0'), 'ENODEV');
    await sysfs.write(unbind, 'ns0\n');
    expect(ns0.driver).toBe(null);
    expect(f.log).toEqual(['probe ns_drv ns0', 'remove ns_drv ns0']);
    await expectErrno(sysfs.write('/sys/bus/tbus/drivers_probe', 'nosuch'), 'ENODEV');
    await sysfs.write('/sys/bus/tbus/drivers_probe', 'pfn0\n');
    expect(pfn0.driver).toBe(pfnDrv);
    await core.deviceUnregister(ns0);
    await core.deviceUnregister(pfn0);
    expect(f.log.at(-1)).toBe('remove pfn_drv pfn0');
  });

  it('bus probe and remove are used instead of the driver methods', async () => {
    const calls: string[] = [];
    const f = busFixture({
      probe: (dev) => void calls.push(`bus probe ${dev.name}`),
      remove: (dev) => void calls.push(`bus remove ${dev.name}`),
    });
    const drv: DeviceDriver = { name: 'ns_drv', bus: f.bus };
    await f.core.driverRegister(drv);
    const dev = busDevice(f, 'ns0');
    await f.core.deviceRegister(dev);
    await f.core.deviceUnregister(dev);
    expect(calls).toEqual(['bus probe ns0', 'bus remove ns0']);
    await f.core.driverUnregister(drv);
  });

  it('honours driver_override, set and cleared through sysfs', async () => {
    const f = busFixture();
    const { core, sysfs } = f;
    const nsDrv = driver(f, 'ns_drv');
    const otherDrv = driver(f, 'other_drv');
    await core.driverRegister(nsDrv);
    await core.driverRegister(otherDrv);
    await sysfs.write('/sys/bus/tbus/drivers_autoprobe', '0');
    const dev = busDevice(f, 'ns0');
    await core.deviceRegister(dev);
    expect(sysfs.read('/sys/devices/ns0/driver_override')).toBe('(null)\n');
    await expectErrno(sysfs.write('/sys/bus/tbus/drivers/other_drv/bind', 'ns0'), 'ENODEV');
    await sysfs.write('/sys/devices/ns0/driver_override', 'other_drv\n');
    expect(dev.driverOverride).toBe('other_drv');
    expect(sysfs.read('/sys/devices/ns0/driver_override')).toBe('other_drv\n');
    await expectErrno(sysfs.write('/sys/bus/tbus/drivers/ns_drv/bind', 'ns0'), 'ENODEV');
    await sysfs.write('/sys/bus/tbus/drivers_probe', 'ns0');
    expect(dev.driver).toBe(otherDrv);
    await sysfs.write('/sys/bus/tbus/drivers/other_drv/unbind', 'ns0');
    await sysfs.write('/sys/devices/ns0/driver_override', '\n');
    expect(dev.driverOverride).toBe(null);
    await expectErrno(sysfs.write('/sys/devices/ns0/driver_override', 'x'.repeat(4097)), 'EINVAL');
    await sysfs.write('/sys/bus/tbus/drivers/ns_drv/bind', 'ns0');
    expect(dev.driver).toBe(nsDrv);
    await core.deviceUnregister(dev);
  });
});

describe('probe failure and devres', () => {
  it('a failed probe releases its devres newest first, unbinds, logs, and bind reports ENODEV', async () => {
    const f = busFixture();
    const { core, sysfs, kernel } = f;
    const order: string[] = [];
    const drv = driver(f, 'ns_drv', {
      probe: async (dev) => {
        dev.driverData = 'set by probe';
        core.devmAddAction(
          dev,
          async (what: string) => {
            await tick(3);
            order.push(what);
          },
          'first',
        );
        core.devmAddAction(dev, (what: string) => void order.push(what), 'second');
        throw kerr('ENOMEM', 'ns_probe');
      },
    });
    await core.driverRegister(drv);
    const before = sysfs.nodeCount;
    await sysfs.write('/sys/bus/tbus/drivers_autoprobe', '0');
    const dev = busDevice(f, 'ns0');
    await core.deviceRegister(dev);
    await expectErrno(sysfs.write('/sys/bus/tbus/drivers/ns_drv/bind', 'ns0\n'), 'ENODEV');
    expect(order).toEqual(['second', 'first']);
    expect(dev.driver).toBe(null);
    expect(dev.driverData).toBe(null);
    expect(core.deviceIsBound(dev)).toBe(false);
    expect(sysfs.exists('/sys/devices/ns0/driver')).toBe(false);
    expect(sysfs.readdir('/sys/bus/tbus/drivers/ns_drv')).toEqual(['bind', 'uevent', 'unbind']);
    expect(kernel.dmesg().at(-1)).toMatch(/\] ns_drv: probe of ns0 failed with error -12$/);
    await core.deviceUnregister(dev);
    expect(sysfs.nodeCount).toBe(before);
    expect(kernel.log.warnings).toBe(0);
  });

  it('a probe rejecting the device with ENODEV or ENXIO is not logged', async () => {
    const f = busFixture();
    await f.core.driverRegister(
      driver(f, 'ns_drv', {
        probe: () => {
          throw kerr('ENXIO', 'probe');
        },
      }),
    );
    const lines = f.kernel.dmesg().length;
    const dev = busDevice(f, 'ns0');
    await f.core.deviceRegister(dev);
    expect(dev.driver).toBe(null);
    expect(f.kernel.dmesg().length).toBe(lines);
    await f.core.deviceUnregister(dev);
  });

  it('unbind awaits async devres actions in reverse order before the write returns', async () => {
    const f = busFixture();
    const { core, sysfs } = f;
    const order: string[] = [];
    const action = (name: string, ms: number) => async () => {
      order.push(`start ${name}`);
      await tick(ms);
      order.push(`end ${name}`);
    };
    await core.driverRegister(
      driver(f, 'ns_drv', {
        probe: (dev) => {
          core.devmAddAction(dev, action('a', 5));
          core.devmAddAction(dev, action('b', 1));
          core.devmAddAction(dev, action('c', 3));
        },
        remove: () => void order.push('remove'),
      }),
    );
    const dev = busDevice(f, 'ns0');
    await core.deviceRegister(dev);
    await sysfs.write('/sys/bus/tbus/drivers/ns_drv/unbind', 'ns0');
    expect(order).toEqual(['remove', 'start c', 'end c', 'start b', 'end b', 'start a', 'end a']);
    expect(dev.driver).toBe(null);
    await core.deviceUnregister(dev);
  });

  it('device_del awaits the devres of an unbound device (e.g. children registered against a root device)', async () => {
    const { core, sysfs } = boot();
    const before = sysfs.nodeCount;
    const cls = core.classCreate('dax');
    const root = await core.rootDeviceRegister('root');
    const order: string[] = [];
    for (const i of [0, 1]) {
      const child = new Device({
        name: `dax0.${i}`,
        parent: root,
        class: cls,
        devt: mkdev(252, i),
        release: () => {},
      });
      await core.deviceRegister(child);
      await core.devmAddActionOrReset(
        root,
        async (d: Device) => {
          await tick(2);
          await core.deviceUnregister(d);
          order.push(d.name);
        },
        child,
      );
    }
    core.devmAddAction(root, () => order.push('removed'));
    const removed = () => order.push('never');
    core.devmAddAction(root, removed);
    core.devmRemoveAction(root, removed);
    await core.rootDeviceUnregister(root);
    expect(order).toEqual(['removed', 'dax0.1', 'dax0.0']);
    core.classDestroy(cls);
    expect(sysfs.nodeCount).toBe(before);
    expect(core.liveDeviceCount).toBe(0);
  });

  it('devm_add_action_or_reset runs the action and rethrows when adding fails', async () => {
    const { core, kernel } = boot();
    const dev = new Device({ name: 'gone', release: () => {} });
    core.deviceInitialize(dev);
    core.putDevice(dev);
    let ran = 0;
    await expectErrno(
      core.devmAddActionOrReset(dev, () => void ran++),
      'ENODEV',
    );
    expect(ran).toBe(1);
    expect(kernel.log.warnings).toBe(1);
  });

  it('devm_remove_action of an unknown action warns', async () => {
    const { core, kernel } = boot();
    const dev = await core.rootDeviceRegister('r');
    core.devmRemoveAction(dev, () => {});
    expect(kernel.log.warnings).toBe(1);
    await core.rootDeviceUnregister(dev);
  });

  it('an unbind racing a probe in progress waits for the probe (device lock)', async () => {
    const f = busFixture();
    const { core, sysfs } = f;
    const gate = deferred();
    const events: string[] = [];
    await core.driverRegister(
      driver(f, 'ns_drv', {
        probe: async () => {
          events.push('probe start');
          await gate.promise;
          events.push('probe end');
        },
        remove: () => void events.push('remove'),
      }),
    );
    await sysfs.write('/sys/bus/tbus/drivers_autoprobe', '0');
    const dev = busDevice(f, 'ns0');
    await core.deviceRegister(dev);
    const bind = sysfs.write('/sys/bus/tbus/drivers/ns_drv/bind', 'ns0');
    await tick();
    expect(events).toEqual(['probe start']);
    const unbind = sysfs.write('/sys/bus/tbus/drivers/ns_drv/unbind', 'ns0');
    await tick();
    expect(events).toEqual(['probe start']);
    gate.resolve();
    await Promise.all([bind, unbind]);
    expect(events).toEqual(['probe start', 'probe end', 'remove']);
    expect(dev.driver).toBe(null);
    await core.deviceUnregister(dev);
  });
});
