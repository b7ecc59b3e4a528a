/**
 * lib/idr.c: the IDA, an allocator of small integer ids (ida_simple_get, ida_simple_remove, ida_destroy).
 *
 * As in the kernel, the ids live in a radix tree whose leaves are 1024-bit bitmaps (IDA_BITMAP_BITS), so
 * memory follows the ids in use, not the range they may come from. Every node also keeps a word with one
 * bit per slot meaning "that subtree is full": the lowest free id at or above a start is found by one walk
 * down the tree and back, in time bounded by the tree's height (at most six levels), never by scanning ids.
 */
import { kerr } from '../errno.js';
import type { Printk } from '../kernel/printk.js';
import type { Kmemleak } from '../mm/kmemleak.js';
import type { FaultInject } from './fault-inject.js';

/** One past the largest id an IDA hands out: ids are 0..0x7fffffff (INT_MAX). */
export const IDA_MAX = 0x80000000;

const INT_MAX = IDA_MAX - 1;
/** A 32-bit word with every bit set, as an int32. */
const FULL = -1;
const LEAF_BITS = 1024;
const FANOUT = 32;
/** SPAN[h]: how many ids a node of height h covers (a leaf has height 0). */
const SPAN = [
  LEAF_BITS,
  LEAF_BITS * FANOUT,
  LEAF_BITS * FANOUT ** 2,
  LEAF_BITS * FANOUT ** 3,
  LEAF_BITS * FANOUT ** 4,
  LEAF_BITS * FANOUT ** 5,
];
const MAX_HEIGHT = SPAN.length - 1;

/** struct ida_bitmap: 32 words of id bits; `full` has bit w set while word w is all ones. */
class IdaBitmap {
  readonly words = new Int32Array(LEAF_BITS / 32);
  full = 0;
  used = 0;
}

/** An interior radix tree node: `full` has bit i set while slot i holds a full subtree. */
class IdaNode {
  readonly slots: (IdaNode | IdaBitmap | undefined)[] = new Array(FANOUT).fill(undefined);
  full = 0;
  used = 0;
}

type IdaEntry = IdaNode | IdaBitmap;

/** Index of the lowest set bit of a non-zero word. */
function ctz(word: number): number {
  return 31 - Math.clz32(word & -word);
}

function isFull(entry: IdaEntry): boolean {
  return entry.full === FULL;
}

function heightFor(id: number): number {
  let h = 0;
  while (id >= SPAN[h]!) h++;
  return h;
}

function isId(id: number): boolean {
  return Number.isInteger(id) && id >= 0 && id <= INT_MAX;
}

/** struct ida: a set of allocated ids, owned by one driver or subsystem (e.g. dax_minor_ida). */
export class Ida {
  readonly name: string;
  readonly #log: Printk;
  #root: IdaEntry | undefined;
  #height = 0;
  #count = 0;
  /** Scratch for one walk: the interior node at each height and the slot taken in it. */
  readonly #path: IdaNode[] = [];
  readonly #slot = new Int32Array(MAX_HEIGHT + 1);

  readonly #inject: FaultInject | null;
  readonly #leaks: Kmemleak | null;
  readonly #kind: string;

  /**
   * DEFINE_IDA() / ida_init(): an empty IDA. `inject`, when given, is consulted at 'ida_simple_get' (the
   * kernel's preallocation can fail with ENOMEM); `leaks`, when given, counts its live ids as `ids <name>`.
   */
  constructor(log: Printk, name = 'ida', inject: FaultInject | null = null, leaks: Kmemleak | null = null) {
    this.#log = log;
    this.name = name;
    this.#inject = inject;
    this.#leaks = leaks;
    this.#kind = `ids ${name}`;
  }

  /**
   * ida_simple_get(ida, start, end): allocates and returns the lowest free id in [start, end), where end 0
   * means no limit (up to 0x7fffffff). Bad bounds (the kernel's BUG_ONs) throw EINVAL; a full range ENOSPC.
   */
  simpleGet(start = 0, end = 0): number {
    if (!isId(start) || !isId(end) || (end !== 0 && end < start)) throw kerr('EINVAL', 'ida_simple_get');
    const limit = end === 0 ? IDA_MAX : end;
    const id = start < limit ? this.#findFree(start) : IDA_MAX;
    if (id >= limit) throw kerr('ENOSPC', 'ida_simple_get');
    if (this.#inject?.should('ida_simple_get')) throw kerr('ENOMEM', 'ida_simple_get');
    this.#insert(id);
    return id;
  }

  /**
   * ida_simple_remove(ida, id): frees `id`. Freeing an id that is not allocated WARNs as ida_remove does
   * and changes nothing; a negative or out-of-range id (the kernel's BUG_ON) throws EINVAL.
   */
  simpleRemove(id: number): void {
    if (!isId(id)) throw kerr('EINVAL', 'ida_simple_remove');
    if (!this.#delete(id))
      this.#log.warn(true, 'lib/idr.c:ida_remove', `ida_remove called for id=${id} which is not allocated.`);
  }

  /** ida_exists()-like test: whether `id` is currently allocated. */
  has(id: number): boolean {
    if (!isId(id) || this.#root === undefined || id >= SPAN[this.#height]!) return false;
    let entry: IdaEntry | undefined = this.#root;
    let base = 0;
    for (let h = this.#height; h > 0; h--) {
      const span = SPAN[h - 1]!;
      const i = Math.floor((id - base) / span);
      base += i * span;
      entry = (entry as IdaNode).slots[i];
      if (entry === undefined) return false;
    }
    const off = id - base;
    return ((entry as IdaBitmap).words[off >>> 5]! & (1 << (off & 31))) !== 0;
  }

  /** Number of ids currently allocated. */
  get count(): number {
    return this.#count;
  }

  /** ida_is_empty(): true when no id is allocated. */
  isEmpty(): boolean {
    return this.#count === 0;
  }

  /** ida_destroy(): frees every id and all the memory behind them; the IDA stays usable. */
  destroy(): void {
    this.#leaks?.track(this.#kind, -this.#count);
    this.#root = undefined;
    this.#height = 0;
    this.#count = 0;
    this.#path.length = 0;
  }

  /** The allocated ids in ascending order (for leak reports); do not allocate or free while iterating. */
  *ids(): IterableIterator<number> {
    if (this.#root !== undefined) yield* walk(this.#root, this.#height, 0);
  }

  /** Lowest free id >= start, or IDA_MAX when every id from start on is taken. */
  #findFree(start: number): number {
    const root = this.#root;
    const cover = SPAN[this.#height]!;
    if (root === undefined || start >= cover) return start;
    const id = findFrom(root, this.#height, 0, start);
    return id >= 0 ? id : cover;
  }

  #insert(id: number): void {
    if (this.#root === undefined) {
      this.#height = heightFor(id);
      this.#root = this.#height === 0 ? new IdaBitmap() : new IdaNode();
    }
    while (id >= SPAN[this.#height]!) {
      const top = new IdaNode();
      top.slots[0] = this.#root;
      top.used = 1;
      if (isFull(this.#root)) top.full = 1;
      this.#root = top;
      this.#height++;
    }
    let entry: IdaEntry = this.#root;
    let base = 0;
    for (let h = this.#height; h > 0; h--) {
      const node = entry as IdaNode;
      const span = SPAN[h - 1]!;
      const i = Math.floor((id - base) / span);
      this.#path[h] = node;
      this.#slot[h] = i;
      let child = node.slots[i];
      if (child === undefined) {
        child = h === 1 ? new IdaBitmap() : new IdaNode();
        node.slots[i] = child;
        node.used++;
      }
      base += i * span;
      entry = child;
    }
    const leaf = entry as IdaBitmap;
    const off = id - base;
    const w = off >>> 5;
    leaf.words[w] = leaf.words[w]! | (1 << (off & 31));
    leaf.used++;
    this.#count++;
    this.#leaks?.track(this.#kind, 1);
    if (leaf.words[w] !== FULL) return;
    leaf.full |= 1 << w;
    if (leaf.full !== FULL) return;
    for (let h = 1; h <= this.#height; h++) {
      const node = this.#path[h]!;
      node.full |= 1 << this.#slot[h]!;
      if (node.full !== FULL) return;
    }
  }

  /** Clears `id`; false when it was not allocated. Frees bitmaps and nodes left empty. */
  #delete(id: number): boolean {
    if (this.#root === undefined || id >= SPAN[this.#height]!) return false;
    let entry: IdaEntry = this.#root;
    let base = 0;
    for (let h = this.#height; h > 0; h--) {
      const node = entry as IdaNode;
      const span = SPAN[h - 1]!;
      const i = Math.floor((id - base) / span);
      const child = node.slots[i];
      if (child === undefined) return false;
      this.#path[h] = node;
      this.#slot[h] = i;
      base += i * span;
      entry = child;
    }
    const leaf = entry as IdaBitmap;
    const off = id - base;
    const w = off >>> 5;
    const bit = 1 << (off & 31);
    const word = leaf.words[w]!;
    if ((word & bit) === 0) return false;
    leaf.words[w] = word & ~bit;
    leaf.used--;
    this.#count--;
    this.#leaks?.track(this.#kind, -1);
    if (word === FULL) {
      const wasFull = leaf.full === FULL;
      leaf.full &= ~(1 << w);
      for (let h = 1, climb = wasFull; climb && h <= this.#height; h++) {
        const node = this.#path[h]!;
        climb = node.full === FULL;
        node.full &= ~(1 << this.#slot[h]!);
      }
    }
    let empty = leaf.used === 0;
    for (let h = 1; empty && h <= this.#height; h++) {
      const node = this.#path[h]!;
      node.slots[this.#slot[h]!] = undefined;
      node.used--;
      empty = node.used === 0;
    }
    if (empty) this.destroy();
    return true;
  }
}

/** Lowest free id >= start inside `entry` (covering [base, base + SPAN[h])), or -1 when none is. */
function findFrom(entry: IdaEntry | undefined, h: number, base: number, start: number): number {
  if (entry === undefined) return start;
  if (h === 0) {
    const leaf = entry as IdaBitmap;
    const off = start - base;
    const w = off >>> 5;
    const free = ~leaf.words[w]! & (-1 << (off & 31));
    if (free !== 0) return base + w * 32 + ctz(free);
    const next = ~leaf.full & (-2 << w);
    if (next === 0) return -1;
    const v = ctz(next);
    return base + v * 32 + ctz(~leaf.words[v]!);
  }
  const node = entry as IdaNode;
  const span = SPAN[h - 1]!;
  const i = Math.floor((start - base) / span);
  if ((node.full & (1 << i)) === 0) {
    const id = findFrom(node.slots[i], h - 1, base + i * span, start);
    if (id >= 0) return id;
  }
  const next = ~node.full & (-2 << i);
  if (next === 0) return -1;
  const j = ctz(next);
  return lowestFree(node.slots[j], h - 1, base + j * span);
}

/** Lowest free id inside a subtree that is not full, covering [base, base + SPAN[h]). */
function lowestFree(entry: IdaEntry | undefined, h: number, base: number): number {
  let e = entry;
  let b = base;
  for (let k = h; k > 0 && e !== undefined; k--) {
    const node: IdaNode = e as IdaNode;
    const i = ctz(~node.full);
    b += i * SPAN[k - 1]!;
    e = node.slots[i];
  }
  if (e === undefined) return b;
  const leaf = e as IdaBitmap;
  const w = ctz(~leaf.full);
  return b + w * 32 + ctz(~leaf.words[w]!);
}

function* walk(entry: IdaEntry, h: number, base: number): Generator<number> {
  if (h === 0) {
    const words = (entry as IdaBitmap).words;
    for (let w = 0; w < words.length; w++) {
      for (let x = words[w]!; x !== 0; x &= x - 1) yield base + w * 32 + ctz(x);
    }
    return;
  }
  const slots = (entry as IdaNode).slots;
  const span = SPAN[h - 1]!;
  for (let i = 0; i < FANOUT; i++) {
    const child = slots[i];
    if (child !== undefined) yield* walk(child, h - 1, base + i * span);
  }
}
