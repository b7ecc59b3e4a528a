/**
 * block/genhd.c and include/linux/genhd.h: struct gendisk, the disk a block driver allocates, adds and deletes
 * (alloc_disk, device_add_disk, del_gendisk, put_disk); its device in the "block" class with the disk
 * attributes (size, ro, badblocks, ...); the extended dev_t range, major 259 "blkext", that every disk here
 * takes its number from, as pmem and nvme disks do; and get_gendisk, which opens of /dev/<disk> start from.
 */
import type { Class } from '../drivers/base/class.js';
import { Device, type DeviceAttribute, type DeviceType } from '../drivers/base/core.js';
import { isErrno, kerr } from '../errno.js';
import type { File } from '../fs/file_table.js';
import type { Inode } from '../fs/inode.js';
import { MINORBITS, major, minor, mkdev } from '../include/kdev_t.js';
import type { Module } from '../kernel/module.js';
import type { Kernel } from '../kernel.js';
import type { Badblocks } from '../lib/badblocks.js';
import { Ida } from '../lib/idr.js';
import { Kobject } from '../lib/kobject.js';
import { SECTOR_SIZE } from './blk-core.js';
import { BlockDevices } from './block_dev.js';

/** include/linux/genhd.h gendisk flags. */
export const GENHD_FL_REMOVABLE = 1;
export const GENHD_FL_UP = 16;
export const GENHD_FL_EXT_DEVT = 64;
/** DISK_MAX_PARTS: what ext_range shows for a disk numbered from the extended range. */
export const DISK_MAX_PARTS = 256;
/** include/uapi/linux/major.h BLOCK_EXT_MAJOR. */
export const BLOCK_EXT_MAJOR = 259;
/** NR_EXT_DEVT: minors of the extended range. */
const NR_EXT_DEVT = 1 << MINORBITS;

/**
 * struct block_device_operations, reduced to what a bio-based driver such as pmem implements: byte-range I/O
 * (its make_request_fn / pmem_do_bvec) inside the capacity. Errors are thrown as kernel errors, EIO for a bad
 * sector; the block layer turns them into EIO (or a short count) for the reader or writer.
 */
export interface BlockDeviceOperations {
  /** Module pinned while the disk is open. */
  owner: Module | null;
  /** Fills `dst` from byte `offset` of the disk. */
  read(disk: Gendisk, offset: number, dst: Uint8Array): void;
  /** Stores `src` at byte `offset` of the disk. */
  write(disk: Gendisk, offset: number, src: Uint8Array): void;
}

/** struct hd_struct part0: the whole-disk partition, holding the capacity and the read-only policy. */
export interface HdStruct {
  /** nr_sects: capacity in 512-byte sectors. */
  nrSects: number;
  /** policy: non-zero when read-only (set_disk_ro). */
  policy: number;
}

/** What a driver fills in after alloc_disk(). */
export interface GendiskInit {
  diskName?: string;
  fops: BlockDeviceOperations;
  privateData?: unknown;
  /** Added to GENHD_FL_EXT_DEVT, which every disk here has. */
  flags?: number;
}

/** struct gendisk. Allocated by BlockLayer.allocDisk(). */
export class Gendisk {
  /** disk_name, also the name of its device and of /dev/<disk_name>. */
  diskName: string;
  /** major and first_minor: the dev_t device_add_disk gave it (0 before). */
  major = 0;
  firstMinor = 0;
  /** minors: 0, every disk here is numbered from the extended range. */
  readonly minors = 0;
  flags: number;
  fops: BlockDeviceOperations;
  privateData: unknown;
  /** The driver's bad-sector table, shown in /sys/block/<disk>/badblocks; null hides that file. */
  bb: Badblocks | null = null;
  readonly part0: HdStruct = { nrSects: 0, policy: 0 };
  /** disk_to_dev(disk): the disk's struct device. */
  readonly dev: Device;

  constructor(dev: Device, init: GendiskInit) {
    this.dev = dev;
    this.diskName = init.diskName ?? '';
    this.fops = init.fops;
    this.privateData = init.privateData ?? null;
    this.flags = GENHD_FL_EXT_DEVT | (init.flags ?? 0);
  }

  /** get_capacity(): in 512-byte sectors. */
  get capacity(): number {
    return this.part0.nrSects;
  }

  /** The parent device given to device_add_disk, or null. */
  get parent(): Device | null {
    return this.dev.parent;
  }
}

/** set_capacity(): the disk's size in 512-byte sectors; EINVAL for a count whose bytes are not exact. */
export function setCapacity(disk: Gendisk, sectors: number): void {
  if (!Number.isSafeInteger(sectors) || sectors < 0 || !Number.isSafeInteger(sectors * SECTOR_SIZE))
    throw kerr('EINVAL', 'set_capacity');
  disk.part0.nrSects = sectors;
}

/** set_disk_ro(): writes to an open read-only disk fail with EPERM. */
export function setDiskRo(disk: Gendisk, ro: boolean): void {
  disk.part0.policy = ro ? 1 : 0;
}

/** get_disk_ro(). */
export function getDiskRo(disk: Gendisk): boolean {
  return disk.part0.policy !== 0;
}

/**
 * The block layer of one kernel (genhd_device_init and the registries behind block/genhd.c): the "block"
 * class, /sys/block, the extended dev_t allocator and the disks, and the block_device side of open(2).
 */
export class BlockLayer {
  /** block_class: /sys/class/block, its MAJOR:MINOR links in /sys/dev/block. */
  readonly blockClass: Class;
  readonly #kernel: Kernel;
  /** ext_devt_idr: minors of major 259. */
  readonly #extDevt: Ida;
  /** Disks allocated and not yet released, by their device (dev_to_disk). */
  readonly #live = new Map<Device, Gendisk>();
  /** Disks that get_gendisk can find, by dev_t: from device_add_disk to del_gendisk. */
  readonly #byDevt = new Map<number, Gendisk>();
  /** block_depr: /sys/block, a link per disk. */
  readonly #blockDepr: Kobject;
  readonly #diskType: DeviceType;
  readonly #bdevs: BlockDevices;

  constructor(kernel: Kernel) {
    this.#kernel = kernel;
    this.#extDevt = new Ida(kernel.log, 'ext_devt_idr', kernel.faultInject, kernel.kmemleak);
    this.blockClass = { name: 'block', devKobj: kernel.driverCore.sysfsDevBlockKobj };
    kernel.driverCore.classRegister(this.blockClass);
    this.#blockDepr = new Kobject('block').init(kernel.log, () => {});
    this.#blockDepr.add(kernel.sysfs, null);
    this.#diskType = {
      name: 'disk',
      groups: [{ attrs: this.#diskAttrs(), isVisible: (dev, attr) => this.#diskVisible(dev, attr) }],
      release: (dev) => this.#diskRelease(dev),
    };
    this.#bdevs = new BlockDevices(kernel, (devt) => this.getGendisk(devt));
  }

  /**
   * alloc_disk(0): a disk with one reference (dropped by putDisk) and no dev_t yet; null when allocation
   * fails (fault point "alloc_disk").
   */
  allocDisk(init: GendiskInit): Gendisk | null {
    if (this.#kernel.faultInject.should('alloc_disk')) return null;
    const dev = new Device({ class: this.blockClass, type: this.#diskType });
    const disk = new Gendisk(dev, init);
    this.#kernel.driverCore.deviceInitialize(dev);
    this.#live.set(dev, disk);
    return disk;
  }

  /**
   * device_add_disk(): numbers the disk 259:N, registers its device (named diskName, under `parent`'s "block"
   * directory, or /sys/devices/virtual/block) with the disk attributes, /sys/class/block and /sys/block links,
   * /sys/dev/block/259:N and an S_IFBLK /dev node, and makes it openable. EBUSY when the disk is up already
   * or no minor is left; a failure from the driver core is thrown after undoing every step.
   */
  async deviceAddDisk(parent: Device | null, disk: Gendisk): Promise<void> {
    const { log, driverCore, sysfs } = this.#kernel;
    const site = 'block/genhd.c:device_add_disk';
    if (log.warn((disk.flags & GENHD_FL_UP) !== 0, site, `${disk.diskName}: disk added twice`))
      throw kerr('EBUSY', 'device_add_disk');
    if (!this.#live.has(disk.dev)) throw kerr('EINVAL', 'device_add_disk');
    let idx: number;
    try {
      idx = this.#extDevt.simpleGet(0, NR_EXT_DEVT);
    } catch (e) {
      log.warn(true, site, `${disk.diskName}: blk_alloc_devt failed`);
      throw isErrno(e, 'ENOSPC') ? kerr('EBUSY', 'blk_alloc_devt') : e;
    }
    const dev = disk.dev;
    const devt = mkdev(BLOCK_EXT_MAJOR, idx);
    disk.flags |= GENHD_FL_UP;
    disk.major = BLOCK_EXT_MAJOR;
    disk.firstMinor = idx;
    dev.devt = devt;
    dev.parent = parent;
    driverCore.devSetName(dev, disk.diskName);
    this.#byDevt.set(devt, disk);
    const undo = () => {
      this.#byDevt.delete(devt);
      this.#extDevt.simpleRemove(idx);
      dev.devt = 0;
      dev.parent = null;
      disk.major = 0;
      disk.firstMinor = 0;
      disk.flags &= ~GENHD_FL_UP;
    };
    try {
      await driverCore.deviceAdd(dev);
    } catch (e) {
      undo();
      throw e;
    }
    const path = dev.kobj.sysfsPath!;
    try {
      sysfs.createLink(`${this.#blockDepr.sysfsPath}/${dev.name}`, path);
    } catch (e) {
      await driverCore.deviceDel(dev);
      undo();
      throw e;
    }
    sysfs.createDir(`${path}/holders`);
    sysfs.createDir(`${path}/slaves`);
  }

  /**
   * del_gendisk(): the disk can no longer be opened, its capacity drops to 0 (so I/O through files still open
   * fails with EIO), and its sysfs directory, links and /dev node go. The dev_t stays taken until the last
   * reference (putDisk, or the last close) releases the disk. Warns and does nothing for a disk not added.
   */
  async delGendisk(disk: Gendisk): Promise<void> {
    const { log, driverCore, sysfs } = this.#kernel;
    if (
      log.warn((disk.flags & GENHD_FL_UP) === 0, 'block/genhd.c:del_gendisk', `${disk.diskName}: not added`)
    )
      return;
    const dev = disk.dev;
    this.#byDevt.delete(dev.devt);
    this.#bdevs.unhash(dev.devt);
    setCapacity(disk, 0);
    disk.flags &= ~GENHD_FL_UP;
    const path = dev.kobj.sysfsPath;
    if (path !== null) {
      sysfs.remove(`${path}/holders`);
      sysfs.remove(`${path}/slaves`);
    }
    sysfs.remove(`${this.#blockDepr.sysfsPath}/${dev.name}`);
    await driverCore.deviceDel(dev);
  }

  /** put_disk(): drops a reference; the last one frees the dev_t and the disk. Null is ignored. */
  putDisk(disk: Gendisk | null): void {
    if (disk !== null) this.#kernel.driverCore.putDevice(disk.dev);
  }

  /** get_disk(): pins the driver's module and the disk; null while the module is going away. */
  getDisk(disk: Gendisk): Gendisk | null {
    if (!this.#kernel.modules.tryModuleGet(disk.fops.owner)) return null;
    this.#kernel.driverCore.getDevice(disk.dev);
    return disk;
  }

  /** get_gendisk(): the added disk numbered `devt`, pinned as getDisk does (undo with modulePut + putDisk). */
  getGendisk(devt: number): Gendisk | null {
    const disk = this.#byDevt.get(devt);
    return disk === undefined ? null : this.getDisk(disk);
  }

  /** dev_to_disk(): the disk a block-class device belongs to. */
  devToDisk(dev: Device): Gendisk | null {
    return this.#live.get(dev) ?? null;
  }

  /** blkdev_open() for an S_IFBLK inode: see BlockDevices.open. */
  blkdevOpen(inode: Inode, flags: number): File {
    return this.#bdevs.open(inode, flags);
  }

  /** Disks allocated and not released, minors taken, block devices open (for leak checks). */
  get counts(): { disks: number; minors: number; bdevs: number } {
    return { disks: this.#live.size, minors: this.#extDevt.count, bdevs: this.#bdevs.count };
  }

  /** The "Block devices:" part of /proc/devices. */
  procDevices(): string {
    return `Block devices:\n${BLOCK_EXT_MAJOR} blkext\n`;
  }

  /** disk_release(): frees the dev_t; the disk is gone. */
  #diskRelease(dev: Device): void {
    this.#live.delete(dev);
    if (major(dev.devt) === BLOCK_EXT_MAJOR) this.#extDevt.simpleRemove(minor(dev.devt));
  }

  #disk(dev: Device): Gendisk {
    const disk = this.#live.get(dev);
    if (disk === undefined) throw kerr('ENXIO', 'dev_to_disk');
    return disk;
  }

  /** disk_visible(): badblocks only for a disk with a table. */
  #diskVisible(dev: Device, attr: DeviceAttribute): number {
    return attr.name === 'badblocks' && this.#disk(dev).bb === null ? 0 : attr.mode;
  }

  /** disk_attrs. */
  #diskAttrs(): DeviceAttribute[] {
    const ro = (show: (disk: Gendisk) => string, name: string): DeviceAttribute => ({
      name,
      mode: 0o444,
      show: (dev) => show(this.#disk(dev)),
    });
    return [
      ro((d) => `${d.minors}\n`, 'range'),
      ro((d) => `${d.flags & GENHD_FL_EXT_DEVT ? DISK_MAX_PARTS : d.minors}\n`, 'ext_range'),
      ro((d) => `${d.flags & GENHD_FL_REMOVABLE ? 1 : 0}\n`, 'removable'),
      ro((d) => `${getDiskRo(d) ? 1 : 0}\n`, 'ro'),
      ro((d) => `${d.capacity}\n`, 'size'),
      ro((d) => `${d.flags.toString(16)}\n`, 'capability'),
      {
        name: 'badblocks',
        mode: 0o644,
        show: (dev) => this.#disk(dev).bb?.show() ?? '\n',
        store: (dev, value) => {
          const bb = this.#disk(dev).bb;
          if (bb === null) throw kerr('ENXIO', 'disk_badblocks_store');
          bb.store(value);
        },
      },
    ];
  }
}
