/**
 * drivers/base/bus.c: bus types and /sys/bus/<bus>/{devices,drivers,drivers_autoprobe,drivers_probe,uevent},
 * adding devices and drivers to a bus, and the bind/unbind files of each driver.
 */
import { isErrno, kerr } from '../../errno.js';
import { klistFind, klistWalk } from '../../lib/klist.js';
import { Kobject } from '../../lib/kobject.js';
import {
  type Attribute,
  type AttributeGroup,
  type Device,
  deviceAddGroups,
  deviceLock,
  deviceMatcher,
  deviceRemoveGroups,
  deviceUnlock,
  getFound,
  putDevice,
  sysfsCreateFile,
  sysfsCreateGroupsAt,
  sysfsRemoveGroupsAt,
  sysfsStreq,
  unwinding,
  withParentLocked,
} from './core.js';
import {
  deviceAttach,
  deviceInitialProbe,
  deviceReleaseDriver,
  driverAttach,
  driverDetach,
  driverMatchDevice,
  driverProbeDevice,
} from './dd.js';
import type { DeviceDriver } from './driver.js';
import type { DriverCoreState } from './driver_core.js';

/** struct bus_type. */
export interface BusType {
  name: string;
  /** Whether `drv` can drive `dev`; without it every driver of the bus matches. */
  match?(dev: Device, drv: DeviceDriver): boolean;
  /** Extra uevent variables ("MODALIAS=..."). */
  uevent?(dev: Device): string[];
  /** Called instead of the driver's probe when present; throwing fails the probe. */
  probe?(dev: Device): void | Promise<void>;
  /** Called instead of the driver's remove when present. */
  remove?(dev: Device): void | Promise<void>;
  busGroups?: AttributeGroup<BusType>[];
  devGroups?: AttributeGroup[];
  drvGroups?: AttributeGroup<DeviceDriver>[];
}

/** struct bus_attribute. */
export type BusAttribute = Attribute<BusType>;

/** struct subsys_private of a bus. */
export interface SubsysPrivate {
  kobj: Kobject;
  devicesKobj: Kobject;
  driversKobj: Kobject;
  /** klist_devices, in registration order. */
  devices: Device[];
  /** klist_drivers, in registration order. */
  drivers: DeviceDriver[];
  driversAutoprobe: boolean;
}

const noRelease = () => {};

function busPrivate(s: DriverCoreState, bus: BusType, op: string): SubsysPrivate {
  const bp = s.buses.get(bus);
  if (bp === undefined) throw kerr('EINVAL', op);
  return bp;
}

function addKobject(s: DriverCoreState, name: string, parent: Kobject): Kobject {
  const kobj = new Kobject(name).init(s.log, noRelease);
  try {
    kobj.add(s.sysfs, parent);
  } catch (e) {
    kobj.put();
    throw e;
  }
  return kobj;
}

/** kset_unregister(): removes the directory even while objects below it still hold references. */
export function ksetUnregister(kobj: Kobject): void {
  kobj.del();
  kobj.put();
}

/** bus_create_file(). */
export function busCreateFile(s: DriverCoreState, bus: BusType, attr: BusAttribute): void {
  sysfsCreateFile(s, busPrivate(s, bus, 'bus_create_file').kobj.sysfsPath!, bus, attr);
}

/** bus_remove_file(). */
export function busRemoveFile(s: DriverCoreState, bus: BusType, attr: BusAttribute): void {
  const bp = s.buses.get(bus);
  if (bp !== undefined) s.sysfs.remove(`${bp.kobj.sysfsPath}/${attr.name}`);
}

/** A kobject action written to a uevent file; the simulation emits no uevents, so any text is accepted. */
function ueventStore(): void {}

/**
 * bus_register(): /sys/bus/<name> with uevent, devices/, drivers/, drivers_probe, drivers_autoprobe ("1") and
 * the bus groups. EEXIST when the name is taken; a failure leaves nothing behind.
 */
export function busRegister(s: DriverCoreState, bus: BusType): void {
  if (s.buses.has(bus)) throw kerr('EEXIST', 'bus_register');
  const kobj = addKobject(s, bus.name, s.busKobj);
  const bp: SubsysPrivate = {
    kobj,
    devicesKobj: kobj,
    driversKobj: kobj,
    devices: [],
    drivers: [],
    driversAutoprobe: true,
  };
  s.buses.set(bus, bp);
  const path = kobj.sysfsPath!;
  try {
    unwinding([
      [
        () => busCreateFile(s, bus, { name: 'uevent', mode: 0o200, store: ueventStore }),
        () => s.sysfs.remove(`${path}/uevent`),
      ],
      [() => (bp.devicesKobj = addKobject(s, 'devices', kobj)), () => bp.devicesKobj.put()],
      [() => (bp.driversKobj = addKobject(s, 'drivers', kobj)), () => bp.driversKobj.put()],
      [() => busCreateFile(s, bus, busAttrDriversProbe(s)), () => s.sysfs.remove(`${path}/drivers_probe`)],
      [
        () => busCreateFile(s, bus, busAttrDriversAutoprobe(s)),
        () => s.sysfs.remove(`${path}/drivers_autoprobe`),
      ],
      [
        () => sysfsCreateGroupsAt(s, path, bus, bus.busGroups),
        () => sysfsRemoveGroupsAt(s, path, bus.busGroups),
      ],
    ]);
  } catch (e) {
    s.buses.delete(bus);
    kobj.put();
    throw e;
  }
  s.log.debug(`bus: '${bus.name}': registered`);
}

/** bus_unregister(): removes /sys/bus/<name> and everything under it. */
export function busUnregister(s: DriverCoreState, bus: BusType): void {
  const bp = s.buses.get(bus);
  if (
    s.log.warn(bp === undefined, 'drivers/base/bus.c:bus_unregister', `bus '${bus.name}' is not registered`)
  )
    return;
  s.log.debug(`bus: '${bus.name}': unregistering`);
  const path = bp!.kobj.sysfsPath!;
  sysfsRemoveGroupsAt(s, path, bus.busGroups);
  s.sysfs.remove(`${path}/drivers_autoprobe`);
  s.sysfs.remove(`${path}/drivers_probe`);
  ksetUnregister(bp!.driversKobj);
  ksetUnregister(bp!.devicesKobj);
  s.sysfs.remove(`${path}/uevent`);
  s.buses.delete(bus);
  ksetUnregister(bp!.kobj);
}

/** BUS_ATTR_RW(drivers_autoprobe): "1\n" or "0\n"; writing text starting with '0' turns autoprobe off. */
function busAttrDriversAutoprobe(s: DriverCoreState): BusAttribute {
  return {
    name: 'drivers_autoprobe',
    mode: 0o644,
    show: (bus) => `${busPrivate(s, bus, 'drivers_autoprobe_show').driversAutoprobe ? 1 : 0}\n`,
    store: (bus, value) => {
      busPrivate(s, bus, 'drivers_autoprobe_store').driversAutoprobe = !value.startsWith('0');
    },
  };
}

/** BUS_ATTR_WO(drivers_probe): attaches the named unbound device to a driver; ENODEV for an unknown name. */
function busAttrDriversProbe(s: DriverCoreState): BusAttribute {
  return {
    name: 'drivers_probe',
    mode: 0o200,
    store: async (bus, value) => {
      const dev = busFindDeviceByName(s, bus, value);
      if (dev === null) throw kerr('ENODEV', 'drivers_probe_store');
      try {
        await busRescanDevicesHelper(s, dev);
      } catch (e) {
        if (!isErrno(e)) throw e;
        throw kerr('EINVAL', 'drivers_probe_store');
      } finally {
        putDevice(dev);
      }
    },
  };
}

/** bus_for_each_dev(): calls `fn` per device of the bus until it returns non-zero (or true), which it returns. */
export function busForEachDev(
  s: DriverCoreState,
  bus: BusType,
  fn: (dev: Device) => number | boolean | void,
  start: Device | null = null,
): number | boolean {
  return klistWalk(busPrivate(s, bus, 'bus_for_each_dev').devices, fn, start);
}

/** bus_find_device(): the first device (after `start`) matching, with a reference the caller must put. */
export function busFindDevice(
  s: DriverCoreState,
  bus: BusType,
  match: string | ((dev: Device) => boolean),
  start: Device | null = null,
): Device | null {
  const bp = s.buses.get(bus);
  if (bp === undefined) return null;
  return getFound(klistFind(bp.devices, deviceMatcher(match), start));
}

/** bus_find_device_by_name(): compared as sysfs_streq does, so "dev0\n" finds dev0. */
export function busFindDeviceByName(
  s: DriverCoreState,
  bus: BusType,
  name: string,
  start: Device | null = null,
): Device | null {
  return busFindDevice(s, bus, (d) => sysfsStreq(d.name, name), start);
}

/** bus_for_each_drv(): calls `fn` per driver of the bus until it returns non-zero (or true), which it returns. */
export function busForEachDrv(
  s: DriverCoreState,
  bus: BusType,
  fn: (drv: DeviceDriver) => number | boolean | void,
): number | boolean {
  return klistWalk(busPrivate(s, bus, 'bus_for_each_drv').drivers, fn);
}

/** bus_rescan_devices_helper(): tries to attach an unbound device, its parent locked. */
async function busRescanDevicesHelper(s: DriverCoreState, dev: Device): Promise<void> {
  if (dev.driver !== null) return;
  await withParentLocked(dev, () => deviceAttach(s, dev));
}

/** bus_rescan_devices(): tries to attach every unbound device of the bus. */
export async function busRescanDevices(s: DriverCoreState, bus: BusType): Promise<void> {
  const bp = busPrivate(s, bus, 'bus_rescan_devices');
  for (const dev of [...bp.devices]) if (bp.devices.includes(dev)) await busRescanDevicesHelper(s, dev);
}

/** bus_add_device(): the bus's dev_groups, /sys/bus/<bus>/devices/<name> and the device's subsystem link. */
export function busAddDevice(s: DriverCoreState, dev: Device): void {
  if (dev.bus === null) return;
  const bus = dev.bus;
  const bp = s.buses.get(bus);
  if (bp === undefined) return;
  s.log.debug(`bus: '${bus.name}': add device ${dev.name}`);
  const path = dev.kobj.sysfsPath!;
  const link = `${bp.devicesKobj.sysfsPath}/${dev.name}`;
  unwinding([
    [() => deviceAddGroups(s, dev, bus.devGroups), () => deviceRemoveGroups(s, dev, bus.devGroups)],
    [() => s.sysfs.createLink(link, path), () => s.sysfs.remove(link)],
    [
      () => s.sysfs.createLink(`${path}/subsystem`, bp.kobj.sysfsPath!),
      () => s.sysfs.remove(`${path}/subsystem`),
    ],
    [() => bp.devices.push(dev), () => {}],
  ]);
}

/** bus_probe_device(): attaches a driver to a new device when the bus autoprobes. */
export async function busProbeDevice(s: DriverCoreState, dev: Device): Promise<void> {
  if (dev.bus === null) return;
  const bp = s.buses.get(dev.bus);
  if (bp?.driversAutoprobe) await deviceInitialProbe(s, dev);
}

/** bus_remove_device(): removes the bus links and files, takes the device off the bus, and unbinds its driver. */
export async function busRemoveDevice(s: DriverCoreState, dev: Device): Promise<void> {
  if (dev.bus === null) return;
  const bp = s.buses.get(dev.bus);
  if (bp === undefined) return;
  const path = dev.kobj.sysfsPath;
  if (path !== null) s.sysfs.remove(`${path}/subsystem`);
  if (bp.devices.includes(dev)) s.sysfs.remove(`${bp.devicesKobj.sysfsPath}/${dev.name}`);
  deviceRemoveGroups(s, dev, dev.bus.devGroups);
  const i = bp.devices.indexOf(dev);
  if (i >= 0) bp.devices.splice(i, 1);
  s.log.debug(`bus: '${dev.bus.name}': remove device ${dev.name}`);
  await deviceReleaseDriver(s, dev);
}

/**
 * bind_store(): binds the named device to this driver. ENODEV when there is no such device, it already has a
 * driver, the driver does not match it, or probe fails (v4.12 ignores probe's error code here).
 */
async function bindStore(s: DriverCoreState, drv: DeviceDriver, value: string): Promise<void> {
  const dev = busFindDeviceByName(s, drv.bus, value);
  try {
    if (dev !== null && dev.driver === null && driverMatchDevice(drv, dev)) {
      const parent = dev.parent;
      if (parent !== null) await deviceLock(parent);
      await deviceLock(dev);
      let bound = false;
      try {
        if (dev.driver === null) bound = await driverProbeDevice(s, drv, dev);
      } catch (e) {
        if (!isErrno(e)) throw e;
      } finally {
        deviceUnlock(dev);
        if (parent !== null) deviceUnlock(parent);
      }
      if (bound) return;
    }
    throw kerr('ENODEV', 'bind_store');
  } finally {
    putDevice(dev);
  }
}

/** unbind_store(): unbinds the named device from this driver; ENODEV unless it is bound to this driver. */
async function unbindStore(s: DriverCoreState, drv: DeviceDriver, value: string): Promise<void> {
  const dev = busFindDeviceByName(s, drv.bus, value);
  try {
    if (dev === null || dev.driver !== drv) throw kerr('ENODEV', 'unbind_store');
    await withParentLocked(dev, () => deviceReleaseDriver(s, dev));
  } finally {
    putDevice(dev);
  }
}

/**
 * bus_add_driver(): /sys/bus/<bus>/drivers/<name>, attaching matching devices if the bus autoprobes, then the
 * uevent file, the bus's drv_groups and the bind/unbind files (whose failures are only logged, as in v4.12).
 */
export async function busAddDriver(s: DriverCoreState, drv: DeviceDriver): Promise<void> {
  const bus = drv.bus;
  const bp = busPrivate(s, bus, 'bus_add_driver');
  s.log.debug(`bus: '${bus.name}': add driver ${drv.name}`);
  const kobj = addKobject(s, drv.name, bp.driversKobj);
  s.drivers.set(drv, { kobj, devices: [] });
  bp.drivers.push(drv);
  if (bp.driversAutoprobe) await driverAttach(s, drv);
  const dir = kobj.sysfsPath!;
  const tryLog = (what: string, fn: () => void) => {
    try {
      fn();
    } catch {
      s.log.err(`bus_add_driver: ${what}(${drv.name}) failed`);
    }
  };
  tryLog('uevent attr', () =>
    sysfsCreateFile(s, dir, drv, { name: 'uevent', mode: 0o200, store: ueventStore }),
  );
  tryLog('driver_create_groups', () => sysfsCreateGroupsAt(s, dir, drv, bus.drvGroups));
  if (drv.suppressBindAttrs !== true)
    tryLog('add_bind_files', () =>
      unwinding([
        [
          () =>
            sysfsCreateFile(s, dir, drv, {
              name: 'unbind',
              mode: 0o200,
              store: (d, v) => unbindStore(s, d, v),
            }),
          () => s.sysfs.remove(`${dir}/unbind`),
        ],
        [
          () =>
            sysfsCreateFile(s, dir, drv, { name: 'bind', mode: 0o200, store: (d, v) => bindStore(s, d, v) }),
          () => s.sysfs.remove(`${dir}/bind`),
        ],
      ]),
    );
}

/** bus_remove_driver(): removes the driver's files, takes it off the bus, unbinds its devices, removes its directory. */
export async function busRemoveDriver(s: DriverCoreState, drv: DeviceDriver): Promise<void> {
  const dp = s.drivers.get(drv);
  if (dp === undefined) return;
  const dir = dp.kobj.sysfsPath;
  if (dir !== null) {
    if (drv.suppressBindAttrs !== true) {
      s.sysfs.remove(`${dir}/bind`);
      s.sysfs.remove(`${dir}/unbind`);
    }
    sysfsRemoveGroupsAt(s, dir, drv.bus.drvGroups);
    s.sysfs.remove(`${dir}/uevent`);
  }
  const bp = s.buses.get(drv.bus);
  if (bp !== undefined) {
    const i = bp.drivers.indexOf(drv);
    if (i >= 0) bp.drivers.splice(i, 1);
  }
  s.log.debug(`bus: '${drv.bus.name}': remove driver ${drv.name}`);
  await driverDetach(s, drv);
  s.drivers.delete(drv);
  dp.kobj.put();
}
