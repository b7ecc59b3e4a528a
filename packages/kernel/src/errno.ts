/**
 * include/uapi/asm-generic/errno-base.h and errno.h: the error numbers the modeled kernel returns, and the
 * Node-shaped error that carries them to callers.
 */

/** errno values and their strerror texts, as Linux numbers them. */
const ERRNO = {
  EPERM: [1, 'operation not permitted'],
  ENOENT: [2, 'no such file or directory'],
  ESRCH: [3, 'no such process'],
  EINTR: [4, 'interrupted system call'],
  EIO: [5, 'input/output error'],
  ENXIO: [6, 'no such device or address'],
  E2BIG: [7, 'argument list too long'],
  EBADF: [9, 'bad file descriptor'],
  EAGAIN: [11, 'resource temporarily unavailable'],
  ENOMEM: [12, 'cannot allocate memory'],
  EACCES: [13, 'permission denied'],
  EFAULT: [14, 'bad address'],
  EBUSY: [16, 'device or resource busy'],
  EEXIST: [17, 'file exists'],
  ENODEV: [19, 'no such device'],
  ENOTDIR: [20, 'not a directory'],
  EISDIR: [21, 'is a directory'],
  EINVAL: [22, 'invalid argument'],
  ENOTTY: [25, 'inappropriate ioctl for device'],
  EFBIG: [27, 'file too large'],
  ENOSPC: [28, 'no space left on device'],
  EROFS: [30, 'read-only file system'],
  ERANGE: [34, 'numerical result out of range'],
  ENAMETOOLONG: [36, 'file name too long'],
  ENOSYS: [38, 'function not implemented'],
  ENOTEMPTY: [39, 'directory not empty'],
  ENODATA: [61, 'no data available'],
  EOVERFLOW: [75, 'value too large for defined data type'],
  EOPNOTSUPP: [95, 'operation not supported'],
  ETIMEDOUT: [110, 'connection timed out'],
  EPROBE_DEFER: [517, 'driver requests probe retry'],
} as const satisfies Record<string, readonly [number, string]>;

/** EWOULDBLOCK is EAGAIN on Linux; module unload reports it under this name. */
const ALIASES = { EWOULDBLOCK: 'EAGAIN' } as const;

export type ErrnoCode = keyof typeof ERRNO | keyof typeof ALIASES;

/** Positive errno value of `code` (EINVAL -> 22). */
export function errnoValue(code: ErrnoCode): number {
  const key = code in ALIASES ? ALIASES[code as keyof typeof ALIASES] : (code as keyof typeof ERRNO);
  return ERRNO[key][0];
}

/** strerror(3) text for `code`, lower-cased the way Node prints system errors. */
export function strerror(code: ErrnoCode): string {
  const key = code in ALIASES ? ALIASES[code as keyof typeof ALIASES] : (code as keyof typeof ERRNO);
  return ERRNO[key][1];
}

/** Name of a positive or negative errno value (-22 -> 'EINVAL'), or undefined when unknown. */
export function errnoName(value: number): ErrnoCode | undefined {
  const n = Math.abs(value);
  for (const [code, [v]] of Object.entries(ERRNO)) if (v === n) return code as ErrnoCode;
  return undefined;
}

export interface KernelErrorDetails {
  /** File path the operation was about, as Node's fs errors carry it. */
  path?: string;
}

/**
 * An error returned by the modeled kernel, in Node's system-error shape: `code`, negative `errno`,
 * `syscall` naming the kernel operation, message `CODE: description, operation`.
 * Callers check `code`, never `instanceof`, since packages may carry their own copy of this class.
 */
export class KernelError extends Error {
  readonly code: ErrnoCode;
  readonly errno: number;
  readonly syscall: string;
  readonly path: string | undefined;

  constructor(code: ErrnoCode, syscall: string, details: KernelErrorDetails = {}) {
    const where = details.path === undefined ? syscall : `${syscall} '${details.path}'`;
    super(`${code}: ${strerror(code)}, ${where}`);
    this.name = 'KernelError';
    this.code = code;
    this.errno = -errnoValue(code);
    this.syscall = syscall;
    this.path = details.path;
  }
}

/** Shorthand for `new KernelError(code, syscall, details)`, used in `throw` statements. */
export function kerr(code: ErrnoCode, syscall: string, details?: KernelErrorDetails): KernelError {
  return new KernelError(code, syscall, details);
}

/** True when `e` is a kernel error (of any copy of this package) with the given code. */
export function isErrno(e: unknown, code?: ErrnoCode): e is KernelError {
  if (typeof e !== 'object' || e === null) return false;
  const c = (e as { code?: unknown }).code;
  const n = (e as { errno?: unknown }).errno;
  if (typeof c !== 'string' || typeof n !== 'number') return false;
  return code === undefined || c === code || (code in ALIASES && ALIASES[code as keyof typeof ALIASES] === c);
}
