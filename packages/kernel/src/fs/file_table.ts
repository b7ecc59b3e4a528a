/**
 * include/linux/fs.h struct file and fs/file_table.c: an open file description, shared by the descriptors and
 * mappings that refer to it, released (->release, module and cdev references, inode) on the last fput().
 */
import type { Module } from '../kernel/module.js';
import type { VmAreaStruct } from '../mm/mm_types.js';
import type { MmStruct } from '../mm/mmap.js';
import type { AddressSpace, Inode } from './inode.js';

/** open(2) flags. */
export const O_RDONLY = 0o0;
export const O_WRONLY = 0o1;
export const O_RDWR = 0o2;
export const O_ACCMODE = 0o3;

/** f_mode bits: OPEN_FMODE(flags) is (flags + 1) & O_ACCMODE. */
export const FMODE_READ = 0x1;
export const FMODE_WRITE = 0x2;

/** struct file_operations, the part drivers here implement. */
export interface FileOperations {
  /** Module pinned (fops_get) while a file is open. */
  owner?: Module | null;
  open?(inode: Inode, file: File): void;
  release?(inode: Inode, file: File): void;
  /** ->read(): copies into `buf` from `pos`; returns the count. Absent: read(2) fails with EINVAL. */
  read?(file: File, buf: Uint8Array, pos: number): number;
  /** ->write(): copies `buf` to `pos`; returns the count. Absent: write(2) fails with EINVAL. */
  write?(file: File, buf: Uint8Array, pos: number): number;
  /** ->mmap(): accepts or refuses (throwing a KernelError) the new vma, setting its ops and flags. */
  mmap?(file: File, vma: VmAreaStruct): void;
  /**
   * ->get_unmapped_area(): where a mapping of `len` bytes at page `pgoff` should go. `mm` is the calling
   * task's address space (current->mm in C); throws a KernelError when there is no room.
   */
  getUnmappedArea?(file: File, addr: number, len: number, pgoff: number, flags: number, mm: MmStruct): number;
  /**
   * ->unlocked_ioctl(): runs command `cmd` (an _IOC number) with `arg`, the JS object standing for the user
   * struct the C code copies in and out: input fields are read from it, output fields written back into it.
   * Returns the ioctl's (non-negative) result; throws a KernelError for a failure. Absent: ioctl(2) is ENOTTY.
   */
  unlockedIoctl?(file: File, cmd: number, arg: unknown): unknown;
}

/** struct file. */
export class File {
  readonly inode: Inode;
  fops: FileOperations;
  /** f_mapping: normally the inode's i_mapping; ->open may redirect it. */
  mapping: AddressSpace;
  /** f_flags (open(2) flags). */
  readonly flags: number;
  /** f_mode. */
  readonly mode: number;
  /** f_pos. */
  pos = 0;
  privateData: unknown = null;
  /** f_count. */
  count = 1;
  /** Run once on the last fput(), after ->release (module_put, cdev_put, iput). */
  readonly cleanup: Array<() => void> = [];

  constructor(inode: Inode, fops: FileOperations, flags: number) {
    this.inode = inode;
    this.fops = fops;
    this.mapping = inode.mapping;
    this.flags = flags;
    this.mode = (flags + 1) & O_ACCMODE;
  }
}

/** get_file(). */
export function getFile(file: File): File {
  file.count++;
  return file;
}

/** fput(): drops a reference; the last one calls ->release and drops what open took, newest first. */
export function fput(file: File): void {
  if (--file.count > 0) return;
  try {
    file.fops.release?.(file.inode, file);
  } finally {
    for (const undo of file.cleanup.splice(0).reverse()) undo();
  }
}
