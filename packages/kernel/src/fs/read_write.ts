/**
 * fs/read_write.c: read(2), write(2), pread64(2) and pwrite64(2) through a file's ->read and ->write. EBADF
 * when the file was not opened for the access, EINVAL when the driver has no such method.
 */
import { kerr } from '../errno.js';
import { type File, FMODE_READ, FMODE_WRITE } from './file_table.js';

/** vfs_read(): reads into `buf` at `pos` (the file position when omitted, which then advances). */
export function vfsRead(file: File, buf: Uint8Array, pos?: number): number {
  if (!(file.mode & FMODE_READ)) throw kerr('EBADF', 'read');
  const read = file.fops.read;
  if (read === undefined) throw kerr('EINVAL', 'read');
  const n = read.call(file.fops, file, buf, pos ?? file.pos);
  if (pos === undefined) file.pos += n;
  return n;
}

/** vfs_write(): writes `buf` at `pos` (the file position when omitted, which then advances). */
export function vfsWrite(file: File, buf: Uint8Array, pos?: number): number {
  if (!(file.mode & FMODE_WRITE)) throw kerr('EBADF', 'write');
  const write = file.fops.write;
  if (write === undefined) throw kerr('EINVAL', 'write');
  const n = write.call(file.fops, file, buf, pos ?? file.pos);
  if (pos === undefined) file.pos += n;
  return n;
}
