/**
 * kernel/resource.c and include/linux/ioport.h: the iomem resource tree, its busy regions
 * (request_mem_region), insert_resource, region_intersects and /proc/iomem. A kernel running nfit_test
 * redirects requests for addresses inside test resources (see iomap_wrap.ts); the tree consults its wrap.
 */
import type { Device } from '../drivers/base/core.js';
import { devmAddAction, devresRelease } from '../drivers/base/devres.js';
import { kerr } from '../errno.js';
import type { FaultInject } from '../lib/fault-inject.js';
import type { IomapWrap } from './iomap_wrap.js';
import type { Printk } from './printk.js';

export const IORESOURCE_IO = 0x00000100;
export const IORESOURCE_MEM = 0x00000200;
/** The type bits a region requested inside a resource inherits from it (resource_type()). */
export const IORESOURCE_TYPE_BITS = 0x00001f00;
export const IORESOURCE_SYSRAM = 0x01000000;
/** The extended type bits a region inherits (resource_ext_type()). */
export const IORESOURCE_EXT_TYPE_BITS = 0x01000000;
/** IORESOURCE_SYSTEM_RAM: "System RAM" in /proc/iomem. */
export const IORESOURCE_SYSTEM_RAM = IORESOURCE_MEM | IORESOURCE_SYSRAM;
/** Driver has marked this resource busy: request_region's resources, never descended into. */
export const IORESOURCE_BUSY = 0x80000000;

/** enum of include/linux/ioport.h (v4.12): resource descriptors region_intersects can match. */
export const IORES_DESC_NONE = 0;
export const IORES_DESC_CRASH_KERNEL = 1;
export const IORES_DESC_ACPI_TABLES = 2;
export const IORES_DESC_ACPI_NV_STORAGE = 3;
export const IORES_DESC_PERSISTENT_MEMORY = 4;
export const IORES_DESC_PERSISTENT_MEMORY_LEGACY = 5;

/** How deep /proc/iomem indents (MAX_IORES_LEVEL); deeper resources are listed at this depth. */
export const MAX_IORES_LEVEL = 5;

/** region_intersects() results: REGION_INTERSECTS, REGION_DISJOINT, REGION_MIXED. */
export type RegionIntersects = 'REGION_INTERSECTS' | 'REGION_DISJOINT' | 'REGION_MIXED';

/** Fields a Resource can be created with, as DEFINE_RES_NAMED() or a C initializer would set them. */
export interface ResourceInit {
  /** null prints as "<BAD>" in /proc/iomem. */
  name?: string | null;
  start: number;
  /** Last address, inclusive. */
  end: number;
  flags?: number;
  desc?: number;
}

/** struct resource. Its place in a tree changes only through ResourceTree. */
export class Resource {
  name: string | null;
  start: number;
  /** Last address, inclusive. */
  end: number;
  flags: number;
  desc: number;
  /** null for a tree's root and for a resource in no tree. */
  parent: Resource | null = null;
  /** child and its sibling list: non-overlapping, in address order. */
  readonly children: Resource[] = [];

  constructor(init: ResourceInit) {
    this.name = init.name ?? null;
    this.start = init.start;
    this.end = init.end;
    this.flags = (init.flags ?? 0) >>> 0;
    this.desc = init.desc ?? IORES_DESC_NONE;
  }
}

/** resource_size(). */
export function resourceSize(res: Resource): number {
  return res.end - res.start + 1;
}

function isBusy(res: Resource): boolean {
  return (res.flags & IORESOURCE_BUSY) !== 0;
}

/**
 * lib/vsprintf.c resource_string() for %pr: `[mem 0x00001000-0x00001fff flags 0x80000200]` (io ranges with
 * four hex digits, a one-address range without its end, "(null)" for no resource).
 */
export function resourceString(res: Resource | null): string {
  if (res === null) return '(null)';
  const io = (res.flags & IORESOURCE_IO) !== 0;
  const kind = io ? 'io  ' : res.flags & IORESOURCE_MEM ? 'mem ' : '??? ';
  const digits = io ? 4 : 8;
  const num = (v: number) =>
    Number.isSafeInteger(v)
      ? `0x${BigInt.asUintN(64, BigInt(v)).toString(16).padStart(digits, '0')}`
      : String(v);
  const range = res.start === res.end ? num(res.start) : `${num(res.start)}-${num(res.end)}`;
  return `[${kind}${range} flags 0x${(res.flags >>> 0).toString(16)}]`;
}

/** %016llx of a resource_size_t, wrapping negative values as the unsigned arithmetic would. */
function hex64(v: number): string {
  return Number.isInteger(v) ? BigInt.asUintN(64, BigInt(v)).toString(16).padStart(16, '0') : String(v);
}

/** Index of the first child whose end is at or after `addr` (siblings' ends ascend too). */
function firstEndingFrom(children: readonly Resource[], addr: number): number {
  let lo = 0;
  let hi = children.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (children[mid]!.end < addr) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** struct region_devres. */
interface RegionDevres {
  tree: ResourceTree;
  parent: Resource;
  start: number;
  n: number;
}

/** devm_region_release(). */
function devmRegionRelease(dr: RegionDevres): void {
  dr.tree.releaseRegion(dr.parent, dr.start, dr.n);
}

/**
 * The iomem resource tree of one kernel, rooted at iomem_resource. Addresses are numbers: the root ends at
 * 2^52 - 1 rather than the kernel's (resource_size_t)-1, so every address and size in it stays exact.
 */
export class ResourceTree {
  /** iomem_resource: "PCI mem". */
  readonly iomemResource = new Resource({
    name: 'PCI mem',
    start: 0,
    end: 2 ** 52 - 1,
    flags: IORESOURCE_MEM,
  });
  readonly #log: Printk;
  readonly #wrap: IomapWrap | null;
  readonly #inject: FaultInject | null;

  /**
   * `wrap`: the nfit_test redirection this kernel's resource functions are linked against, if any; `inject`:
   * consulted at 'request_region', the allocation of the new resource (or of nfit_test's request record).
   */
  constructor(log: Printk, wrap: IomapWrap | null = null, inject: FaultInject | null = null) {
    this.#log = log;
    this.#wrap = wrap;
    this.#inject = inject;
  }

  /**
   * __request_resource(): links `res` among the children of `parent` and returns null, or returns what it
   * conflicts with: `parent` when `res` is empty, not exact integers or not inside it, else the first sibling
   * it overlaps. A resource already in a tree (or an ancestor of `parent`) conflicts with itself.
   */
  #requestResource(parent: Resource, res: Resource): Resource | null {
    if (res.parent !== null || res === this.iomemResource) return res;
    for (let p: Resource | null = parent; p !== null; p = p.parent) if (p === res) return res;
    const { start, end } = res;
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end)) return parent;
    if (end < start || start < parent.start || end > parent.end) return parent;
    const i = firstEndingFrom(parent.children, start);
    const tmp = parent.children[i];
    if (tmp !== undefined && tmp.start <= end) return tmp;
    parent.children.splice(i, 0, res);
    res.parent = parent;
    return null;
  }

  /**
   * __release_resource(): unlinks `old` from its parent's children. With `releaseChild` its subtree leaves
   * with it (old keeps its children); without, its children take its place. EINVAL when it is in no list.
   */
  #releaseResource(old: Resource, releaseChild: boolean, op: string): void {
    const siblings = old.parent?.children;
    const i = siblings?.indexOf(old) ?? -1;
    if (siblings === undefined || i < 0) throw kerr('EINVAL', op);
    if (releaseChild || old.children.length === 0) siblings.splice(i, 1);
    else {
      for (const chd of old.children) chd.parent = old.parent;
      siblings.splice(i, 1, ...old.children.splice(0));
    }
    old.parent = null;
  }

  /** request_resource_conflict(): null when `res` became a child of `parent`, else the resource in the way. */
  requestResourceConflict(parent: Resource, res: Resource): Resource | null {
    return this.#requestResource(parent, res);
  }

  /** request_resource(): EBUSY on any conflict, including `res` outside `parent` or empty. */
  requestResource(parent: Resource, res: Resource): void {
    if (this.#requestResource(parent, res) !== null) throw kerr('EBUSY', 'request_resource');
  }

  /**
   * release_resource(): takes `res` out of the tree together with its descendants, which stay its children;
   * EINVAL when it is not in its parent's list (or has no parent).
   */
  releaseResource(res: Resource): void {
    this.#releaseResource(res, true, 'release_resource');
  }

  /**
   * remove_resource(): takes `res` out of the tree, its children moving up to its parent; EINVAL as above.
   * A resource starting inside a redirected test resource is left alone (__wrap_remove_resource).
   */
  removeResource(res: Resource): void {
    if (this.#wrap?.getNfitRes(res.start)) return;
    this.#releaseResource(res, false, 'remove_resource');
  }

  /**
   * __insert_resource() / insert_resource_conflict(): descends into any resource that contains `res` (not
   * exactly), then inserts it there, adopting the siblings it fully contains. Returns null, or the conflict:
   * `parent` when `res` is outside it, or a sibling `res` overlaps only partly. Inserting a resource already
   * in a tree warns and returns it.
   */
  insertResourceConflict(parent: Resource, res: Resource): Resource | null {
    if (
      this.#log.warn(
        res.parent !== null || res === this.iomemResource,
        'kernel/resource.c:__insert_resource',
        'WARN_ON(first == new)',
      )
    )
      return res;
    let first: Resource;
    for (;;) {
      const conflict = this.#requestResource(parent, res);
      if (conflict === null || conflict === parent || conflict === res) return conflict;
      first = conflict;
      if (first.start > res.start || first.end < res.end) break;
      if (first.start === res.start && first.end === res.end) break;
      parent = first;
    }
    const siblings = parent.children;
    const from = siblings.indexOf(first);
    let to = from;
    for (; to < siblings.length && siblings[to]!.start <= res.end; to++) {
      const next = siblings[to]!;
      if (next.start < res.start || next.end > res.end) return next;
    }
    for (const old of res.children) old.parent = null;
    const adopted = siblings.splice(from, to - from, res);
    res.children.splice(0, res.children.length, ...adopted);
    for (const chd of adopted) chd.parent = res;
    res.parent = parent;
    return null;
  }

  /**
   * insert_resource(): EBUSY on conflict, leaving the tree as it was. A resource starting inside a redirected
   * test resource is not inserted and the call succeeds (__wrap_insert_resource).
   */
  insertResource(parent: Resource, res: Resource): void {
    if (this.#wrap?.getNfitRes(res.start)) return;
    if (this.insertResourceConflict(parent, res) !== null) throw kerr('EBUSY', 'insert_resource');
  }

  /**
   * __request_region(): a new busy resource [start, start + n - 1] named `name`, with the type bits and desc
   * of the resource it lands in, or null. A conflict with a non-busy resource descends into it and tries
   * again there; a busy conflict, or a region not inside the resource tried, is null. (IORESOURCE_MUXED
   * waiting is not modelled: a muxed conflict is null too.) An iomem request at a redirected address is
   * recorded on its test resource instead (__wrap___request_region) and never appears in the tree.
   */
  requestRegion(parent: Resource, start: number, n: number, name: string, flags = 0): Resource | null {
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(n)) return null;
    if (this.#inject?.should('request_region')) return null;
    const wrap = parent === this.iomemResource ? this.#wrap : null;
    const nfitRes = wrap?.getNfitRes(start) ?? null;
    if (wrap && nfitRes) return wrap.requestRegion(null, nfitRes, parent, start, n, name, flags);
    const res = new Resource({ name, start, end: start + n - 1 });
    for (;;) {
      res.flags =
        ((parent.flags & (IORESOURCE_TYPE_BITS | IORESOURCE_EXT_TYPE_BITS)) | IORESOURCE_BUSY | flags) >>> 0;
      res.desc = parent.desc;
      const conflict = this.#requestResource(parent, res);
      if (conflict === null) return res;
      if (conflict !== parent && !isBusy(conflict)) {
        parent = conflict;
        continue;
      }
      return null;
    }
  }

  /**
   * __release_region(): frees the busy resource spanning exactly [start, start + n - 1], descending into
   * non-busy resources that contain the range. None found logs "Trying to free nonexistent resource".
   * An iomem release at a redirected address drops the test resource's request instead.
   */
  releaseRegion(parent: Resource, start: number, n: number): void {
    if (parent === this.iomemResource && this.#wrap?.releaseRegion(start, n)) return;
    const end = start + n - 1;
    let siblings = parent.children;
    for (let i = 0; i < siblings.length; i++) {
      const res = siblings[i]!;
      if (res.start > start || res.end < end) continue;
      if (!isBusy(res)) {
        siblings = res.children;
        i = -1;
        continue;
      }
      if (res.start !== start || res.end !== end) break;
      siblings.splice(i, 1);
      res.parent = null;
      return;
    }
    this.#log.warning(`Trying to free nonexistent resource <${hex64(start)}-${hex64(end)}>`);
  }

  /** request_mem_region(): requestRegion in iomem_resource. */
  requestMemRegion(start: number, n: number, name: string): Resource | null {
    return this.requestRegion(this.iomemResource, start, n, name);
  }

  /** release_mem_region(): releaseRegion in iomem_resource. */
  releaseMemRegion(start: number, n: number): void {
    this.releaseRegion(this.iomemResource, start, n);
  }

  /**
   * __devm_request_region(): requestRegion whose release (by start and size, as devm_region_release does)
   * is a devres action of `dev`. When the action cannot be added (a released device) the region is released
   * again and the error rethrown. A redirected iomem request is recorded on its test resource, and the
   * devres action drops it from there (__wrap___devm_request_region).
   */
  devmRequestRegion(dev: Device, parent: Resource, start: number, n: number, name: string): Resource | null {
    const wrap = parent === this.iomemResource ? this.#wrap : null;
    const nfitRes = Number.isSafeInteger(start) && Number.isSafeInteger(n) ? wrap?.getNfitRes(start) : null;
    if (wrap && nfitRes) {
      if (this.#inject?.should('request_region')) return null;
      return wrap.requestRegion(dev, nfitRes, parent, start, n, name, 0);
    }
    const res = this.requestRegion(parent, start, n, name);
    if (res === null) return null;
    const dr: RegionDevres = { tree: this, parent, start, n };
    try {
      devmAddAction(this.#log, dev, devmRegionRelease, dr);
    } catch (e) {
      devmRegionRelease(dr);
      throw e;
    }
    return res;
  }

  /**
   * devm_release_mem_region(): releases now a region `dev` requested with devmRequestMemRegion, and its devres;
   * WARN when `dev` holds no such request.
   */
  async devmReleaseMemRegion(dev: Device, start: number, n: number): Promise<void> {
    const parent = this.iomemResource;
    const found =
      (await devresRelease(
        dev,
        devmRegionRelease,
        (dr) => dr.parent === parent && dr.start === start && dr.n === n,
      )) || (await this.#wrap?.devmRelease(dev, start, n)) === true;
    this.#log.warn(!found, 'kernel/resource.c:__devm_release_region', 'WARN_ON(devres_release(...))');
  }

  /** devm_request_mem_region(): devmRequestRegion in iomem_resource. */
  devmRequestMemRegion(dev: Device, start: number, n: number, name: string): Resource | null {
    return this.devmRequestRegion(dev, this.iomemResource, start, n, name);
  }

  /**
   * region_intersects() (v4.12): looks at the top-level iomem resources the range [start, start + size - 1]
   * touches. REGION_DISJOINT when none has all of `flags` (and `desc`, unless IORES_DESC_NONE),
   * REGION_INTERSECTS when all it touches do (ranges with no resource count as neither), else REGION_MIXED.
   */
  regionIntersects(start: number, size: number, flags: number, desc = IORES_DESC_NONE): RegionIntersects {
    const end = start + size - 1;
    const want = flags >>> 0;
    let type = 0;
    let other = 0;
    for (const p of this.iomemResource.children) {
      const isType = (p.flags & want) >>> 0 === want && (desc === IORES_DESC_NONE || desc === p.desc);
      const hits =
        Number(start >= p.start && start <= p.end) +
        Number(end >= p.start && end <= p.end) +
        Number(p.start >= start && p.end <= end);
      if (isType) type += hits;
      else other += hits;
    }
    if (other === 0) return type > 0 ? 'REGION_INTERSECTS' : 'REGION_DISJOINT';
    return type > 0 ? 'REGION_MIXED' : 'REGION_DISJOINT';
  }

  /** next_resource() from `root`: its descendants depth-first, each before its children, in address order. */
  *walk(root: Resource = this.iomemResource): Generator<Resource, void, undefined> {
    for (const child of root.children) {
      yield child;
      yield* this.walk(child);
    }
  }

  /** Resources in the tree below iomem_resource, for leak checks. */
  get count(): number {
    let n = 0;
    for (const _ of this.walk()) n++;
    return n;
  }

  /** /proc/iomem as r_show() prints it for root: `start-end : name`, two spaces per level of depth. */
  procIomem(): string {
    const root = this.iomemResource;
    const width = root.end < 0x10000 ? 4 : 8;
    let text = '';
    for (const r of this.walk(root)) {
      let depth = 0;
      for (let p = r; depth < MAX_IORES_LEVEL; depth++, p = p.parent!) if (p.parent === root) break;
      const start = r.start.toString(16).padStart(width, '0');
      const end = r.end.toString(16).padStart(width, '0');
      text += `${' '.repeat(depth * 2)}${start}-${end} : ${r.name ?? '<BAD>'}\n`;
    }
    return text;
  }
}
