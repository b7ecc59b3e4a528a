/**
 * fs/open.c do_sys_open() for the paths daxsim has: nodes under /dev. The path walk takes a reference on the
 * node's inode, which the file keeps until its last fput(); character devices open through chrdev_open().
 */
import type { Devtmpfs } from '../drivers/base/devtmpfs.js';
import { kerr } from '../errno.js';
import type { CharDevices } from './char_dev.js';
import type { File } from './file_table.js';
import { iput, S_IFCHR, S_IFMT } from './inode.js';

/** do_sys_open(): ENOENT for a missing node, ENXIO when no driver answers for its dev_t. */
export function doSysOpen(devtmpfs: Devtmpfs, chrdev: CharDevices, path: string, flags: number): File {
  const inode = path.startsWith('/dev/') ? devtmpfs.openInode(path) : null;
  if (inode === null) throw kerr('ENOENT', 'open', { path });
  try {
    if ((inode.mode & S_IFMT) !== S_IFCHR) throw kerr('ENXIO', 'open', { path });
    const file = chrdev.chrdevOpen(inode, flags);
    file.cleanup.unshift(() => iput(inode));
    return file;
  } catch (e) {
    iput(inode);
    throw e;
  }
}
