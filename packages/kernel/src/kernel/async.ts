/**
 * kernel/async.c: work run outside the caller's context, after it returns, as async_schedule() does for device
 * registration on the nvdimm bus. Work items run one after another, each on its own macrotask, so the code that
 * scheduled them (a probe, a sysfs store) has finished before they start; async_synchronize_full() waits for every
 * item, including items scheduled by items.
 */
import { KERN_ERR, type Printk } from './printk.js';

export class AsyncDomain {
  readonly #log: Printk;
  #tail: Promise<void> = Promise.resolve();
  #pending = 0;

  constructor(log: Printk) {
    this.#log = log;
  }

  /** async_schedule(): runs `fn` later; an error it throws is logged, as nothing awaits it. */
  schedule(fn: () => unknown): void {
    this.#pending++;
    this.#tail = this.#tail
      .then(() => new Promise<void>((resolve) => setImmediate(resolve)))
      .then(async () => {
        await fn();
      })
      .catch((e: unknown) => this.#log.printk(KERN_ERR, `async work failed: ${(e as Error).message}`))
      .finally(() => {
        this.#pending--;
      });
  }

  /** async_synchronize_full(): resolves once no work is pending. */
  async synchronizeFull(): Promise<void> {
    while (this.#pending > 0) await this.#tail;
  }

  /** Work scheduled and not yet finished. */
  get pending(): number {
    return this.#pending;
  }
}
