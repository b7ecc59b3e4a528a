/**
 * fs/inode.c: inodes, the per-superblock inode hash (iget5_locked), reference counting (igrab/iput) and
 * eviction on the last put.
 */
import type { VmAreaStruct } from '../mm/mm_types.js';
import type { Cdev } from './char_dev.js';
import type { SuperBlock } from './super.js';

/** include/uapi/linux/stat.h */
export const S_IFMT = 0o170000;
export const S_IFCHR = 0o020000;
export const S_IFBLK = 0o060000;
export const S_IFDIR = 0o040000;
export const S_IFREG = 0o100000;

/** include/linux/fs.h i_flags */
export const S_DAX = 8192;

/** include/linux/fs.h i_state bits */
export const I_NEW = 1 << 3;
export const I_WILL_FREE = 1 << 4;
export const I_FREEING = 1 << 5;
export const I_CLEAR = 1 << 6;

/** include/linux/gfp.h GFP_USER, kept on the mapping as the kernel does. */
export const GFP_USER = 0x14000c0;

/** struct address_space: the page-cache / mapping side of an inode. */
export class AddressSpace {
  host: Inode;
  gfpMask = 0;
  /** i_mmap: every vma that maps this address space (an interval tree in the kernel). */
  readonly iMmap = new Set<VmAreaStruct>();

  constructor(host: Inode) {
    this.host = host;
  }
}

/** struct inode. Fields keep the kernel's names without the i_ prefix. */
export class Inode {
  readonly sb: SuperBlock;
  ino = 0;
  mode = 0;
  flags = 0;
  rdev = 0;
  state = 0;
  /** i_count: references held. */
  count = 1;
  cdev: Cdev | null = null;
  /** i_data: the inode's own address space. */
  readonly data: AddressSpace;
  /** i_mapping: normally &i_data; a chardev open may point it at another inode's mapping. */
  mapping: AddressSpace;
  /** i_private. */
  private: unknown = null;
  /** The hash value the inode was looked up with (i_hash bucket). */
  hashval = 0;
  hashed = false;
  /** i_sb_list: neighbours on the superblock's list of inodes (null at either end, or when off the list). */
  sbPrev: Inode | null = null;
  sbNext: Inode | null = null;

  /** inode_init_always(). */
  constructor(sb: SuperBlock) {
    this.sb = sb;
    this.data = new AddressSpace(this);
    this.mapping = this.data;
  }
}

/** super_operations->alloc_inode may return a subclass; this is the constructor it calls. */
export type InodeTest<T> = (inode: Inode, data: T) => boolean;
export type InodeSet<T> = (inode: Inode, data: T) => void;

/**
 * iget5_locked(): finds the inode in `sb` with this hash value that `test` accepts and takes a reference, or
 * allocates one through the superblock, calls `set` on it and returns it hashed with I_NEW set.
 * Returns null when allocation fails. Inodes being freed are never returned.
 */
export function iget5Locked<T>(
  sb: SuperBlock,
  hashval: number,
  test: InodeTest<T>,
  set: InodeSet<T>,
  data: T,
): Inode | null {
  for (const inode of sb.hashChain(hashval)) {
    if (inode.hashval !== hashval || inode.state & (I_FREEING | I_WILL_FREE)) continue;
    if (!test(inode, data)) continue;
    inode.count++;
    return inode;
  }
  const inode = sb.allocInode();
  if (inode === null) return null;
  set(inode, data);
  inode.state = I_NEW;
  inode.hashval = hashval;
  sb.hashInode(inode);
  return inode;
}

/** unlock_new_inode(): the inode is fully set up; clears I_NEW. */
export function unlockNewInode(inode: Inode): void {
  inode.state &= ~I_NEW;
}

/** igrab(): a new reference, or null when the inode is already on its way out. */
export function igrab(inode: Inode): Inode | null {
  if (inode.state & (I_FREEING | I_WILL_FREE) || inode.count === 0) return null;
  inode.count++;
  return inode;
}

/**
 * iput(): drops a reference. On the last one the superblock's drop_inode decides: evict now
 * (generic_delete_inode) or keep the unused inode cached until the superblock is shut down.
 */
export function iput(inode: Inode): void {
  const log = inode.sb.log;
  if (log.warn(inode.count <= 0, 'fs/inode.c:iput', `iput() on inode with i_count ${inode.count}`)) return;
  if (--inode.count > 0) return;
  if (inode.sb.dropInode(inode)) evict(inode);
}

/** evict(): unhashes the inode, removes it from its superblock and hands it to destroy_inode. */
export function evict(inode: Inode): void {
  inode.state |= I_FREEING;
  inode.sb.unhashInode(inode);
  inode.state = I_FREEING | I_CLEAR;
  inode.sb.destroyInode(inode);
}
