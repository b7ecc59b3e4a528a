/**
 * fs/super.c and fs/libfs.c: superblocks, pseudo filesystems (mount_pseudo) and their shutdown
 * (kill_anon_super), which evicts unused inodes and reports inodes still busy.
 */
import type { Printk } from '../kernel/printk.js';
import { evict, type Inode } from './inode.js';

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
  readonly #inodes = new Set<Inode>();
  readonly #hash = new Map<number, Inode[]>();
  active = true;

  constructor(log: Printk, id: string, magic: number, op: SuperOperations) {
    this.log = log;
    this.id = id;
    this.magic = magic;
    this.op = op;
  }

  /** Inodes of this superblock, in use or cached. */
  get inodes(): ReadonlySet<Inode> {
    return this.#inodes;
  }

  hashChain(hashval: number): readonly Inode[] {
    return this.#hash.get(hashval) ?? [];
  }

  /** alloc_inode(): through s_op->alloc_inode when the filesystem has one. */
  allocInode(): Inode | null {
    const inode = this.op.allocInode ? this.op.allocInode(this) : null;
    if (inode !== null) this.#inodes.add(inode);
    return inode;
  }

  hashInode(inode: Inode): void {
    const chain = this.#hash.get(inode.hashval);
    if (chain) chain.push(inode);
    else this.#hash.set(inode.hashval, [inode]);
    inode.hashed = true;
  }

  unhashInode(inode: Inode): void {
    const chain = this.#hash.get(inode.hashval);
    if (chain) {
      const i = chain.indexOf(inode);
      if (i >= 0) chain.splice(i, 1);
      if (chain.length === 0) this.#hash.delete(inode.hashval);
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
