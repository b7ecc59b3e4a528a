/**
 * struct task_struct and the system calls a daxsim task makes: a process with an address space (mm) and a
 * file-descriptor table (fs/file.c), created by Kernel.spawn() as fork+exec would, torn down by exit().
 * Loads and stores through its mappings fault on first touch; a failed fault throws the signal it raises.
 */
import { kerr } from '../errno.js';
import { type File, fput, O_RDWR } from '../fs/file_table.js';
import { vfsIoctl } from '../fs/ioctl.js';
import { doSysOpen } from '../fs/open.js';
import { vfsRead, vfsWrite } from '../fs/read_write.js';
import { PAGE_SIZE } from '../include/pfn_t.js';
import type { Kernel } from '../kernel.js';
import { userAccess } from '../mm/fault.js';
import { MAP_ANONYMOUS } from '../mm/mm_types.js';
import { doMadvise, doMmap, doMunmap, exitMmap, MmStruct } from '../mm/mmap.js';

/** The lowest descriptor a task's own files get (0-2 are its standard streams, not modelled). */
const FIRST_FD = 3;

export class Task {
  readonly pid: number;
  /** comm: the name dmesg and signals show. */
  readonly comm: string;
  readonly mm: MmStruct;
  readonly #kernel: Kernel;
  readonly #files = new Map<number, File>();
  #dead = false;

  constructor(kernel: Kernel, pid: number, comm: string) {
    this.#kernel = kernel;
    this.pid = pid;
    this.comm = comm;
    this.mm = new MmStruct(kernel.physmem, kernel.faultEvents, comm);
  }

  /** Descriptors open in this task's table. */
  get openFiles(): number {
    return this.#files.size;
  }

  /** open(2): a new descriptor, the lowest free one. */
  open(path: string, flags = O_RDWR): number {
    this.#alive('open');
    const file = doSysOpen(this.#kernel.devtmpfs, this.#kernel.chrdev, path, flags, this.#kernel.block);
    let fd = FIRST_FD;
    while (this.#files.has(fd)) fd++;
    this.#files.set(fd, file);
    return fd;
  }

  /** close(2): EBADF for a descriptor that is not open; mappings keep the file open. */
  close(fd: number): void {
    const file = this.#file(fd, 'close');
    this.#files.delete(fd);
    fput(file);
  }

  /**
   * mmap(2) of a file; returns the start address. As sys_mmap does: an unaligned offset is EINVAL before the
   * descriptor is looked at, and the descriptor is ignored for MAP_ANONYMOUS.
   */
  mmap(addr: number, len: number, prot: number, flags: number, fd: number, offset: number): number {
    this.#alive('mmap');
    if (!Number.isInteger(offset) || offset % PAGE_SIZE !== 0) throw kerr('EINVAL', 'mmap');
    if (flags & MAP_ANONYMOUS) return doMmap(this.mm, null, addr, len, prot, flags, offset);
    const file = this.#files.get(fd);
    if (file === undefined) throw kerr('EBADF', 'mmap');
    return doMmap(this.mm, file, addr, len, prot, flags, offset);
  }

  /** munmap(2). */
  munmap(addr: number, len: number): void {
    this.#alive('munmap');
    doMunmap(this.mm, addr, len);
  }

  /** madvise(2) with MADV_DONTFORK or MADV_DOFORK. */
  madvise(addr: number, len: number, advice: number): void {
    this.#alive('madvise');
    doMadvise(this.mm, addr, len, advice);
  }

  /** read(2) at the file position. */
  read(fd: number, buf: Uint8Array): number {
    return vfsRead(this.#file(fd, 'read'), buf);
  }

  /** write(2) at the file position. */
  write(fd: number, buf: Uint8Array): number {
    return vfsWrite(this.#file(fd, 'write'), buf);
  }

  /** pread64(2). */
  pread(fd: number, buf: Uint8Array, pos: number): number {
    return vfsRead(this.#file(fd, 'pread64'), buf, pos);
  }

  /** pwrite64(2). */
  pwrite(fd: number, buf: Uint8Array, pos: number): number {
    return vfsWrite(this.#file(fd, 'pwrite64'), buf, pos);
  }

  /**
   * ioctl(2): command `cmd` on descriptor `fd`. `arg` is the JS object standing for the user struct (the
   * driver reads its input fields and writes its output fields back into it); returns the driver's result.
   */
  ioctl(fd: number, cmd: number, arg?: unknown): unknown {
    return vfsIoctl(this.#file(fd, 'ioctl'), cmd, arg);
  }

  /** A load of `dst.length` bytes (or `len` bytes into a new array) from user address `addr`. */
  load(addr: number, dst: Uint8Array | number): Uint8Array {
    this.#alive('load');
    const buf = typeof dst === 'number' ? new Uint8Array(dst) : dst;
    userAccess(this.mm, addr, buf, false, this.comm);
    return buf;
  }

  /** A store of `src` to user address `addr`. */
  store(addr: number, src: Uint8Array): void {
    this.#alive('store');
    userAccess(this.mm, addr, src, true, this.comm);
  }

  /** Open descriptors, ascending. */
  fds(): number[] {
    return [...this.#files.keys()].sort((a, b) => a - b);
  }

  /** do_exit(): unmaps everything and closes every descriptor. */
  exit(): void {
    if (this.#dead) return;
    this.#dead = true;
    exitMmap(this.mm);
    for (const fd of this.fds()) {
      const file = this.#files.get(fd)!;
      this.#files.delete(fd);
      fput(file);
    }
    this.#kernel.reapTask(this);
  }

  [Symbol.dispose](): void {
    this.exit();
  }

  #file(fd: number, syscall: string): File {
    this.#alive(syscall);
    const file = this.#files.get(fd);
    if (file === undefined) throw kerr('EBADF', syscall);
    return file;
  }

  #alive(syscall: string): void {
    if (this.#dead) throw kerr('ESRCH', syscall);
  }
}
