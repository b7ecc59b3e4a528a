/**
 * fs/open.c do_sys_open() for the paths daxsim has: nodes under /dev. The path walk takes a reference on the
 * node's inode, which the file keeps until its last fput(); character devices open through chrdev_open(),
 * block devices through blkdev_open().
 */
import type { BlockLayer } from '../block/genhd.js';
import type { Devtmpfs } from '../drivers/base/devtmpfs.js';
import { kerr } from '../errno.js';
import type { CharDevices } from './char_dev.js';
import type { File } from './file_table.js';
import { iput, S_IFBLK, S_IFCHR, S_IFMT } from './inode.js';

/**
 * do_sys_open(): ENOENT for a missing node, ENXIO when no driver answers for its dev_t (or, without `block`,
 * for any block device).
 */
export function doSysOpen(
  devtmpfs: Devtmpfs,
  chrdev: CharDevices,
  path: string,
  flags: number,
  block: Pick<BlockLayer, 'blkdevOpen'> | null = null,
): File {
  const inode = path.startsWith('/dev/') ? devtmpfs.openInode(path) : null;
  if (inode === null) throw kerr('ENOENT', 'open', { path });
  try {
    const type = inode.mode & S_IFMT;
    let file: File;
    if (type === S_IFCHR) file = chrdev.chrdevOpen(inode, flags);
    else if (type === S_IFBLK && block !== null) file = block.blkdevOpen(inode, flags);
    else throw kerr('ENXIO', 'open', { path });
    file.cleanup.unshift(() => iput(inode));
    return file;
  } catch (e) {
    iput(inode);
    throw e;
  }
}
