/**
 * The machine's physical address space: what the CPU reaches through a page-table entry or the kernel through
 * a memremap'd address. Ranges may be given their own backing (a platform's media, a test resource); every
 * other address is backed by one sparse store. Physical addresses are JS numbers, exact below 2^52.
 *
 * Memory poison (an uncorrectable media error as the CPU meets it) is a property of physical addresses, kept
 * per cache line whatever backs them: a load that touches a poisoned line takes a machine check (see
 * mm/fault.ts and Memremap.memcpyMcsafe); stores neither trigger nor clear it, as on x86.
 */
import { kerr } from '../errno.js';
import { type MemoryBacking, SparseBacking } from './sparse.js';

/** Physical addresses are kept below this bound so that they, and kernel virtual addresses, stay exact. */
export const PHYS_ADDR_MAX = 2 ** 52;

/** L1_CACHE_BYTES on x86: the granule of memory poison. */
export const L1_CACHE_BYTES = 64;

/** A run of poisoned cache lines, [start, end), both multiples of L1_CACHE_BYTES. */
export interface PoisonRange {
  readonly start: number;
  readonly end: number;
}

interface AttachedRange {
  start: number;
  end: number;
  backing: MemoryBacking;
}

export class PhysicalMemory {
  readonly #default = new SparseBacking();
  /** Sorted by start; disjoint. */
  readonly #ranges: AttachedRange[] = [];
  /** Sorted by start; disjoint and never adjacent (touching runs are merged). */
  readonly #poison: PoisonRange[] = [];

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

  /**
   * Poisons every cache line that [phys, phys+len) touches, as a media error under those addresses would;
   * EINVAL for a range that is not inside [0, PHYS_ADDR_MAX).
   */
  poison(phys: number, len: number): void {
    checkRange(phys, len, 'poison');
    if (len === 0) return;
    let start = Math.floor(phys / L1_CACHE_BYTES) * L1_CACHE_BYTES;
    let end = Math.ceil((phys + len) / L1_CACHE_BYTES) * L1_CACHE_BYTES;
    const list = this.#poison;
    const i = firstEndingFrom(list, start);
    let j = i;
    for (; j < list.length && list[j]!.start <= end; j++) {
      start = Math.min(start, list[j]!.start);
      end = Math.max(end, list[j]!.end);
    }
    list.splice(i, j - i, { start, end });
  }

  /**
   * Clears the poison of every cache line wholly inside [phys, phys+len) (a partly covered line keeps it, as
   * the hardware clears whole units); EINVAL as for poison().
   */
  clearPoison(phys: number, len: number): void {
    checkRange(phys, len, 'clear_poison');
    const start = Math.ceil(phys / L1_CACHE_BYTES) * L1_CACHE_BYTES;
    const end = Math.floor((phys + len) / L1_CACHE_BYTES) * L1_CACHE_BYTES;
    if (start >= end) return;
    const list = this.#poison;
    const i = firstEndingFrom(list, start + 1);
    const kept: PoisonRange[] = [];
    let j = i;
    for (; j < list.length && list[j]!.start < end; j++) {
      const r = list[j]!;
      if (r.start < start) kept.push({ start: r.start, end: start });
      if (r.end > end) kept.push({ start: end, end: r.end });
    }
    list.splice(i, j - i, ...kept);
  }

  /** The lowest poisoned address in [phys, phys+len), or -1 when none is; EINVAL as for poison(). */
  firstPoison(phys: number, len: number): number {
    checkRange(phys, len, 'first_poison');
    const list = this.#poison;
    if (list.length === 0 || len === 0) return -1;
    const r = list[firstEndingFrom(list, phys + 1)];
    return r !== undefined && r.start < phys + len ? Math.max(r.start, phys) : -1;
  }

  /** Whether any address is poisoned: the one check a load makes before looking further. */
  get hasPoison(): boolean {
    return this.#poison.length !== 0;
  }

  /** The poisoned runs, ascending (copies). */
  poisonRanges(): PoisonRange[] {
    return this.#poison.map((r) => ({ start: r.start, end: r.end }));
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

function checkRange(phys: number, len: number, op: string): void {
  if (!Number.isInteger(phys) || !Number.isInteger(len) || phys < 0 || len < 0 || phys + len > PHYS_ADDR_MAX)
    throw kerr('EINVAL', op);
}

/** Index of the first run whose end is at or after `addr` (runs' ends ascend with their starts). */
function firstEndingFrom(list: readonly PoisonRange[], addr: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (list[mid]!.end < addr) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
