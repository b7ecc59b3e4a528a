/**
 * fs/char_dev.c: character device number regions (/proc/devices) and cdevs, the objects that connect a
 * range of dev_t to a set of file operations (kobj_map / kobj_lookup).
 */
import { kerr } from '../errno.js';
import { MINORMASK, major, minor, mkdev } from '../include/kdev_t.js';
import type { Printk } from '../kernel/printk.js';
import type { Inode } from './inode.js';

/** CHRDEV_MAJOR_HASH_SIZE: dynamic majors are handed out from 254 downwards. */
const CHRDEV_MAJOR_MAX = 255;

/** A reference-counted parent (a kobject): cdev_add pins it, cdev_del unpins it. */
export interface CdevParent {
  get(): unknown;
  put(): unknown;
}

/** struct file: an open file description. */
export interface File {
  inode: Inode;
  fops: FileOperations;
  privateData: unknown;
  flags: number;
}

/** struct file_operations, the part of it drivers here implement. */
export interface FileOperations {
  /** Module that must be pinned while a file is open. */
  owner?: unknown;
  open?(inode: Inode, file: File): void | Promise<void>;
  release?(inode: Inode, file: File): void | Promise<void>;
}

/** struct cdev. */
export class Cdev {
  ops: FileOperations | null = null;
  owner: unknown = null;
  /** cdev->kobj.parent. */
  parent: CdevParent | null = null;
  dev = 0;
  count = 0;
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

  constructor(log: Printk) {
    this.#log = log;
  }

  /**
   * alloc_chrdev_region(): reserves `count` minors from `baseminor` under a free dynamic major and returns the
   * first dev_t. EBUSY when no major is free.
   */
  allocChrdevRegion(baseminor: number, count: number, name: string): number {
    this.#checkRange(baseminor, count, 'alloc_chrdev_region');
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
    cdev.dev = dev;
    cdev.count = count;
    const list = this.#map.get(major(dev)) ?? [];
    list.unshift({ dev, count, cdev });
    this.#map.set(major(dev), list);
    cdev.parent?.get();
  }

  /** cdev_del(): the cdev stops answering for its range; existing opens keep working. */
  cdevDel(cdev: Cdev): void {
    const list = this.#map.get(major(cdev.dev));
    const i = list?.findIndex((m) => m.cdev === cdev) ?? -1;
    if (list === undefined || i < 0) return;
    list.splice(i, 1);
    if (list.length === 0) this.#map.delete(major(cdev.dev));
    cdev.parent?.put();
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
