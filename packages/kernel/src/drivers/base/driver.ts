/**
 * drivers/base/driver.c: registering device drivers on a bus, their attribute files, and walking the
 * devices bound to them.
 */
import { kerr } from '../../errno.js';
import type { Module } from '../../kernel/module.js';
import { klistWalk } from '../../lib/klist.js';
import type { Kobject } from '../../lib/kobject.js';
import type { BusType } from './bus.js';
import { busAddDriver, busRemoveDriver } from './bus.js';
import {
  type Attribute,
  type AttributeGroup,
  type Device,
  deviceMatcher,
  getFound,
  sysfsCreateFile,
  sysfsCreateGroupsAt,
  sysfsRemoveGroupsAt,
} from './core.js';
import type { DriverCoreState } from './driver_core.js';

/** struct device_driver. */
export interface DeviceDriver {
  name: string;
  bus: BusType;
  /** The module the driver belongs to (THIS_MODULE), pinned by files its devices serve. */
  owner?: Module | null;
  /** Binds the driver to `dev`; throwing a kernel error fails the probe (ENODEV/ENXIO quietly). */
  probe?(dev: Device): void | Promise<void>;
  /** Unbinds; the device's devres are released after it returns. */
  remove?(dev: Device): void | Promise<void>;
  groups?: AttributeGroup<DeviceDriver>[];
  /** No bind/unbind files in sysfs. */
  suppressBindAttrs?: boolean;
}

/** struct driver_attribute. */
export type DriverAttribute = Attribute<DeviceDriver>;

/** struct driver_private. */
export interface DriverPrivate {
  kobj: Kobject;
  /** klist_devices: the devices bound to the driver, in binding order. */
  devices: Device[];
}

/** driver_find(): the driver of that name registered on `bus`, or null. */
export function driverFind(s: DriverCoreState, name: string, bus: BusType): DeviceDriver | null {
  for (const drv of s.buses.get(bus)?.drivers ?? []) if (drv.name === name) return drv;
  return null;
}

/**
 * driver_register(): adds the driver to its bus, binding it to matching devices if the bus autoprobes. EBUSY
 * when the bus already has a driver of that name, EINVAL when the bus is not registered.
 */
export async function driverRegister(s: DriverCoreState, drv: DeviceDriver): Promise<void> {
  if (
    s.log.warn(
      !s.buses.has(drv.bus),
      'drivers/base/driver.c:driver_register',
      `Driver '${drv.name}' was unable to register with bus_type '${drv.bus.name}' because the bus was not initialized.`,
    )
  )
    throw kerr('EINVAL', 'driver_register');
  if (
    (drv.bus.probe !== undefined && drv.probe !== undefined) ||
    (drv.bus.remove !== undefined && drv.remove !== undefined)
  )
    s.log.warning(`Driver '${drv.name}' needs updating - please use bus_type methods`);
  if (driverFind(s, drv.name, drv.bus) !== null) {
    s.log.err(`Error: Driver '${drv.name}' is already registered, aborting...`);
    throw kerr('EBUSY', 'driver_register');
  }
  await busAddDriver(s, drv);
  try {
    sysfsCreateGroupsAt(s, s.drivers.get(drv)!.kobj.sysfsPath!, drv, drv.groups);
  } catch (e) {
    await busRemoveDriver(s, drv);
    throw e;
  }
}

/** driver_unregister(): unbinds every device and removes the driver; an unregistered driver warns. */
export async function driverUnregister(s: DriverCoreState, drv: DeviceDriver): Promise<void> {
  const dp = s.drivers.get(drv);
  if (
    s.log.warn(dp === undefined, 'drivers/base/driver.c:driver_unregister', 'Unexpected driver unregister!')
  )
    return;
  if (dp!.kobj.sysfsPath !== null) sysfsRemoveGroupsAt(s, dp!.kobj.sysfsPath, drv.groups);
  await busRemoveDriver(s, drv);
}

/** driver_create_file(). */
export function driverCreateFile(s: DriverCoreState, drv: DeviceDriver, attr: DriverAttribute): void {
  const dir = s.drivers.get(drv)?.kobj.sysfsPath;
  if (dir == null) throw kerr('EINVAL', 'driver_create_file');
  sysfsCreateFile(s, dir, drv, attr);
}

/** driver_remove_file(). */
export function driverRemoveFile(s: DriverCoreState, drv: DeviceDriver, attr: DriverAttribute): void {
  const dir = s.drivers.get(drv)?.kobj.sysfsPath;
  if (dir != null) s.sysfs.remove(`${dir}/${attr.name}`);
}

/** driver_for_each_device(): calls `fn` per bound device until it returns non-zero (or true), which it returns. */
export function driverForEachDevice(
  s: DriverCoreState,
  drv: DeviceDriver,
  fn: (dev: Device) => number | boolean | void,
): number | boolean {
  const dp = s.drivers.get(drv);
  if (dp === undefined) throw kerr('EINVAL', 'driver_for_each_device');
  return klistWalk(dp.devices, fn);
}

/** driver_find_device(): the first bound device matching, with a reference the caller must put. */
export function driverFindDevice(
  s: DriverCoreState,
  drv: DeviceDriver,
  match: string | ((dev: Device) => boolean),
): Device | null {
  return getFound(s.drivers.get(drv)?.devices.find(deviceMatcher(match)));
}
