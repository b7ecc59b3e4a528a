/**
 * include/linux/kref.h over refcount_t: a reference count whose last put runs a release function.
 * Misuse (get on zero, put below zero) is reported the way refcount_t does, through WARN.
 */
import type { Printk } from '../kernel/printk.js';

export class Kref {
  #refcount = 1;
  readonly #log: Printk;

  /** kref_init(): the count starts at one, owned by the creator. */
  constructor(log: Printk) {
    this.#log = log;
  }

  /** kref_read(). */
  read(): number {
    return this.#refcount;
  }

  /** kref_get(): takes a reference; getting a released object warns ("increment on 0; use-after-free"). */
  get(): void {
    if (
      this.#log.warn(
        this.#refcount === 0,
        'lib/refcount.c:refcount_inc',
        'refcount_t: increment on 0; use-after-free.',
      )
    )
      return;
    this.#refcount++;
  }

  /** kref_get_unless_zero(): takes a reference only while the object is still live. */
  getUnlessZero(): boolean {
    if (this.#refcount === 0) return false;
    this.#refcount++;
    return true;
  }

  /** kref_put(): drops a reference; the last one calls `release` and returns true. */
  put(release: () => void): boolean {
    if (
      this.#log.warn(
        this.#refcount === 0,
        'lib/refcount.c:refcount_dec',
        'refcount_t: underflow; use-after-free.',
      )
    )
      return false;
    if (--this.#refcount !== 0) return false;
    release();
    return true;
  }
}
