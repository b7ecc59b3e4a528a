/**
 * mm/mmap.c, mm/madvise.c and arch/x86/kernel/sys_x86_64.c: a task's address space (mm_struct), mmap(2) with
 * the file's get_unmapped_area, munmap(2) with vma splitting, madvise(MADV_DONTFORK) and exit_mmap().
 * Placement is top-down from a fixed mmap_base (no ASLR), so addresses are reproducible. Adjacent vmas are
 * not merged (vma_merge), which changes nothing a driver or a fault can see.
 */
import { kerr } from '../errno.js';
import { type File, FMODE_READ, FMODE_WRITE, fput, getFile } from '../fs/file_table.js';
import { PAGE_SIZE } from '../include/pfn_t.js';
import type { FaultEvents } from './memory.js';
import {
  MADV_DOFORK,
  MADV_DONTFORK,
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_PRIVATE,
  MAP_SHARED,
  MAP_TYPE,
  PROT_EXEC,
  PROT_READ,
  PROT_WRITE,
  VM_DONTCOPY,
  VM_EXEC,
  VM_MAYEXEC,
  VM_MAYREAD,
  VM_MAYSHARE,
  VM_MAYWRITE,
  VM_READ,
  VM_SHARED,
  VM_WRITE,
  VmAreaStruct,
} from './mm_types.js';
import { PageTable } from './pgtable.js';
import type { PhysicalMemory } from './physmem.js';

/** TASK_SIZE_MAX for 4-level x86-64 paging. */
export const TASK_SIZE = 2 ** 47 - PAGE_SIZE;
/** mmap_base: TASK_SIZE less the default stack gap (128 MiB), without randomisation. */
export const MMAP_BASE = TASK_SIZE - 2 ** 27;
/** vm.mmap_min_addr default. */
export const MMAP_MIN_ADDR = 65536;
/** TASK_UNMAPPED_BASE: where the bottom-up fallback search starts. */
export const TASK_UNMAPPED_BASE = 2 ** 45;

const pageAlign = (n: number): number => Math.ceil(n / PAGE_SIZE) * PAGE_SIZE;

/** struct mm_struct. */
export class MmStruct {
  /** vmas sorted by start, disjoint. */
  readonly vmas: VmAreaStruct[] = [];
  readonly pgtable = new PageTable();
  readonly mem: PhysicalMemory;
  readonly faultEvents: FaultEvents;
  /** comm of the owning task, for messages that print current->comm. */
  readonly comm: string;
  /** vmacache: the last vma find_vma returned. */
  #cache: VmAreaStruct | null = null;

  constructor(mem: PhysicalMemory, faultEvents: FaultEvents, comm = '') {
    this.mem = mem;
    this.faultEvents = faultEvents;
    this.comm = comm;
  }

  /** find_vma(): the first vma that ends above `addr`, or null. */
  findVma(addr: number): VmAreaStruct | null {
    const c = this.#cache;
    if (c !== null && addr >= c.start && addr < c.end) return c;
    let lo = 0;
    let hi = this.vmas.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.vmas[mid]!.end > addr) hi = mid;
      else lo = mid + 1;
    }
    const vma = this.vmas[lo] ?? null;
    if (vma !== null && addr >= vma.start) this.#cache = vma;
    return vma;
  }

  /**
   * arch_get_unmapped_area_topdown(): MAP_FIXED takes `addr` as it is; a free, page-aligned hint is honoured;
   * otherwise the highest gap below mmap_base that fits, then the lowest above TASK_UNMAPPED_BASE. ENOMEM
   * when nothing fits.
   */
  getUnmappedArea(_file: File | null, addr: number, len: number, _pgoff: number, flags: number): number {
    if (len > TASK_SIZE) throw kerr('ENOMEM', 'get_unmapped_area');
    if (flags & MAP_FIXED) return addr;
    if (addr) {
      const hint = pageAlign(addr);
      const vma = this.findVma(hint);
      if (TASK_SIZE - len >= hint && (vma === null || hint + len <= vma.start)) return hint;
    }
    let ceiling = MMAP_BASE;
    for (let i = this.vmas.length - 1; i >= 0; i--) {
      const vma = this.vmas[i]!;
      if (vma.start >= ceiling) continue;
      if (vma.end <= ceiling && ceiling - vma.end >= len) return ceiling - len;
      ceiling = vma.start;
    }
    if (ceiling - MMAP_MIN_ADDR >= len) return ceiling - len;
    let start = TASK_UNMAPPED_BASE;
    for (const vma of this.vmas) {
      if (vma.end <= start) continue;
      if (vma.start - start >= len) break;
      start = Math.max(start, vma.end);
    }
    if (start + len <= TASK_SIZE) return start;
    throw kerr('ENOMEM', 'get_unmapped_area');
  }

  insertVma(vma: VmAreaStruct): void {
    let i = 0;
    while (i < this.vmas.length && this.vmas[i]!.start < vma.start) i++;
    this.vmas.splice(i, 0, vma);
    vma.file?.mapping.iMmap.add(vma);
  }

  removeVma(vma: VmAreaStruct): void {
    const i = this.vmas.indexOf(vma);
    if (i >= 0) this.vmas.splice(i, 1);
    vma.file?.mapping.iMmap.delete(vma);
    if (this.#cache === vma) this.#cache = null;
  }
}

/**
 * get_unmapped_area(): the file's ->get_unmapped_area when it has one, else the mm's; ENOMEM when the answer
 * does not leave room for `len`, EINVAL when it is not page aligned.
 */
export function getUnmappedArea(
  mm: MmStruct,
  file: File | null,
  addr: number,
  len: number,
  pgoff: number,
  flags: number,
): number {
  if (len > TASK_SIZE) throw kerr('ENOMEM', 'get_unmapped_area');
  const get = file?.fops.getUnmappedArea;
  const area =
    file !== null && get !== undefined
      ? get.call(file.fops, file, addr, len, pgoff, flags, mm)
      : mm.getUnmappedArea(file, addr, len, pgoff, flags);
  if (area > TASK_SIZE - len) throw kerr('ENOMEM', 'get_unmapped_area');
  if (area % PAGE_SIZE !== 0) throw kerr('EINVAL', 'get_unmapped_area');
  return area;
}

/**
 * do_mmap() for a file mapping (sys_mmap_pgoff): validates the request, places it, creates the vma and hands it
 * to the file's ->mmap, whose error undoes the vma. Returns the start address. Anonymous memory is not
 * modelled (EOPNOTSUPP).
 */
export function doMmap(
  mm: MmStruct,
  file: File | null,
  addr: number,
  len: number,
  prot: number,
  flags: number,
  offset: number,
): number {
  if (!Number.isInteger(offset) || offset % PAGE_SIZE !== 0 || offset < 0) throw kerr('EINVAL', 'mmap');
  if (!Number.isInteger(len) || len <= 0 || !Number.isInteger(addr) || addr < 0) throw kerr('EINVAL', 'mmap');
  const type = flags & MAP_TYPE;
  if (type !== MAP_SHARED && type !== MAP_PRIVATE) throw kerr('EINVAL', 'mmap');
  if (flags & MAP_ANONYMOUS) throw kerr('EOPNOTSUPP', 'mmap');
  if (file === null) throw kerr('EBADF', 'mmap');
  const length = pageAlign(len);
  if (length > TASK_SIZE) throw kerr('ENOMEM', 'mmap');
  const pgoff = offset / PAGE_SIZE;
  if (pgoff + length / PAGE_SIZE > Number.MAX_SAFE_INTEGER) throw kerr('EOVERFLOW', 'mmap');
  if (flags & MAP_FIXED && addr % PAGE_SIZE !== 0) throw kerr('EINVAL', 'mmap');

  let vmFlags =
    (prot & PROT_READ ? VM_READ : 0) |
    (prot & PROT_WRITE ? VM_WRITE : 0) |
    (prot & PROT_EXEC ? VM_EXEC : 0) |
    VM_MAYREAD |
    VM_MAYWRITE |
    VM_MAYEXEC;
  if (!(file.mode & FMODE_READ)) throw kerr('EACCES', 'mmap');
  if (type === MAP_SHARED) {
    if (prot & PROT_WRITE && !(file.mode & FMODE_WRITE)) throw kerr('EACCES', 'mmap');
    vmFlags |= VM_SHARED | VM_MAYSHARE;
    if (!(file.mode & FMODE_WRITE)) vmFlags &= ~(VM_MAYWRITE | VM_SHARED);
  }
  if (file.fops.mmap === undefined) throw kerr('ENODEV', 'mmap');

  const start = getUnmappedArea(mm, file, addr, length, pgoff, flags);
  if (flags & MAP_FIXED) doMunmap(mm, start, length);
  const vma = new VmAreaStruct(mm, start, start + length, pgoff, vmFlags, getFile(file));
  try {
    file.fops.mmap(file, vma);
  } catch (e) {
    fput(file);
    throw e;
  }
  mm.insertVma(vma);
  return start;
}

/** __split_vma(): splits `vma` at `addr`, returning the new upper part; the file gains a reference. */
function splitVma(mm: MmStruct, vma: VmAreaStruct, addr: number): VmAreaStruct {
  const upper = new VmAreaStruct(
    mm,
    addr,
    vma.end,
    vma.pgoff + (addr - vma.start) / PAGE_SIZE,
    vma.flags,
    vma.file === null ? null : getFile(vma.file),
  );
  upper.ops = vma.ops;
  upper.privateData = vma.privateData;
  mm.removeVma(vma);
  vma.end = addr;
  mm.insertVma(vma);
  mm.insertVma(upper);
  upper.ops?.open?.(upper);
  return upper;
}

/** remove_vma(): ->close, then the vma's file reference goes. */
function removeVma(mm: MmStruct, vma: VmAreaStruct): void {
  mm.removeVma(vma);
  vma.ops?.close?.(vma);
  if (vma.file !== null) fput(vma.file);
}

/**
 * do_munmap(): unmaps [start, start+len), splitting vmas that straddle either end. EINVAL for an unaligned
 * start, a zero length or a range beyond TASK_SIZE; unmapping a hole is not an error.
 */
export function doMunmap(mm: MmStruct, start: number, len: number): void {
  if (
    !Number.isInteger(start) ||
    start < 0 ||
    start % PAGE_SIZE !== 0 ||
    start > TASK_SIZE ||
    !(len >= 0) ||
    len > TASK_SIZE - start
  )
    throw kerr('EINVAL', 'munmap');
  const length = pageAlign(len);
  if (length === 0) throw kerr('EINVAL', 'munmap');
  const end = start + length;
  let vma = mm.findVma(start);
  if (vma === null || vma.start >= end) return;
  if (start > vma.start) vma = splitVma(mm, vma, start);
  const last = mm.findVma(end - 1);
  if (last !== null && last.start < end && last.end > end) splitVma(mm, last, end);
  const doomed = mm.vmas.filter((v) => v.start >= start && v.end <= end);
  mm.pgtable.zap(start, end);
  for (const v of doomed) removeVma(mm, v);
  // free_pgtables(floor = prev->vm_end, ceiling = next->vm_start): tables no remaining vma can use go too
  const prev = mm.vmas.findLast((v) => v.end <= start);
  const next = mm.vmas.find((v) => v.start >= end);
  mm.pgtable.freeTables(start, end, prev?.end ?? 0, next?.start ?? TASK_SIZE + PAGE_SIZE);
}

/**
 * madvise(MADV_DONTFORK / MADV_DOFORK) over [start, start+len). As in sys_madvise, the advice is applied to
 * every mapped part (splitting a vma only where its flags change) and ENOMEM is returned afterwards when part
 * of the range is unmapped.
 */
export function doMadvise(mm: MmStruct, start: number, len: number, advice: number): void {
  if (!Number.isInteger(start) || start < 0 || start % PAGE_SIZE !== 0 || !(len >= 0))
    throw kerr('EINVAL', 'madvise');
  if (advice !== MADV_DONTFORK && advice !== MADV_DOFORK) throw kerr('EINVAL', 'madvise');
  const end = start + pageAlign(len);
  if (end === start) return;
  let unmapped = false;
  let at = start;
  while (at < end) {
    let vma = mm.findVma(at);
    if (vma === null || vma.start >= end) {
      unmapped = true;
      break;
    }
    if (vma.start > at) {
      unmapped = true;
      at = vma.start;
    }
    const tmp = Math.min(vma.end, end);
    const flags = advice === MADV_DONTFORK ? vma.flags | VM_DONTCOPY : vma.flags & ~VM_DONTCOPY;
    if (flags !== vma.flags) {
      if (at > vma.start) vma = splitVma(mm, vma, at);
      if (tmp < vma.end) splitVma(mm, vma, tmp);
      vma.flags = flags;
    }
    at = tmp;
  }
  if (unmapped) throw kerr('ENOMEM', 'madvise');
}

/** exit_mmap(): tears the whole address space down. */
export function exitMmap(mm: MmStruct): void {
  for (const vma of [...mm.vmas]) {
    mm.pgtable.zap(vma.start, vma.end);
    removeVma(mm, vma);
  }
  mm.pgtable.freeTables(0, TASK_SIZE + PAGE_SIZE, 0, TASK_SIZE + PAGE_SIZE);
}
