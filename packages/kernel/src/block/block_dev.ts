/**
 * fs/block_dev.c: struct block_device, one per open disk, and the file operations of a block special file
 * (def_blk_fops). Opening pins the disk and its driver's module for as long as the device is open (the first
 * opener holds the pins, bd_openers counts the rest). read and write move data at the page cache's
 * granularity: a read fetches whole pages, a write stores whole blocks, reading a block it only partly
 * overwrites, so an error anywhere in such a page or block fails the access (EIO, or a short count after
 * some bytes moved). Writes go through to the driver at once.
 */
import { isErrno, kerr } from '../errno.js';
import { File, type FileOperations } from '../fs/file_table.js';
import type { Inode } from '../fs/inode.js';
import { PAGE_SIZE } from '../include/pfn_t.js';
import type { Kernel } from '../kernel.js';
import { genericMakeRequest, REQ_OP_READ, REQ_OP_WRITE, type ReqOp, SECTOR_SIZE } from './blk-core.js';
import { type Gendisk, getDiskRo } from './genhd.js';

/** struct block_device. */
export class BlockDevice {
  /** bd_dev. */
  readonly dev: number;
  /** bd_disk: set by the first open, cleared by the last close. */
  disk: Gendisk | null = null;
  /** bd_openers. */
  openers = 0;
  /** i_size of the bdev inode in bytes: the disk's capacity when it was first opened (bd_set_size). */
  size = 0;
  /** bd_block_size. */
  blockSize = SECTOR_SIZE;

  constructor(dev: number) {
    this.dev = dev;
  }
}

/** bd_set_size(): the size, and the largest block size up to a page that divides it. */
function bdSetSize(bdev: BlockDevice, size: number): void {
  bdev.size = size;
  let bsize = SECTOR_SIZE;
  while (bsize < PAGE_SIZE && Math.floor(size / bsize) % 2 === 0) bsize *= 2;
  bdev.blockSize = bsize;
}

function checkPos(pos: number, syscall: string): void {
  if (!Number.isSafeInteger(pos) || pos < 0) throw kerr('EINVAL', syscall);
}

/** The bdev hash (bdget), blkdev_get/blkdev_put, and def_blk_fops, for one kernel's block layer. */
export class BlockDevices {
  readonly #kernel: Kernel;
  readonly #getGendisk: (devt: number) => Gendisk | null;
  readonly #hash = new Map<number, BlockDevice>();
  /** def_blk_fops. */
  readonly fops: FileOperations;

  /** `getGendisk` is get_gendisk(): the disk numbered devt, with its module and device pinned, or null. */
  constructor(kernel: Kernel, getGendisk: (devt: number) => Gendisk | null) {
    this.#kernel = kernel;
    this.#getGendisk = getGendisk;
    this.fops = {
      owner: null,
      release: (_inode, file) => this.blkdevPut(file.privateData as BlockDevice),
      read: (file, buf, pos) => this.#read(file.privateData as BlockDevice, buf, pos),
      write: (file, buf, pos) => this.#write(file.privateData as BlockDevice, buf, pos),
    };
  }

  /** Block devices in the bdev hash: open, and not unhashed by del_gendisk since. */
  get count(): number {
    return this.#hash.size;
  }

  /** bdget(): the block_device of `dev`, created on first use. */
  bdget(dev: number): BlockDevice {
    let bdev = this.#hash.get(dev);
    if (bdev === undefined) {
      bdev = new BlockDevice(dev);
      this.#hash.set(dev, bdev);
    }
    return bdev;
  }

  /** bdev_unhash_inode(): later opens of `dev` get a new block_device; files open keep the old one. */
  unhash(dev: number): void {
    this.#hash.delete(dev);
  }

  /**
   * blkdev_get(): finds the disk (ENXIO when none is added under that dev_t, or its module is going away);
   * the first opener records it and its capacity and keeps the pins get_gendisk took.
   */
  blkdevGet(bdev: BlockDevice): void {
    const disk = this.#getGendisk(bdev.dev);
    if (disk === null) throw kerr('ENXIO', 'open');
    if (bdev.openers === 0) {
      bdev.disk = disk;
      bdSetSize(bdev, disk.capacity * SECTOR_SIZE);
    } else {
      this.#unpin(disk);
    }
    bdev.openers++;
  }

  /** blkdev_put(): the last close drops the disk and module pins (maybe releasing the disk). */
  blkdevPut(bdev: BlockDevice): void {
    const site = 'fs/block_dev.c:blkdev_put';
    if (this.#kernel.log.warn(bdev.openers <= 0 || bdev.disk === null, site, 'blkdev_put without an open'))
      return;
    if (--bdev.openers > 0) return;
    const disk = bdev.disk!;
    bdev.disk = null;
    if (this.#hash.get(bdev.dev) === bdev) this.#hash.delete(bdev.dev);
    this.#unpin(disk);
  }

  /**
   * blkdev_open(): opens the disk behind an S_IFBLK inode's dev_t; the file's ->release (blkdev_close) puts
   * it. ENXIO when no disk answers.
   */
  open(inode: Inode, flags: number): File {
    const bdev = this.bdget(inode.rdev);
    try {
      this.blkdevGet(bdev);
    } catch (e) {
      if (bdev.openers === 0 && this.#hash.get(bdev.dev) === bdev) this.#hash.delete(bdev.dev);
      throw e;
    }
    const file = new File(inode, this.fops, flags);
    file.privateData = bdev;
    return file;
  }

  #unpin(disk: Gendisk): void {
    const owner = disk.fops.owner;
    this.#kernel.driverCore.putDevice(disk.dev);
    this.#kernel.modules.modulePut(owner);
  }

  /** blkdev_read_iter(): 0 at or past the end, else up to the end, page by page. */
  #read(bdev: BlockDevice, buf: Uint8Array, pos: number): number {
    checkPos(pos, 'read');
    const size = bdev.size;
    if (buf.length === 0 || pos >= size) return 0;
    const want = Math.min(buf.length, size - pos);
    let done = 0;
    while (done < want) {
      const off = pos + done;
      const page = off - (off % PAGE_SIZE);
      const stop = Math.min(pos + want, page + PAGE_SIZE);
      const data = new Uint8Array(Math.min(page + PAGE_SIZE, size) - page);
      try {
        this.#request(bdev, REQ_OP_READ, page, data, 'read');
      } catch (e) {
        if (done > 0) return done;
        throw e;
      }
      buf.set(data.subarray(off - page, stop - page), done);
      done += stop - off;
    }
    return done;
  }

  /** blkdev_write_iter(): EPERM on a read-only disk, ENOSPC at or past the end, else up to the end. */
  #write(bdev: BlockDevice, buf: Uint8Array, pos: number): number {
    checkPos(pos, 'write');
    if (bdev.disk !== null && getDiskRo(bdev.disk)) throw kerr('EPERM', 'write');
    if (buf.length === 0) return 0;
    const size = bdev.size;
    if (pos >= size) throw kerr('ENOSPC', 'write');
    const want = Math.min(buf.length, size - pos);
    const bs = bdev.blockSize;
    let done = 0;
    while (done < want) {
      const off = pos + done;
      const block = off - (off % bs);
      const stop = Math.min(pos + want, block + bs);
      try {
        let data = buf.subarray(done, done + bs);
        if (off !== block || stop !== block + bs) {
          data = new Uint8Array(bs);
          this.#request(bdev, REQ_OP_READ, block, data, 'write');
          data.set(buf.subarray(done, done + stop - off), off - block);
        }
        this.#request(bdev, REQ_OP_WRITE, block, data, 'write');
      } catch (e) {
        if (done > 0) return done;
        throw e;
      }
      done += stop - off;
    }
    return done;
  }

  /** One request to the disk; whatever kernel error it fails with reaches the caller as EIO. */
  #request(bdev: BlockDevice, op: ReqOp, offset: number, data: Uint8Array, syscall: string): void {
    const disk = bdev.disk;
    if (disk === null) throw kerr('EIO', syscall);
    try {
      genericMakeRequest(this.#kernel.log, disk, op, offset, data);
    } catch (e) {
      throw isErrno(e) ? kerr('EIO', syscall) : e;
    }
  }
}
