/**
 * drivers/base/core.c: struct device, its place in /sys (device_add / device_del), its reference count and
 * release, its attribute files and groups, dev_printk, root devices and device_create.
 */
import { kerr } from '../../errno.js';
import { S_IFBLK, S_IFCHR } from '../../fs/inode.js';
import { major, minor } from '../../include/kdev_t.js';
import { KERN_ERR, type LogLevel } from '../../kernel/printk.js';
import { klistWalk } from '../../lib/klist.js';
import { Kobject } from '../../lib/kobject.js';
import { type BusType, busAddDevice, busProbeDevice, busRemoveDevice } from './bus.js';
import type { Class } from './class.js';
import { type DevresNode, devresReleaseAll } from './devres.js';
import type { DeviceDriver } from './driver.js';
import type { DriverCoreState } from './driver_core.js';

/**
 * struct device_attribute, driver_attribute, bus_attribute: a sysfs file whose show/store receive the object
 * it belongs to. store gets the raw written text (with echo's trailing "\n"); what it throws reaches the writer.
 */
export interface Attribute<T> {
  name: string;
  /** Permission bits: 0o444 read-only, 0o644 read-write, 0o200 write-only. */
  mode: number;
  show?(obj: T): string;
  store?(obj: T, value: string): void | Promise<void>;
}

/** struct device_attribute. */
export type DeviceAttribute = Attribute<Device>;

/** struct attribute_group: files in the object's directory, or in subdirectory `name`. */
export interface AttributeGroup<T = Device> {
  name?: string;
  attrs: Attribute<T>[];
  /** is_visible(): the mode to create an attribute with, or 0 to leave it out. */
  isVisible?(obj: T, attr: Attribute<T>, index: number): number;
}

/** struct device_type. */
export interface DeviceType {
  /** DEVTYPE= in uevent. */
  name?: string;
  groups?: AttributeGroup[];
  release?(dev: Device): void;
  uevent?(dev: Device): string[];
  /** Name of the /dev node relative to /dev, or null for the device's name. */
  devnode?(dev: Device): string | null;
}

/** Fields a Device can be created with, as a C initializer would set them. */
export interface DeviceInit {
  name?: string;
  parent?: Device | null;
  bus?: BusType | null;
  class?: Class | null;
  type?: DeviceType;
  devt?: number;
  groups?: AttributeGroup[];
  release?: (dev: Device) => void;
  driverData?: unknown;
  platformData?: unknown;
  driverOverride?: string | null;
}

/** device_lock(): the per-device mutex serializing probe, bind, unbind and removal. */
export class DeviceMutex {
  #locked = false;
  readonly #waiters: Array<() => void> = [];

  get locked(): boolean {
    return this.#locked;
  }

  lock(): Promise<void> {
    if (!this.#locked) {
      this.#locked = true;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  tryLock(): boolean {
    if (this.#locked) return false;
    this.#locked = true;
    return true;
  }

  unlock(): void {
    const next = this.#waiters.shift();
    if (next === undefined) this.#locked = false;
    else next();
  }
}

/** struct device_private and the fields of struct device only the driver core touches. */
export interface DevicePrivate {
  /** The driver core the device was initialized in. */
  state: DriverCoreState | null;
  /** klist_children, in registration order. */
  children: Device[];
  /** devres_head, oldest first. */
  devres: DevresNode[];
  mutex: DeviceMutex;
  /** knode_driver is on the driver's list: driver_bound() ran. */
  bound: boolean;
  /** The last reference is gone. */
  released: boolean;
}

/** struct device. */
export class Device {
  readonly kobj = new Kobject();
  parent: Device | null = null;
  bus: BusType | null = null;
  class: Class | null = null;
  type?: DeviceType;
  driver: DeviceDriver | null = null;
  /** dev_t; 0 for none. */
  devt = 0;
  groups: AttributeGroup[] = [];
  release?: (dev: Device) => void;
  driverData: unknown = null;
  platformData: unknown = null;
  /** Name of the only driver this device may bind to, when set. */
  driverOverride: string | null = null;
  readonly p: DevicePrivate = {
    state: null,
    children: [],
    devres: [],
    mutex: new DeviceMutex(),
    bound: false,
    released: false,
  };

  constructor(init: DeviceInit = {}) {
    const { name, ...fields } = init;
    Object.assign(this, fields);
    if (name !== undefined) this.kobj.setName(name);
  }

  /** dev_name(). */
  get name(): string {
    return this.kobj.name;
  }
}

/** Runs each step's `run` in order; when one throws, runs the `undo` of those done, newest first, and rethrows. */
export function unwinding(steps: ReadonlyArray<readonly [run: () => void, undo: () => void]>): void {
  const done: Array<() => void> = [];
  try {
    for (const [run, undo] of steps) {
      run();
      done.push(undo);
    }
  } catch (e) {
    for (const undo of done.reverse()) undo();
    throw e;
  }
}

/** sysfs_streq(): equal, ignoring one trailing newline on either side. */
export function sysfsStreq(a: string, b: string): boolean {
  return a.replace(/\n$/, '') === b.replace(/\n$/, '');
}

/** sysfs_create_file(): the attribute as a file in `dir`, bound to `obj`, with permission `mode`. */
export function sysfsCreateFile<T>(
  s: DriverCoreState,
  dir: string,
  obj: T,
  attr: Attribute<T>,
  mode = attr.mode,
): void {
  s.sysfs.createFile(dir, {
    name: attr.name,
    mode,
    show: attr.show === undefined ? undefined : () => attr.show!(obj),
    store: attr.store === undefined ? undefined : (value: string) => attr.store!(obj, value),
  });
}

function createGroup<T>(
  s: DriverCoreState,
  dir: string,
  obj: T,
  grp: AttributeGroup<T>,
  update: boolean,
  op: string,
): void {
  if (s.inject.should(op)) throw kerr('ENOMEM', op);
  if (!Array.isArray(grp.attrs)) {
    s.log.warn(
      true,
      'fs/sysfs/group.c:internal_create_group',
      `sysfs: (bin_)attrs not set by subsystem for group: ${dir}/${grp.name ?? ''}`,
    );
    throw kerr('EINVAL', op);
  }
  let parent = dir;
  if (grp.name !== undefined) {
    parent = `${dir}/${grp.name}`;
    if (!update) s.sysfs.createDir(parent);
    else if (s.sysfs.typeOf(parent) !== 'dir') {
      s.log.warning(`Can't update unknown attr grp name: ${dir}/${grp.name}`);
      throw kerr('EINVAL', op);
    }
  }
  const created: string[] = [];
  try {
    grp.attrs.forEach((attr, i) => {
      if (update) s.sysfs.remove(`${parent}/${attr.name}`);
      let mode = attr.mode;
      if (grp.isVisible !== undefined) {
        mode = grp.isVisible(obj, attr, i);
        if (mode === 0) return;
      }
      s.log.warn(
        (mode & ~0o664) !== 0,
        'fs/sysfs/group.c:create_files',
        `Attribute ${attr.name}: Invalid permissions 0${mode.toString(8)}`,
      );
      sysfsCreateFile(s, parent, obj, attr, mode & 0o664);
      created.push(attr.name);
    });
  } catch (e) {
    if (grp.name !== undefined) s.sysfs.remove(parent);
    else for (const name of created) s.sysfs.remove(`${parent}/${name}`);
    throw e;
  }
}

/** sysfs_create_group() on the directory `dir` of `obj`. */
export function sysfsCreateGroupAt<T>(s: DriverCoreState, dir: string, obj: T, grp: AttributeGroup<T>): void {
  createGroup(s, dir, obj, grp, false, 'sysfs_create_group');
}

/** sysfs_update_group(): re-evaluates is_visible for every attribute of a group already created. */
export function sysfsUpdateGroupAt<T>(s: DriverCoreState, dir: string, obj: T, grp: AttributeGroup<T>): void {
  createGroup(s, dir, obj, grp, true, 'sysfs_update_group');
}

/** sysfs_remove_group(): a named group's directory, or an unnamed group's files; a missing named group warns. */
export function sysfsRemoveGroupAt<T>(s: DriverCoreState, dir: string, grp: AttributeGroup<T>): void {
  if (grp.name !== undefined) {
    const path = `${dir}/${grp.name}`;
    if (
      s.log.warn(
        s.sysfs.typeOf(path) !== 'dir',
        'fs/sysfs/group.c:sysfs_remove_group',
        `sysfs group '${grp.name}' not found for kobject '${dir}'`,
      )
    )
      return;
    s.sysfs.remove(path);
    return;
  }
  for (const attr of grp.attrs) s.sysfs.remove(`${dir}/${attr.name}`);
}

/** sysfs_create_groups(): all or none; a failure removes the groups already created, newest first. */
export function sysfsCreateGroupsAt<T>(
  s: DriverCoreState,
  dir: string,
  obj: T,
  groups: readonly AttributeGroup<T>[] | undefined,
): void {
  unwinding(
    (groups ?? []).map((g) => [
      () => sysfsCreateGroupAt(s, dir, obj, g),
      () => sysfsRemoveGroupAt(s, dir, g),
    ]),
  );
}

/** sysfs_remove_groups(). */
export function sysfsRemoveGroupsAt<T>(
  s: DriverCoreState,
  dir: string,
  groups: readonly AttributeGroup<T>[] | undefined,
): void {
  for (const g of groups ?? []) sysfsRemoveGroupAt(s, dir, g);
}

function devPath(dev: Device, op: string): string {
  const path = dev.kobj.sysfsPath;
  if (path === null) throw kerr('ENOENT', op);
  return path;
}

/** device_create_file(): warns on write permission without store or read permission without show. */
export function deviceCreateFile(s: DriverCoreState, dev: Device, attr: DeviceAttribute): void {
  s.log.warn(
    (attr.mode & 0o222) !== 0 && attr.store === undefined,
    'drivers/base/core.c:device_create_file',
    `Attribute ${attr.name}: write permission without 'store'`,
  );
  s.log.warn(
    (attr.mode & 0o444) !== 0 && attr.show === undefined,
    'drivers/base/core.c:device_create_file',
    `Attribute ${attr.name}: read permission without 'show'`,
  );
  sysfsCreateFile(s, devPath(dev, 'device_create_file'), dev, attr);
}

/** device_remove_file(). */
export function deviceRemoveFile(s: DriverCoreState, dev: Device, attr: DeviceAttribute): void {
  if (dev.kobj.sysfsPath !== null) s.sysfs.remove(`${dev.kobj.sysfsPath}/${attr.name}`);
}

/** device_add_groups(). */
export function deviceAddGroups(
  s: DriverCoreState,
  dev: Device,
  groups: readonly AttributeGroup[] | undefined,
): void {
  sysfsCreateGroupsAt(s, devPath(dev, 'sysfs_create_groups'), dev, groups);
}

/** device_remove_groups(). */
export function deviceRemoveGroups(
  s: DriverCoreState,
  dev: Device,
  groups: readonly AttributeGroup[] | undefined,
): void {
  if (dev.kobj.sysfsPath !== null) sysfsRemoveGroupsAt(s, dev.kobj.sysfsPath, groups);
}

/** dev_driver_string(): the driver's name, else the bus's, else the class's. */
export function devDriverString(dev: Device): string {
  return dev.driver?.name ?? dev.bus?.name ?? dev.class?.name ?? '';
}

/** dev_printk(): "<driver> <device>: text" at `level`. */
export function devPrintk(s: DriverCoreState, level: LogLevel, dev: Device, text: string): void {
  s.log.printk(level, `${devDriverString(dev)} ${dev.name}: ${text}`);
}

/** device_get_devnode(): the /dev name, from the type's or class's devnode(), else the name with '!' as '/'. */
export function deviceGetDevnode(dev: Device): string {
  return dev.type?.devnode?.(dev) ?? dev.class?.devnode?.(dev) ?? dev.name.replaceAll('!', '/');
}

const KOBJECT_ACTIONS = ['add', 'remove', 'change', 'move', 'online', 'offline'];

/** dev_uevent(): the environment a uevent for the device carries; empty for a device with no bus or class. */
export function devUevent(dev: Device): string[] {
  if (dev.bus === null && dev.class === null) return [];
  const env: string[] = [];
  if (major(dev.devt) !== 0)
    env.push(`MAJOR=${major(dev.devt)}`, `MINOR=${minor(dev.devt)}`, `DEVNAME=${deviceGetDevnode(dev)}`);
  if (dev.type?.name !== undefined) env.push(`DEVTYPE=${dev.type.name}`);
  if (dev.driver !== null) env.push(`DRIVER=${dev.driver.name}`);
  if (dev.bus?.uevent !== undefined) env.push(...dev.bus.uevent(dev));
  if (dev.class?.devUevent !== undefined) env.push(...dev.class.devUevent(dev));
  if (dev.type?.uevent !== undefined) env.push(...dev.type.uevent(dev));
  return env;
}

/** DEVICE_ATTR_RW(uevent): shows the uevent environment; an unknown action written is logged and ignored. */
export const devAttrUevent: DeviceAttribute = {
  name: 'uevent',
  mode: 0o644,
  show: (dev) =>
    devUevent(dev)
      .map((line) => `${line}\n`)
      .join(''),
  store: (dev, value) => {
    const s = dev.p.state;
    if (s !== null && !KOBJECT_ACTIONS.includes(value.replace(/[\n\0]$/, '')))
      devPrintk(s, KERN_ERR, dev, 'uevent: unknown action-string');
  },
};

/** DEVICE_ATTR_RO(dev): "MAJOR:MINOR\n". */
export const devAttrDev: DeviceAttribute = {
  name: 'dev',
  mode: 0o444,
  show: (dev) => `${major(dev.devt)}:${minor(dev.devt)}\n`,
};

/**
 * driver_override, as platform, PCI and AMBA buses define it for their devices' dev_groups: shows the override
 * or "(null)"; a write sets it up to the first newline, an empty write clears it, more than 4096 bytes is EINVAL.
 */
export const devAttrDriverOverride: DeviceAttribute = {
  name: 'driver_override',
  mode: 0o644,
  show: (dev) => `${dev.driverOverride ?? '(null)'}\n`,
  store: (dev, value) => {
    if (value.length > 4096) throw kerr('EINVAL', 'driver_override_store');
    const override = value.split('\n', 1)[0] ?? '';
    dev.driverOverride = override === '' ? null : override;
  },
};

/** get_device(). */
export function getDevice(dev: Device): Device {
  dev.kobj.get();
  return dev;
}

/** put_device(): the last put releases the device; null is ignored. */
export function putDevice(dev: Device | null | undefined): void {
  dev?.kobj.put();
}

/** device_is_registered(): device_add succeeded and device_del has not run. */
export function deviceIsRegistered(dev: Device): boolean {
  return dev.kobj.stateInSysfs;
}

/** device_lock(). */
export function deviceLock(dev: Device): Promise<void> {
  return dev.p.mutex.lock();
}

/** device_trylock(). */
export function deviceTrylock(dev: Device): boolean {
  return dev.p.mutex.tryLock();
}

/** device_unlock(). */
export function deviceUnlock(dev: Device): void {
  dev.p.mutex.unlock();
}

/** Runs `fn` with the device's parent (if any) locked, as bus.c does around attach and release. */
export async function withParentLocked<T>(dev: Device, fn: () => Promise<T>): Promise<T> {
  const parent = dev.parent;
  if (parent !== null) await deviceLock(parent);
  try {
    return await fn();
  } finally {
    if (parent !== null) deviceUnlock(parent);
  }
}

/** device_release(): remaining devres, then dev.release, type.release or class.devRelease; none of them warns. */
function deviceRelease(s: DriverCoreState, dev: Device): void {
  if (dev.p.devres.length > 0) void devresReleaseAll(s.log, dev);
  dev.p.released = true;
  s.live.delete(dev);
  if (dev.release !== undefined) dev.release(dev);
  else if (dev.type?.release !== undefined) dev.type.release(dev);
  else if (dev.class?.devRelease !== undefined) dev.class.devRelease(dev);
  else
    s.log.warn(
      true,
      'drivers/base/core.c:device_release',
      `Device '${dev.name}' does not have a release() function, it is broken and must be fixed.`,
    );
}

/** device_initialize(): one reference held by the caller, released through putDevice(). */
export function deviceInitialize(s: DriverCoreState, dev: Device): void {
  if (dev.kobj.stateInitialized) {
    dev.kobj.init(s.log);
    return;
  }
  dev.kobj.init(s.log, () => deviceRelease(s, dev));
  dev.p.state = s;
  s.live.add(dev);
}

/** dev_set_name(). */
export function devSetName(dev: Device, name: string): void {
  dev.kobj.setName(name);
}

function classPrivate(s: DriverCoreState, cls: Class, op: string) {
  const cp = s.classes.get(cls);
  if (cp === undefined) throw kerr('EINVAL', op);
  return cp;
}

/**
 * get_device_parent(): the kobject whose directory holds the device's. A class device without a parent lives in
 * /sys/devices/virtual/<class>/, one whose parent is not a class device in the glue directory <parent>/<class>/
 * (returned with a reference the device holds until cleanup_glue_dir).
 */
function getDeviceParent(s: DriverCoreState, dev: Device, parent: Device | null): Kobject {
  if (dev.class !== null) {
    if (parent?.class != null) return parent.kobj;
    const parentKobj = parent === null ? s.virtualKobj : parent.kobj;
    const cp = classPrivate(s, dev.class, 'device_add');
    const glue = cp.glueDirs.get(parentKobj);
    if (glue !== undefined) return glue.get();
    const dir = new Kobject(dev.class.name).init(s.log, () => cp.glueDirs.delete(parentKobj));
    try {
      dir.add(s.sysfs, parentKobj);
    } catch (e) {
      dir.put();
      throw e;
    }
    cp.glueDirs.set(parentKobj, dir);
    return dir;
  }
  return parent === null ? s.devicesKobj : parent.kobj;
}

/** cleanup_glue_dir(): drops the device's reference on its glue directory, removed with the last one. */
function cleanupGlueDir(s: DriverCoreState, dev: Device, glue: Kobject | null): void {
  if (dev.class === null || glue === null) return;
  const cp = s.classes.get(dev.class);
  if (cp !== undefined && [...cp.glueDirs.values()].includes(glue)) glue.put();
}

function classSymlinkSteps(s: DriverCoreState, dev: Device): Array<readonly [() => void, () => void]> {
  if (dev.class === null) return [];
  const cls = classPrivate(s, dev.class, 'device_add').kobj.sysfsPath!;
  const path = dev.kobj.sysfsPath!;
  const steps: Array<readonly [() => void, () => void]> = [
    [() => s.sysfs.createLink(`${path}/subsystem`, cls), () => s.sysfs.remove(`${path}/subsystem`)],
  ];
  const parentPath = dev.parent?.kobj.sysfsPath;
  if (parentPath != null)
    steps.push([
      () => s.sysfs.createLink(`${path}/device`, parentPath),
      () => s.sysfs.remove(`${path}/device`),
    ]);
  steps.push([
    () => s.sysfs.createLink(`${cls}/${dev.name}`, path),
    () => s.sysfs.remove(`${cls}/${dev.name}`),
  ]);
  return steps;
}

/** device_add_class_symlinks(): subsystem and device links, and /sys/class/<class>/<name>. */
function deviceAddClassSymlinks(s: DriverCoreState, dev: Device): void {
  unwinding(classSymlinkSteps(s, dev));
}

/** device_remove_class_symlinks(). */
function deviceRemoveClassSymlinks(s: DriverCoreState, dev: Device): void {
  const path = dev.kobj.sysfsPath;
  if (dev.class === null || path === null) return;
  const cls = s.classes.get(dev.class)?.kobj.sysfsPath;
  if (cls != null) s.sysfs.remove(`${cls}/${dev.name}`);
  s.sysfs.remove(`${path}/device`);
  s.sysfs.remove(`${path}/subsystem`);
}

/** device_add_attrs(): the class's dev_groups, the type's groups, then the device's own groups. */
function deviceAddAttrs(s: DriverCoreState, dev: Device): void {
  unwinding([
    [
      () => deviceAddGroups(s, dev, dev.class?.devGroups),
      () => deviceRemoveGroups(s, dev, dev.class?.devGroups),
    ],
    [() => deviceAddGroups(s, dev, dev.type?.groups), () => deviceRemoveGroups(s, dev, dev.type?.groups)],
    [() => deviceAddGroups(s, dev, dev.groups), () => deviceRemoveGroups(s, dev, dev.groups)],
  ]);
}

/** device_remove_attrs(). */
function deviceRemoveAttrs(s: DriverCoreState, dev: Device): void {
  deviceRemoveGroups(s, dev, dev.groups);
  deviceRemoveGroups(s, dev, dev.type?.groups);
  deviceRemoveGroups(s, dev, dev.class?.devGroups);
}

/** device_to_dev_kobj(): the class's /sys/dev directory, /sys/dev/char for a device without one. */
function deviceToDevKobj(s: DriverCoreState, dev: Device): Kobject {
  return dev.class?.devKobj ?? s.devCharKobj;
}

function sysDevEntry(s: DriverCoreState, dev: Device): string {
  return `${deviceToDevKobj(s, dev).sysfsPath}/${major(dev.devt)}:${minor(dev.devt)}`;
}

/** The file type of the device's /dev node: is_blockdev() (a block-class device) gets S_IFBLK. */
function devnodeType(s: DriverCoreState, dev: Device): number {
  return deviceToDevKobj(s, dev) === s.devBlockKobj ? S_IFBLK : S_IFCHR;
}

/**
 * device_add(): names the device (EINVAL without a name), creates its directory, uevent file, class links,
 * attribute groups, bus links and, with a dev_t, its dev file, /sys/dev/{char,block} link and /dev node (S_IFBLK
 * for the block class); then probes drivers if its bus autoprobes. A failure undoes every step, newest first,
 * and leaves no sysfs node.
 */
export async function deviceAdd(s: DriverCoreState, dev: Device): Promise<void> {
  getDevice(dev);
  const undo: Array<() => void | Promise<void>> = [];
  try {
    if (dev.name === '') throw kerr('EINVAL', 'device_add');
    if (s.inject.should('device_add')) throw kerr('ENOMEM', 'device_add');
    s.log.debug(`device: '${dev.name}': device_add`);
    const parent = dev.parent === null ? null : getDevice(dev.parent);
    undo.push(() => putDevice(parent));
    const kparent = getDeviceParent(s, dev, parent);
    undo.push(() => cleanupGlueDir(s, dev, kparent));
    dev.kobj.add(s.sysfs, kparent);
    undo.push(() => dev.kobj.del());
    deviceCreateFile(s, dev, devAttrUevent);
    undo.push(() => deviceRemoveFile(s, dev, devAttrUevent));
    deviceAddClassSymlinks(s, dev);
    undo.push(() => deviceRemoveClassSymlinks(s, dev));
    deviceAddAttrs(s, dev);
    undo.push(() => deviceRemoveAttrs(s, dev));
    busAddDevice(s, dev);
    undo.push(() => busRemoveDevice(s, dev));
    if (major(dev.devt) !== 0) {
      deviceCreateFile(s, dev, devAttrDev);
      undo.push(() => deviceRemoveFile(s, dev, devAttrDev));
      s.sysfs.createLink(sysDevEntry(s, dev), dev.kobj.sysfsPath!);
      s.devtmpfs.createNode(deviceGetDevnode(dev), dev.devt, devnodeType(s, dev) | 0o600);
    }
  } catch (e) {
    for (const step of undo.reverse()) await step();
    putDevice(dev);
    throw e;
  }
  try {
    await busProbeDevice(s, dev);
    if (deviceIsRegistered(dev)) {
      dev.parent?.p.children.push(dev);
      if (dev.class !== null) s.classes.get(dev.class)?.devices.push(dev);
    }
  } finally {
    putDevice(dev);
  }
}

function removeFrom<T>(list: T[], item: T): void {
  const i = list.indexOf(item);
  if (i >= 0) list.splice(i, 1);
}

/**
 * device_del(): removes the /dev node, links, attribute files, bus links, unbinds the driver (running its
 * devres), runs any devres left on the unbound device, and removes the directory (and a glue directory left
 * empty). The device stays allocated until its last putDevice().
 */
export async function deviceDel(s: DriverCoreState, dev: Device): Promise<void> {
  if (
    s.log.warn(
      !deviceIsRegistered(dev),
      'drivers/base/core.c:device_del',
      `device_del: '${dev.name}' is not registered`,
    )
  )
    return;
  const parent = dev.parent;
  if (parent !== null) removeFrom(parent.p.children, dev);
  if (major(dev.devt) !== 0) {
    s.devtmpfs.deleteNode(deviceGetDevnode(dev), dev.devt, devnodeType(s, dev));
    s.sysfs.remove(sysDevEntry(s, dev));
    deviceRemoveFile(s, dev, devAttrDev);
  }
  if (dev.class !== null) {
    deviceRemoveClassSymlinks(s, dev);
    const cp = s.classes.get(dev.class);
    if (cp !== undefined) removeFrom(cp.devices, dev);
  }
  deviceRemoveFile(s, dev, devAttrUevent);
  deviceRemoveAttrs(s, dev);
  await busRemoveDevice(s, dev);
  await devresReleaseAll(s.log, dev);
  const glue = dev.kobj.parent;
  dev.kobj.del();
  cleanupGlueDir(s, dev, glue);
  putDevice(parent);
}

/** device_register(): deviceInitialize + deviceAdd. On failure the caller still owns a reference to put. */
export async function deviceRegister(s: DriverCoreState, dev: Device): Promise<void> {
  deviceInitialize(s, dev);
  await deviceAdd(s, dev);
}

/** deviceRegister for a device the caller creates and owns: a failed registration drops it with put_device. */
async function registerOwned(s: DriverCoreState, dev: Device): Promise<Device> {
  try {
    await deviceRegister(s, dev);
  } catch (e) {
    putDevice(dev);
    throw e;
  }
  return dev;
}

/** device_unregister(): deviceDel, then drops the registration reference. */
export async function deviceUnregister(s: DriverCoreState, dev: Device): Promise<void> {
  await deviceDel(s, dev);
  putDevice(dev);
}

/** device_for_each_child(): calls `fn` per registered child until it returns non-zero (or true), which it returns. */
export function deviceForEachChild(
  parent: Device,
  fn: (child: Device) => number | boolean | void,
): number | boolean {
  return klistWalk(parent.p.children, fn);
}

/** device_find_child(): the first child with that name (or matching), with a reference the caller must put. */
export function deviceFindChild(parent: Device, match: string | ((child: Device) => boolean)): Device | null {
  return getFound(parent.p.children.find(deviceMatcher(match)));
}

/** A device lookup's match argument: a name, or a predicate. */
export function deviceMatcher(match: string | ((dev: Device) => boolean)): (dev: Device) => boolean {
  return typeof match === 'string' ? (d) => d.name === match : match;
}

/** The found device with a reference for the caller, or null. */
export function getFound(dev: Device | undefined): Device | null {
  return dev === undefined ? null : getDevice(dev);
}

/** root_device_register(): a device of its own at /sys/devices/<name>, e.g. a parent for test devices. */
export async function rootDeviceRegister(s: DriverCoreState, name: string): Promise<Device> {
  return registerOwned(s, new Device({ name, release: () => {} }));
}

/** root_device_unregister(). */
export async function rootDeviceUnregister(s: DriverCoreState, dev: Device): Promise<void> {
  await deviceUnregister(s, dev);
}

/**
 * device_create(): creates and registers a class device with a dev_t, driver data and a name; the device is
 * freed on its last put.
 */
export async function deviceCreate(
  s: DriverCoreState,
  cls: Class,
  parent: Device | null,
  devt: number,
  driverData: unknown,
  name: string,
  groups: AttributeGroup[] = [],
): Promise<Device> {
  return registerOwned(
    s,
    new Device({ class: cls, parent, devt, driverData, groups, name, release: () => {} }),
  );
}

/** device_destroy(): unregisters the device of class `cls` with dev_t `devt`, if there is one. */
export async function deviceDestroy(s: DriverCoreState, cls: Class, devt: number): Promise<void> {
  const dev = s.classes.get(cls)?.devices.find((d) => d.devt === devt);
  if (dev === undefined) return;
  await deviceUnregister(s, dev);
}
