/**
 * The machine's physical address space: what the CPU reaches through a page-table entry or the kernel through
 * a memremap'd address. Ranges may be given their own backing (a platform's media, a test resource); every
 * other address is backed by one sparse store. Physical addresses are JS numbers, exact below 2^52.
 */
import { kerr } from '../errno.js';
import { type MemoryBacking, SparseBacking } from './sparse.js';

/** Physical addresses are kept below this bound so that they, and kernel virtual addresses, stay exact. */
export const PHYS_ADDR_MAX = 2 ** 52;

interface AttachedRange {
  start: number;
  end: number;
  backing: MemoryBacking;
}

export class PhysicalMemory {
  readonly #default = new SparseBacking();
  /** Sorted by start; disjoint. */
  readonly #ranges: AttachedRange[] = [];

  /** Backs [start, start+size) with `backing` (offsets relative to `start`); EBUSY when it overlaps another. */
  attach(start: number, size: number, backing: MemoryBacking): void {
    if (!Number.isInteger(start) || !Number.isInteger(size) || start < 0 || size <= 0)
      throw kerr('EINVAL', 'attach');
    if (start + size > PHYS_ADDR_MAX) throw kerr('ERANGE', 'attach');
    const end = start + size;
    if (this.#ranges.some((r) => start < r.end && r.start < end)) throw kerr('EBUSY', 'attach');
    this.#ranges.push({ start, end, backing });
    this.#ranges.sort((a, b) => a.start - b.start);
  }

  /** Removes the backing attached at `start`; EINVAL when none is. */
  detach(start: number): MemoryBacking {
    const i = this.#ranges.findIndex((r) => r.start === start);
    const range = this.#ranges[i];
    if (range === undefined) throw kerr('EINVAL', 'detach');
    this.#ranges.splice(i, 1);
    return range.backing;
  }

  read(phys: number, dst: Uint8Array): void {
    this.#each(phys, dst.length, (backing, off, from, to) => backing.read(off, dst.subarray(from, to)));
  }

  write(phys: number, src: Uint8Array): void {
    this.#each(phys, src.length, (backing, off, from, to) => backing.write(off, src.subarray(from, to)));
  }

  /** Returns a range to zeroes, releasing host memory where whole chunks are covered. */
  discard(phys: number, len: number): void {
    this.#each(phys, len, (backing, off, from, to) => backing.discard(off, to - from));
  }

  /** Host bytes held by every backing. */
  get allocatedBytes(): number {
    return this.#ranges.reduce((sum, r) => sum + r.backing.allocatedBytes, this.#default.allocatedBytes);
  }

  #each(
    phys: number,
    len: number,
    fn: (backing: MemoryBacking, off: number, from: number, to: number) => void,
  ): void {
    if (phys < 0 || phys + len > PHYS_ADDR_MAX) throw kerr('EFAULT', 'physmem');
    if (this.#ranges.length === 0) {
      fn(this.#default, phys, 0, len);
      return;
    }
    let done = 0;
    while (done < len) {
      const at = phys + done;
      const range = this.#ranges.find((r) => r.end > at);
      let n: number;
      if (range !== undefined && range.start <= at) {
        n = Math.min(range.end - at, len - done);
        fn(range.backing, at - range.start, done, done + n);
      } else {
        n = Math.min((range?.start ?? PHYS_ADDR_MAX) - at, len - done);
        fn(this.#default, at, done, done + n);
      }
      done += n;
    }
  }
}
