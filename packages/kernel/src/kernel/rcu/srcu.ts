/**
 * kernel/rcu/srcu.c: sleepable RCU. Readers may await inside their section; synchronize() waits only for the
 * readers that entered before it started, never for readers that enter afterwards.
 *
 * Each synchronize() opens a new epoch: readLock() returns the epoch it entered, readUnlock() takes it back.
 * The kernel uses a two-slot index with the same contract; an epoch number keeps concurrent synchronizers
 * simple without changing what callers see.
 */
import type { Printk } from '../printk.js';

interface Waiter {
  epoch: number;
  resolve: () => void;
}

export class SrcuStruct {
  readonly name: string;
  readonly #log: Printk;
  /** Active readers of the current epoch (the common case: no synchronize() since they entered). */
  #current = 0;
  /** Active readers of earlier epochs, in increasing epoch order; an epoch leaves when its last reader does. */
  readonly #older = new Map<number, number>();
  #epoch = 0;
  #waiters: Waiter[] = [];

  /** DEFINE_SRCU(name) / init_srcu_struct(). */
  constructor(log: Printk, name: string) {
    this.#log = log;
    this.name = name;
  }

  /** srcu_read_lock(): enters a read-side section and returns the index to hand to readUnlock(). */
  readLock(): number {
    this.#current++;
    return this.#epoch;
  }

  /** srcu_read_unlock(idx). An index that has no active reader is a bug and warns. */
  readUnlock(idx: number): void {
    if (idx === this.#epoch && this.#current > 0) {
      if (--this.#current === 0 && this.#waiters.length > 0) this.#wake();
      return;
    }
    const count = this.#older.get(idx);
    if (
      this.#log.warn(
        count === undefined,
        'kernel/rcu/srcu.c:srcu_read_unlock',
        `${this.name}: unbalanced srcu_read_unlock(${idx})`,
      )
    )
      return;
    if (count! > 1) {
      this.#older.set(idx, count! - 1);
      return;
    }
    this.#older.delete(idx);
    if (this.#waiters.length > 0) this.#wake();
  }

  /** Readers currently inside a section. */
  get readers(): number {
    let n = this.#current;
    for (const c of this.#older.values()) n += c;
    return n;
  }

  /** srcu_read_lock_held() as lockdep approximates it here: some reader is inside a section. */
  readLockHeld(): boolean {
    return this.#current > 0 || this.#older.size > 0;
  }

  /** synchronize_srcu(): resolves once every reader that entered before this call has left. */
  synchronize(): Promise<void> {
    if (this.#current > 0) this.#older.set(this.#epoch, this.#current);
    this.#current = 0;
    const epoch = ++this.#epoch;
    if (this.#oldest() >= epoch) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ epoch, resolve }));
  }

  /** cleanup_srcu_struct(): warns when readers are still inside. */
  cleanup(): void {
    this.#log.warn(
      this.readLockHeld(),
      'kernel/rcu/srcu.c:cleanup_srcu_struct',
      `${this.name}: cleanup with ${this.readers} active readers`,
    );
  }

  /** The epoch of the oldest active reader, or +Infinity when there is none. */
  #oldest(): number {
    for (const idx of this.#older.keys()) return idx;
    return this.#current > 0 ? this.#epoch : Number.POSITIVE_INFINITY;
  }

  #wake(): void {
    const oldest = this.#oldest();
    const ready = this.#waiters.filter((w) => w.epoch <= oldest);
    if (ready.length === 0) return;
    this.#waiters = this.#waiters.filter((w) => w.epoch > oldest);
    for (const w of ready) w.resolve();
  }
}
