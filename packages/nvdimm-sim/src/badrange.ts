/**
 * drivers/nvdimm/core.c (badrange.c in later kernels): the bus-wide list of known media errors that address
 * range scrub reports, and its translation into a region's or namespace's badblocks (512-byte sectors).
 */
import type { Badblocks } from '@daxsim/kernel';

export interface BadrangeEntry {
  start: number;
  length: number;
}

/** struct badrange. */
export class Badrange {
  readonly list: BadrangeEntry[] = [];

  /** nvdimm_bus_add_badrange(): records [addr, addr+length) unless that exact range is known already. */
  add(addr: number, length: number): void {
    if (length <= 0) return;
    if (this.list.some((e) => e.start === addr && e.length === length)) return;
    this.list.push({ start: addr, length });
  }

  /**
   * nvdimm_forget_poison() / badrange_forget(): drops [start, start+len) from every entry, splitting an entry
   * that covers it in the middle.
   */
  forget(start: number, len: number): void {
    const end = start + len;
    const kept: BadrangeEntry[] = [];
    for (const e of this.list) {
      const eEnd = e.start + e.length;
      if (eEnd <= start || e.start >= end) {
        kept.push(e);
        continue;
      }
      if (e.start < start) kept.push({ start: e.start, length: start - e.start });
      if (eEnd > end) kept.push({ start: end, length: eEnd - end });
    }
    this.list.splice(0, this.list.length, ...kept);
  }
}

/** __add_badblock_range(): the sectors covering [offset, offset+len) of a device, marked acknowledged. */
function addBadblockRange(bb: Badblocks, offset: number, len: number): void {
  const startSector = Math.floor(offset / 512);
  const endSector = Math.ceil((offset + len) / 512);
  if (endSector > startSector) bb.set(startSector, endSector - startSector, true);
}

/**
 * nvdimm_badblocks_populate() / badrange_populate(): marks in `bb` every known error inside the range
 * [start, start+size) a region or namespace covers, relative to its start.
 */
export function badblocksPopulate(badrange: Badrange, bb: Badblocks, start: number, size: number): void {
  const end = start + size;
  for (const e of badrange.list) {
    const eEnd = e.start + e.length;
    if (eEnd <= start || e.start >= end) continue;
    const from = Math.max(e.start, start);
    addBadblockRange(bb, from - start, Math.min(eEnd, end) - from);
  }
}
