/**
 * lib/fault-inject.c with failslab and fail_page_alloc folded together: named fail points that allocation and
 * registration sites consult. A point can be armed by name (fail its Nth call, for `times` calls), or the Nth
 * call of any point can be made to fail, which is how a sweep walks every point a path reaches.
 */

interface Arming {
  /** Calls of this point still to pass before failures start. */
  skip: number;
  /** Failures still to deliver; -1 for every call. */
  times: number;
}

export class FaultInject {
  readonly #armed = new Map<string, Arming>();
  #anyNth = 0;
  #calls = 0;
  readonly #hits: string[] = [];
  readonly #failed: string[] = [];

  /**
   * should_fail(): true when the call at `point` must fail. Every call is recorded so a test can see which
   * points a path reached, in order.
   */
  should(point: string): boolean {
    this.#calls++;
    this.#hits.push(point);
    let fail = false;
    if (this.#anyNth > 0 && this.#calls === this.#anyNth) fail = true;
    const arming = this.#armed.get(point);
    if (arming !== undefined) {
      if (arming.skip > 0) arming.skip--;
      else if (arming.times !== 0) {
        fail = true;
        if (arming.times > 0) arming.times--;
      }
    }
    if (fail) this.#failed.push(point);
    return fail;
  }

  /** Makes the `nth` call (1-based) of `point`, and the `times - 1` after it, fail; `times` -1 fails all. */
  arm(point: string, nth = 1, times = 1): void {
    this.#armed.set(point, { skip: nth - 1, times });
  }

  /** Makes the `nth` fail-point call counted from now (any point) fail. */
  armNth(nth: number): void {
    this.#anyNth = nth;
    this.#calls = 0;
  }

  /** Disarms everything and forgets the record. */
  reset(): void {
    this.#armed.clear();
    this.#anyNth = 0;
    this.#calls = 0;
    this.#hits.length = 0;
    this.#failed.length = 0;
  }

  /** Points reached since the last reset, in call order. */
  get hits(): readonly string[] {
    return this.#hits;
  }

  /** Points that were made to fail since the last reset. */
  get failed(): readonly string[] {
    return this.#failed;
  }
}
