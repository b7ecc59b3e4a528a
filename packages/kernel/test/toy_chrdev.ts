/**
 * A toy character-device driver for the mm and chrdev tests: a module that registers one minor, a cdev and a
 * /dev node, and whose ->mmap maps a range of physical memory with VM_MIXEDMAP faults (4 KiB through
 * vm_insert_mixed, 2 MiB / 1 GiB through vmf_insert_pfn_pmd/pud up to `maxEntry`, FALLBACK above it).
 */
import { Cdev, type CdevParent, cdevInit } from '../src/fs/char_dev.js';
import type { File, FileOperations } from '../src/fs/file_table.js';
import { PAGE_SIZE, PFN_DEV, PFN_MAP, physToPfnT } from '../src/include/pfn_t.js';
import type { Module, ModuleDefinition } from '../src/kernel/module.js';
import type { Kernel } from '../src/kernel.js';
import { vmfInsertPfnPmd, vmfInsertPfnPud, vmInsertMixed } from '../src/mm/memory.js';
import {
  linearPageIndex,
  type PageEntrySize,
  PE_BYTES,
  PE_SIZE_PMD,
  PE_SIZE_PTE,
  VM_FAULT_FALLBACK,
  VM_FAULT_NOPAGE,
  VM_FAULT_SIGBUS,
  VM_HUGEPAGE,
  VM_MIXEDMAP,
  type VmFault,
  type VmOperationsStruct,
} from '../src/mm/mm_types.js';

export const KiB = 1024;
export const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;

/** Physical base of the toy device: 4 GiB, so that it is 1 GiB aligned. */
export const TOY_BASE = 4 * GiB;

export interface ToyOptions {
  /** Module name and /dev/<name>0; default "toy". */
  name?: string;
  /** Bytes of device memory from TOY_BASE; default 64 MiB. */
  size?: number;
  /** Largest entry the driver installs; larger sizes fall back. Default PE_SIZE_PTE. */
  maxEntry?: PageEntrySize;
  /** Replaces or removes file operations (a key with value undefined removes that method). */
  fops?: Partial<FileOperations>;
  /** Skips the /dev node. */
  noNode?: boolean;
}

export interface Toy {
  readonly kernel: Kernel;
  readonly def: ModuleDefinition<Record<string, never>, void>;
  readonly name: string;
  readonly path: string;
  readonly size: number;
  devt: number;
  cdev: Cdev;
  module: Module;
  /** ->open, ->release, ->mmap, vm ->open / ->close, in call order. */
  readonly log: string[];
  /** Files between ->open and ->release. */
  readonly files: Set<File>;
  /** References the cdev holds on its parent (cdev_add / last kobject put). */
  parentRefs: number;
  /** When set and returning a number, that is the fault's result instead of the driver's own. */
  faultHook: ((vmf: VmFault, size: PageEntrySize) => number | undefined) | null;
  readonly vmOps: VmOperationsStruct;
  readonly fops: FileOperations;
}

/** Builds the toy driver's module (not loaded). */
export function toyDriver(kernel: Kernel, options: ToyOptions = {}): Toy {
  const name = options.name ?? 'toy';
  const size = options.size ?? 64 * MiB;
  const maxEntry = options.maxEntry ?? PE_SIZE_PTE;
  const parent: CdevParent = {
    get: () => toy.parentRefs++,
    put: () => toy.parentRefs--,
  };
  const vmOps: VmOperationsStruct = {
    fault(vmf) {
      const hooked = toy.faultHook?.(vmf, PE_SIZE_PTE);
      if (hooked !== undefined) return hooked;
      if ((vmf.pgoff + 1) * PAGE_SIZE > size) return VM_FAULT_SIGBUS;
      vmInsertMixed(vmf.vma, vmf.address, physToPfnT(TOY_BASE + vmf.pgoff * PAGE_SIZE, PFN_DEV | PFN_MAP));
      return VM_FAULT_NOPAGE;
    },
    hugeFault(vmf, pe) {
      const hooked = toy.faultHook?.(vmf, pe);
      if (hooked !== undefined) return hooked;
      if (pe > maxEntry) return VM_FAULT_FALLBACK;
      const bytes = PE_BYTES[pe];
      const { vma } = vmf;
      const entry = vmf.address - (vmf.address % bytes);
      if (entry < vma.start || entry + bytes > vma.end) return VM_FAULT_FALLBACK;
      const off = linearPageIndex(vma, entry) * PAGE_SIZE;
      if (off % bytes !== 0 || off + bytes > size) return VM_FAULT_FALLBACK;
      const pfn = physToPfnT(TOY_BASE + off, PFN_DEV | PFN_MAP);
      return pe === PE_SIZE_PMD ? vmfInsertPfnPmd(vmf, pfn, true) : vmfInsertPfnPud(vmf, pfn, true);
    },
    open: () => void toy.log.push('vm_open'),
    close: () => void toy.log.push('vm_close'),
  };
  const fops: FileOperations = {
    open(_inode, file) {
      toy.log.push('open');
      toy.files.add(file);
    },
    release(_inode, file) {
      toy.log.push('release');
      toy.files.delete(file);
    },
    mmap(_file, vma) {
      toy.log.push('mmap');
      vma.ops = vmOps;
      vma.flags |= VM_MIXEDMAP | VM_HUGEPAGE;
    },
  };
  for (const [key, value] of Object.entries(options.fops ?? {})) {
    if (value === undefined) delete (fops as Record<string, unknown>)[key];
    else (fops as Record<string, unknown>)[key] = value;
  }
  const def: ModuleDefinition<Record<string, never>, void> = {
    name,
    init(ctx) {
      const devt = kernel.chrdev.allocChrdevRegion(0, 1, name);
      const cdev = new Cdev();
      cdevInit(cdev, fops);
      fops.owner = ctx.module;
      cdev.owner = ctx.module;
      cdev.parent = parent;
      try {
        kernel.chrdev.cdevAdd(cdev, devt, 1);
      } catch (e) {
        kernel.chrdev.unregisterChrdevRegion(devt, 1);
        throw e;
      }
      if (!options.noNode) kernel.devtmpfs.createNode(`${name}0`, devt);
      toy.devt = devt;
      toy.cdev = cdev;
      toy.module = ctx.module;
    },
    exit() {
      kernel.devtmpfs.deleteNode(`${name}0`, toy.devt);
      kernel.chrdev.cdevDel(toy.cdev);
      kernel.chrdev.unregisterChrdevRegion(toy.devt, 1);
    },
  };
  const toy: Toy = {
    kernel,
    def,
    name,
    path: `/dev/${name}0`,
    size,
    devt: 0,
    cdev: new Cdev(),
    module: null as unknown as Module,
    log: [],
    files: new Set(),
    parentRefs: 0,
    faultHook: null,
    vmOps,
    fops,
  };
  return toy;
}

/** Builds and insmods the toy driver. */
export async function loadToy(kernel: Kernel, options: ToyOptions = {}): Promise<Toy> {
  const toy = toyDriver(kernel, options);
  await kernel.modules.insmod(toy.def);
  return toy;
}

/** The first byte of device page `pgoff`, read straight from physical memory. */
export function devByte(kernel: Kernel, pgoff: number, off = 0): number {
  const b = new Uint8Array(1);
  kernel.physmem.read(TOY_BASE + pgoff * PAGE_SIZE + off, b);
  return b[0]!;
}

/** The error `fn` throws; fails the test when it throws nothing. */
export function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}
