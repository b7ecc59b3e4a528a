/**
 * drivers/base/class.c: device classes, /sys/class/<name>, holding a link per class device, and the glue
 * directories that keep class devices apart under a non-class parent.
 */
import { kerr } from '../../errno.js';
import { klistWalk } from '../../lib/klist.js';
import { Kobject } from '../../lib/kobject.js';
import { type AttributeGroup, type Device, deviceMatcher, getFound } from './core.js';
import type { DriverCoreState } from './driver_core.js';

/** struct class. */
export interface Class {
  name: string;
  /** Attribute groups every device of the class gets. */
  devGroups?: AttributeGroup[];
  /** Releases a class device that has neither its own nor its type's release. */
  devRelease?(dev: Device): void;
  devUevent?(dev: Device): string[];
  /** Name of a device's /dev node relative to /dev, or null for the device's name. */
  devnode?(dev: Device): string | null;
  /**
   * dev_kobj: the /sys/dev directory holding the class's MAJOR:MINOR links, /sys/dev/char when unset; the
   * block class sets /sys/dev/block (DriverCore.sysfsDevBlockKobj), which also makes its /dev nodes S_IFBLK.
   */
  devKobj?: Kobject;
}

/** struct subsys_private of a class. */
export interface ClassPrivate {
  kobj: Kobject;
  /** klist_devices, in registration order. */
  devices: Device[];
  /** glue_dirs: the <parent>/<class> directory per parent kobject. */
  glueDirs: Map<Kobject, Kobject>;
}

/** class_register(): creates /sys/class/<name>; EEXIST when the name is taken. */
export function classRegister(s: DriverCoreState, cls: Class): void {
  if (s.classes.has(cls)) throw kerr('EEXIST', 'class_register');
  const kobj = new Kobject(cls.name).init(s.log, () => {});
  try {
    kobj.add(s.sysfs, s.classKobj);
  } catch (e) {
    kobj.put();
    throw e;
  }
  s.classes.set(cls, { kobj, devices: [], glueDirs: new Map() });
  s.log.debug(`device class '${cls.name}': registering`);
}

/** class_unregister(): removes /sys/class/<name>. */
export function classUnregister(s: DriverCoreState, cls: Class): void {
  const cp = s.classes.get(cls);
  if (
    s.log.warn(
      cp === undefined,
      'drivers/base/class.c:class_unregister',
      `class '${cls.name}' is not registered`,
    )
  )
    return;
  s.log.debug(`device class '${cls.name}': unregistering`);
  s.classes.delete(cls);
  cp!.kobj.del();
  cp!.kobj.put();
}

/** class_create(): a new class named `name`, registered. */
export function classCreate(s: DriverCoreState, name: string): Class {
  const cls: Class = { name };
  classRegister(s, cls);
  return cls;
}

/** class_destroy(): unregisters a class from classCreate; null is ignored. */
export function classDestroy(s: DriverCoreState, cls: Class | null): void {
  if (cls !== null) classUnregister(s, cls);
}

/** class_for_each_device(): calls `fn` per device until it returns non-zero (or true), which it returns. */
export function classForEachDevice(
  s: DriverCoreState,
  cls: Class,
  fn: (dev: Device) => number | boolean | void,
): number | boolean {
  const cp = s.classes.get(cls);
  if (cp === undefined) throw kerr('EINVAL', 'class_for_each_device');
  return klistWalk(cp.devices, fn);
}

/** class_find_device(): the first device with that name (or matching), with a reference the caller must put. */
export function classFindDevice(
  s: DriverCoreState,
  cls: Class,
  match: string | ((dev: Device) => boolean),
): Device | null {
  return getFound(s.classes.get(cls)?.devices.find(deviceMatcher(match)));
}
