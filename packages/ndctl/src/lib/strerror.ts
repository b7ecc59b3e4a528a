/**
 * strerror(3) as glibc prints it ("No such device or address"), for the tools' messages, and the negative errno
 * a failure carries (a command's return value before run_builtin() masks it into the exit status).
 */
import { errnoName, errnoValue, isErrno, strerror as kstrerror } from '@daxsim/kernel';

/**
 * glibc's strerror() text for the errno of `e`: a kernel error, a Node system error, an errno name, or an errno
 * value (either sign).
 */
export function libcStrerror(e: unknown): string {
  const code =
    typeof e === 'string' ? e : typeof e === 'number' ? errnoName(e) : (e as { code?: unknown } | null)?.code;
  if (typeof code === 'string')
    try {
      const text = kstrerror(code as Parameters<typeof kstrerror>[0]);
      return text.charAt(0).toUpperCase() + text.slice(1);
    } catch {
      // not an errno this kernel knows
    }
  const errno = typeof e === 'number' ? e : (e as { errno?: unknown } | null)?.errno;
  return typeof errno === 'number' ? `Unknown error ${Math.abs(errno)}` : String(e);
}

/** The negative errno of a failure (-EIO for one that carries none). */
export function negErrno(e: unknown): number {
  if (isErrno(e)) return -errnoValue(e.code);
  const errno = (e as { errno?: unknown } | null)?.errno;
  return typeof errno === 'number' ? -Math.abs(errno) : -errnoValue('EIO');
}

/** glibc strerror(3) of an errno number as C passes it: "Success" for 0, "Unknown error <n>" below 0. */
export function strerror(errnum: number): string {
  if (errnum === 0) return 'Success';
  return errnum < 0 ? `Unknown error ${errnum}` : libcStrerror(errnum);
}
