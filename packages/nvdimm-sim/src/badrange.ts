/**
 * drivers/nvdimm/badrange.c: a list of known media errors, as the nvdimm bus keeps it from address range scrub
 * and as nfit_test keeps its injected errors, and its translation into a region's or namespace's badblocks
 * (512-byte sectors).
 */
import type { Badblocks } from '@daxsim/kernel';

/** struct badrange_entry. */
export interface BadrangeEntry {
  readonly start: number;
  readonly length: number;
}

/** struct badrange. */
export class Badrange {
  readonly #list: { start: number; length: number }[] = [];

  /**
   * badrange_add(): an entry starting at `addr` already present takes the new length; otherwise the range is
   * appended as is (overlaps are left for the consumer to resolve).
   */
  add(addr: number, length: number): void {
    const same = this.#list.find((e) => e.start === addr);
    if (same !== undefined) same.length = length;
    else this.#list.push({ start: addr, length });
  }

  /**
   * badrange_forget(): removes [start, start+len) from every entry: entries inside it go, entries overlapping
   * one end shrink, and an entry it splits keeps its left part in place while the right part is appended.
   * (badrange.c leaves an entry alone when the cleared range ends exactly on its first byte; this does not.)
   */
  forget(start: number, len: number): void {
    if (len <= 0) return;
    const end = start + len;
    const list = this.#list;
    const n = list.length;
    const keep: boolean[] = [];
    for (let i = 0; i < n; i++) {
      const e = list[i]!;
      const eEnd = e.start + e.length;
      keep[i] = true;
      if (eEnd <= start || e.start >= end) continue;
      if (e.start >= start && eEnd <= end) keep[i] = false;
      else if (e.start >= start) {
        e.length = eEnd - end;
        e.start = end;
      } else if (eEnd <= end) e.length = start - e.start;
      else {
        list.push({ start: end, length: eEnd - end });
        e.length = start - e.start;
      }
    }
    let w = 0;
    for (let r = 0; r < list.length; r++) if (r >= n || keep[r]) list[w++] = list[r]!;
    list.length = w;
  }

  /** The entries in list order (copies). */
  entries(): BadrangeEntry[] {
    return this.#list.map((e) => ({ start: e.start, length: e.length }));
  }

  /**
   * The parts of the entries that fall inside [addr, addr+len), in list order: what post_ars_status() turns
   * into ARS records.
   */
  intersect(addr: number, len: number): BadrangeEntry[] {
    const end = addr + len;
    const out: BadrangeEntry[] = [];
    for (const e of this.#list) {
      const from = Math.max(e.start, addr);
      const to = Math.min(e.start + e.length, end);
      if (from < to) out.push({ start: from, length: to - from });
    }
    return out;
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
  for (const e of badrange.entries()) {
    const eEnd = e.start + e.length;
    if (eEnd <= start || e.start >= end) continue;
    const from = Math.max(e.start, start);
    addBadblockRange(bb, from - start, Math.min(eEnd, end) - from);
  }
}
