/**
 * drivers/base/init.c (driver_init) and the driver core's registries: one instance per kernel, holding its
 * buses, classes, drivers and live devices, and offering the drivers/base API as methods.
 */
import { kerr } from '../../errno.js';
import type { Sysfs } from '../../fs/sysfs/kernfs.js';
import {
  KERN_DEBUG,
  KERN_ERR,
  KERN_INFO,
  KERN_NOTICE,
  KERN_WARNING,
  type Printk,
} from '../../kernel/printk.js';
import type { Kernel } from '../../kernel.js';
import { FaultInject } from '../../lib/fault-inject.js';
import { Kobject } from '../../lib/kobject.js';
import type { BusAttribute, BusType, SubsysPrivate } from './bus.js';
import * as bus from './bus.js';
import type { Class, ClassPrivate } from './class.js';
import * as cls from './class.js';
import type { AttributeGroup, Device, DeviceAttribute } from './core.js';
import * as core from './core.js';
import * as dd from './dd.js';
import type { DevresAction } from './devres.js';
import * as devres from './devres.js';
import type { Devtmpfs } from './devtmpfs.js';
import type { DeviceDriver, DriverAttribute, DriverPrivate } from './driver.js';
import * as driver from './driver.js';

/** The driver core's state, shared by the drivers/base files; not part of the public API. */
export class DriverCoreState {
  readonly log: Printk;
  readonly sysfs: Sysfs;
  readonly devtmpfs: Devtmpfs;
  /** /sys/devices (devices_kset). */
  readonly devicesKobj: Kobject;
  /** /sys/devices/virtual. */
  readonly virtualKobj: Kobject;
  /** /sys/bus (bus_kset). */
  readonly busKobj: Kobject;
  /** /sys/class (class_kset). */
  readonly classKobj: Kobject;
  /** /sys/dev, /sys/dev/block and /sys/dev/char. */
  readonly devKobj: Kobject;
  readonly devBlockKobj: Kobject;
  readonly devCharKobj: Kobject;
  readonly buses = new Map<BusType, SubsysPrivate>();
  readonly classes = new Map<Class, ClassPrivate>();
  readonly drivers = new Map<DeviceDriver, DriverPrivate>();
  /** Devices initialized and not yet released. */
  readonly live = new Set<Device>();

  /** Fail points for device_add, devres and sysfs groups. */
  readonly inject: FaultInject;

  constructor(log: Printk, sysfs: Sysfs, devtmpfs: Devtmpfs, inject: FaultInject = new FaultInject()) {
    this.log = log;
    this.inject = inject;
    this.sysfs = sysfs;
    this.devtmpfs = devtmpfs;
    const add = (name: string, parent: Kobject | null) => {
      const kobj = new Kobject(name).init(log, () => {});
      kobj.add(sysfs, parent);
      return kobj;
    };
    this.devicesKobj = add('devices', null);
    this.virtualKobj = add('virtual', this.devicesKobj);
    this.busKobj = add('bus', null);
    this.classKobj = add('class', null);
    this.devKobj = add('dev', null);
    this.devBlockKobj = add('block', this.devKobj);
    this.devCharKobj = add('char', this.devKobj);
  }
}

/**
 * drivers/base for one kernel: /sys/devices, /sys/bus, /sys/class and /sys/dev, and every operation on
 * devices, buses, classes, drivers and devres. Functions returning a device from a lookup return it with a
 * reference the caller drops with putDevice().
 */
export class DriverCore {
  readonly #s: DriverCoreState;

  constructor(readonly kernel: Kernel) {
    this.#s = new DriverCoreState(kernel.log, kernel.sysfs, kernel.devtmpfs, kernel.faultInject);
  }

  /** Devices initialized and not yet released (their last reference not yet put), for leak checks. */
  get liveDevices(): Device[] {
    return [...this.#s.live];
  }

  /** Number of liveDevices. */
  get liveDeviceCount(): number {
    return this.#s.live.size;
  }

  /** sysfs_dev_block_kobj: /sys/dev/block, the dev_kobj of the block class. */
  get sysfsDevBlockKobj(): Kobject {
    return this.#s.devBlockKobj;
  }

  // core.c

  /** device_initialize(): the caller owns one reference, dropped with putDevice(). */
  deviceInitialize(dev: Device): void {
    core.deviceInitialize(this.#s, dev);
  }

  /** dev_set_name(): '/' becomes '!'. */
  devSetName(dev: Device, name: string): void {
    core.devSetName(dev, name);
  }

  /**
   * device_add(): /sys/devices/... directory (class devices without a parent under /sys/devices/virtual/<class>,
   * class devices under a non-class parent in <parent>/<class>/), uevent, attribute groups, class and bus links,
   * dev and /dev node for a dev_t, then driver probing. EINVAL without a name, EEXIST for a taken name; a
   * failure leaves nothing behind.
   */
  deviceAdd(dev: Device): Promise<void> {
    return core.deviceAdd(this.#s, dev);
  }

  /** device_del(): unbinds, runs remaining devres, removes every node device_add created. */
  deviceDel(dev: Device): Promise<void> {
    return core.deviceDel(this.#s, dev);
  }

  /** device_register(): deviceInitialize + deviceAdd; after a failure the caller must still putDevice(). */
  deviceRegister(dev: Device): Promise<void> {
    return core.deviceRegister(this.#s, dev);
  }

  /** device_unregister(): deviceDel + putDevice. */
  deviceUnregister(dev: Device): Promise<void> {
    return core.deviceUnregister(this.#s, dev);
  }

  /** get_device(). */
  getDevice(dev: Device): Device {
    return core.getDevice(dev);
  }

  /** put_device(): the last put calls dev.release, type.release or class.devRelease (none of them warns). */
  putDevice(dev: Device | null | undefined): void {
    core.putDevice(dev);
  }

  /** device_is_registered(). */
  deviceIsRegistered(dev: Device): boolean {
    return core.deviceIsRegistered(dev);
  }

  /** device_lock(): the mutex held across probe, bind, unbind and remove. */
  deviceLock(dev: Device): Promise<void> {
    return core.deviceLock(dev);
  }

  /** device_trylock(). */
  deviceTrylock(dev: Device): boolean {
    return core.deviceTrylock(dev);
  }

  /** device_unlock(). */
  deviceUnlock(dev: Device): void {
    core.deviceUnlock(dev);
  }

  /** device_create_file(). */
  deviceCreateFile(dev: Device, attr: DeviceAttribute): void {
    core.deviceCreateFile(this.#s, dev, attr);
  }

  /** device_remove_file(). */
  deviceRemoveFile(dev: Device, attr: DeviceAttribute): void {
    core.deviceRemoveFile(this.#s, dev, attr);
  }

  /** device_add_groups(): all or none. */
  deviceAddGroups(dev: Device, groups: readonly AttributeGroup[]): void {
    core.deviceAddGroups(this.#s, dev, groups);
  }

  /** device_remove_groups(). */
  deviceRemoveGroups(dev: Device, groups: readonly AttributeGroup[]): void {
    core.deviceRemoveGroups(this.#s, dev, groups);
  }

  /** sysfs_create_group() on a device. */
  sysfsCreateGroup(dev: Device, grp: AttributeGroup): void {
    core.sysfsCreateGroupAt(this.#s, this.#path(dev, 'sysfs_create_group'), dev, grp);
  }

  /** sysfs_update_group() on a device: re-runs isVisible for each attribute. */
  sysfsUpdateGroup(dev: Device, grp: AttributeGroup): void {
    core.sysfsUpdateGroupAt(this.#s, this.#path(dev, 'sysfs_update_group'), dev, grp);
  }

  /** sysfs_remove_group() on a device. */
  sysfsRemoveGroup(dev: Device, grp: AttributeGroup): void {
    if (dev.kobj.sysfsPath !== null) core.sysfsRemoveGroupAt(this.#s, dev.kobj.sysfsPath, grp);
  }

  /** device_for_each_child(): stops at, and returns, the first non-zero (or true) result. */
  deviceForEachChild(parent: Device, fn: (child: Device) => number | boolean | void): number | boolean {
    return core.deviceForEachChild(parent, fn);
  }

  /** device_find_child(): by name or predicate; referenced. */
  deviceFindChild(parent: Device, match: string | ((child: Device) => boolean)): Device | null {
    return core.deviceFindChild(parent, match);
  }

  /** root_device_register(): a parentless device at /sys/devices/<name>. */
  rootDeviceRegister(name: string): Promise<Device> {
    return core.rootDeviceRegister(this.#s, name);
  }

  /** root_device_unregister(). */
  rootDeviceUnregister(dev: Device): Promise<void> {
    return core.rootDeviceUnregister(this.#s, dev);
  }

  /** device_create(): a registered class device, freed on its last put. */
  deviceCreate(
    cls: Class,
    parent: Device | null,
    devt: number,
    driverData: unknown,
    name: string,
    groups?: AttributeGroup[],
  ): Promise<Device> {
    return core.deviceCreate(this.#s, cls, parent, devt, driverData, name, groups);
  }

  /** device_destroy(): unregisters the class device with that dev_t, if any. */
  deviceDestroy(cls: Class, devt: number): Promise<void> {
    return core.deviceDestroy(this.#s, cls, devt);
  }

  /** dev_err(). */
  devErr(dev: Device, text: string): void {
    core.devPrintk(this.#s, KERN_ERR, dev, text);
  }

  /** dev_warn(). */
  devWarn(dev: Device, text: string): void {
    core.devPrintk(this.#s, KERN_WARNING, dev, text);
  }

  /** dev_notice(). */
  devNotice(dev: Device, text: string): void {
    core.devPrintk(this.#s, KERN_NOTICE, dev, text);
  }

  /** dev_info(). */
  devInfo(dev: Device, text: string): void {
    core.devPrintk(this.#s, KERN_INFO, dev, text);
  }

  /** dev_dbg(). */
  devDbg(dev: Device, text: string): void {
    core.devPrintk(this.#s, KERN_DEBUG, dev, text);
  }

  // devres.c

  /** devm_add_action(): `action(data)` runs when the device's devres are released (unbind, failed probe, del). */
  devmAddAction<T>(dev: Device, action: DevresAction<T>, data?: T): void {
    if (this.#s.inject.should('devm_add_action')) throw kerr('ENOMEM', 'devm_add_action');
    devres.devmAddAction(this.#s.log, dev, action, data);
  }

  /** devm_add_action_or_reset(): when adding fails, runs the action and rethrows. */
  async devmAddActionOrReset<T>(dev: Device, action: DevresAction<T>, data?: T): Promise<void> {
    if (this.#s.inject.should('devm_add_action')) {
      await action(data as T);
      throw kerr('ENOMEM', 'devm_add_action');
    }
    return devres.devmAddActionOrReset(this.#s.log, dev, action, data);
  }

  /** devres_release(): runs and forgets the newest `action` node whose data matches; false when none does. */
  devresRelease<T>(dev: Device, action: DevresAction<T>, match: (data: T) => boolean): Promise<boolean> {
    return devres.devresRelease(dev, action, match);
  }

  /** devm_remove_action(): forgets a registration without running it; warns when there is none. */
  devmRemoveAction<T>(dev: Device, action: DevresAction<T>, data?: T): void {
    devres.devmRemoveAction(this.#s.log, dev, action, data);
  }

  /** devres_release_all(): runs every action, newest first, awaiting each. */
  devresReleaseAll(dev: Device): Promise<void> {
    return devres.devresReleaseAll(this.#s.log, dev);
  }

  // bus.c

  /** bus_register(): /sys/bus/<name>; EEXIST when taken. */
  busRegister(b: BusType): void {
    bus.busRegister(this.#s, b);
  }

  /** bus_unregister(). */
  busUnregister(b: BusType): void {
    bus.busUnregister(this.#s, b);
  }

  /** bus_create_file(). */
  busCreateFile(b: BusType, attr: BusAttribute): void {
    bus.busCreateFile(this.#s, b, attr);
  }

  /** bus_remove_file(). */
  busRemoveFile(b: BusType, attr: BusAttribute): void {
    bus.busRemoveFile(this.#s, b, attr);
  }

  /** bus_for_each_dev(): stops at, and returns, the first non-zero (or true) result. */
  busForEachDev(
    b: BusType,
    fn: (dev: Device) => number | boolean | void,
    start: Device | null = null,
  ): number | boolean {
    return bus.busForEachDev(this.#s, b, fn, start);
  }

  /** bus_for_each_drv(): stops at, and returns, the first non-zero (or true) result. */
  busForEachDrv(b: BusType, fn: (drv: DeviceDriver) => number | boolean | void): number | boolean {
    return bus.busForEachDrv(this.#s, b, fn);
  }

  /** bus_find_device(): by name or predicate, after `start`; referenced. */
  busFindDevice(
    b: BusType,
    match: string | ((dev: Device) => boolean),
    start: Device | null = null,
  ): Device | null {
    return bus.busFindDevice(this.#s, b, match, start);
  }

  /** bus_find_device_by_name(): sysfs_streq comparison ("dev0\n" finds dev0); referenced. */
  busFindDeviceByName(b: BusType, name: string, start: Device | null = null): Device | null {
    return bus.busFindDeviceByName(this.#s, b, name, start);
  }

  /** bus_rescan_devices(): tries to attach every unbound device. */
  busRescanDevices(b: BusType): Promise<void> {
    return bus.busRescanDevices(this.#s, b);
  }

  // driver.c, dd.c

  /** driver_register(): EBUSY when the bus has a driver of that name; attaches to matching devices. */
  driverRegister(drv: DeviceDriver): Promise<void> {
    return driver.driverRegister(this.#s, drv);
  }

  /** driver_unregister(): unbinds every bound device, then removes the driver. */
  driverUnregister(drv: DeviceDriver): Promise<void> {
    return driver.driverUnregister(this.#s, drv);
  }

  /** driver_find(). */
  driverFind(name: string, b: BusType): DeviceDriver | null {
    return driver.driverFind(this.#s, name, b);
  }

  /** driver_create_file(). */
  driverCreateFile(drv: DeviceDriver, attr: DriverAttribute): void {
    driver.driverCreateFile(this.#s, drv, attr);
  }

  /** driver_remove_file(). */
  driverRemoveFile(drv: DeviceDriver, attr: DriverAttribute): void {
    driver.driverRemoveFile(this.#s, drv, attr);
  }

  /** driver_for_each_device(): stops at, and returns, the first non-zero (or true) result. */
  driverForEachDevice(drv: DeviceDriver, fn: (dev: Device) => number | boolean | void): number | boolean {
    return driver.driverForEachDevice(this.#s, drv, fn);
  }

  /** driver_find_device(): by name or predicate; referenced. */
  driverFindDevice(drv: DeviceDriver, match: string | ((dev: Device) => boolean)): Device | null {
    return driver.driverFindDevice(this.#s, drv, match);
  }

  /** driver_match_device(): driver_override, else the bus's match. */
  driverMatchDevice(drv: DeviceDriver, dev: Device): boolean {
    return dd.driverMatchDevice(drv, dev);
  }

  /** device_attach(): true when the device ends up bound. */
  deviceAttach(dev: Device): Promise<boolean> {
    return dd.deviceAttach(this.#s, dev);
  }

  /** driver_attach(): probes `drv` against every unbound matching device. */
  driverAttach(drv: DeviceDriver): Promise<void> {
    return dd.driverAttach(this.#s, drv);
  }

  /** device_bind_driver(): binds the driver already in dev.driver without probing. */
  deviceBindDriver(dev: Device): void {
    dd.deviceBindDriver(this.#s, dev);
  }

  /** device_is_bound(). */
  deviceIsBound(dev: Device): boolean {
    return dd.deviceIsBound(dev);
  }

  /** device_release_driver(): remove, then devres (awaited, newest first), then dev.driver = null. */
  deviceReleaseDriver(dev: Device): Promise<void> {
    return dd.deviceReleaseDriver(this.#s, dev);
  }

  // class.c

  /** class_register(): /sys/class/<name>; EEXIST when taken. */
  classRegister(c: Class): void {
    cls.classRegister(this.#s, c);
  }

  /** class_unregister(). */
  classUnregister(c: Class): void {
    cls.classUnregister(this.#s, c);
  }

  /** class_create(). */
  classCreate(name: string): Class {
    return cls.classCreate(this.#s, name);
  }

  /** class_destroy(): null is ignored. */
  classDestroy(c: Class | null): void {
    cls.classDestroy(this.#s, c);
  }

  /** class_for_each_device(): stops at, and returns, the first non-zero (or true) result. */
  classForEachDevice(c: Class, fn: (dev: Device) => number | boolean | void): number | boolean {
    return cls.classForEachDevice(this.#s, c, fn);
  }

  /** class_find_device(): by name or predicate; referenced. */
  classFindDevice(c: Class, match: string | ((dev: Device) => boolean)): Device | null {
    return cls.classFindDevice(this.#s, c, match);
  }

  #path(dev: Device, op: string): string {
    const path = dev.kobj.sysfsPath;
    if (
      this.#s.log.warn(
        path === null,
        'fs/sysfs/group.c:internal_create_group',
        `${op}: '${dev.name}' has no sysfs directory`,
      )
    )
      throw kerr('EINVAL', op);
    return path!;
  }
}
