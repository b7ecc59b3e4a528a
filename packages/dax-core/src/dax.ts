/**
 * include/linux/dax.h and struct dax_inode from drivers/dax/super.c: the anchor object for dax services
 * (patch 01), its host name (patch 03) and its dax_operations (patch 04).
 */
import { Cdev, Inode, type PfnT, type SuperBlock } from '@daxsim/kernel';

/** What a dax_operations provider returns for a direct_access request. */
export interface DirectAccess {
  /** Pages available at `kaddr` from the requested offset; 0 means none (dax_direct_access turns it into ERANGE). */
  avail: number;
  /** Kernel virtual address of the first page. */
  kaddr: number;
  pfn: PfnT;
}

/** struct dax_operations: in this era, one method. */
export interface DaxOperations {
  /**
   * ->direct_access(): translates `pgoff` into a kernel address and pfn, returning how many pages are
   * contiguous from there. Throws a KernelError (EIO for a bad block, ...) on failure.
   */
  directAccess(dax: DaxInode, pgoff: number, nrPages: number): DirectAccess;
}

/** The result of dax_direct_access(): a count, with an address only when the count is positive. */
export type DaxDirectAccessResult = DirectAccess | { avail: number; kaddr: null; pfn: null };

/** The inode of the dax pseudo-fs that embeds a dax_inode (container_of in C). */
export class DaxFsInode extends Inode {
  readonly dax: DaxInode;

  constructor(sb: SuperBlock) {
    super(sb);
    this.dax = new DaxInode(this);
  }
}

/** The cdev embedded in a dax_inode; inode_to_dax_inode() goes from i_cdev back to its dax_inode. */
export class DaxCdev extends Cdev {
  readonly dax: DaxInode;

  constructor(dax: DaxInode) {
    super();
    this.dax = dax;
  }
}

/**
 * struct dax_inode { inode; cdev; private; alive; host; ops }. Created only by allocDaxInode(); fields
 * change only through dax-core's functions.
 */
export class DaxInode<T = unknown> {
  readonly inode: DaxFsInode;
  readonly cdev: DaxCdev;
  /** Driver private data; null once killed. */
  private: T | null = null;
  /** !alive + an SRCU grace period == no new operations or mappings. */
  alive = false;
  /** Name of the device that provides this dax inode (e.g. "pmem0"), for dax_get_by_host. */
  host: string | null = null;
  ops: DaxOperations | null = null;
  /** Whether this inode sits in the host hash table. */
  hashed = false;
  /** Its node in a host hash chain (struct hlist_node list): the neighbours, null at either end. */
  hostPrev: DaxInode | null = null;
  hostNext: DaxInode | null = null;

  constructor(inode: DaxFsInode) {
    this.inode = inode;
    this.cdev = new DaxCdev(this as DaxInode);
  }
}
