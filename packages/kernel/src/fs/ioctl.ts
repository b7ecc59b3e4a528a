/**
 * fs/ioctl.c: ioctl(2) on an open file. The C interface passes a user pointer the driver copies a struct
 * through; here `arg` is the JS object standing for that struct (input fields are read from it, output fields
 * written back into it by the driver, as copy_from_user / copy_to_user would), or a plain number.
 */
import { kerr } from '../errno.js';
import type { File } from './file_table.js';

/** include/uapi/asm-generic/ioctl.h: the fields of an ioctl command number. */
export const IOC_NRBITS = 8;
export const IOC_TYPEBITS = 8;
export const IOC_SIZEBITS = 14;
export const IOC_NRSHIFT = 0;
export const IOC_TYPESHIFT = IOC_NRSHIFT + IOC_NRBITS;
export const IOC_SIZESHIFT = IOC_TYPESHIFT + IOC_TYPEBITS;
export const IOC_DIRSHIFT = IOC_SIZESHIFT + IOC_SIZEBITS;
export const IOC_NONE = 0;
export const IOC_WRITE = 1;
export const IOC_READ = 2;

/** _IOC(dir, type, nr, size): a command number, as an unsigned 32-bit value. */
export function ioc(dir: number, type: number, nr: number, size: number): number {
  return (
    ((dir << IOC_DIRSHIFT) | (type << IOC_TYPESHIFT) | (nr << IOC_NRSHIFT) | (size << IOC_SIZESHIFT)) >>> 0
  );
}

/** _IOWR(type, nr, size): a command that copies a `size`-byte struct in and back out. */
export function iowr(type: number, nr: number, size: number): number {
  return ioc(IOC_READ | IOC_WRITE, type, nr, size);
}

/** _IOC_NR(cmd). */
export function iocNr(cmd: number): number {
  return (cmd >>> IOC_NRSHIFT) & ((1 << IOC_NRBITS) - 1);
}

/** _IOC_TYPE(cmd). */
export function iocType(cmd: number): number {
  return (cmd >>> IOC_TYPESHIFT) & ((1 << IOC_TYPEBITS) - 1);
}

/** _IOC_SIZE(cmd). */
export function iocSize(cmd: number): number {
  return (cmd >>> IOC_SIZESHIFT) & ((1 << IOC_SIZEBITS) - 1);
}

/** _IOC_DIR(cmd). */
export function iocDir(cmd: number): number {
  return (cmd >>> IOC_DIRSHIFT) & 3;
}

/** vfs_ioctl(): hands the command to the file's ->unlocked_ioctl; ENOTTY when the file operations have none. */
export function vfsIoctl(file: File, cmd: number, arg: unknown): unknown {
  const ioctl = file.fops.unlockedIoctl;
  if (ioctl === undefined) throw kerr('ENOTTY', 'ioctl');
  return ioctl.call(file.fops, file, cmd, arg);
}
