/**
 * A device-dax instance with nothing below it: dax.ko and device_dax.ko loaded, a parent device bound to a
 * bench driver, and one dax region with one dax device over a resource of any size (memory is sparse, so
 * size costs nothing until written). It is what dax_pmem builds on an nd_dax device, without libnvdimm.
 */
import { daxModule } from '@daxsim/dax-core';
import { deviceDaxModule } from '@daxsim/device-dax';
import {
  type BusType,
  Device,
  type DeviceDriver,
  Kernel,
  MEMREMAP_WB,
  O_RDWR,
  PFN_DEV,
  PFN_MAP,
  type Task,
} from '@daxsim/kernel';

/** A kernel with /dev/dax0.0 over [start, start + size) at `align`, and a task that has it open. */
export interface DevDax extends AsyncDisposable {
  kernel: Kernel;
  task: Task;
  fd: number;
}

/** Boots the device (devm_create_dax_dev on a region made by alloc_dax_region) and opens it from a task. */
export async function bootDevDax(start: number, size: number, align: number): Promise<DevDax> {
  const kernel = new Kernel();
  const core = kernel.driverCore;
  await kernel.modules.modprobe(daxModule);
  const devdax = await kernel.modules.modprobe(deviceDaxModule);
  const bus: BusType = { name: 'bench' };
  core.busRegister(bus);
  const driver: DeviceDriver = { name: 'bench', bus, owner: null };
  await core.driverRegister(driver);
  const parent = new Device({ name: 'bench.0', bus, release: () => {} });
  await core.deviceRegister(parent);
  const res = kernel.iomem.requestMemRegion(start, size, 'bench');
  if (res === null) throw new Error(`cannot claim ${start.toString(16)}+${size.toString(16)}`);
  const addr = kernel.memremap.devmMemremap(core, parent, start, size, MEMREMAP_WB);
  const region = await devdax.allocDaxRegion(parent, 0, res, align, addr, PFN_DEV | PFN_MAP);
  if (region === null) throw new Error('alloc_dax_region failed');
  await devdax.devmCreateDaxDev(region, [res]);
  devdax.daxRegionPut(region);
  const task = kernel.spawn('bench');
  const fd = task.open('/dev/dax0.0', O_RDWR);
  return {
    kernel,
    task,
    fd,
    async [Symbol.asyncDispose]() {
      for (const t of [...kernel.tasks.values()]) t.exit();
      await core.deviceReleaseDriver(parent);
      await core.deviceUnregister(parent);
      await core.driverUnregister(driver);
      core.busUnregister(bus);
      kernel.iomem.releaseMemRegion(start, size);
      await kernel.rcu.barrier();
      await kernel.modules.rmmod('device_dax');
      await kernel.modules.rmmod('dax');
    },
  };
}
