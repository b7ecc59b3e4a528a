/**
 * fs/filesystems.c and fs/namespace.c: the list of registered filesystem types (/proc/filesystems) and
 * kernel-internal mounts (kern_mount / kern_unmount).
 */
import { kerr } from '../errno.js';
import type { Printk } from '../kernel/printk.js';
import type { SuperBlock } from './super.js';

/** struct file_system_type. */
export interface FileSystemType {
  name: string;
  /** FS_REQUIRES_DEV is absent for pseudo filesystems ("nodev" in /proc/filesystems). */
  requiresDev?: boolean;
  /** ->mount(): builds the superblock; throws a KernelError on failure. */
  mount(type: FileSystemType, flags: number, devName: string, data: unknown): SuperBlock;
  /** ->kill_sb(). */
  killSb(sb: SuperBlock): void;
}

/** struct vfsmount for a kernel-internal mount. */
export interface Vfsmount {
  readonly type: FileSystemType;
  readonly sb: SuperBlock;
}

export class Filesystems {
  readonly #types = new Map<string, FileSystemType>();
  readonly #mounts = new Set<Vfsmount>();
  readonly #log: Printk;

  constructor(log: Printk) {
    this.#log = log;
  }

  /** register_filesystem(): EBUSY when a type of that name is registered already. */
  registerFilesystem(type: FileSystemType): void {
    if (this.#types.has(type.name)) throw kerr('EBUSY', 'register_filesystem');
    this.#types.set(type.name, type);
  }

  /** unregister_filesystem(): EINVAL when the type is not registered. */
  unregisterFilesystem(type: FileSystemType): void {
    if (this.#types.get(type.name) !== type) throw kerr('EINVAL', 'unregister_filesystem');
    for (const mnt of this.#mounts)
      this.#log.warn(
        mnt.type === type,
        'fs/filesystems.c:unregister_filesystem',
        `${type.name}: unregistered while mounted`,
      );
    this.#types.delete(type.name);
  }

  /** kern_mount(): an internal mount of a registered type; ENODEV when it is not registered. */
  kernMount(type: FileSystemType): Vfsmount {
    if (this.#types.get(type.name) !== type) throw kerr('ENODEV', 'kern_mount');
    const sb = type.mount(type, 0, type.name, null);
    const mnt = { type, sb };
    this.#mounts.add(mnt);
    return mnt;
  }

  /** kern_unmount(): shuts the superblock down through the type's kill_sb. */
  kernUnmount(mnt: Vfsmount): void {
    if (!this.#mounts.delete(mnt)) return;
    mnt.type.killSb(mnt.sb);
  }

  /** Whether a type of this name is registered. */
  has(name: string): boolean {
    return this.#types.has(name);
  }

  /** Live kernel mounts (for leak checks). */
  get mounts(): number {
    return this.#mounts.size;
  }

  /** Inodes (in use or cached) of every live kernel mount, for leak checks. */
  get inodes(): number {
    let n = 0;
    for (const mnt of this.#mounts) n += mnt.sb.inodes.size;
    return n;
  }

  /** The sum of i_count over the inodes of every live kernel mount, for leak checks. */
  get inodeRefs(): number {
    let n = 0;
    for (const mnt of this.#mounts) for (const inode of mnt.sb.inodes) n += inode.count;
    return n;
  }

  /** The text of /proc/filesystems. */
  procFilesystems(): string {
    return [...this.#types.values()].map((t) => `${t.requiresDev ? '' : 'nodev'}\t${t.name}\n`).join('');
  }
}
