/**
 * fs/super.c and fs/libfs.c: superblocks, pseudo filesystems (mount_pseudo) and their shutdown
 * (kill_anon_super), which evicts unused inodes and reports inodes still busy.
 */
import { hash32 } from '../include/hash.js';
import type { Printk } from '../kernel/printk.js';
import { evict, type Inode } from './inode.js';

/** Bits of a new superblock's inode hash; the table doubles whenever it holds more inodes than buckets. */
const I_HASH_MIN_SHIFT = 6;
const NO_INODES: readonly Inode[] = [];

/** What a superblock shows of its inode list: how many, and each in the order they were added. */
export interface InodeList extends Iterable<Inode> {
  readonly size: number;
}

/**
 * sb->s_inodes: a list threaded through the inodes (i_sb_list), so adding and removing one costs the same at
 * any population. New inodes go at the tail (list_add puts them at the head): iteration is oldest first.
 */
class SbInodeList implements InodeList {
  #head: Inode | null = null;
  #tail: Inode | null = null;
  size = 0;

  add(inode: Inode): void {
    inode.sbPrev = this.#tail;
    inode.sbNext = null;
    if (this.#tail === null) this.#head = inode;
    else this.#tail.sbNext = inode;
    this.#tail = inode;
    this.size++;
  }

  /** Unlinks `inode`; an inode not on this list is left alone. */
  delete(inode: Inode): void {
    if (inode.sbPrev === null && this.#head !== inode) return;
    if (inode.sbPrev === null) this.#head = inode.sbNext;
    else inode.sbPrev.sbNext = inode.sbNext;
    if (inode.sbNext === null) this.#tail = inode.sbPrev;
    else inode.sbNext.sbPrev = inode.sbPrev;
    inode.sbPrev = null;
    inode.sbNext = null;
    this.size--;
  }

  *[Symbol.iterator](): Iterator<Inode> {
    for (let inode = this.#head; inode !== null; inode = inode.sbNext) yield inode;
  }
}

/** struct super_operations: the hooks a filesystem gives its superblock. */
export interface SuperOperations {
  /** Returns a new inode for `sb` (possibly a subclass of Inode), or null on allocation failure. */
  allocInode?(sb: SuperBlock): Inode | null;
  /** Called after eviction; frees the inode (possibly after an RCU grace period). */
  destroyInode?(inode: Inode): void;
  /** Return true to evict on the last iput (generic_delete_inode), false to keep it cached. */
  dropInode?(inode: Inode): boolean;
  statfs?(sb: SuperBlock): { type: number };
}

/** struct super_block. */
export class SuperBlock {
  readonly log: Printk;
  readonly id: string;
  readonly magic: number;
  readonly op: SuperOperations;
  readonly #inodes = new SbInodeList();
  /**
   * fs/inode.c inode_hashtable: chains indexed by hash(i_hash value), so adding and removing an inode cost the
   * same at any population. The kernel sizes its one table by RAM at boot; this one grows with its inodes.
   */
  #hash: (Inode[] | undefined)[] = new Array(1 << I_HASH_MIN_SHIFT);
  #hashShift = I_HASH_MIN_SHIFT;
  #hashCount = 0;
  active = true;

  constructor(log: Printk, id: string, magic: number, op: SuperOperations) {
    this.log = log;
    this.id = id;
    this.magic = magic;
    this.op = op;
  }

  /** Inodes of this superblock, in use or cached. */
  get inodes(): InodeList {
    return this.#inodes;
  }

  /** The chain `hashval` falls in; it may also hold inodes hashed under other values. */
  hashChain(hashval: number): readonly Inode[] {
    return this.#hash[hash32(hashval, this.#hashShift)] ?? NO_INODES;
  }

  /** alloc_inode(): through s_op->alloc_inode when the filesystem has one. */
  allocInode(): Inode | null {
    const inode = this.op.allocInode ? this.op.allocInode(this) : null;
    if (inode !== null) this.#inodes.add(inode);
    return inode;
  }

  hashInode(inode: Inode): void {
    if (this.#hashCount >= this.#hash.length) this.#growHash();
    this.#chainFor(inode.hashval).push(inode);
    this.#hashCount++;
    inode.hashed = true;
  }

  unhashInode(inode: Inode): void {
    const chain = this.#hash[hash32(inode.hashval, this.#hashShift)];
    const i = chain?.indexOf(inode) ?? -1;
    if (i >= 0) {
      chain!.splice(i, 1);
      this.#hashCount--;
    }
    inode.hashed = false;
    this.#inodes.delete(inode);
  }

  dropInode(inode: Inode): boolean {
    return this.op.dropInode ? this.op.dropInode(inode) : !this.active;
  }

  destroyInode(inode: Inode): void {
    this.op.destroyInode?.(inode);
  }

  #growHash(): void {
    const old = this.#hash;
    this.#hashShift++;
    this.#hash = new Array(1 << this.#hashShift);
    for (const chain of old)
      for (const inode of chain ?? NO_INODES) this.#chainFor(inode.hashval).push(inode);
  }

  #chainFor(hashval: number): Inode[] {
    const bucket = hash32(hashval, this.#hashShift);
    const chain = this.#hash[bucket];
    if (chain !== undefined) return chain;
    const fresh: Inode[] = [];
    this.#hash[bucket] = fresh;
    return fresh;
  }
}

/** generic_delete_inode(): always evict on the last put. */
export function genericDeleteInode(): boolean {
  return true;
}

/** mount_pseudo(): an internal superblock named `name` with magic `magic` and operations `op`. */
export function mountPseudo(log: Printk, name: string, op: SuperOperations, magic: number): SuperBlock {
  return new SuperBlock(log, name, magic, op);
}

/**
 * kill_anon_super() -> generic_shutdown_super(): evicts the unused inodes; any inode still referenced is
 * reported the way the VFS does, and left alone.
 */
export function killAnonSuper(sb: SuperBlock): void {
  sb.active = false;
  for (const inode of [...sb.inodes]) if (inode.count === 0) evict(inode);
  if (sb.inodes.size > 0)
    sb.log.err(`VFS: Busy inodes after unmount of ${sb.id}. Self-destruct in 5 seconds.  Have a nice day...`);
}
