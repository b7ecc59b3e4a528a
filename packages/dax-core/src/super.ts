/**
 * drivers/dax/super.c (dax.ko): the dax pseudo-filesystem as a generic provider of dax inodes. A dax
 * inode carries a minor of the "dax" chrdev region, driver private data and, optionally, a host name and
 * dax_operations; its liveness is guarded by SRCU so that kill waits for every operation that saw it alive.
 */
import {
  type CdevParent,
  type FileOperations,
  type FileSystemType,
  fullNameHash,
  GFP_USER,
  genericDeleteInode,
  hash32,
  I_NEW,
  Ida,
  type Inode,
  iget5Locked,
  igrab,
  iput,
  type Kernel,
  kerr,
  killAnonSuper,
  type Module,
  type ModuleContext,
  type ModuleDefinition,
  major,
  minor,
  mkdev,
  mountPseudo,
  S_DAX,
  S_IFCHR,
  SrcuStruct,
  type SuperBlock,
  unlockNewInode,
  type Vfsmount,
} from '@daxsim/kernel';
import { DaxCdev, type DaxDirectAccessResult, DaxFsInode, type DaxInode, type DaxOperations } from './dax.js';

/** include/uapi/linux/magic.h DAXFS_MAGIC. */
export const DAXFS_MAGIC = 0x64646178;
/** CONFIG_NR_DEV_DAX default. */
export const CONFIG_NR_DEV_DAX = 32768;
/** The module raises nr_dax to at least this many minors. */
export const NR_DAX_MIN = 256;
/** DAX_HASH_SIZE: PAGE_SIZE / sizeof(struct hlist_head). */
export const DAX_HASH_SIZE = 512;

export interface DaxParams {
  /** Maximum number of dax inodes (minors of the "dax" chrdev region). */
  nr_dax: number;
}

/** The symbols dax.ko exports. */
export interface DaxCore {
  /** alloc_dax_inode(): a live dax inode with a fresh minor, or null when minors or memory run out. */
  allocDaxInode<T>(priv: T, host?: string | null, ops?: DaxOperations | null): DaxInode<T> | null;
  /** put_dax_inode(): drops a reference (null-safe); the last put frees the minor after an RCU grace period. */
  putDaxInode(dax: DaxInode | null): void;
  /** kill_dax_inode(): marks the inode dead, unhashes its host and waits for readers that saw it alive. */
  killDaxInode(dax: DaxInode | null): Promise<void>;
  /** dax_inode_alive(): liveness; valid only inside dax_read_lock(). */
  daxInodeAlive(dax: DaxInode): boolean;
  /** dax_read_lock(): enters an SRCU read-side section; returns the index for daxReadUnlock. */
  daxReadLock(): number;
  /** dax_read_unlock(). */
  daxReadUnlock(id: number): void;
  /** dax_get_by_host(): a counted reference to the live dax inode registered under `host`, or null. */
  daxGetByHost(host: string | null | undefined): DaxInode | null;
  /** dax_direct_access(): EOPNOTSUPP for no inode, ENXIO when dead, ERANGE when nothing is available. */
  daxDirectAccess(dax: DaxInode | null, pgoff: number, nrPages: number): DaxDirectAccessResult;
  /** inode_to_dax_inode(): the dax inode whose cdev `inode` refers to, or null. */
  inodeToDaxInode(inode: Inode): DaxInode | null;
  /** dax_inode_to_inode(). */
  daxInodeToInode(dax: DaxInode): Inode;
  /** dax_inode_get_private(): the driver's private data (null after kill). */
  daxInodeGetPrivate<T>(dax: DaxInode<T>): T | null;
  /** dax_inode_register(): cdev_init + cdev_add of the inode's cdev at its dev_t; throws on failure. */
  daxInodeRegister(
    dax: DaxInode,
    fops: FileOperations,
    owner: Module | null | undefined,
    parent: CdevParent | null,
  ): void;
  /** dax_inode_unregister(): cdev_del. */
  daxInodeUnregister(dax: DaxInode): void;
  /** First dev_t of the "dax" chrdev region. */
  readonly devt: number;
  /** The nr_dax in force (at least 256). */
  readonly nrDax: number;
  /** Counts for leak checks: allocated minors, dax inodes not yet freed, hashed hosts, SRCU readers. */
  stats(): { minors: number; inodes: number; hosts: number; readers: number };
}

/** State of one loaded instance of dax.ko. */
class DaxFs implements DaxCore {
  readonly #kernel: Kernel;
  readonly #minorIda: Ida;
  readonly #srcu: SrcuStruct;
  /**
   * dax_host_list[DAX_HASH_SIZE]: hlist heads. Each dax inode links itself into its bucket's chain, so adding
   * and removing one cost the same at any population.
   */
  readonly #hosts = new Array<DaxInode | null>(DAX_HASH_SIZE).fill(null);
  #hostCount = 0;
  readonly #fsType: FileSystemType;
  #mnt: Vfsmount | null = null;
  #sb: SuperBlock | null = null;
  #inodes = 0;
  devt = 0;
  nrDax: number;

  constructor(kernel: Kernel, nrDax: number) {
    this.#kernel = kernel;
    this.nrDax = nrDax;
    this.#minorIda = new Ida(kernel.log, 'dax_minor_ida', kernel.faultInject, kernel.kmemleak);
    this.#srcu = new SrcuStruct(kernel.log, 'dax_srcu');
    this.#fsType = {
      name: 'dax',
      mount: () => this.#mount(),
      killSb: killAnonSuper,
    };
  }

  /** dax_fs_init(): register and mount the pseudo-fs, then reserve the chrdev region. */
  init(): void {
    const { fs, chrdev } = this.#kernel;
    fs.registerFilesystem(this.#fsType);
    try {
      this.#mnt = fs.kernMount(this.#fsType);
      this.#sb = this.#mnt.sb;
    } catch (e) {
      fs.unregisterFilesystem(this.#fsType);
      throw e;
    }
    this.nrDax = Math.max(this.nrDax, NR_DAX_MIN);
    try {
      this.devt = chrdev.allocChrdevRegion(0, this.nrDax, 'dax');
    } catch (e) {
      this.#fsExit();
      throw e;
    }
  }

  /** dax_fs_exit(): waits for pending inode frees, then undoes init in reverse order. */
  async exit(): Promise<void> {
    await this.#kernel.rcu.barrier();
    this.#kernel.chrdev.unregisterChrdevRegion(this.devt, this.nrDax);
    this.#minorIda.destroy();
    this.#fsExit();
    this.#srcu.cleanup();
  }

  #fsExit(): void {
    const { fs, log } = this.#kernel;
    if (this.#mnt) fs.kernUnmount(this.#mnt);
    this.#mnt = null;
    this.#sb = null;
    fs.unregisterFilesystem(this.#fsType);
    if (this.#inodes > 0) log.err('kmem_cache_destroy dax_cache: Slab cache still has objects');
  }

  #mount(): SuperBlock {
    return mountPseudo(
      this.#kernel.log,
      'dax:',
      {
        allocInode: (sb) => {
          if (this.#kernel.faultInject.should('alloc_inode')) return null;
          this.#inodes++;
          return new DaxFsInode(sb);
        },
        destroyInode: (inode) => this.#destroyInode(inode as DaxFsInode),
        dropInode: genericDeleteInode,
        statfs: () => ({ type: DAXFS_MAGIC }),
      },
      DAXFS_MAGIC,
    );
  }

  /**
   * dax_destroy_inode(): a final put of a live inode warns once. Its minor is released, and its memory
   * freed, only in an RCU callback, so the minor cannot be reused before a grace period has passed. The
   * kernel would leave a still-alive inode linked in the host hash; the model unlinks it so no lookup can
   * reach a freed inode.
   */
  #destroyInode(inode: DaxFsInode): void {
    const dax = inode.dax;
    this.#kernel.log.warnOnce(
      dax.alive,
      'drivers/dax/super.c:dax_destroy_inode',
      'kill_dax_inode() must be called before final iput()',
    );
    this.#unhashHost(dax);
    this.#kernel.rcu.callRcu(() => {
      dax.host = null;
      this.#minorIda.simpleRemove(minor(inode.rdev));
      this.#inodes--;
    });
  }

  /** dax_inode_get(): iget5_locked on the devt; a new inode starts alive, S_IFCHR, S_DAX. */
  #daxInodeGet(devt: number): DaxInode | null {
    const sb = this.#sb;
    if (sb === null) return null;
    const inode = iget5Locked(
      sb,
      hash32(devt + DAXFS_MAGIC, 31),
      (i, d: number) => i.rdev === d,
      (i, d: number) => {
        i.rdev = d;
      },
      devt,
    ) as DaxFsInode | null;
    if (inode === null) return null;
    const dax = inode.dax;
    if (inode.state & I_NEW) {
      dax.alive = true;
      inode.cdev = dax.cdev;
      inode.mode = S_IFCHR;
      inode.flags = S_DAX;
      inode.data.gfpMask = GFP_USER;
      unlockNewInode(inode);
    }
    return dax;
  }

  allocDaxInode<T>(
    priv: T,
    host: string | null = null,
    ops: DaxOperations | null = null,
  ): DaxInode<T> | null {
    let id: number;
    try {
      id = this.#minorIda.simpleGet(0, this.nrDax);
    } catch {
      return null;
    }
    const dax = this.#daxInodeGet(mkdev(major(this.devt), id)) as DaxInode<T> | null;
    if (dax === null) {
      this.#minorIda.simpleRemove(id);
      return null;
    }
    this.#hashHost(dax as DaxInode, host);
    dax.ops = ops;
    dax.private = priv;
    return dax;
  }

  putDaxInode(dax: DaxInode | null): void {
    if (dax === null) return;
    iput(dax.inode);
  }

  async killDaxInode(dax: DaxInode | null): Promise<void> {
    if (dax === null) return;
    dax.alive = false;
    this.#unhashHost(dax);
    await this.#srcu.synchronize();
    dax.private = null;
  }

  daxInodeAlive(dax: DaxInode): boolean {
    this.#kernel.log.warnOnce(
      !this.#srcu.readLockHeld(),
      'drivers/dax/super.c:dax_inode_alive',
      'suspicious RCU usage: dax operations require dax_read_lock()',
    );
    return dax.alive;
  }

  daxReadLock(): number {
    return this.#srcu.readLock();
  }

  daxReadUnlock(id: number): void {
    this.#srcu.readUnlock(id);
  }

  daxGetByHost(host: string | null | undefined): DaxInode | null {
    if (host === null || host === undefined) return null;
    const id = this.daxReadLock();
    try {
      for (let dax = this.#hosts[daxHostHash(host)] ?? null; dax !== null; dax = dax.hostNext) {
        if (!this.daxInodeAlive(dax) || dax.host !== host) continue;
        return igrab(dax.inode) === null ? null : dax;
      }
      return null;
    } finally {
      this.daxReadUnlock(id);
    }
  }

  daxDirectAccess(dax: DaxInode | null, pgoff: number, nrPages: number): DaxDirectAccessResult {
    if (dax === null) throw kerr('EOPNOTSUPP', 'dax_direct_access');
    if (!this.daxInodeAlive(dax)) throw kerr('ENXIO', 'dax_direct_access');
    if (nrPages < 0) return { avail: nrPages, kaddr: null, pfn: null };
    if (dax.ops === null) throw kerr('EOPNOTSUPP', 'dax_direct_access');
    const got = dax.ops.directAccess(dax, pgoff, nrPages);
    if (got.avail === 0) throw kerr('ERANGE', 'dax_direct_access');
    return { ...got, avail: Math.min(got.avail, nrPages) };
  }

  inodeToDaxInode(inode: Inode): DaxInode | null {
    return inode.cdev instanceof DaxCdev ? inode.cdev.dax : null;
  }

  daxInodeToInode(dax: DaxInode): Inode {
    return dax.inode;
  }

  daxInodeGetPrivate<T>(dax: DaxInode<T>): T | null {
    return dax.private;
  }

  daxInodeRegister(
    dax: DaxInode,
    fops: FileOperations,
    owner: Module | null | undefined,
    parent: CdevParent | null,
  ): void {
    const { cdev } = dax;
    cdev.ops = fops;
    cdev.owner = owner ?? null;
    cdev.parent = parent;
    this.#kernel.chrdev.cdevAdd(cdev, dax.inode.rdev, 1);
  }

  daxInodeUnregister(dax: DaxInode): void {
    this.#kernel.chrdev.cdevDel(dax.cdev);
  }

  stats(): { minors: number; inodes: number; hosts: number; readers: number } {
    return {
      minors: this.#minorIda.count,
      inodes: this.#inodes,
      hosts: this.#hostCount,
      readers: this.#srcu.readers,
    };
  }

  /** dax_add_host(). */
  #hashHost(dax: DaxInode, host: string | null): void {
    dax.host = host;
    if (host === null) return;
    const bucket = daxHostHash(host);
    const head = this.#hosts[bucket] ?? null;
    dax.hostPrev = null;
    dax.hostNext = head;
    if (head !== null) head.hostPrev = dax;
    this.#hosts[bucket] = dax;
    dax.hashed = true;
    this.#hostCount++;
  }

  #unhashHost(dax: DaxInode): void {
    if (!dax.hashed || dax.host === null) return;
    const { hostPrev: prev, hostNext: next } = dax;
    if (prev === null) this.#hosts[daxHostHash(dax.host)] = next;
    else prev.hostNext = next;
    if (next !== null) next.hostPrev = prev;
    dax.hostPrev = null;
    dax.hostNext = null;
    dax.hashed = false;
    this.#hostCount--;
  }
}

/** dax_host_hash(): bucket of a host name in the 512-entry host table. */
function daxHostHash(host: string): number {
  return fullNameHash('DAX', host) % DAX_HASH_SIZE;
}

/** Where a loaded dax.ko keeps its state on the API object it returned. */
const STATE = Symbol('dax_fs');
type DaxCoreWithState = DaxCore & { readonly [STATE]: DaxFs };

/** dax.ko: `kernel.modules.modprobe(daxModule, { nr_dax })` returns the DaxCore API. */
export const daxModule: ModuleDefinition<DaxParams, DaxCore> = {
  name: 'dax',
  description: 'drivers/dax/super.c: generic provider of dax inodes',
  params: {
    nr_dax: { default: CONFIG_NR_DEV_DAX, perm: 0o444, description: 'max number of dax device instances' },
  },
  init(ctx: ModuleContext<DaxParams>): DaxCore {
    const daxfs = new DaxFs(ctx.kernel, ctx.params.nr_dax);
    daxfs.init();
    ctx.params.nr_dax = daxfs.nrDax;
    return bindApi(daxfs);
  },
  async exit(api: DaxCore): Promise<void> {
    await (api as DaxCoreWithState)[STATE].exit();
  },
};

/** The exported symbols as free functions, so callers may destructure them. */
function bindApi(d: DaxFs): DaxCoreWithState {
  return {
    [STATE]: d,
    allocDaxInode: (priv, host, ops) => d.allocDaxInode(priv, host, ops),
    putDaxInode: (dax) => d.putDaxInode(dax),
    killDaxInode: (dax) => d.killDaxInode(dax),
    daxInodeAlive: (dax) => d.daxInodeAlive(dax),
    daxReadLock: () => d.daxReadLock(),
    daxReadUnlock: (id) => d.daxReadUnlock(id),
    daxGetByHost: (host) => d.daxGetByHost(host),
    daxDirectAccess: (dax, pgoff, nr) => d.daxDirectAccess(dax, pgoff, nr),
    inodeToDaxInode: (inode) => d.inodeToDaxInode(inode),
    daxInodeToInode: (dax) => d.daxInodeToInode(dax),
    daxInodeGetPrivate: (dax) => d.daxInodeGetPrivate(dax),
    daxInodeRegister: (dax, fops, owner, parent) => d.daxInodeRegister(dax, fops, owner, parent),
    daxInodeUnregister: (dax) => d.daxInodeUnregister(dax),
    get devt() {
      return d.devt;
    },
    get nrDax() {
      return d.nrDax;
    },
    stats: () => d.stats(),
  };
}
