/**
 * drivers/nvdimm/bus.c and core.c: the "nd" bus type, nvdimm_bus registration (ndbusN), nd device registration
 * (asynchronous, as __nd_device_register schedules it), nd driver registration, the probe/remove wrappers
 * that keep the provider module pinned and let regions replenish their seeds, and the ioctl character devices:
 * /dev/ndctlN per bus (class "nd") and the /dev/nmemN dev_t range of the DIMMs.
 */
import {
  type AttributeGroup,
  type BusType,
  Cdev,
  type Class,
  cdevInit,
  type Device,
  type DeviceDriver,
  type File,
  type FileOperations,
  Ida,
  type Kernel,
  kerr,
  type Module,
  major,
  minor,
  mkdev,
  O_ACCMODE,
  O_RDONLY,
} from '@daxsim/kernel';
import { Badrange } from './badrange.js';
import {
  isNdDax,
  isNdPmem,
  isNvdimm,
  ND_DEVICE_DAX_PMEM,
  ND_DEVICE_DIMM,
  ND_DEVICE_NAMESPACE_IO,
  ND_DEVICE_NAMESPACE_PMEM,
  ND_DEVICE_REGION_PMEM,
  type NdDeviceDriver,
  type NdRegion,
  type Nvdimm,
  NvdimmBus,
  type NvdimmBusDescriptor,
} from './nd.js';

/** The part of libnvdimm's state the bus code needs. */
export interface NdBusContext {
  readonly kernel: Kernel;
  readonly module: Module;
  /** to_nd_region() for region devices, and the region above a namespace or claim device. */
  regionOf(dev: Device): NdRegion | null;
  /** nd_region_notify_driver_action(): seeds replenished after a successful probe. */
  notifyDriverAction(dev: Device, probe: boolean): void;
  /** to_nvdimm() for DIMM devices, null for anything else. */
  nvdimmOf(dev: Device): Nvdimm | null;
  /** __nd_ioctl(): a bus (nvdimm null) or DIMM command from a /dev node. */
  ndIoctl(bus: NvdimmBus, nvdimm: Nvdimm | null, readOnly: boolean, cmd: number, arg: unknown): number;
}

/** register_chrdev(): the minors a dynamically numbered character device answers for. */
const CHRDEV_MINORS = 256;

/** A register_chrdev() registration: its dev_t range and cdev. */
interface Chrdev {
  base: number;
  cdev: Cdev;
}

/** to_nd_device_type(): the ND_DEVICE_* a driver must serve to bind `dev`. */
export function toNdDeviceType(ctx: NdBusContext, dev: Device): number {
  if (isNvdimm(dev)) return ND_DEVICE_DIMM;
  if (isNdPmem(dev)) return ND_DEVICE_REGION_PMEM;
  if (isNdDax(dev)) return ND_DEVICE_DAX_PMEM;
  const parent = dev.parent;
  if (parent !== null && isNdPmem(parent)) {
    const region = ctx.regionOf(parent);
    return region?.labelled ? ND_DEVICE_NAMESPACE_PMEM : ND_DEVICE_NAMESPACE_IO;
  }
  return 0;
}

/** The nd bus and the nvdimm_bus objects on it. */
export class NdBus {
  readonly busType: BusType;
  readonly #ctx: NdBusContext;
  readonly #busIda: Ida;
  readonly buses = new Set<NvdimmBus>();
  /** Provider modules pinned by bound devices, per device. */
  readonly #pinned = new Map<Device, Module | null>();
  /** The nd driver around each registered struct device_driver. */
  readonly #ndDrivers = new Map<DeviceDriver, NdDeviceDriver>();
  /** nvdimm_bus_list: the buses ioctls can reach (from registration until unregistration starts). */
  readonly #busList = new Set<NvdimmBus>();
  /** nd_class: /sys/class/nd, holding the ndctlN devices. */
  readonly ndClass: Class;
  /** register_chrdev(0, "ndctl") and register_chrdev(0, "dimmctl"). */
  readonly #busChrdev: Chrdev;
  readonly #dimmChrdev: Chrdev;

  /** nvdimm_bus_init(): the nd bus type, the "ndctl" and "dimmctl" character devices and the "nd" class. */
  constructor(ctx: NdBusContext) {
    this.#ctx = ctx;
    this.#busIda = new Ida(ctx.kernel.log, 'nd_ida', ctx.kernel.faultInject, ctx.kernel.kmemleak);
    this.busType = {
      name: 'nd',
      match: (dev, drv) => ((this.#ndDrivers.get(drv)?.type ?? 0) & (1 << toNdDeviceType(ctx, dev))) !== 0,
      uevent: (dev) => [`MODALIAS=nd:t${toNdDeviceType(ctx, dev)}`],
      probe: (dev) => this.#probe(dev),
      remove: (dev) => this.#remove(dev),
    };
    const core = ctx.kernel.driverCore;
    core.busRegister(this.busType);
    const undo: Array<() => void> = [() => core.busUnregister(this.busType)];
    try {
      this.#busChrdev = this.#registerChrdev('ndctl', (file, cmd, arg) => this.#busIoctl(file, cmd, arg));
      undo.unshift(() => this.#unregisterChrdev(this.#busChrdev));
      this.#dimmChrdev = this.#registerChrdev('dimmctl', (file, cmd, arg) => this.#dimmIoctl(file, cmd, arg));
      undo.unshift(() => this.#unregisterChrdev(this.#dimmChrdev));
      this.ndClass = core.classCreate('nd');
    } catch (e) {
      for (const u of undo) u();
      throw e;
    }
  }

  /** register_chrdev(0, name, fops): all 256 minors of a new dynamic major, opening through nd_open(). */
  #registerChrdev(name: string, ioctl: NonNullable<FileOperations['unlockedIoctl']>): Chrdev {
    const chrdev = this.#ctx.kernel.chrdev;
    const base = chrdev.allocChrdevRegion(0, CHRDEV_MINORS, name);
    const fops: FileOperations = {
      owner: this.#ctx.module,
      open: (inode, file) => {
        file.privateData = minor(inode.rdev);
      },
      unlockedIoctl: ioctl,
    };
    const cdev = new Cdev();
    cdevInit(cdev, fops);
    cdev.owner = this.#ctx.module;
    try {
      chrdev.cdevAdd(cdev, base, CHRDEV_MINORS);
    } catch (e) {
      chrdev.unregisterChrdevRegion(base, CHRDEV_MINORS);
      throw e;
    }
    return { base, cdev };
  }

  /** unregister_chrdev(). */
  #unregisterChrdev(c: Chrdev): void {
    this.#ctx.kernel.chrdev.cdevDel(c.cdev);
    this.#ctx.kernel.chrdev.unregisterChrdevRegion(c.base, CHRDEV_MINORS);
  }

  /** MKDEV(nvdimm_major, id): the dev_t of DIMM `id` (/dev/nmem<id>). */
  nvdimmDevt(id: number): number {
    return mkdev(major(this.#dimmChrdev.base), id);
  }

  /** MKDEV(nvdimm_bus_major, id): the dev_t of /dev/ndctl<id>. */
  ndctlDevt(id: number): number {
    return mkdev(major(this.#busChrdev.base), id);
  }

  /** nd_ioctl(): the bus whose id is the node's minor; ENXIO when no registered bus has it. */
  #busIoctl(file: File, cmd: number, arg: unknown): number {
    const bus = [...this.#busList].find((b) => b.id === file.privateData);
    if (bus === undefined) throw kerr('ENXIO', 'nd_ioctl');
    return this.#ctx.ndIoctl(bus, null, readOnly(file), cmd, arg);
  }

  /** nvdimm_ioctl(): the DIMM whose id is the node's minor, on whichever bus has it; ENXIO when none does. */
  #dimmIoctl(file: File, cmd: number, arg: unknown): number {
    const core = this.#core;
    for (const bus of this.#busList) {
      const dev = core.deviceFindChild(bus.dev, (d) => this.#ctx.nvdimmOf(d)?.id === file.privateData);
      if (dev === null) continue;
      try {
        return this.#ctx.ndIoctl(bus, this.#ctx.nvdimmOf(dev), readOnly(file), cmd, arg);
      } finally {
        core.putDevice(dev);
      }
    }
    throw kerr('ENXIO', 'nvdimm_ioctl');
  }

  get #core() {
    return this.#ctx.kernel.driverCore;
  }

  /** to_nd_device_driver(). */
  #ndDriver(drv: DeviceDriver | null): NdDeviceDriver {
    const nd = drv === null ? undefined : this.#ndDrivers.get(drv);
    if (nd === undefined) throw kerr('ENODEV', 'to_nd_device_driver');
    return nd;
  }

  /** nvdimm_bus_probe(): pins the provider, probes, and on success lets the region replenish its seeds. */
  async #probe(dev: Device): Promise<void> {
    const drv = this.#ndDriver(dev.driver);
    const owner = this.#providerOwner(dev);
    if (owner !== null && !this.#ctx.kernel.modules.tryModuleGet(owner))
      throw kerr('ENXIO', 'nvdimm_bus_probe');
    try {
      await drv.probe(dev);
    } catch (e) {
      this.#ctx.notifyDriverAction(dev, false);
      if (owner !== null) this.#ctx.kernel.modules.modulePut(owner);
      throw e;
    }
    this.#pinned.set(dev, owner);
    try {
      this.#ctx.notifyDriverAction(dev, true);
    } catch (e) {
      this.#core.devErr(dev, `seed replenishment failed: ${(e as Error).message}`);
    }
  }

  /** nvdimm_bus_remove(). */
  async #remove(dev: Device): Promise<void> {
    const drv = this.#ndDriver(dev.driver);
    await drv.remove?.(dev);
    this.#ctx.notifyDriverAction(dev, false);
    const owner = this.#pinned.get(dev) ?? null;
    this.#pinned.delete(dev);
    if (owner !== null) this.#ctx.kernel.modules.modulePut(owner);
  }

  #providerOwner(dev: Device): Module | null {
    for (let d: Device | null = dev; d !== null; d = d.parent)
      for (const bus of this.buses) if (bus.dev === d) return bus.owner;
    return null;
  }

  /**
   * nvdimm_bus_register(): ndbusN under `parent`, with the provider's attribute groups. The caller's module
   * (`owner`) is pinned while any device below the bus is bound.
   */
  async nvdimmBusRegister(
    parent: Device,
    desc: NvdimmBusDescriptor,
    owner: Module | null,
    groups: AttributeGroup[],
  ): Promise<NvdimmBus> {
    if (this.#ctx.kernel.faultInject.should('nvdimm_bus_register'))
      throw kerr('ENOMEM', 'nvdimm_bus_register');
    const id = this.#busIda.simpleGet(0, 0);
    const bus = new NvdimmBus(id, desc);
    bus.badrange = new Badrange();
    bus.owner = owner;
    bus.dev.parent = parent;
    bus.dev.bus = this.busType;
    bus.dev.groups = groups;
    bus.dev.release = () => this.#busIda.simpleRemove(id);
    try {
      await this.#core.deviceRegister(bus.dev);
    } catch (e) {
      this.#core.putDevice(bus.dev);
      throw e;
    }
    try {
      await this.#nvdimmBusCreateNdctl(bus);
    } catch (e) {
      await this.#core.deviceUnregister(bus.dev);
      throw e;
    }
    this.buses.add(bus);
    this.#busList.add(bus);
    return bus;
  }

  /** nvdimm_bus_create_ndctl(): the class device ndctl<id> below the bus, whose dev_t makes /dev/ndctl<id>. */
  async #nvdimmBusCreateNdctl(bus: NvdimmBus): Promise<void> {
    try {
      await this.#core.deviceCreate(this.ndClass, bus.dev, this.ndctlDevt(bus.id), bus, `ndctl${bus.id}`);
    } catch (e) {
      this.#core.devDbg(bus.dev, `failed to register ndctl${bus.id}: ${(e as Error).message}`);
      throw e;
    }
  }

  /**
   * nvdimm_bus_unregister(): takes the bus off the ioctl list, waits for pending registrations, removes every
   * nd child (the ndctl class device is destroyed separately, as child_unregister skips class devices), then
   * the bus.
   */
  async nvdimmBusUnregister(bus: NvdimmBus): Promise<void> {
    this.#busList.delete(bus);
    await this.ndSynchronize();
    const children: Device[] = [];
    this.#core.deviceForEachChild(bus.dev, (child) => {
      if (child.class === null) children.push(child);
    });
    for (const child of children.reverse()) await this.ndDeviceUnregisterSync(child);
    await this.#core.deviceDestroy(this.ndClass, this.ndctlDevt(bus.id));
    this.buses.delete(bus);
    await this.#core.deviceUnregister(bus.dev);
  }

  /**
   * nd_device_register() / __nd_device_register(): initializes `dev` on the nd bus now and adds it later, from
   * async work, so that a probe that creates a device has returned before the new device probes.
   */
  ndDeviceRegister(dev: Device): void {
    this.#core.deviceInitialize(dev);
    this.ndDeviceRegisterInitialized(dev);
  }

  /** __nd_device_register(): as ndDeviceRegister for a device its creator has initialized already. */
  ndDeviceRegisterInitialized(dev: Device): void {
    dev.bus = this.busType;
    const parent = dev.parent;
    if (parent !== null) this.#core.getDevice(parent);
    this.#core.getDevice(dev);
    this.#ctx.kernel.async.schedule(async () => {
      try {
        await this.#core.deviceAdd(dev);
      } catch (e) {
        this.#core.devErr(dev, `nd_async_device_register: failed: ${(e as Error).message}`);
        this.#core.putDevice(dev);
      }
      this.#core.putDevice(dev);
      if (parent !== null) this.#core.putDevice(parent);
    });
  }

  /** nd_device_unregister(dev, ND_ASYNC). */
  ndDeviceUnregisterAsync(dev: Device): void {
    this.#core.getDevice(dev);
    this.#ctx.kernel.async.schedule(async () => {
      if (this.#core.deviceIsRegistered(dev)) await this.#core.deviceUnregister(dev);
      this.#core.putDevice(dev);
    });
  }

  /** nd_device_unregister(dev, ND_SYNC): waits for pending registrations first, then unregisters now. */
  async ndDeviceUnregisterSync(dev: Device): Promise<void> {
    await this.ndSynchronize();
    if (this.#core.deviceIsRegistered(dev)) await this.#core.deviceUnregister(dev);
  }

  /** nd_synchronize(): waits for every pending nd device registration and unregistration. */
  ndSynchronize(): Promise<void> {
    return this.#ctx.kernel.async.synchronizeFull();
  }

  /** __nd_driver_register(): an nd driver for the device types in `drv.type`. */
  async ndDriverRegister(drv: NdDeviceDriver): Promise<void> {
    if (drv.type === 0) throw kerr('EINVAL', 'nd_driver_register');
    drv.drv.bus = this.busType;
    this.#ndDrivers.set(drv.drv, drv);
    try {
      await this.#core.driverRegister(drv.drv);
    } catch (e) {
      this.#ndDrivers.delete(drv.drv);
      throw e;
    }
  }

  async ndDriverUnregister(drv: NdDeviceDriver): Promise<void> {
    await this.#core.driverUnregister(drv.drv);
    this.#ndDrivers.delete(drv.drv);
  }

  /** The nd driver bound to `dev`, or null. */
  ndDriverOf(dev: Device): NdDeviceDriver | null {
    return dev.driver === null ? null : (this.#ndDrivers.get(dev.driver) ?? null);
  }

  /** nvdimm_bus_exit(): the class, the character devices and the bus type go. */
  exit(): void {
    this.#core.classDestroy(this.ndClass);
    this.#unregisterChrdev(this.#busChrdev);
    this.#unregisterChrdev(this.#dimmChrdev);
    this.#core.busUnregister(this.busType);
  }

  /** Buses registered (for leak checks). */
  get busIds(): number {
    return this.#busIda.count;
  }
}

/** A descriptor opened O_RDONLY may only run read commands. */
function readOnly(file: File): boolean {
  return (file.flags & O_ACCMODE) === O_RDONLY;
}
