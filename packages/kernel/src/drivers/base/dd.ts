/**
 * drivers/base/dd.c: binding devices to drivers. Matching, probing (with its unwind on failure), the driver
 * links in sysfs, attaching from either side, and releasing a driver from a device.
 */
import { isErrno, kerr } from '../../errno.js';
import { KERN_DEBUG } from '../../kernel/printk.js';
import {
  type Device,
  deviceIsRegistered,
  deviceLock,
  deviceUnlock,
  devPrintk,
  getDevice,
  putDevice,
  unwinding,
} from './core.js';
import { devresReleaseAll } from './devres.js';
import type { DeviceDriver } from './driver.js';
import type { DriverCoreState } from './driver_core.js';

/**
 * driver_match_device(): a device with driver_override set matches only the driver of that name (as
 * platform_match does); otherwise the bus's match decides, and a bus without one matches every driver.
 */
export function driverMatchDevice(drv: DeviceDriver, dev: Device): boolean {
  if (dev.driverOverride !== null) return dev.driverOverride === drv.name;
  return drv.bus.match === undefined ? true : drv.bus.match(dev, drv);
}

/** device_is_bound(): the device is on its driver's list of bound devices. */
export function deviceIsBound(dev: Device): boolean {
  return dev.p.bound;
}

function driverDir(s: DriverCoreState, drv: DeviceDriver): string | null {
  return s.drivers.get(drv)?.kobj.sysfsPath ?? null;
}

/** driver_bound(): puts the device on its driver's list. */
function driverBound(s: DriverCoreState, dev: Device): void {
  if (deviceIsBound(dev)) {
    s.log.warning(`driver_bound: device ${dev.name} already bound`);
    return;
  }
  s.log.debug(`driver: '${dev.driver!.name}': driver_bound: bound to device '${dev.name}'`);
  s.drivers.get(dev.driver!)?.devices.push(dev);
  dev.p.bound = true;
}

/** driver_sysfs_add(): /sys/bus/<bus>/drivers/<drv>/<dev> and <dev>/driver. */
function driverSysfsAdd(s: DriverCoreState, dev: Device): void {
  const dir = driverDir(s, dev.driver!);
  const path = dev.kobj.sysfsPath;
  if (dir === null || path === null) throw kerr('ENOENT', 'driver_sysfs_add');
  unwinding([
    [() => s.sysfs.createLink(`${dir}/${dev.name}`, path), () => s.sysfs.remove(`${dir}/${dev.name}`)],
    [() => s.sysfs.createLink(`${path}/driver`, dir), () => s.sysfs.remove(`${path}/driver`)],
  ]);
}

/** driver_sysfs_remove(). */
function driverSysfsRemove(s: DriverCoreState, dev: Device): void {
  if (dev.driver === null) return;
  const dir = driverDir(s, dev.driver);
  if (dir !== null) s.sysfs.remove(`${dir}/${dev.name}`);
  if (dev.kobj.sysfsPath !== null) s.sysfs.remove(`${dev.kobj.sysfsPath}/driver`);
}

/** device_bind_driver(): binds a device whose dev.driver is already set, without probing. */
export function deviceBindDriver(s: DriverCoreState, dev: Device): void {
  driverSysfsAdd(s, dev);
  driverBound(s, dev);
}

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * really_probe(): sets dev.driver, creates the driver links and calls bus.probe or drv.probe. On failure it
 * releases the devres the probe acquired, removes the links, clears dev.driver and logs as v4.12 does; like
 * v4.12 it then reports "not bound" rather than the error, so the next driver can try.
 */
async function reallyProbe(s: DriverCoreState, dev: Device, drv: DeviceDriver): Promise<boolean> {
  s.log.debug(`bus: '${drv.bus.name}': really_probe: probing driver ${drv.name} with device ${dev.name}`);
  s.log.warn(
    dev.p.devres.length > 0,
    'drivers/base/dd.c:really_probe',
    'WARN_ON(!list_empty(&dev->devres_head))',
  );
  dev.driver = drv;
  try {
    try {
      driverSysfsAdd(s, dev);
    } catch (e) {
      s.log.err(`really_probe: driver_sysfs_add(${dev.name}) failed`);
      throw e;
    }
    const bus = dev.bus ?? drv.bus;
    if (bus.probe !== undefined) await bus.probe(dev);
    else if (drv.probe !== undefined) await drv.probe(dev);
  } catch (e) {
    await devresReleaseAll(s.log, dev);
    driverSysfsRemove(s, dev);
    dev.driver = null;
    dev.driverData = null;
    if (!isErrno(e))
      s.log.warn(
        true,
        'drivers/base/dd.c:really_probe',
        `${drv.name}: probe of ${dev.name} failed: ${describe(e)}`,
      );
    else if (e.code === 'EPROBE_DEFER')
      devPrintk(s, KERN_DEBUG, dev, `Driver ${drv.name} requests probe deferral`);
    else if (e.code === 'ENODEV' || e.code === 'ENXIO')
      s.log.debug(`${drv.name}: probe of ${dev.name} rejects match ${e.errno}`);
    else s.log.warning(`${drv.name}: probe of ${dev.name} failed with error ${e.errno}`);
    return false;
  }
  driverBound(s, dev);
  s.log.debug(`bus: '${drv.bus.name}': really_probe: bound device ${dev.name} to driver ${drv.name}`);
  return true;
}

/**
 * driver_probe_device(): probes `dev` with `drv` (the caller holds the device lock); true when bound.
 * ENODEV when the device is not registered.
 */
export async function driverProbeDevice(
  s: DriverCoreState,
  drv: DeviceDriver,
  dev: Device,
): Promise<boolean> {
  if (!deviceIsRegistered(dev)) throw kerr('ENODEV', 'driver_probe_device');
  s.log.debug(
    `bus: '${drv.bus.name}': driver_probe_device: matched device ${dev.name} with driver ${drv.name}`,
  );
  return reallyProbe(s, dev, drv);
}

/**
 * device_attach(): under the device lock, binds a preset dev.driver or tries the bus's drivers in
 * registration order; true when the device ends up bound. EINVAL when its bus is not registered.
 */
export async function deviceAttach(s: DriverCoreState, dev: Device): Promise<boolean> {
  await deviceLock(dev);
  try {
    if (dev.driver !== null) {
      if (deviceIsBound(dev)) return true;
      try {
        deviceBindDriver(s, dev);
        return true;
      } catch {
        dev.driver = null;
        return false;
      }
    }
    const bp = dev.bus === null ? undefined : s.buses.get(dev.bus);
    if (bp === undefined) throw kerr('EINVAL', 'bus_for_each_drv');
    for (const drv of [...bp.drivers]) {
      if (!bp.drivers.includes(drv)) continue;
      if (dev.driver !== null) throw kerr('EBUSY', 'device_attach');
      if (!driverMatchDevice(drv, dev)) continue;
      if (await driverProbeDevice(s, drv, dev)) return true;
    }
    return false;
  } finally {
    deviceUnlock(dev);
  }
}

/** device_initial_probe(): deviceAttach for a device just added; its errors are not reported. */
export async function deviceInitialProbe(s: DriverCoreState, dev: Device): Promise<void> {
  try {
    await deviceAttach(s, dev);
  } catch (e) {
    if (!isErrno(e)) throw e;
  }
}

/** driver_attach(): tries `drv` on every unbound matching device of its bus, each under its parent's and its lock. */
export async function driverAttach(s: DriverCoreState, drv: DeviceDriver): Promise<void> {
  const bp = s.buses.get(drv.bus);
  if (bp === undefined) throw kerr('EINVAL', 'bus_for_each_dev');
  for (const dev of [...bp.devices]) {
    if (!bp.devices.includes(dev) || !driverMatchDevice(drv, dev)) continue;
    const parent = dev.parent;
    if (parent !== null) await deviceLock(parent);
    await deviceLock(dev);
    try {
      if (dev.driver === null) await driverProbeDevice(s, drv, dev);
    } catch (e) {
      if (!isErrno(e)) throw e;
    } finally {
      deviceUnlock(dev);
      if (parent !== null) deviceUnlock(parent);
    }
  }
}

/**
 * __device_release_driver(): removes the driver links, calls bus.remove or drv.remove, releases the devres
 * (awaiting each action, newest first), clears dev.driver and driver data, and takes the device off the
 * driver's list. A remove that throws is reported with a warning; the unbind completes regardless.
 */
async function releaseDriver(s: DriverCoreState, dev: Device): Promise<void> {
  const drv = dev.driver;
  if (drv === null) return;
  driverSysfsRemove(s, dev);
  const bus = dev.bus ?? drv.bus;
  try {
    if (bus.remove !== undefined) await bus.remove(dev);
    else if (drv.remove !== undefined) await drv.remove(dev);
  } catch (e) {
    s.log.warn(
      true,
      'drivers/base/dd.c:__device_release_driver',
      `${drv.name}: remove of ${dev.name} failed: ${describe(e)}`,
    );
  }
  await devresReleaseAll(s.log, dev);
  dev.driver = null;
  dev.driverData = null;
  const list = s.drivers.get(drv)?.devices;
  const i = list?.indexOf(dev) ?? -1;
  if (i >= 0) list!.splice(i, 1);
  dev.p.bound = false;
}

/** device_release_driver_internal(): releases `drv` (or any driver, when null) from `dev`, holding `parent`'s lock and the device's. */
export async function deviceReleaseDriverInternal(
  s: DriverCoreState,
  dev: Device,
  drv: DeviceDriver | null,
  parent: Device | null,
): Promise<void> {
  if (parent !== null) await deviceLock(parent);
  await deviceLock(dev);
  try {
    if (drv === null || drv === dev.driver) await releaseDriver(s, dev);
  } finally {
    deviceUnlock(dev);
    if (parent !== null) deviceUnlock(parent);
  }
}

/** device_release_driver(): unbinds the device from its driver, if any. */
export async function deviceReleaseDriver(s: DriverCoreState, dev: Device): Promise<void> {
  await deviceReleaseDriverInternal(s, dev, null, null);
}

/** driver_detach(): unbinds every device bound to `drv`, most recently bound first. */
export async function driverDetach(s: DriverCoreState, drv: DeviceDriver): Promise<void> {
  const list = s.drivers.get(drv)?.devices;
  if (list === undefined) return;
  while (list.length > 0) {
    const dev = getDevice(list[list.length - 1]!);
    await deviceReleaseDriverInternal(s, dev, drv, dev.parent);
    if (list[list.length - 1] === dev) {
      list.pop();
      dev.p.bound = false;
    }
    putDevice(dev);
  }
}
