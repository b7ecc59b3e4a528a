/**
 * mm/memory.c and mm/huge_memory.c: the generic fault path (__handle_mm_fault tries a PUD, then a PMD, then a
 * PTE fault, each FALLBACK dropping to the next size), the pfn insertion helpers drivers call from their
 * fault handlers, zapping, and unmap_mapping_range(). Every driver fault is counted per entry size and
 * outcome, as the kernel's fault trace events would show them.
 */
import { kerr } from '../errno.js';
import type { AddressSpace } from '../fs/inode.js';
import { PAGE_SIZE, type PfnT, pfnTToPhys } from '../include/pfn_t.js';
import {
  linearPageIndex,
  type PageEntrySize,
  PE_SIZE_PMD,
  PE_SIZE_PTE,
  PE_SIZE_PUD,
  PMD_SIZE,
  PUD_SIZE,
  VM_FAULT_FALLBACK,
  VM_FAULT_NOPAGE,
  VM_FAULT_OOM,
  VM_FAULT_SIGBUS,
  VM_HUGEPAGE,
  VM_MIXEDMAP,
  VM_NOHUGEPAGE,
  VM_PFNMAP,
  VM_WRITE,
  type VmAreaStruct,
  type VmFault,
} from './mm_types.js';

/** What one driver fault returned. */
export interface FaultCounts {
  nopage: number;
  fallback: number;
  sigbus: number;
  oom: number;
  /** Any other result (SIGSEGV, 0). */
  other: number;
}

const zero = (): FaultCounts => ({ nopage: 0, fallback: 0, sigbus: 0, oom: 0, other: 0 });

/** Driver faults by entry size and outcome (cf. the dax_pmd_fault / dax_pte_fault trace events). */
export class FaultEvents {
  pte = zero();
  pmd = zero();
  pud = zero();

  record(size: PageEntrySize, result: number): void {
    const c = size === PE_SIZE_PTE ? this.pte : size === PE_SIZE_PMD ? this.pmd : this.pud;
    if (result & VM_FAULT_FALLBACK) c.fallback++;
    else if (result & VM_FAULT_SIGBUS) c.sigbus++;
    else if (result & VM_FAULT_OOM) c.oom++;
    else if (result & VM_FAULT_NOPAGE) c.nopage++;
    else c.other++;
  }

  reset(): void {
    this.pte = zero();
    this.pmd = zero();
    this.pud = zero();
  }

  /** A copy of the counters. */
  snapshot(): { pte: FaultCounts; pmd: FaultCounts; pud: FaultCounts } {
    return { pte: { ...this.pte }, pmd: { ...this.pmd }, pud: { ...this.pud } };
  }
}

/** transparent_hugepage_enabled() for a vma whose driver has ->huge_fault (THP "madvise" mode). */
function hugeEnabled(vma: VmAreaStruct): boolean {
  return (
    (vma.flags & VM_HUGEPAGE) !== 0 && (vma.flags & VM_NOHUGEPAGE) === 0 && vma.ops?.hugeFault !== undefined
  );
}

/**
 * __handle_mm_fault(): resolves a fault at `address` in `vma`. Returns VM_FAULT_* bits; 0 when another
 * entry already maps the address.
 */
export function handleMmFault(
  vma: VmAreaStruct,
  address: number,
  flags: number,
  events: FaultEvents,
): number {
  const pt = vma.mm.pgtable;
  const addr = address - (address % PAGE_SIZE);
  const vmf: VmFault = { vma, address: addr, pgoff: linearPageIndex(vma, addr), flags };
  const huge = hugeEnabled(vma);
  if (huge && pt.pudNone(addr)) {
    const rc = driverFault(vmf, PE_SIZE_PUD, events);
    if (!(rc & VM_FAULT_FALLBACK)) return rc;
  }
  if (!pt.pmdAlloc(addr)) return 0;
  if (huge && pt.pmdNone(addr)) {
    const rc = driverFault(vmf, PE_SIZE_PMD, events);
    if (!(rc & VM_FAULT_FALLBACK)) return rc;
  }
  if (pt.walk(addr) !== null) return 0;
  return driverFault(vmf, PE_SIZE_PTE, events);
}

function driverFault(vmf: VmFault, size: PageEntrySize, events: FaultEvents): number {
  const ops = vmf.vma.ops;
  let rc: number;
  if (size === PE_SIZE_PTE) rc = ops?.fault ? ops.fault(vmf) : VM_FAULT_SIGBUS;
  else rc = ops?.hugeFault ? ops.hugeFault(vmf, size) : VM_FAULT_FALLBACK;
  events.record(size, rc);
  return rc;
}

/**
 * vm_insert_mixed(): maps one page of `pfn` at `addr` in a VM_MIXEDMAP vma. EFAULT outside the vma, EBUSY
 * when a page is mapped there already.
 */
export function vmInsertMixed(vma: VmAreaStruct, addr: number, pfn: PfnT): void {
  if (!(vma.flags & VM_MIXEDMAP)) throw kerr('EINVAL', 'vm_insert_mixed');
  if (addr < vma.start || addr >= vma.end) throw kerr('EFAULT', 'vm_insert_mixed');
  const base = addr - (addr % PAGE_SIZE);
  const entry = {
    pfn,
    phys: pfnTToPhys(pfn),
    size: PE_SIZE_PTE,
    write: (vma.flags & VM_WRITE) !== 0,
  } as const;
  if (!vma.mm.pgtable.set(base, entry)) throw kerr('EBUSY', 'vm_insert_mixed');
}

function insertHuge(vmf: VmFault, pfn: PfnT, size: typeof PE_SIZE_PMD | typeof PE_SIZE_PUD): number {
  const { vma } = vmf;
  if (!(vma.flags & (VM_PFNMAP | VM_MIXEDMAP))) return VM_FAULT_SIGBUS;
  if (vmf.address < vma.start || vmf.address >= vma.end) return VM_FAULT_SIGBUS;
  const bytes = size === PE_SIZE_PMD ? PMD_SIZE : PUD_SIZE;
  const base = vmf.address - (vmf.address % bytes);
  const write = (vma.flags & VM_WRITE) !== 0;
  vma.mm.pgtable.set(base, { pfn, phys: pfnTToPhys(pfn), size, write });
  return VM_FAULT_NOPAGE;
}

/** vmf_insert_pfn_pmd(): maps 2 MiB of `pfn` at the pmd containing the fault address. */
export function vmfInsertPfnPmd(vmf: VmFault, pfn: PfnT, _write: boolean): number {
  return insertHuge(vmf, pfn, PE_SIZE_PMD);
}

/** vmf_insert_pfn_pud(): maps 1 GiB of `pfn` at the pud containing the fault address. */
export function vmfInsertPfnPud(vmf: VmFault, pfn: PfnT, _write: boolean): number {
  return insertHuge(vmf, pfn, PE_SIZE_PUD);
}

/** zap_page_range(): removes the entries mapping [start, start+size) of `vma`; the vma stays. */
export function zapPageRange(vma: VmAreaStruct, start: number, size: number): number {
  return vma.mm.pgtable.zap(Math.max(start, vma.start), Math.min(start + size, vma.end));
}

/**
 * unmap_mapping_range(): zaps, in every vma that maps `mapping`, the pages for file bytes
 * [holebegin, holebegin+holelen); a zero length means to the end of the file. The next access faults again.
 */
export function unmapMappingRange(
  mapping: AddressSpace,
  holebegin: number,
  holelen: number,
  _evenCows: boolean,
): number {
  const first = Math.floor(holebegin / PAGE_SIZE);
  const last = holelen === 0 ? Number.MAX_SAFE_INTEGER : first + Math.ceil(holelen / PAGE_SIZE) - 1;
  let zapped = 0;
  for (const vma of mapping.iMmap) {
    const vFirst = vma.pgoff;
    const vLast = vma.pgoff + (vma.end - vma.start) / PAGE_SIZE - 1;
    if (vLast < first || vFirst > last) continue;
    const from = vma.start + (Math.max(first, vFirst) - vFirst) * PAGE_SIZE;
    const to = vma.start + (Math.min(last, vLast) - vFirst + 1) * PAGE_SIZE;
    zapped += vma.mm.pgtable.zap(from, to);
  }
  return zapped;
}
