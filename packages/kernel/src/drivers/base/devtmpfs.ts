/**
 * drivers/base/devtmpfs.c: the /dev nodes the driver core creates for devices with a dev_t as they are added,
 * and deletes as they are removed. Each node has its inode (mode S_IFCHR or S_IFBLK, i_rdev), which open(2)
 * uses; an open file keeps the inode after the node is unlinked.
 */
import { Inode, iput, S_IFCHR, S_IFMT } from '../../fs/inode.js';
import { genericDeleteInode, mountPseudo, type SuperBlock } from '../../fs/super.js';
import type { Printk } from '../../kernel/printk.js';

/** include/uapi/linux/magic.h TMPFS_MAGIC (devtmpfs is a tmpfs or ramfs instance). */
const TMPFS_MAGIC = 0x01021994;

interface DevNode {
  devt: number;
  mode: number;
  inode: Inode;
}

function nodeName(path: string): string {
  return path.replace(/^\/dev\//, '').replace(/^\/+/, '');
}

/**
 * cd_forget() (fs/char_dev.c, called from evict()): an inode going away leaves the list of the cdev it cached
 * in i_cdev, so the cdev does not keep pointing at a freed inode.
 */
function cdForget(inode: Inode): void {
  inode.cdev?.inodes.delete(inode);
  inode.cdev = null;
}

export class Devtmpfs {
  readonly #nodes = new Map<string, DevNode>();
  readonly #sb: SuperBlock;

  constructor(log: Printk) {
    this.#sb = mountPseudo(
      log,
      'devtmpfs',
      { allocInode: (sb) => new Inode(sb), dropInode: genericDeleteInode, destroyInode: cdForget },
      TMPFS_MAGIC,
    );
  }

  /**
   * devtmpfs_create_node(): mknod /dev/<name> (name may hold '/', as "bus/usb/001/002"). `mode` is the
   * permission bits, with S_IFBLK for a block device (S_IFCHR when no type is given). An existing node of
   * that name is left as it is, as vfs_mknod's EEXIST is ignored by device_add.
   */
  createNode(name: string, devt: number, mode = 0o600): void {
    if (this.#nodes.has(name)) return;
    const inode = this.#sb.allocInode()!;
    inode.mode = (mode & S_IFMT) === 0 ? S_IFCHR | mode : mode;
    inode.rdev = devt;
    this.#nodes.set(name, { devt, mode: mode & ~S_IFMT, inode });
  }

  /**
   * devtmpfs_delete_node(): unlinks /dev/<name> only when it is still the node of `devt` and of file type
   * `type` (S_IFCHR unless given), as dev_mynode checks.
   */
  deleteNode(name: string, devt: number, type = S_IFCHR): void {
    const node = this.#nodes.get(name);
    if (node?.devt !== devt || (node.inode.mode & S_IFMT) !== (type & S_IFMT)) return;
    this.#nodes.delete(name);
    iput(node.inode);
  }

  /** stat(2) of a node, "/dev/dax0.0" or "dax0.0": its dev_t, or undefined when absent. */
  lookup(path: string): number | undefined {
    return this.#nodes.get(nodeName(path))?.devt;
  }

  /** Permission bits of a node, or undefined when absent. */
  mode(path: string): number | undefined {
    return this.#nodes.get(nodeName(path))?.mode;
  }

  /** stat(2) of a node: st_mode (file type and permissions) and st_rdev, or undefined when absent. */
  stat(path: string): { mode: number; rdev: number } | undefined {
    const node = this.#nodes.get(nodeName(path));
    return node === undefined ? undefined : { mode: node.inode.mode, rdev: node.devt };
  }

  /** Path walk for open(2): the node's inode with a new reference (the caller iputs it), or null. */
  openInode(path: string): Inode | null {
    const node = this.#nodes.get(nodeName(path));
    if (node === undefined) return null;
    node.inode.count++;
    return node.inode;
  }

  /** Names of the nodes under /dev, sorted. */
  list(): string[] {
    return [...this.#nodes.keys()].sort();
  }

  /** Inodes alive, linked or held open (for leak checks). */
  get inodes(): number {
    return this.#sb.inodes.size;
  }
}
