/**
 * include/linux/mm.h, mm_types.h and uapi/asm-generic/mman*.h: vm_area_struct, vm_fault, vm_operations_struct
 * and the flag values mmap, faults and drivers share.
 */
import type { File } from '../fs/file_table.js';
import { S_DAX } from '../fs/inode.js';
import type { PfnT } from '../include/pfn_t.js';
import type { MmStruct } from './mmap.js';

export const PMD_SHIFT = 21;
export const PMD_SIZE = 2 ** PMD_SHIFT;
export const PUD_SHIFT = 30;
export const PUD_SIZE = 2 ** PUD_SHIFT;

/** mmap prot. */
export const PROT_NONE = 0;
export const PROT_READ = 1;
export const PROT_WRITE = 2;
export const PROT_EXEC = 4;

/** mmap flags. */
export const MAP_SHARED = 0x01;
export const MAP_PRIVATE = 0x02;
export const MAP_TYPE = 0x0f;
export const MAP_FIXED = 0x10;
export const MAP_ANONYMOUS = 0x20;

/** madvise advice. */
export const MADV_DONTFORK = 10;
export const MADV_DOFORK = 11;

/** vm_flags. */
export const VM_READ = 0x1;
export const VM_WRITE = 0x2;
export const VM_EXEC = 0x4;
export const VM_SHARED = 0x8;
export const VM_MAYREAD = 0x10;
export const VM_MAYWRITE = 0x20;
export const VM_MAYEXEC = 0x40;
export const VM_MAYSHARE = 0x80;
export const VM_PFNMAP = 0x400;
export const VM_DONTCOPY = 0x20000;
export const VM_MIXEDMAP = 0x10000000;
export const VM_HUGEPAGE = 0x20000000;
export const VM_NOHUGEPAGE = 0x40000000;

/** vm_fault_t bits (v4.11 values). */
export const VM_FAULT_OOM = 0x0001;
export const VM_FAULT_SIGBUS = 0x0002;
export const VM_FAULT_SIGSEGV = 0x0040;
export const VM_FAULT_NOPAGE = 0x0100;
export const VM_FAULT_FALLBACK = 0x0800;
export const VM_FAULT_ERROR = VM_FAULT_OOM | VM_FAULT_SIGBUS | VM_FAULT_SIGSEGV;

/** vm_fault flags. */
export const FAULT_FLAG_WRITE = 0x01;

/** enum page_entry_size. */
export const PE_SIZE_PTE = 0;
export const PE_SIZE_PMD = 1;
export const PE_SIZE_PUD = 2;
export type PageEntrySize = typeof PE_SIZE_PTE | typeof PE_SIZE_PMD | typeof PE_SIZE_PUD;

/** Bytes mapped by one entry of each size. */
export const PE_BYTES: Readonly<Record<PageEntrySize, number>> = [4096, PMD_SIZE, PUD_SIZE];

/** struct vm_operations_struct, the part drivers here implement. */
export interface VmOperationsStruct {
  /** ->fault(): a PAGE_SIZE fault; returns VM_FAULT_* bits. */
  fault?(vmf: VmFault): number;
  /** ->huge_fault(): a fault of `peSize`; VM_FAULT_FALLBACK asks for the next smaller size. */
  hugeFault?(vmf: VmFault, peSize: PageEntrySize): number;
  /** ->open(): a new vma now refers to this mapping (split). */
  open?(vma: VmAreaStruct): void;
  /** ->close(): the vma goes away. */
  close?(vma: VmAreaStruct): void;
}

/** struct vm_area_struct. */
export class VmAreaStruct {
  readonly mm: MmStruct;
  start: number;
  end: number;
  /** vm_pgoff: offset of `start` into the file, in pages. */
  pgoff: number;
  flags: number;
  file: File | null;
  ops: VmOperationsStruct | null = null;
  privateData: unknown = null;

  constructor(mm: MmStruct, start: number, end: number, pgoff: number, flags: number, file: File | null) {
    this.mm = mm;
    this.start = start;
    this.end = end;
    this.pgoff = pgoff;
    this.flags = flags;
    this.file = file;
  }
}

/** struct vm_fault. */
export interface VmFault {
  readonly vma: VmAreaStruct;
  /** Faulting address, rounded down to PAGE_SIZE. */
  readonly address: number;
  /** Page offset into the file of `address` (linear_page_index). */
  readonly pgoff: number;
  readonly flags: number;
}

/** A leaf page-table entry: the pfn it maps, the size it covers, whether writes go through. */
export interface PageTableEntry {
  readonly pfn: PfnT;
  /** Physical address of the first byte the entry maps. */
  readonly phys: number;
  readonly size: PageEntrySize;
  readonly write: boolean;
}

/** linear_page_index(): the file page offset of `address` inside `vma`. */
export function linearPageIndex(vma: VmAreaStruct, address: number): number {
  return Math.floor((address - vma.start) / 4096) + vma.pgoff;
}

/** vma_is_dax(): the vma maps a file whose mapping host is a DAX inode. */
export function vmaIsDax(vma: VmAreaStruct): boolean {
  return vma.file !== null && (vma.file.mapping.host.flags & S_DAX) !== 0;
}
