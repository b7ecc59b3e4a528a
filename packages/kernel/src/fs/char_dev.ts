/**
 * fs/char_dev.c: character device number regions (/proc/devices) and cdevs, the objects that connect a
 * range of dev_t to a set of file operations (kobj_map / kobj_lookup).
 */
import { kerr } from '../errno.js';
import { MINORMASK, major, minor, mkdev } from '../include/kdev_t.js';
import type { Module, ModuleLoader } from '../kernel/module.js';
import type { Printk } from '../kernel/printk.js';
import type { FaultInject } from '../lib/fault-inject.js';
import { File, type FileOperations } from './file_table.js';
import type { Inode } from './inode.js';

/** CHRDEV_MAJOR_HASH_SIZE: dynamic majors are handed out from 254 downwards. */
const CHRDEV_MAJOR_MAX = 255;

/** The module pinning a cdev and its file operations need (try_module_get / module_put). */
export type ModulePins = Pick<ModuleLoader, 'tryModuleGet' | 'modulePut'>;

const NO_MODULES: ModulePins = { tryModuleGet: () => true, modulePut: () => {} };

/** A reference-counted parent (a kobject): cdev_add pins it, cdev_del unpins it. */
export interface CdevParent {
  get(): unknown;
  put(): unknown;
}

/** struct cdev. */
export class Cdev {
  ops: FileOperations | null = null;
  owner: Module | null = null;
  /** cdev->kobj.parent, pinned from cdev_add until the cdev's own kobject is released. */
  parent: CdevParent | null = null;
  dev = 0;
  count = 0;
  /** cdev->kobj's reference count: one from cdev_add, one per open file (cdev_get). */
  refs = 0;
  /** Inodes whose i_cdev points here (cdev->list), cleared by cdev_del. */
  readonly inodes = new Set<Inode>();
}

/** cdev_init(): prepares `cdev` to serve `fops`. */
export function cdevInit(cdev: Cdev, fops: FileOperations): void {
  cdev.ops = fops;
  cdev.dev = 0;
  cdev.count = 0;
}

interface Region {
  major: number;
  baseminor: number;
  count: number;
  name: string;
}

interface Mapping {
  dev: number;
  count: number;
  cdev: Cdev;
}

export class CharDevices {
  readonly #regions: Region[] = [];
  /** kobj_map, per major, newest first (a later cdev_add shadows an earlier one, as in the kernel). */
  readonly #map = new Map<number, Mapping[]>();
  readonly #log: Printk;
  readonly #pins: ModulePins;

  /** `pins` is the module loader's try_module_get/module_put; without it every module counts as live. */
  readonly #inject: FaultInject | null;

  constructor(log: Printk, pins: ModulePins = NO_MODULES, inject: FaultInject | null = null) {
    this.#log = log;
    this.#pins = pins;
    this.#inject = inject;
  }

  /**
   * alloc_chrdev_region(): reserves `count` minors from `baseminor` under a free dynamic major and returns the
   * first dev_t. EBUSY when no major is free.
   */
  allocChrdevRegion(baseminor: number, count: number, name: string): number {
    this.#checkRange(baseminor, count, 'alloc_chrdev_region');
    if (this.#inject?.should('register_chrdev_region')) throw kerr('ENOMEM', 'alloc_chrdev_region');
    for (let ma = CHRDEV_MAJOR_MAX - 1; ma > 0; ma--) {
      if (this.#regions.some((r) => r.major === ma)) continue;
      this.#regions.push({ major: ma, baseminor, count, name });
      return mkdev(ma, baseminor);
    }
    this.#log.warning(`CHRDEV "${name}" dynamic allocation region is full`);
    throw kerr('EBUSY', 'alloc_chrdev_region');
  }

  /** register_chrdev_region(): reserves a fixed range; EBUSY when it overlaps a registered one. */
  registerChrdevRegion(from: number, count: number, name: string): void {
    const ma = major(from);
    const mi = minor(from);
    this.#checkRange(mi, count, 'register_chrdev_region');
    if (this.#inject?.should('register_chrdev_region')) throw kerr('ENOMEM', 'register_chrdev_region');
    if (this.#regions.some((r) => r.major === ma && mi < r.baseminor + r.count && r.baseminor < mi + count))
      throw kerr('EBUSY', 'register_chrdev_region');
    this.#regions.push({ major: ma, baseminor: mi, count, name });
  }

  /** unregister_chrdev_region(): releases exactly a range reserved earlier; anything else is ignored. */
  unregisterChrdevRegion(from: number, count: number): void {
    const i = this.#regions.findIndex(
      (r) => r.major === major(from) && r.baseminor === minor(from) && r.count === count,
    );
    if (i >= 0) this.#regions.splice(i, 1);
  }

  /** cdev_add(): makes `cdev` answer for `count` dev_t from `dev`, pinning its parent. */
  cdevAdd(cdev: Cdev, dev: number, count: number): void {
    if (count <= 0 || minor(dev) + count - 1 > MINORMASK) throw kerr('EINVAL', 'cdev_add');
    if (this.#inject?.should('cdev_add')) throw kerr('ENOMEM', 'cdev_add');
    cdev.dev = dev;
    cdev.count = count;
    cdev.refs = 1;
    const list = this.#map.get(major(dev)) ?? [];
    list.unshift({ dev, count, cdev });
    this.#map.set(major(dev), list);
    cdev.parent?.get();
  }

  /**
   * cdev_del(): the cdev stops answering for its range and forgets the inodes that cached it; files already
   * open keep it (and its parent) until their last close.
   */
  cdevDel(cdev: Cdev): void {
    const list = this.#map.get(major(cdev.dev));
    const i = list?.findIndex((m) => m.cdev === cdev) ?? -1;
    if (list === undefined || i < 0) return;
    list.splice(i, 1);
    if (list.length === 0) this.#map.delete(major(cdev.dev));
    for (const inode of cdev.inodes) inode.cdev = null;
    cdev.inodes.clear();
    this.#kobjPut(cdev);
  }

  /** cdev_get(): pins the owner module and the cdev's kobject; false when the module is going away. */
  cdevGet(cdev: Cdev): boolean {
    if (!this.#pins.tryModuleGet(cdev.owner)) return false;
    cdev.refs++;
    return true;
  }

  /** cdev_put(). */
  cdevPut(cdev: Cdev): void {
    this.#kobjPut(cdev);
    this.#pins.modulePut(cdev.owner);
  }

  /**
   * chrdev_open(): finds the cdev for the inode's dev_t (caching it in i_cdev), pins it and its file
   * operations' owner, and calls ->open. ENXIO when no cdev answers or a module is going away.
   */
  chrdevOpen(inode: Inode, flags: number): File {
    let cdev = inode.cdev;
    if (cdev === null) {
      const found = this.lookup(inode.rdev);
      if (found === null || !this.cdevGet(found)) throw kerr('ENXIO', 'open');
      cdev = found;
      inode.cdev = cdev;
      cdev.inodes.add(inode);
    } else if (!this.cdevGet(cdev)) throw kerr('ENXIO', 'open');
    const pinned = cdev;
    const fops = cdev.ops;
    if (fops === null || !this.#pins.tryModuleGet(fops.owner)) {
      this.cdevPut(pinned);
      throw kerr('ENXIO', 'open');
    }
    const file = new File(inode, fops, flags);
    file.cleanup.push(
      () => this.cdevPut(pinned),
      () => this.#pins.modulePut(fops.owner),
    );
    try {
      fops.open?.(inode, file);
    } catch (e) {
      for (const undo of file.cleanup.splice(0).reverse()) undo();
      throw e;
    }
    return file;
  }

  #kobjPut(cdev: Cdev): void {
    if (this.#log.warn(cdev.refs <= 0, 'lib/kobject.c:kobject_put', 'cdev: kobject_put without a reference'))
      return;
    if (--cdev.refs === 0) cdev.parent?.put();
  }

  /** kobj_lookup(): the cdev that answers for `dev`, or null. */
  lookup(dev: number): Cdev | null {
    const mi = minor(dev);
    for (const m of this.#map.get(major(dev)) ?? [])
      if (mi >= minor(m.dev) && mi < minor(m.dev) + m.count) return m.cdev;
    return null;
  }

  /** Registered regions and live cdev mappings (for leak checks). */
  get counts(): { regions: number; cdevs: number } {
    let cdevs = 0;
    for (const list of this.#map.values()) cdevs += list.length;
    return { regions: this.#regions.length, cdevs };
  }

  /** The "Character devices:" part of /proc/devices. */
  procDevices(): string {
    const majors = new Map<number, string>();
    for (const r of this.#regions) if (!majors.has(r.major)) majors.set(r.major, r.name);
    const lines = [...majors]
      .sort(([a], [b]) => a - b)
      .map(([ma, name]) => `${String(ma).padStart(3)} ${name}\n`);
    return `Character devices:\n${lines.join('')}`;
  }

  #checkRange(baseminor: number, count: number, syscall: string): void {
    if (
      !Number.isInteger(baseminor) ||
      !Number.isInteger(count) ||
      baseminor < 0 ||
      count <= 0 ||
      baseminor + count - 1 > MINORMASK
    )
      throw kerr('EINVAL', syscall);
  }
}
