/** include/linux/kdev_t.h: the kernel's dev_t, 12 bits of major above 20 bits of minor. */

export const MINORBITS = 20;
export const MINORMASK = (1 << MINORBITS) - 1;

/** MKDEV(ma, mi). */
export function mkdev(ma: number, mi: number): number {
  return ((ma << MINORBITS) | mi) >>> 0;
}

/** MAJOR(dev). */
export function major(dev: number): number {
  return dev >>> MINORBITS;
}

/** MINOR(dev). */
export function minor(dev: number): number {
  return dev & MINORMASK;
}
