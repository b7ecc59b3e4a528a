/**
 * block/blk-core.c, the part a bio-based driver sees: generic_make_request() checks a request against the
 * disk's capacity and hands it to the driver (the make_request_fn that pmem_make_request is), one direction
 * and one contiguous byte range at a time.
 */
import { kerr } from '../errno.js';
import type { Printk } from '../kernel/printk.js';
import type { Gendisk } from './genhd.js';

/** include/linux/blkdev.h: the 512-byte sector capacities and badblocks count in. */
export const SECTOR_SHIFT = 9;
export const SECTOR_SIZE = 1 << SECTOR_SHIFT;

export const REQ_OP_READ = 0;
export const REQ_OP_WRITE = 1;
export type ReqOp = typeof REQ_OP_READ | typeof REQ_OP_WRITE;

/**
 * generic_make_request(): moves `buf.length` bytes between `buf` and the disk at byte `offset` through the
 * driver's block_device_operations. A request reaching past the capacity (all of them once del_gendisk has
 * set it to 0) fails with EIO without reaching the driver (bio_check_eod); the driver's errors pass through.
 */
export function genericMakeRequest(
  log: Printk,
  disk: Gendisk,
  op: ReqOp,
  offset: number,
  buf: Uint8Array,
): void {
  const limit = disk.capacity;
  const end = Math.ceil((offset + buf.length) / SECTOR_SIZE);
  if (end > limit) {
    log.info('attempt to access beyond end of device');
    log.info(`${disk.diskName}: rw=${op}, want=${end}, limit=${limit}`);
    throw kerr('EIO', op === REQ_OP_READ ? 'read' : 'write');
  }
  if (op === REQ_OP_READ) disk.fops.read(disk, offset, buf);
  else disk.fops.write(disk, offset, buf);
}
