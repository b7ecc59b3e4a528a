/**
 * block/badblocks.c: a table of known-bad sector ranges, as md, libnvdimm regions and the pmem driver keep
 * one. A page of 512 entries, each a start sector, a length of 1..512 sectors and an "acknowledged" flag,
 * kept sorted and disjoint; shift 0 (512-byte sectors) as the nvdimm users have it, or disabled.
 *
 * badblocks_set follows the v4.12 merge steps, with the later upstream fixes for what they got wrong: a long
 * range is inserted in ascending order ("fix the bug of reverse order"), and a range that swallows entries
 * or ends inside the next one loses no sectors and leaves no overlapping entries ("fix badblocks loss when
 * badblocks combine", "fix badblocks overlap"). A set that does not fit in a full table changes nothing, where
 * the kernel keeps the part that fit (and could drop sectors of an entry it had moved to make room).
 */
import { errnoValue, kerr } from '../errno.js';
import { PAGE_SIZE } from '../include/pfn_t.js';

/** BB_MAX_LEN: the longest range one entry holds. */
export const BB_MAX_LEN = 512;
/** MAX_BADBLOCKS: the entries that fit in the table's page (PAGE_SIZE / 8). */
export const MAX_BADBLOCKS = PAGE_SIZE / 8;

const INT_MAX = 0x7fffffff;

/** One table entry (BB_OFFSET, BB_LEN, BB_ACK of a u64 in the kernel). */
export interface BadblocksRange {
  readonly offset: number;
  readonly len: number;
  readonly ack: boolean;
}

/** badblocks_check()'s result: rv 0 none bad, 1 all bad ones acknowledged, -1 some unacknowledged. */
export interface BadblocksCheck {
  rv: 0 | 1 | -1;
  /** Start and length of the first table range that overlaps; 0 when rv is 0. */
  firstBad: number;
  badSectors: number;
}

function entry(offset: number, len: number, ack: boolean): BadblocksRange {
  return { offset, len, ack };
}

function end(r: BadblocksRange): number {
  return r.offset + r.len;
}

/** struct badblocks. */
export class Badblocks {
  /** 0 when enabled, -1 when disabled (badblocks_init with enable false): nothing is ever recorded. */
  readonly shift: 0 | -1;
  /** Set by every set or clear, as md uses it to know the table needs writing out. */
  changed = false;
  /** Some entry may be unacknowledged. */
  unackedExist = false;
  readonly #p: BadblocksRange[] = [];

  /** badblocks_init(bb, enable). */
  constructor(enable = true) {
    this.shift = enable ? 0 : -1;
  }

  /** bb->count: entries in the table. */
  get count(): number {
    return this.#p.length;
  }

  /** The entries, sorted by start sector. */
  ranges(): BadblocksRange[] {
    return [...this.#p];
  }

  /**
   * badblocks_check(): whether any sector of [s, s + sectors) is in the table, and the lowest range that
   * overlaps it. EINVAL for arguments that are not sector numbers.
   */
  check(s: number, sectors: number): BadblocksCheck {
    validate(s, sectors, 'badblocks_check');
    const p = this.#p;
    const target = s + sectors;
    const result: BadblocksCheck = { rv: 0, firstBad: 0, badSectors: 0 };
    let [lo, hi] = searchBelow(p, target);
    if (hi <= lo) return result;
    for (; lo >= 0 && end(p[lo]!) > s; lo--) {
      const r = p[lo]!;
      if (r.offset >= target) continue;
      result.rv = result.rv !== -1 && r.ack ? 1 : -1;
      result.firstBad = r.offset;
      result.badSectors = r.len;
    }
    return result;
  }

  /**
   * badblocks_set(): records [s, s + sectors) as bad, merging it with ranges it overlaps or touches (an entry
   * never exceeds 512 sectors). Returns 0, or 1, changing nothing, when the table has no room for the entries
   * the range needs. EINVAL, changing nothing, for arguments that are not sector numbers.
   */
  set(s: number, sectors: number, acknowledged: boolean): 0 | 1 {
    validate(s, sectors, 'badblocks_set');
    if (this.shift < 0) return 0;
    const p = this.#p;
    const saved = p.slice();
    let [lo, hi] = searchBelow(p, s + 1);
    if (hi > lo && p[lo]!.offset > s) hi = lo;
    // The kernel's merge steps assume the new range reaches at most one entry beyond p[lo]; entries it swallows
    // whole are dropped first, so that a set spanning several of them records every sector.
    let gone = 0;
    while (hi + gone < p.length && p[hi + gone]!.offset > s && end(p[hi + gone]!) <= s + sectors) gone++;
    p.splice(hi, gone);

    if (hi > lo) {
      const a = p[lo]!.offset;
      let e = end(p[lo]!);
      if (e >= s) {
        const ack = s === a && s + sectors >= e ? acknowledged : p[lo]!.ack && acknowledged;
        if (e < s + sectors) e = s + sectors;
        if (e - a <= BB_MAX_LEN) {
          p[lo] = entry(a, e - a, ack);
          s = e;
        } else {
          if (p[lo]!.len !== BB_MAX_LEN) p[lo] = entry(a, BB_MAX_LEN, ack);
          s = a + BB_MAX_LEN;
        }
        sectors = e - s;
      }
    }
    if (sectors > 0 && hi < p.length) {
      const r = p[hi]!;
      let e = end(r);
      if (r.offset <= s + sectors) {
        let ack = r.ack && acknowledged;
        if (e <= s + sectors) {
          e = s + sectors;
          ack = acknowledged;
        }
        const a = s;
        if (e - a <= BB_MAX_LEN) {
          p[hi] = entry(a, e - a, ack);
          s = e;
        } else {
          p[hi] = entry(a, BB_MAX_LEN, ack);
          s = a + BB_MAX_LEN;
        }
        sectors = e - s;
        lo = hi;
        hi++;
      }
    }
    if (sectors === 0 && hi < p.length && lo < hi) {
      // s is the end of p[lo]: an entry starting there (or before) may be folded into it.
      const low = p[lo]!;
      const high = p[hi]!;
      const newlen = low.len + high.len - (s - high.offset);
      const ack = low.ack && high.ack;
      if (s >= high.offset && newlen < BB_MAX_LEN) {
        p[lo] = entry(low.offset, newlen, ack);
        p.splice(hi, 1);
      } else if (s > high.offset) {
        p[lo] = entry(low.offset, low.len, ack);
        p[hi] = entry(s, end(high) - s, high.ack);
      }
    }
    while (sectors > 0) {
      if (p.length >= MAX_BADBLOCKS) {
        p.splice(0, p.length, ...saved);
        return 1;
      }
      const n = Math.min(sectors, BB_MAX_LEN);
      p.splice(hi, 0, entry(s, n, acknowledged));
      hi++;
      sectors -= n;
      s += n;
    }
    this.changed = true;
    if (!acknowledged) this.unackedExist = true;
    else this.#updateAcked();
    return 0;
  }

  /**
   * badblocks_clear(): forgets [s, s + sectors), trimming and splitting entries. Returns 0, or -ENOSPC (the
   * table unchanged) when a split needs an entry and the table is full. EINVAL for bad arguments.
   */
  clear(s: number, sectors: number): number {
    validate(s, sectors, 'badblocks_clear');
    const p = this.#p;
    const target = s + sectors;
    let [lo, hi] = searchBelow(p, target);
    if (hi > lo) {
      const last = p[lo]!;
      if (end(last) > target && last.offset < target) {
        if (last.offset < s) {
          if (p.length >= MAX_BADBLOCKS) return -errnoValue('ENOSPC');
          p.splice(lo, 0, entry(last.offset, s - last.offset, last.ack));
          lo++;
        }
        p[lo] = entry(target, end(last) - target, last.ack);
        hi = lo;
        lo--;
      }
      for (; lo >= 0 && end(p[lo]!) > s && p[lo]!.offset < target; lo--) {
        const r = p[lo]!;
        if (r.offset < s) {
          p[lo] = entry(r.offset, s - r.offset, r.ack);
          break;
        }
      }
      if (hi - lo > 1) p.splice(lo + 1, hi - lo - 1);
    }
    this.#updateAcked();
    this.changed = true;
    return 0;
  }

  /** ack_all_badblocks(): marks every entry acknowledged, unless the table changed since it was last saved. */
  ackAll(): void {
    if (this.changed || !this.unackedExist) return;
    for (let i = 0; i < this.#p.length; i++) {
      const r = this.#p[i]!;
      if (!r.ack) this.#p[i] = entry(r.offset, r.len, true);
    }
    this.unackedExist = false;
  }

  /**
   * badblocks_show(): "<start> <length>\n" per entry (only unacknowledged ones when `unack`), cut to what fits
   * in a sysfs page (PAGE_SIZE - 1 characters).
   */
  show(unack = false): string {
    if (this.shift < 0) return '';
    let text = '';
    for (const r of this.#p) {
      if (text.length >= PAGE_SIZE) break;
      if (unack && r.ack) continue;
      text += `${r.offset} ${r.len}\n`;
    }
    if (unack && text === '') this.unackedExist = false;
    return text.length >= PAGE_SIZE ? text.slice(0, PAGE_SIZE - 1) : text;
  }

  /**
   * badblocks_store(): parses "<sector> <length>" with an optional newline (and anything after it) and records
   * the range, acknowledged unless `unack`. EINVAL for anything else or a length <= 0; ENOSPC when full.
   */
  store(text: string, unack = false): void {
    const m = /^[ \t\n\v\f\r]*(\d+)(?!\d)[ \t\n\v\f\r]*(-?\d+)(?!\d)([\s\S]?)/.exec(text);
    if (m === null || (m[3] !== '' && m[3] !== '\n')) throw kerr('EINVAL', 'badblocks_store');
    const sector = Number(m[1]);
    const length = Number(m[2]);
    if (length <= 0 || length > INT_MAX || !Number.isSafeInteger(sector + length))
      throw kerr('EINVAL', 'badblocks_store');
    if (this.set(sector, length, !unack) !== 0) throw kerr('ENOSPC', 'badblocks_store');
  }

  /** badblocks_update_acked(): clears unackedExist once no entry is unacknowledged. */
  #updateAcked(): void {
    if (this.unackedExist && this.#p.every((r) => r.ack)) this.unackedExist = false;
  }
}

/**
 * The binary search badblocks.c open-codes in check, set and clear: narrows [lo, hi) to the last entry whose
 * offset is below `target` (lo), starting from the whole table.
 */
function searchBelow(p: readonly BadblocksRange[], target: number): [number, number] {
  let lo = 0;
  let hi = p.length;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (p[mid]!.offset < target) lo = mid;
    else hi = mid;
  }
  return [lo, hi];
}

function validate(s: number, sectors: number, op: string): void {
  if (
    !Number.isSafeInteger(s) ||
    !Number.isInteger(sectors) ||
    s < 0 ||
    sectors < 0 ||
    sectors > INT_MAX ||
    !Number.isSafeInteger(s + sectors)
  )
    throw kerr('EINVAL', op);
}
