import { type DaxCore, daxModule } from '@daxsim/dax-core';
import {
  type BusType,
  Device,
  type DeviceDriver,
  Kernel,
  MEMREMAP_WB,
  O_RDWR,
  PFN_DEV,
  PFN_MAP,
  type Resource,
  type Task,
} from '@daxsim/kernel';
import { type DaxDev, type DaxRegion, type DeviceDax, deviceDaxModule } from '../src/index.js';

export const KiB = 1024;
export const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;

/**
 * A kernel with dax.ko and device_dax.ko loaded and a test-only parent device "dax_test.0", bound to a
 * test driver, on which tests build regions and dax devices (as dax_pmem does on an nd_dax device).
 * Disposing it unbinds the parent (devres tears the dax devices and region down) and checks with the kernel's
 * leak tracker that everything the test built is gone (devices, references, minors and ids, dax inodes, iomem
 * resources, memremap mappings, cdevs, sysfs and /dev nodes, tasks and files); then it removes the bus,
 * unloads both modules and checks the kernel against its state from before the first modprobe.
 */
export interface DevDaxFixture extends AsyncDisposable {
  kernel: Kernel;
  dax: DaxCore;
  devdax: DeviceDax;
  parent: Device;
  /** Claims [start, start+size) in iomem for the parent (released at dispose). */
  claim(start: number, size: number): Resource;
  /** A region over `res` on the parent. */
  region(res: Resource, align: number, pfnFlags?: number): Promise<DaxRegion>;
  /** region() plus one dax device covering it. */
  device(start: number, size: number, align: number, pfnFlags?: number): Promise<DaxDev>;
  /** WARNs the test provokes on purpose (the leak check expects exactly this many). */
  expectedWarnings: number;
  /** A new task named `comm` with /dev/dax0.0 open. */
  open(comm: string, flags?: number): { t: Task; fd: number };
  /** Unbinds the parent's driver: runs the devres actions (dax devices first, then the region). */
  unbind(): Promise<void>;
}

export async function bootDevDax(params: { nr_dax?: number } = {}): Promise<DevDaxFixture> {
  const kernel = new Kernel();
  const core = kernel.driverCore;
  const booted = kernel.kmemleak.baseline();
  const dax = await kernel.modules.modprobe(daxModule, params);
  const devdax = await kernel.modules.modprobe(deviceDaxModule);
  const bus: BusType = { name: 'dax_test' };
  core.busRegister(bus);
  const driver: DeviceDriver = { name: 'dax_test', bus, owner: null };
  await core.driverRegister(driver);
  const ready = kernel.kmemleak.baseline();
  const parent = new Device({ name: 'dax_test.0', bus, release: () => {} });
  await core.deviceRegister(parent);
  const claimed: Resource[] = [];

  const fixture: DevDaxFixture = {
    kernel,
    dax,
    devdax,
    parent,
    expectedWarnings: 0,
    claim(start, size) {
      const res = kernel.iomem.requestMemRegion(start, size, 'dax_test');
      if (res === null) throw new Error(`cannot claim ${start.toString(16)}+${size.toString(16)}`);
      claimed.push(res);
      return res;
    },
    async region(res, align, pfnFlags = PFN_DEV | PFN_MAP) {
      const size = res.end - res.start + 1;
      const addr = kernel.memremap.devmMemremap(core, parent, res.start, size, MEMREMAP_WB);
      const region = await devdax.allocDaxRegion(parent, 0, res, align, addr, pfnFlags);
      if (region === null) throw new Error('alloc_dax_region failed');
      return region;
    },
    async device(start, size, align, pfnFlags) {
      const res = fixture.claim(start, size);
      const region = await fixture.region(res, align, pfnFlags);
      const daxDev = await devdax.devmCreateDaxDev(region, [res]);
      devdax.daxRegionPut(region);
      return daxDev;
    },
    open(comm, flags = O_RDWR) {
      const t = kernel.spawn(comm);
      return { t, fd: t.open('/dev/dax0.0', flags) };
    },
    async unbind() {
      if (core.deviceIsBound(parent)) await core.deviceReleaseDriver(parent);
    },
    async [Symbol.asyncDispose]() {
      for (const task of [...kernel.tasks.values()]) {
        task.exit();
        kernel.reapTask(task);
      }
      await fixture.unbind();
      for (const res of claimed.splice(0)) kernel.iomem.releaseMemRegion(res.start, res.end - res.start + 1);
      await kernel.rcu.barrier();
      const stats = { devdax: devdax.stats(), dax: dax.stats() };
      const clean = {
        devdax: { regions: 0, devices: 0 },
        dax: { minors: 0, inodes: 0, hosts: 0, readers: 0 },
      };
      if (JSON.stringify(stats) !== JSON.stringify(clean))
        throw new Error(`leak after test: ${JSON.stringify(stats)}\n${kernel.dmesg().join('\n')}`);
      await core.deviceUnregister(parent);
      // with the parent gone, everything the test built on it is gone
      ready.assertClean({ expectedWarnings: fixture.expectedWarnings });
      await core.driverUnregister(driver);
      core.busUnregister(bus);
      await kernel.modules.rmmod('device_dax');
      await kernel.modules.rmmod('dax');
      await kernel.rcu.barrier();
      booted.assertClean({ expectedWarnings: fixture.expectedWarnings });
    },
  };
  return fixture;
}

/** Index of the first byte where `a` and `b` differ (or the shorter length), -1 when equal. */
export function firstDifference(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}
