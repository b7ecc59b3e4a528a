/**
 * kernel/rcu/tree.c: classic RCU. Read-side sections are synchronous (an RCU reader may not sleep, so in
 * JavaScript it may not await); a grace period ends on a later turn of the event loop once no reader is
 * inside a section, and then runs the callbacks queued before it.
 */
import type { Printk } from '../printk.js';

interface Batch {
  callbacks: Array<() => void>;
  waiters: Array<() => void>;
}

export class Rcu {
  readonly #log: Printk;
  #readers = 0;
  #next: Batch | null = null;
  #completed = 0;

  constructor(log: Printk) {
    this.#log = log;
  }

  /** rcu_read_lock(). */
  readLock(): void {
    this.#readers++;
  }

  /** rcu_read_unlock(). */
  readUnlock(): void {
    if (
      this.#log.warn(
        this.#readers === 0,
        'kernel/rcu/tree.c:rcu_read_unlock',
        'rcu_read_unlock() without rcu_read_lock()',
      )
    )
      return;
    this.#readers--;
  }

  /** rcu_read_lock_held(): true while any reader is inside a section. */
  readLockHeld(): boolean {
    return this.#readers > 0;
  }

  /** call_rcu(): `fn` runs after a grace period that starts no earlier than this call. */
  callRcu(fn: () => void): void {
    this.#batch().callbacks.push(fn);
  }

  /** synchronize_rcu(): resolves after a full grace period, and after the callbacks queued before it. */
  synchronizeRcu(): Promise<void> {
    return new Promise((resolve) => this.#batch().waiters.push(resolve));
  }

  /** rcu_barrier(): resolves once every callback queued so far has run. */
  async barrier(): Promise<void> {
    while (this.#next !== null) await this.synchronizeRcu();
  }

  /** Callbacks waiting for a grace period (for leak checks). */
  get pendingCallbacks(): number {
    return this.#next?.callbacks.length ?? 0;
  }

  /** Number of grace periods completed so far. */
  get completed(): number {
    return this.#completed;
  }

  #batch(): Batch {
    if (this.#next === null) {
      this.#next = { callbacks: [], waiters: [] };
      setImmediate(() => this.#endGracePeriod());
    }
    return this.#next;
  }

  #endGracePeriod(): void {
    if (this.#readers > 0) {
      this.#log.warnOnce(
        true,
        'kernel/rcu/tree.c:rcu_note_context_switch',
        'Voluntary context switch within RCU read-side critical section!',
      );
      setImmediate(() => this.#endGracePeriod());
      return;
    }
    const batch = this.#next;
    this.#next = null;
    if (batch === null) return;
    this.#completed++;
    for (const fn of batch.callbacks) fn();
    for (const resolve of batch.waiters) resolve();
  }
}
