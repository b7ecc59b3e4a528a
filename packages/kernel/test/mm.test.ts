import { describe, expect, it } from 'vitest';
import { kerr } from '../src/errno.js';
import {
  BUS_ADRERR,
  FaultEvents,
  type File,
  handleMmFault,
  IORESOURCE_MEM,
  IORESOURCE_SYSTEM_RAM,
  isSignal,
  KERNEL_VA_OFFSET,
  MADV_DOFORK,
  MADV_DONTFORK,
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_PRIVATE,
  MAP_SHARED,
  MEMREMAP_WB,
  MEMREMAP_WC,
  MEMREMAP_WT,
  type MemoryBacking,
  MMAP_BASE,
  MMAP_MIN_ADDR,
  MmStruct,
  O_RDONLY,
  O_RDWR,
  O_WRONLY,
  PAGE_SIZE,
  type PageEntrySize,
  PageTable,
  type PageTableEntry,
  PE_SIZE_PMD,
  PE_SIZE_PTE,
  PE_SIZE_PUD,
  PFN_DEV,
  PFN_MAP,
  PHYS_ADDR_MAX,
  PhysicalMemory,
  PMD_SIZE,
  PROT_EXEC,
  PROT_NONE,
  PROT_READ,
  PROT_WRITE,
  PUD_SIZE,
  physToPfnT,
  Resource,
  SEGV_ACCERR,
  SEGV_MAPERR,
  SIGBUS,
  SIGKILL,
  SIGSEGV,
  SignalError,
  SPARSE_CHUNK_SIZE,
  SparseBacking,
  TASK_SIZE,
  unmapMappingRange,
  VM_DONTCOPY,
  VM_EXEC,
  VM_FAULT_FALLBACK,
  VM_FAULT_NOPAGE,
  VM_FAULT_OOM,
  VM_FAULT_SIGBUS,
  VM_FAULT_SIGSEGV,
  VM_HUGEPAGE,
  VM_MAYEXEC,
  VM_MAYREAD,
  VM_MAYSHARE,
  VM_MAYWRITE,
  VM_MIXEDMAP,
  VM_NOHUGEPAGE,
  VM_READ,
  VM_SHARED,
  VM_WRITE,
  VmAreaStruct,
  vmfInsertPfnPmd,
  vmfInsertPfnPud,
  vmInsertMixed,
  zapPageRange,
} from '../src/index.js';
import { Kernel } from '../src/kernel.js';
import { caught, devByte, GiB, loadToy, MiB, TOY_BASE, type Toy, type ToyOptions } from './toy_chrdev.js';

const P = PAGE_SIZE;
const RW = PROT_READ | PROT_WRITE;
/** A 1 GiB aligned user address far below the top-down mmap area. */
const X = 2 ** 40;
const C = SPARSE_CHUNK_SIZE;

function signal(fn: () => unknown): SignalError {
  const e = caught(fn);
  expect(e).toBeInstanceOf(SignalError);
  return e as SignalError;
}

const errno = (code: string) => expect.objectContaining({ code });

const counts = (over: Partial<Record<'nopage' | 'fallback' | 'sigbus' | 'oom' | 'other', number>> = {}) => ({
  nopage: 0,
  fallback: 0,
  sigbus: 0,
  oom: 0,
  other: 0,
  ...over,
});

async function setup(options: ToyOptions = {}, flags = O_RDWR) {
  const kernel = new Kernel();
  const toy = await loadToy(kernel, options);
  const task = kernel.spawn('mmtest');
  const fd = task.open(toy.path, flags);
  return { kernel, toy, task, fd };
}

/** The only open file of the toy driver. */
function theFile(toy: Toy): File {
  expect(toy.files.size).toBe(1);
  return [...toy.files][0]!;
}

function entry(size: PageEntrySize, phys: number, write = true): PageTableEntry {
  return { pfn: physToPfnT(phys, PFN_DEV | PFN_MAP), phys, size, write };
}

const bytes = (...b: number[]) => Uint8Array.from(b);

describe('SparseBacking (mm/sparse.ts)', () => {
  it('reads zeroes where nothing was written, and zero writes allocate nothing', () => {
    const b = new SparseBacking();
    const buf = new Uint8Array(100).fill(7);
    b.read(12345, buf);
    expect(buf.every((x) => x === 0)).toBe(true);
    b.write(0, new Uint8Array(3 * C));
    b.write(5, new Uint8Array(7));
    b.write(C + 1, new Uint8Array(16).subarray(1, 10));
    expect(b.allocatedBytes).toBe(0);
    expect(b.chunkOffsets()).toEqual([]);
  });

  it('allocates exactly the chunks a non-zero write touches and reads across chunk boundaries', () => {
    const b = new SparseBacking();
    b.write(
      C - 4,
      Uint8Array.from({ length: 10 }, (_, i) => i + 1),
    );
    expect(b.chunkOffsets()).toEqual([0, C]);
    expect(b.allocatedBytes).toBe(2 * C);
    const got = new Uint8Array(14);
    b.read(C - 6, got);
    expect([...got]).toEqual([0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0, 0]);
    // zero in chunk 4, non-zero in chunk 5: only chunk 5 is allocated
    const straddle = new Uint8Array(10);
    straddle[8] = 9;
    straddle[9] = 9;
    b.write(5 * C - 8, straddle);
    expect(b.chunkOffsets()).toEqual([0, C, 5 * C]);
    const back = new Uint8Array(2);
    b.read(5 * C, back);
    expect([...back]).toEqual([9, 9]);
  });

  it('a zero write over an allocated chunk overwrites it', () => {
    const b = new SparseBacking();
    b.write(100, bytes(1, 2, 3, 4));
    b.write(101, new Uint8Array(2));
    const got = new Uint8Array(4);
    b.read(100, got);
    expect([...got]).toEqual([1, 0, 0, 4]);
    expect(b.allocatedBytes).toBe(C);
  });

  it('discard releases whole chunks and zeroes the partly covered ones', () => {
    const b = new SparseBacking();
    b.write(0, new Uint8Array(2 * C + 100).fill(0xff));
    expect(b.chunkOffsets()).toEqual([0, C, 2 * C]);
    b.discard(10, 2 * C);
    expect(b.chunkOffsets()).toEqual([0, 2 * C]);
    const first = new Uint8Array(C);
    b.read(0, first);
    expect(first.subarray(0, 10).every((x) => x === 0xff)).toBe(true);
    expect(first.subarray(10).every((x) => x === 0)).toBe(true);
    const third = new Uint8Array(100);
    b.read(2 * C, third);
    expect(third.subarray(0, 10).every((x) => x === 0)).toBe(true);
    expect(third.subarray(10).every((x) => x === 0xff)).toBe(true);
    b.discard(7 * C, 3 * C);
    expect(b.allocatedBytes).toBe(2 * C);
  });

  it('detects non-zero bytes in word-aligned and unaligned views alike', () => {
    const b = new SparseBacking();
    const raw = new Uint8Array(16);
    raw[9] = 1;
    b.write(0, raw.subarray(4, 12)); // word path, non-zero
    expect(b.chunkOffsets()).toEqual([0]);
    b.write(3 * C, raw.subarray(10, 15)); // byte path, all zero
    b.write(4 * C, raw.subarray(9, 10)); // byte path, non-zero
    expect(b.chunkOffsets()).toEqual([0, 4 * C]);
  });
});

/** A fully allocated backing that records the calls it gets. */
class ArrayBacking implements MemoryBacking {
  readonly bytes: Uint8Array;
  readonly ops: string[] = [];
  constructor(size: number) {
    this.bytes = new Uint8Array(size);
  }
  read(off: number, dst: Uint8Array): void {
    this.ops.push(`r${off}+${dst.length}`);
    dst.set(this.bytes.subarray(off, off + dst.length));
  }
  write(off: number, src: Uint8Array): void {
    this.ops.push(`w${off}+${src.length}`);
    this.bytes.set(src, off);
  }
  discard(off: number, len: number): void {
    this.ops.push(`d${off}+${len}`);
    this.bytes.fill(0, off, off + len);
  }
  get allocatedBytes(): number {
    return this.bytes.length;
  }
}

describe('PhysicalMemory (mm/physmem.ts)', () => {
  it('validates attach: EINVAL, ERANGE, EBUSY for any overlap; adjacent ranges are fine', () => {
    const m = new PhysicalMemory();
    expect(() => m.attach(-P, P, new ArrayBacking(P))).toThrow(errno('EINVAL'));
    expect(() => m.attach(0, 0, new ArrayBacking(P))).toThrow(errno('EINVAL'));
    expect(() => m.attach(0.5, P, new ArrayBacking(P))).toThrow(errno('EINVAL'));
    expect(() => m.attach(PHYS_ADDR_MAX - P, 2 * P, new ArrayBacking(P))).toThrow(errno('ERANGE'));
    m.attach(0x2000, 0x2000, new ArrayBacking(0x2000));
    expect(() => m.attach(0x1000, 0x1001, new ArrayBacking(1))).toThrow(errno('EBUSY'));
    expect(() => m.attach(0x3fff, 1, new ArrayBacking(1))).toThrow(errno('EBUSY'));
    expect(() => m.attach(0x1000, 0x4000, new ArrayBacking(1))).toThrow(errno('EBUSY'));
    expect(() => m.attach(0x2800, 0x100, new ArrayBacking(1))).toThrow(errno('EBUSY'));
    m.attach(0x1000, 0x1000, new ArrayBacking(0x1000));
    m.attach(0x4000, 0x1000, new ArrayBacking(0x1000));
    expect(m.allocatedBytes).toBe(0x4000);
  });

  it('splits reads, writes and discards between attached ranges and the sparse default', () => {
    const m = new PhysicalMemory();
    const a = new ArrayBacking(0x1000);
    const b = new ArrayBacking(0x1000);
    m.attach(0x3000, 0x1000, b);
    m.attach(0x1000, 0x1000, a);
    const src = Uint8Array.from({ length: 0x3000 }, (_, i) => (i % 251) + 1);
    m.write(0x800, src);
    expect(a.ops).toEqual(['w0+4096']);
    expect(b.ops).toEqual(['w0+2048']);
    expect(a.bytes[0]).toBe(src[0x800]);
    expect(b.bytes[0x7ff]).toBe(src[0x2fff]);
    expect(m.allocatedBytes).toBe(C + 0x2000);
    const back = new Uint8Array(0x3000);
    m.read(0x800, back);
    expect(back).toEqual(src);
    expect(a.ops.at(-1)).toBe('r0+4096');
    m.discard(0x1800, 0x2000);
    expect(a.ops.at(-1)).toBe('d2048+2048');
    expect(b.ops.at(-1)).toBe('d0+2048');
    m.read(0x800, back);
    expect(back.subarray(0, 0x1000)).toEqual(src.subarray(0, 0x1000));
    expect(back.subarray(0x1000, 0x3000).every((x) => x === 0)).toBe(true);
  });

  it('detach hands the backing back, after which the range reads from the default store', () => {
    const m = new PhysicalMemory();
    const a = new ArrayBacking(P);
    m.attach(8 * P, P, a);
    m.write(8 * P, bytes(5, 6));
    expect(m.detach(8 * P)).toBe(a);
    expect(() => m.detach(8 * P)).toThrow(errno('EINVAL'));
    const got = new Uint8Array(2);
    m.read(8 * P, got);
    expect([...got]).toEqual([0, 0]);
    expect(m.allocatedBytes).toBe(0);
    m.write(2 ** 51, bytes(1));
    expect(m.allocatedBytes).toBe(C);
  });

  it('EFAULT outside [0, 2^52)', () => {
    const m = new PhysicalMemory();
    expect(() => m.read(-1, new Uint8Array(1))).toThrow(errno('EFAULT'));
    expect(() => m.write(PHYS_ADDR_MAX - 1, new Uint8Array(2))).toThrow(errno('EFAULT'));
    m.write(PHYS_ADDR_MAX - 1, bytes(3));
    expect(m.allocatedBytes).toBe(C);
  });
});

describe('Memremap (kernel/memremap.c)', () => {
  function machine() {
    const kernel = new Kernel();
    const root = kernel.iomem.iomemResource;
    kernel.iomem.insertResource(
      root,
      new Resource({ name: 'System RAM', start: 0, end: GiB - 1, flags: IORESOURCE_SYSTEM_RAM }),
    );
    kernel.iomem.insertResource(
      root,
      new Resource({ name: 'reserved', start: GiB, end: 2 * GiB - 1, flags: IORESOURCE_MEM }),
    );
    return kernel;
  }

  it('maps device memory at phys + 2^52; copies go to physical memory; memunmap ends the mapping', () => {
    const kernel = machine();
    const mr = kernel.memremap;
    const k = mr.memremap(4 * GiB, 2 * MiB, MEMREMAP_WB)!;
    expect(k).toBe(KERNEL_VA_OFFSET + 4 * GiB);
    expect(KERNEL_VA_OFFSET).toBe(2 ** 52);
    expect(mr.memremap(GiB + P, P, MEMREMAP_WT)).toBe(KERNEL_VA_OFFSET + GiB + P);
    expect(mr.memremap(8 * GiB, P, MEMREMAP_WC)).toBe(KERNEL_VA_OFFSET + 8 * GiB);
    expect(mr.count).toBe(3);
    expect(mr.virtToPhys(k + 5)).toBe(4 * GiB + 5);
    mr.memcpyTo(k + 2 * MiB - 2, bytes(0xaa, 0xbb));
    const phys = new Uint8Array(2);
    kernel.physmem.read(4 * GiB + 2 * MiB - 2, phys);
    expect([...phys]).toEqual([0xaa, 0xbb]);
    kernel.physmem.write(4 * GiB + 7, bytes(42));
    const got = new Uint8Array(1);
    mr.memcpyFrom(got, k + 7);
    expect(got[0]).toBe(42);
    expect(() => mr.memcpyTo(k + 2 * MiB - 1, bytes(1, 2))).toThrow(errno('EFAULT'));
    expect(() => mr.virtToPhys(k + 2 * MiB)).toThrow(errno('EFAULT'));
    mr.memunmap(k);
    expect(mr.count).toBe(2);
    expect(() => mr.memcpyFrom(got, k + 7)).toThrow(errno('EFAULT'));
    expect(
      kernel.dmesg().filter((l) => l.includes('BUG: unable to handle kernel paging request')),
    ).toHaveLength(3);
    expect(kernel.log.warnings).toBe(0);
    mr.memunmap(k);
    expect(kernel.log.warnings).toBe(1);
    expect(kernel.dmesg().join('\n')).toContain('memunmap of unmapped address');
    expect(mr.count).toBe(2);
  });

  it('System RAM maps only with MEMREMAP_WB; other flags WARN_ONCE and fail', () => {
    const kernel = machine();
    const mr = kernel.memremap;
    expect(mr.memremap(0x100000, P, MEMREMAP_WB)).toBe(KERNEL_VA_OFFSET + 0x100000);
    expect(mr.memremap(0x100000, P, MEMREMAP_WB | MEMREMAP_WT)).toBe(KERNEL_VA_OFFSET + 0x100000);
    expect(mr.memremap(0x100000, P, MEMREMAP_WT)).toBeNull();
    expect(mr.memremap(0x200000, P, MEMREMAP_WC)).toBeNull();
    expect(kernel.log.warnings).toBe(1);
    expect(kernel.dmesg().filter((l) => l.includes('memremap attempted on ram'))).toHaveLength(1);
    expect(mr.count).toBe(2);
  });

  it('a range that is part System RAM, part not, fails with one WARN_ONCE', () => {
    const kernel = machine();
    const mr = kernel.memremap;
    expect(mr.memremap(GiB - P, 2 * P, 0)).toBeNull(); // no flags: refused before the range is looked at
    expect(kernel.log.warnings).toBe(0);
    expect(mr.memremap(GiB - P, 2 * P, MEMREMAP_WB)).toBeNull();
    expect(mr.memremap(GiB - P, 2 * P, MEMREMAP_WB)).toBeNull();
    expect(mr.memremap(0, 2 * GiB, MEMREMAP_WT)).toBeNull();
    expect(kernel.log.warnings).toBe(1);
    expect(kernel.dmesg().join('\n')).toContain(
      `memremap attempted on mixed range 0x${(GiB - P).toString(16).padStart(16, '0')} size: 0x2000`,
    );
    expect(mr.count).toBe(0);
  });

  it('returns null for empty, negative, too-high or flagless requests', () => {
    const mr = machine().memremap;
    expect(mr.memremap(4 * GiB, 0, MEMREMAP_WB)).toBeNull();
    expect(mr.memremap(-P, P, MEMREMAP_WB)).toBeNull();
    expect(mr.memremap(PHYS_ADDR_MAX - P, 2 * P, MEMREMAP_WB)).toBeNull();
    expect(mr.memremap(4 * GiB, 1.5, MEMREMAP_WB)).toBeNull();
    expect(mr.memremap(4 * GiB, P, 0)).toBeNull();
    expect(mr.memremap(4 * GiB, P, 1 << 5)).toBeNull();
    expect(mr.count).toBe(0);
  });

  it('devm_memremap is undone with the device, and is ENXIO when memremap fails', async () => {
    const kernel = machine();
    const core = kernel.driverCore;
    const dev = await core.rootDeviceRegister('memdev');
    const k = kernel.memremap.devmMemremap(core, dev, 4 * GiB, MiB, MEMREMAP_WB);
    expect(k).toBe(KERNEL_VA_OFFSET + 4 * GiB);
    expect(() => kernel.memremap.devmMemremap(core, dev, GiB - P, 2 * P, MEMREMAP_WB)).toThrow(
      errno('ENXIO'),
    );
    expect(kernel.memremap.count).toBe(1);
    await core.rootDeviceUnregister(dev);
    expect(kernel.memremap.count).toBe(0);
    expect(() => kernel.memremap.virtToPhys(k)).toThrow(errno('EFAULT'));
  });
});

describe('PageTable (mm/pgtable.ts)', () => {
  it('installs leaves of each size, walks them, and refuses slots that are taken', () => {
    const pt = new PageTable();
    expect(pt.walk(X)).toBeNull();
    expect(pt.pudNone(X)).toBe(true);
    expect(pt.pmdNone(X)).toBe(true);
    const pte = entry(PE_SIZE_PTE, 0x5000);
    expect(pt.set(X + 5 * P, pte)).toBe(true);
    expect(pt.set(X + 5 * P + 7, entry(PE_SIZE_PTE, 0x6000))).toBe(false);
    expect(pt.counts).toEqual({ pte: 1, pmd: 0, pud: 0, pteTables: 1, pmdTables: 1 });
    expect(pt.pudNone(X + 3 * PMD_SIZE)).toBe(false);
    expect(pt.pmdNone(X)).toBe(false);
    expect(pt.pmdNone(X + PMD_SIZE)).toBe(true);
    expect(pt.walk(X + 5 * P + 17)).toEqual({ entry: pte, base: X + 5 * P, bytes: P });
    expect(pt.walk(X + 6 * P)).toBeNull();
    expect(pt.walk(X + PMD_SIZE)).toBeNull();
    // a pmd leaf cannot go where a pte table is; a pte cannot go under a pmd leaf
    expect(pt.set(X, entry(PE_SIZE_PMD, 0))).toBe(false);
    const pmd = entry(PE_SIZE_PMD, 2 * MiB);
    expect(pt.set(X + PMD_SIZE + 123, pmd)).toBe(true);
    expect(pt.walk(X + 2 * PMD_SIZE - 1)).toEqual({ entry: pmd, base: X + PMD_SIZE, bytes: PMD_SIZE });
    expect(pt.set(X + PMD_SIZE + P, entry(PE_SIZE_PTE, 0))).toBe(false);
    expect(pt.pteAlloc(X + PMD_SIZE)).toBe(false);
    expect(pt.pmdNone(X + PMD_SIZE)).toBe(false);
    // a pud leaf cannot go where a pmd table is; nothing goes under a pud leaf
    expect(pt.set(X, entry(PE_SIZE_PUD, 0))).toBe(false);
    const pud = entry(PE_SIZE_PUD, GiB);
    expect(pt.set(X + PUD_SIZE, pud)).toBe(true);
    expect(pt.pmdAlloc(X + PUD_SIZE)).toBe(false);
    expect(pt.set(X + PUD_SIZE, entry(PE_SIZE_PMD, 0))).toBe(false);
    expect(pt.set(X + PUD_SIZE + P, entry(PE_SIZE_PTE, 0))).toBe(false);
    expect(pt.walk(X + PUD_SIZE + 3 * PMD_SIZE + 5)).toEqual({
      entry: pud,
      base: X + PUD_SIZE,
      bytes: PUD_SIZE,
    });
    expect(pt.counts).toEqual({ pte: 1, pmd: 1, pud: 1, pteTables: 1, pmdTables: 1 });
  });

  it('zap clears every leaf touching the range (huge ones whole) and keeps the tables', () => {
    const pt = new PageTable();
    pt.set(X + 5 * P, entry(PE_SIZE_PTE, 0));
    pt.set(X + 6 * P, entry(PE_SIZE_PTE, P));
    pt.set(X + PMD_SIZE, entry(PE_SIZE_PMD, 0));
    pt.set(X + PUD_SIZE, entry(PE_SIZE_PUD, 0));
    expect(pt.zap(X, X + 5 * P)).toBe(0);
    expect(pt.zap(X + 7, X + 7)).toBe(0);
    expect(pt.zap(X, X + 5 * P + 1)).toBe(1);
    expect(pt.zap(X + PMD_SIZE + 100, X + PMD_SIZE + 200)).toBe(1);
    expect(pt.zap(X + 2 * PUD_SIZE - 1, X + 2 * PUD_SIZE)).toBe(1);
    expect(pt.counts).toEqual({ pte: 1, pmd: 0, pud: 0, pteTables: 1, pmdTables: 1 });
    expect(pt.zap(0, 2 ** 47)).toBe(1);
    expect(pt.counts).toEqual({ pte: 0, pmd: 0, pud: 0, pteTables: 1, pmdTables: 1 });
  });

  it('freeTables drops only tables whose span lies in the range, or in [floor, ceiling) when given', () => {
    const pt = new PageTable();
    pt.set(X + P, entry(PE_SIZE_PTE, 0));
    pt.zap(X, X + 2 * P);
    pt.freeTables(X, X + 2 * P);
    expect(pt.counts).toEqual({ pte: 0, pmd: 0, pud: 0, pteTables: 1, pmdTables: 1 });
    pt.freeTables(X, X + 2 * P, X, X + PMD_SIZE);
    expect(pt.counts).toEqual({ pte: 0, pmd: 0, pud: 0, pteTables: 0, pmdTables: 1 });
    pt.freeTables(X, X + 2 * P, X - P, X + PUD_SIZE + P);
    expect(pt.counts).toEqual({ pte: 0, pmd: 0, pud: 0, pteTables: 0, pmdTables: 0 });
    pt.set(X + P, entry(PE_SIZE_PTE, 0));
    pt.zap(0, 2 ** 47);
    pt.freeTables(X + PMD_SIZE, X + 2 * PMD_SIZE, X, X + PUD_SIZE - P);
    expect(pt.counts).toEqual({ pte: 0, pmd: 0, pud: 0, pteTables: 1, pmdTables: 1 });
    // a pmd table that goes takes the pte tables under it, even those outside [start, end)
    pt.freeTables(X + PMD_SIZE, X + 2 * PMD_SIZE, 0, 2 ** 47);
    expect(pt.counts).toEqual({ pte: 0, pmd: 0, pud: 0, pteTables: 0, pmdTables: 0 });
  });
});

describe('fault path: PUD, then PMD, then PTE (mm/memory.c)', () => {
  it('1 GiB of 4 KiB touches by a 4 KiB-only driver: pud.fallback 1, pmd.fallback 512, pte.nopage 262144', async () => {
    const { kernel, task, fd } = await setup({ size: GiB });
    expect(task.mmap(X, GiB, RW, MAP_SHARED | MAP_FIXED, fd, 0)).toBe(X);
    kernel.faultEvents.reset();
    const one = new Uint8Array(1);
    for (let a = X; a < X + GiB; a += P) task.load(a, one);
    expect(kernel.faultEvents.snapshot()).toEqual({
      pud: counts({ fallback: 1 }),
      pmd: counts({ fallback: 512 }),
      pte: counts({ nopage: 262144 }),
    });
    expect(task.mm.pgtable.counts).toEqual({ pte: 262144, pmd: 0, pud: 0, pteTables: 512, pmdTables: 1 });
    // everything is mapped now: more accesses fault nothing
    task.store(X + GiB - 2, bytes(1, 2));
    task.load(X + 12345, 100);
    expect(kernel.faultEvents.pte.nopage).toBe(262144);
    expect(devByte(kernel, GiB / P - 1, P - 1)).toBe(2);
    task.munmap(X, GiB);
    expect(task.mm.pgtable.counts).toEqual({ pte: 0, pmd: 0, pud: 0, pteTables: 0, pmdTables: 0 });
  });

  it('a range across a pud boundary with a 2 MiB-capable driver: exact counts per entry size', async () => {
    const { kernel, task, fd } = await setup({ maxEntry: PE_SIZE_PMD });
    const start = X + GiB - 3 * MiB; // 1 MiB off a 2 MiB boundary
    // file offset 1 MiB makes the address and the offset agree modulo 2 MiB
    expect(task.mmap(start, 6 * MiB, RW, MAP_SHARED | MAP_FIXED, fd, MiB)).toBe(start);
    kernel.faultEvents.reset();
    for (let a = start; a < start + 6 * MiB; a += P) task.load(a, 1);
    // pmd slots: [1020M,1022M) and [1026M,1028M) stick out of the vma and fall back to 256 ptes each;
    // [1022M,1024M) and [1024M,1026M) are pmd leaves; two pud slots are touched and both fall back
    expect(kernel.faultEvents.snapshot()).toEqual({
      pud: counts({ fallback: 2 }),
      pmd: counts({ nopage: 2, fallback: 2 }),
      pte: counts({ nopage: 512 }),
    });
    expect(task.mm.pgtable.counts).toEqual({ pte: 512, pmd: 2, pud: 0, pteTables: 2, pmdTables: 2 });
    expect(task.mm.pgtable.walk(start + MiB + 5)).toMatchObject({
      base: start + MiB,
      bytes: PMD_SIZE,
      entry: { phys: TOY_BASE + 2 * MiB, size: PE_SIZE_PMD, write: true },
    });
    task.store(start + MiB + 5, bytes(0x5a));
    expect(devByte(kernel, 512, 5)).toBe(0x5a);
    task.store(start + 6 * MiB - 1, bytes(0x77));
    expect(devByte(kernel, (7 * MiB) / P - 1, P - 1)).toBe(0x77);
  });

  it('a 1 GiB-capable driver maps an aligned gigabyte with one PUD fault; munmap of one page zaps it whole', async () => {
    const { kernel, task, fd } = await setup({ maxEntry: PE_SIZE_PUD, size: 2 * GiB });
    task.mmap(X, GiB, RW, MAP_SHARED | MAP_FIXED, fd, GiB);
    kernel.faultEvents.reset();
    task.store(X + 123, bytes(9));
    task.store(X + GiB - 1, bytes(8));
    expect(task.load(X + 123, 1)[0]).toBe(9);
    expect(kernel.faultEvents.snapshot()).toEqual({
      pud: counts({ nopage: 1 }),
      pmd: counts(),
      pte: counts(),
    });
    expect(task.mm.pgtable.counts).toEqual({ pte: 0, pmd: 0, pud: 1, pteTables: 0, pmdTables: 0 });
    expect(devByte(kernel, GiB / P, 123)).toBe(9);
    expect(devByte(kernel, (2 * GiB) / P - 1, P - 1)).toBe(8);
    task.munmap(X + 10 * P, P);
    expect(task.mm.pgtable.counts.pud).toBe(0);
    expect(task.mm.vmas.map((v) => [v.start - X, v.end - X, v.pgoff])).toEqual([
      [0, 10 * P, GiB / P],
      [11 * P, GiB, GiB / P + 11],
    ]);
    // neither half covers the gigabyte any more: the refault goes down to 4 KiB
    expect(task.load(X + 123, 1)[0]).toBe(9);
    expect(kernel.faultEvents.snapshot()).toEqual({
      pud: counts({ nopage: 1, fallback: 1 }),
      pmd: counts({ fallback: 1 }),
      pte: counts({ nopage: 1 }),
    });
    // the upper half still holds whole, aligned 2 MiB pieces, which the driver maps with a pmd leaf
    expect(task.load(X + GiB - 1, 1)[0]).toBe(8);
    expect(kernel.faultEvents.pmd).toEqual(counts({ nopage: 1, fallback: 1 }));
    expect(kernel.faultEvents.pte.nopage).toBe(1);
  });

  it('huge leaves are zapped whole by munmap and zap_page_range, and refault', async () => {
    const { kernel, task, fd } = await setup({ maxEntry: PE_SIZE_PMD });
    task.mmap(X, 4 * MiB, RW, MAP_SHARED | MAP_FIXED, fd, 0);
    kernel.faultEvents.reset();
    task.store(X + 10, bytes(1));
    task.store(X + 2 * MiB + 10, bytes(2));
    expect(kernel.faultEvents.pmd.nopage).toBe(2);
    expect(task.mm.pgtable.counts).toEqual({ pte: 0, pmd: 2, pud: 0, pteTables: 0, pmdTables: 1 });
    task.munmap(X + P, P);
    expect(task.mm.pgtable.counts).toEqual({ pte: 0, pmd: 1, pud: 0, pteTables: 0, pmdTables: 1 });
    expect(task.load(X + 10, 1)[0]).toBe(1);
    expect(kernel.faultEvents.snapshot()).toEqual({
      pud: counts({ fallback: 1 }),
      pmd: counts({ nopage: 2, fallback: 1 }),
      pte: counts({ nopage: 1 }),
    });
    expect(task.load(X + 2 * MiB + 10, 1)[0]).toBe(2);
    expect(kernel.faultEvents.pmd.nopage).toBe(2);
    const upper = task.mm.findVma(X + 2 * MiB)!;
    expect(upper.start).toBe(X + 2 * P);
    expect(zapPageRange(upper, X + 3 * MiB, 1)).toBe(1);
    expect(zapPageRange(upper, X + 3 * MiB, 1)).toBe(0);
    expect(task.mm.pgtable.walk(X + 2 * MiB)).toBeNull();
    expect(task.load(X + 2 * MiB + 10, 1)[0]).toBe(2);
    expect(kernel.faultEvents.pmd.nopage).toBe(3);
    // zap_page_range clips to the vma: the pte of the lower vma survives a zap of the upper one from X
    expect(zapPageRange(upper, X, 4 * MiB)).toBe(1);
    expect(task.mm.pgtable.walk(X)).not.toBeNull();
  });

  it('munmap frees the page tables no remaining vma can use, so a later huge fault is possible again', async () => {
    const { kernel, task, fd } = await setup({ maxEntry: PE_SIZE_PMD });
    task.mmap(X, P, RW, MAP_SHARED | MAP_FIXED, fd, 0);
    task.mmap(X + PUD_SIZE + 4 * P, P, RW, MAP_SHARED | MAP_FIXED, fd, 0);
    task.load(X, 1);
    task.load(X + PUD_SIZE + 4 * P, 1);
    expect(task.mm.pgtable.counts).toEqual({ pte: 2, pmd: 0, pud: 0, pteTables: 2, pmdTables: 2 });
    task.munmap(X, P);
    expect(task.mm.pgtable.counts).toEqual({ pte: 1, pmd: 0, pud: 0, pteTables: 1, pmdTables: 1 });
    task.mmap(X, 2 * MiB, RW, MAP_SHARED | MAP_FIXED, fd, 0);
    kernel.faultEvents.reset();
    task.load(X, 1);
    expect(kernel.faultEvents.snapshot()).toEqual({
      pud: counts({ fallback: 1 }),
      pmd: counts({ nopage: 1 }),
      pte: counts(),
    });
    // a neighbour sharing the pmd slot keeps its pte table
    task.mmap(X + PUD_SIZE, P, RW, MAP_SHARED | MAP_FIXED, fd, 0);
    task.load(X + PUD_SIZE, 1);
    task.munmap(X + PUD_SIZE, P);
    expect(task.mm.pgtable.walk(X + PUD_SIZE + 4 * P)).not.toBeNull();
    expect(task.mm.pgtable.counts).toEqual({ pte: 1, pmd: 1, pud: 0, pteTables: 1, pmdTables: 2 });
  });

  it('without VM_HUGEPAGE, or with VM_NOHUGEPAGE, only ->fault is called', async () => {
    for (const extra of [0, VM_HUGEPAGE | VM_NOHUGEPAGE]) {
      const kernel = new Kernel();
      const toy: Toy = await loadToy(kernel, {
        maxEntry: PE_SIZE_PUD,
        fops: {
          mmap(_file, vma) {
            vma.ops = toy.vmOps;
            vma.flags |= VM_MIXEDMAP | extra;
          },
        },
      });
      const task = kernel.spawn('nohuge');
      task.mmap(X, 4 * MiB, RW, MAP_SHARED | MAP_FIXED, task.open(toy.path), 0);
      task.load(X, 1);
      expect(kernel.faultEvents.snapshot()).toEqual({
        pud: counts(),
        pmd: counts(),
        pte: counts({ nopage: 1 }),
      });
      expect(task.mm.pgtable.counts.pte).toBe(1);
    }
  });

  it('handle_mm_fault returns 0 without calling the driver when an entry maps the address already', async () => {
    const { kernel, task, fd } = await setup();
    task.mmap(X, 4 * P, RW, MAP_SHARED | MAP_FIXED, fd, 0);
    task.load(X, 1);
    const vma = task.mm.findVma(X)!;
    const before = kernel.faultEvents.snapshot();
    expect(handleMmFault(vma, X + 17, 0, kernel.faultEvents)).toBe(0);
    expect(kernel.faultEvents.snapshot()).toEqual(before);
    expect(handleMmFault(vma, X + P + 17, 0, kernel.faultEvents)).toBe(VM_FAULT_NOPAGE);
    expect(kernel.faultEvents.pte.nopage).toBe(before.pte.nopage + 1);
  });

  it('FaultEvents classifies results: FALLBACK first, then SIGBUS, OOM, NOPAGE, anything else', () => {
    const ev = new FaultEvents();
    ev.record(PE_SIZE_PMD, VM_FAULT_FALLBACK | VM_FAULT_SIGBUS);
    ev.record(PE_SIZE_PMD, VM_FAULT_SIGBUS | VM_FAULT_NOPAGE);
    ev.record(PE_SIZE_PUD, VM_FAULT_OOM);
    ev.record(PE_SIZE_PTE, VM_FAULT_NOPAGE);
    ev.record(PE_SIZE_PTE, VM_FAULT_SIGSEGV);
    ev.record(PE_SIZE_PTE, 0);
    const snap = ev.snapshot();
    expect(snap).toEqual({
      pte: counts({ nopage: 1, other: 2 }),
      pmd: counts({ fallback: 1, sigbus: 1 }),
      pud: counts({ oom: 1 }),
    });
    ev.reset();
    expect(ev.pte).toEqual(counts());
    expect(snap.pte.other).toBe(2);
  });
});

describe('pfn insertion helpers (vm_insert_mixed, vmf_insert_pfn_pmd/pud)', () => {
  function bare(flags: number) {
    const mm = new MmStruct(new PhysicalMemory(), new FaultEvents());
    const vma = new VmAreaStruct(mm, X, X + 4 * MiB, 0, flags, null);
    return { mm, vma };
  }
  const pfn = physToPfnT(TOY_BASE, PFN_DEV | PFN_MAP);

  it('vm_insert_mixed: EINVAL without VM_MIXEDMAP, EFAULT outside the vma, EBUSY when mapped', () => {
    const { mm, vma } = bare(VM_READ | VM_WRITE);
    expect(() => vmInsertMixed(vma, X, pfn)).toThrow(errno('EINVAL'));
    vma.flags |= VM_MIXEDMAP;
    expect(() => vmInsertMixed(vma, X + 4 * MiB, pfn)).toThrow(errno('EFAULT'));
    expect(() => vmInsertMixed(vma, X - 1, pfn)).toThrow(errno('EFAULT'));
    vmInsertMixed(vma, X + 5, pfn);
    expect(mm.pgtable.walk(X + P - 1)).toEqual({
      entry: { pfn, phys: TOY_BASE, size: PE_SIZE_PTE, write: true },
      base: X,
      bytes: P,
    });
    expect(() => vmInsertMixed(vma, X + 100, pfn)).toThrow(errno('EBUSY'));
    const ro = bare(VM_READ | VM_MIXEDMAP);
    vmInsertMixed(ro.vma, X, pfn);
    expect(ro.mm.pgtable.walk(X)!.entry.write).toBe(false);
  });

  it('huge inserts: SIGBUS without VM_MIXEDMAP/VM_PFNMAP or outside the vma, else NOPAGE at the aligned slot', () => {
    const { mm, vma } = bare(VM_READ);
    const vmf = { vma, address: X + 2 * MiB + 7 * P, pgoff: 0, flags: 0 };
    expect(vmfInsertPfnPmd(vmf, pfn, false)).toBe(VM_FAULT_SIGBUS);
    vma.flags |= VM_MIXEDMAP;
    expect(vmfInsertPfnPmd({ ...vmf, address: X + 4 * MiB }, pfn, false)).toBe(VM_FAULT_SIGBUS);
    expect(vmfInsertPfnPmd(vmf, pfn, false)).toBe(VM_FAULT_NOPAGE);
    expect(mm.pgtable.walk(X + 3 * MiB)).toEqual({
      entry: { pfn, phys: TOY_BASE, size: PE_SIZE_PMD, write: false },
      base: X + 2 * MiB,
      bytes: PMD_SIZE,
    });
    const big = bare(VM_READ | VM_WRITE | VM_MIXEDMAP);
    expect(vmfInsertPfnPud({ vma: big.vma, address: X + MiB, pgoff: 0, flags: 0 }, pfn, true)).toBe(
      VM_FAULT_NOPAGE,
    );
    expect(big.mm.pgtable.walk(X + GiB - 1)).toMatchObject({ base: X, bytes: PUD_SIZE });
  });
});

describe('signals from user accesses (arch/x86/mm/fault.c)', () => {
  it('SIGSEGV/SEGV_MAPERR below, between and above the vmas, carrying the address and comm', async () => {
    const { kernel, task, fd } = await setup();
    task.mmap(X, 2 * P, RW, MAP_SHARED | MAP_FIXED, fd, 0);
    task.mmap(X + 4 * P, 2 * P, RW, MAP_SHARED | MAP_FIXED, fd, 0);
    for (const addr of [X - 1, X + 2 * P, X + 4 * P - 1, X + 6 * P, 0]) {
      const e = signal(() => task.load(addr, 1));
      expect(e).toMatchObject({
        signal: 'SIGSEGV',
        code: 'SIGSEGV',
        signo: SIGSEGV,
        si_code: SEGV_MAPERR,
        addr,
      });
      expect(e.message).toBe(`SIGSEGV: segmentation fault (SEGV_MAPERR) at 0x${addr.toString(16)} in mmtest`);
      expect(isSignal(e, 'SIGSEGV')).toBe(true);
      expect(isSignal(e, 'SIGBUS')).toBe(false);
    }
    expect(isSignal(new Error('x'))).toBe(false);
    expect(isSignal(kerr('EINVAL', 'x'))).toBe(false);
    expect(signal(() => task.store(X + 3 * P, bytes(1))).si_code).toBe(SEGV_MAPERR);
    expect(kernel.faultEvents.snapshot()).toEqual(new FaultEvents().snapshot());
  });

  it('SIGSEGV/SEGV_ACCERR for a write to a PROT_READ mapping or any access to PROT_NONE', async () => {
    const { kernel, task, fd } = await setup();
    const ro = task.mmap(0, P, PROT_READ, MAP_SHARED, fd, 0);
    const none = task.mmap(0, P, PROT_NONE, MAP_SHARED, fd, P);
    const wo = task.mmap(0, P, PROT_WRITE, MAP_SHARED, fd, 2 * P);
    expect(signal(() => task.store(ro + 8, bytes(1)))).toMatchObject({
      signo: SIGSEGV,
      si_code: SEGV_ACCERR,
      addr: ro + 8,
    });
    expect(task.load(ro + 8, 1)[0]).toBe(0);
    // the read faulted in a read-only entry; a write still is refused
    expect(task.mm.pgtable.walk(ro)!.entry.write).toBe(false);
    expect(signal(() => task.store(ro, bytes(1))).si_code).toBe(SEGV_ACCERR);
    expect(devByte(kernel, 0)).toBe(0);
    expect(signal(() => task.load(none, 1)).si_code).toBe(SEGV_ACCERR);
    expect(signal(() => task.store(none, bytes(1))).si_code).toBe(SEGV_ACCERR);
    task.store(wo + 1, bytes(3));
    expect(task.load(wo + 1, 1)[0]).toBe(3); // VM_WRITE implies reads (x86)
    expect(kernel.faultEvents.pte.nopage).toBe(2);
    expect(kernel.dmesg().join('\n')).not.toContain('BUG');
  });

  it('SIGBUS/BUS_ADRERR when the driver returns VM_FAULT_SIGBUS (a page beyond the device)', async () => {
    const { kernel, task, fd } = await setup({ size: 16 * P });
    const addr = task.mmap(0, 32 * P, RW, MAP_SHARED, fd, 0);
    task.store(addr + 15 * P, bytes(1));
    const e = signal(() => task.load(addr + 20 * P + 3, 1));
    expect(e).toMatchObject({
      signal: 'SIGBUS',
      signo: SIGBUS,
      si_code: BUS_ADRERR,
      addr: addr + 20 * P + 3,
    });
    expect(e.message).toContain('(BUS_ADRERR)');
    expect(kernel.faultEvents.pte).toEqual(counts({ nopage: 1, sigbus: 1 }));
  });

  it('VM_FAULT_OOM kills, VM_FAULT_SIGSEGV is SEGV_MAPERR, and a NOPAGE that maps nothing is SIGBUS', async () => {
    const { kernel, toy, task, fd } = await setup();
    const addr = task.mmap(0, 8 * P, RW, MAP_SHARED, fd, 0);
    const pteOnly = (result: number) => (_vmf: unknown, size: PageEntrySize) =>
      size === PE_SIZE_PTE ? result : undefined;
    toy.faultHook = pteOnly(VM_FAULT_OOM);
    expect(signal(() => task.load(addr, 1))).toMatchObject({ signal: 'SIGKILL', signo: SIGKILL, si_code: 0 });
    toy.faultHook = pteOnly(VM_FAULT_SIGSEGV);
    expect(signal(() => task.load(addr, 1))).toMatchObject({ signal: 'SIGSEGV', si_code: SEGV_MAPERR });
    toy.faultHook = pteOnly(VM_FAULT_NOPAGE);
    expect(signal(() => task.load(addr + P, 1))).toMatchObject({ signal: 'SIGBUS', si_code: BUS_ADRERR });
    toy.faultHook = pteOnly(0);
    expect(signal(() => task.store(addr + 2 * P, bytes(1))).signal).toBe('SIGBUS');
    // a write fault that leaves only a read-only entry must not write through it
    toy.faultHook = (vmf, size) => {
      if (size !== PE_SIZE_PTE) return undefined;
      vmf.vma.mm.pgtable.set(vmf.address, entry(PE_SIZE_PTE, TOY_BASE + 3 * P, false));
      return VM_FAULT_NOPAGE;
    };
    expect(signal(() => task.store(addr + 3 * P + 1, bytes(5)))).toMatchObject({
      signal: 'SIGBUS',
      addr: addr + 3 * P + 1,
    });
    expect(devByte(kernel, 3, 1)).toBe(0);
    expect(kernel.faultEvents.pte).toEqual(counts({ oom: 1, nopage: 2, other: 2 }));
    toy.faultHook = null;
    expect(task.load(addr, 1)[0]).toBe(0);
  });

  it('a vma without ->fault is SIGBUS', async () => {
    const kernel = new Kernel();
    const toy = await loadToy(kernel, {
      fops: {
        mmap(_f, vma) {
          vma.flags |= VM_MIXEDMAP;
        },
      },
    });
    const task = kernel.spawn('noops');
    const addr = task.mmap(0, P, RW, MAP_SHARED, task.open(toy.path), 0);
    expect(signal(() => task.load(addr, 1)).signal).toBe('SIGBUS');
    expect(kernel.faultEvents.pte.sigbus).toBe(1);
  });

  it('an access across pages faults each one; one that runs into a hole transfers the bytes before it', async () => {
    const { kernel, task, fd } = await setup();
    task.mmap(X, P, RW, MAP_SHARED | MAP_FIXED, fd, 0);
    task.mmap(X + P, P, RW, MAP_SHARED | MAP_FIXED, fd, 7 * P);
    task.store(X + P - 2, bytes(1, 2, 3, 4));
    expect(kernel.faultEvents.pte.nopage).toBe(2);
    expect(devByte(kernel, 0, P - 2)).toBe(1);
    expect(devByte(kernel, 0, P - 1)).toBe(2);
    expect(devByte(kernel, 7, 0)).toBe(3);
    expect(devByte(kernel, 7, 1)).toBe(4);
    expect([...task.load(X + P - 2, 4)]).toEqual([1, 2, 3, 4]);
    const e = signal(() => task.store(X + 2 * P - 2, bytes(8, 9, 10, 11)));
    expect(e.addr).toBe(X + 2 * P);
    expect(devByte(kernel, 7, P - 2)).toBe(8);
    expect(devByte(kernel, 7, P - 1)).toBe(9);
    const dst = new Uint8Array(4).fill(0xee);
    expect(signal(() => task.load(X + 2 * P - 2, dst)).addr).toBe(X + 2 * P);
    expect([...dst]).toEqual([8, 9, 0xee, 0xee]);
  });
});

describe('mmap placement (arch_get_unmapped_area_topdown)', () => {
  function bareMm() {
    const mm = new MmStruct(new PhysicalMemory(), new FaultEvents());
    const add = (start: number, len: number) => {
      mm.insertVma(new VmAreaStruct(mm, start, start + len, 0, VM_READ, null));
      return start;
    };
    return { mm, add };
  }

  it('places top-down from MMAP_BASE, uses the highest gap that fits, and never overlaps', () => {
    const { mm, add } = bareMm();
    const a = add(mm.getUnmappedArea(null, 0, 8 * P, 0, 0), 8 * P);
    expect(a).toBe(MMAP_BASE - 8 * P);
    const b = add(mm.getUnmappedArea(null, 0, 4 * P, 0, 0), 4 * P);
    expect(b).toBe(MMAP_BASE - 12 * P);
    add(MMAP_BASE - 100 * P, 10 * P);
    // 78 pages free between the fixed vma and b
    expect(mm.getUnmappedArea(null, 0, 78 * P, 0, 0)).toBe(MMAP_BASE - 90 * P);
    expect(mm.getUnmappedArea(null, 0, 79 * P, 0, 0)).toBe(MMAP_BASE - 179 * P);
    expect(mm.vmas.map((v) => v.start)).toEqual([MMAP_BASE - 100 * P, b, a]);
    // a vma straddling MMAP_BASE moves the ceiling below it
    const { mm: mm2, add: add2 } = bareMm();
    add2(MMAP_BASE - P, 2 * P);
    expect(mm2.getUnmappedArea(null, 0, P, 0, 0)).toBe(MMAP_BASE - 2 * P);
  });

  it('honours a free hint (page-aligned up) and ignores one that is taken or too high; MAP_FIXED is taken as is', () => {
    const { mm, add } = bareMm();
    const a = add(mm.getUnmappedArea(null, 0, 8 * P, 0, 0), 8 * P);
    expect(mm.getUnmappedArea(null, X, 4 * P, 0, 0)).toBe(X);
    expect(mm.getUnmappedArea(null, X + 1, 4 * P, 0, 0)).toBe(X + P);
    expect(mm.getUnmappedArea(null, a + P, 4 * P, 0, 0)).toBe(a - 4 * P);
    expect(mm.getUnmappedArea(null, a - 2 * P, 4 * P, 0, 0)).toBe(a - 4 * P);
    expect(mm.getUnmappedArea(null, a - 4 * P, 4 * P, 0, 0)).toBe(a - 4 * P);
    expect(mm.getUnmappedArea(null, TASK_SIZE - P, 2 * P, 0, 0)).toBe(a - 2 * P);
    expect(mm.getUnmappedArea(null, a + 1, 4 * P, 0, MAP_FIXED)).toBe(a + 1);
    expect(() => mm.getUnmappedArea(null, 0, TASK_SIZE + P, 0, 0)).toThrow(errno('ENOMEM'));
  });

  it('falls back to a bottom-up search above TASK_UNMAPPED_BASE, then ENOMEM', () => {
    const { mm, add } = bareMm();
    add(MMAP_MIN_ADDR, MMAP_BASE - MMAP_MIN_ADDR);
    expect(mm.getUnmappedArea(null, 0, P, 0, 0)).toBe(MMAP_BASE);
    add(MMAP_BASE, TASK_SIZE - MMAP_BASE - P);
    expect(mm.getUnmappedArea(null, 0, P, 0, 0)).toBe(TASK_SIZE - P);
    expect(() => mm.getUnmappedArea(null, 0, 2 * P, 0, 0)).toThrow(errno('ENOMEM'));
    const { mm: low, add: addLow } = bareMm();
    addLow(MMAP_MIN_ADDR + P, MMAP_BASE - MMAP_MIN_ADDR - P);
    expect(low.getUnmappedArea(null, 0, P, 0, 0)).toBe(MMAP_MIN_ADDR);
  });

  it('mmap(2) without a hint stacks mappings downwards; with a free hint it uses the hint', async () => {
    const { task, fd } = await setup();
    const a = task.mmap(0, 3 * P, PROT_READ, MAP_SHARED, fd, 0);
    const b = task.mmap(0, 5 * P + 1, PROT_READ, MAP_SHARED, fd, 0);
    const c = task.mmap(X + 5, P, PROT_READ, MAP_SHARED, fd, 0);
    expect([a, b, c]).toEqual([MMAP_BASE - 3 * P, MMAP_BASE - 9 * P, X + P]);
    expect(task.mm.vmas.map((v) => [v.start, v.end])).toEqual([
      [X + P, X + 2 * P],
      [b, a],
      [a, MMAP_BASE],
    ]);
  });

  it("the file's ->get_unmapped_area decides; an unaligned answer is EINVAL, one leaving no room ENOMEM", async () => {
    const calls: unknown[][] = [];
    let answer = X + 3 * P;
    const { toy, task, fd } = await setup({
      fops: {
        getUnmappedArea(file, addr, len, pgoff, flags, mm) {
          calls.push([file, addr, len, pgoff, flags, mm]);
          return answer;
        },
      },
    });
    expect(task.mmap(7, P + 1, PROT_READ, MAP_SHARED, fd, 5 * P)).toBe(X + 3 * P);
    expect(calls).toEqual([[theFile(toy), 7, 2 * P, 5, MAP_SHARED, task.mm]]);
    answer = X + 1;
    expect(() => task.mmap(0, P, PROT_READ, MAP_SHARED, fd, 0)).toThrow(errno('EINVAL'));
    answer = TASK_SIZE - P;
    expect(() => task.mmap(0, 2 * P, PROT_READ, MAP_SHARED, fd, 0)).toThrow(errno('ENOMEM'));
    expect(task.mm.vmas).toHaveLength(1);
    expect(theFile(toy).count).toBe(2);
  });
});

describe('mmap(2) checks (do_mmap)', () => {
  it('fails with the errno the kernel gives, mapping nothing and leaking no file reference', async () => {
    const { kernel, toy, task, fd } = await setup();
    const ro = task.open(toy.path, O_RDONLY);
    const wo = task.open(toy.path, O_WRONLY);
    const cases: Array<[string, () => unknown]> = [
      ['EINVAL', () => task.mmap(0, P, PROT_READ, MAP_SHARED | MAP_PRIVATE, fd, 0)],
      ['EINVAL', () => task.mmap(0, P, PROT_READ, 0, fd, 0)],
      ['EINVAL', () => task.mmap(0, P, PROT_READ, MAP_SHARED, fd, 100)],
      ['EINVAL', () => task.mmap(0, P, PROT_READ, MAP_SHARED, fd, -P)],
      ['EINVAL', () => task.mmap(0, 0, PROT_READ, MAP_SHARED, fd, 0)],
      ['EINVAL', () => task.mmap(0, -P, PROT_READ, MAP_SHARED, fd, 0)],
      ['EINVAL', () => task.mmap(X + 1, P, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0)],
      ['EACCES', () => task.mmap(0, P, PROT_READ | PROT_WRITE, MAP_SHARED, ro, 0)],
      ['EACCES', () => task.mmap(0, P, PROT_READ, MAP_SHARED, wo, 0)],
      ['EACCES', () => task.mmap(0, P, PROT_READ, MAP_PRIVATE, wo, 0)],
      ['EBADF', () => task.mmap(0, P, PROT_READ, MAP_SHARED, 99, 0)],
      ['EBADF', () => task.mmap(0, P, PROT_READ, MAP_SHARED, -1, 0)],
      ['EOPNOTSUPP', () => task.mmap(0, P, RW, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)],
      ['EOPNOTSUPP', () => task.mmap(0, P, RW, MAP_SHARED | MAP_ANONYMOUS, 99, 0)],
      ['EINVAL', () => task.mmap(0, P, PROT_READ, MAP_SHARED, 99, 100)],
      ['ENOMEM', () => task.mmap(0, TASK_SIZE + P, PROT_READ, MAP_SHARED, fd, 0)],
      ['ENOMEM', () => task.mmap(TASK_SIZE - P, 2 * P, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0)],
    ];
    for (const [code, fn] of cases) expect([code, caught(fn)]).toEqual([code, errno(code)]);
    expect(task.mm.vmas).toEqual([]);
    expect(toy.log.filter((l) => l === 'mmap')).toEqual([]);
    for (const f of toy.files) expect(f.count).toBe(1);
    expect(kernel.log.warnings).toBe(0);
  });

  it('a file without ->mmap is ENODEV; an error from ->mmap unwinds the vma and its file reference', async () => {
    const nommap = await setup({ fops: { mmap: undefined } });
    expect(() => nommap.task.mmap(0, P, PROT_READ, MAP_SHARED, nommap.fd, 0)).toThrow(errno('ENODEV'));
    const { toy, task, fd } = await setup({
      fops: {
        mmap() {
          throw kerr('ENXIO', 'toy_mmap');
        },
      },
    });
    expect(() => task.mmap(0, P, PROT_READ, MAP_SHARED, fd, 0)).toThrow(errno('ENXIO'));
    expect(task.mm.vmas).toEqual([]);
    expect(theFile(toy).count).toBe(1);
    expect(theFile(toy).mapping.iMmap.size).toBe(0);
    task.close(fd);
    expect(toy.log).toEqual(['open', 'release']);
  });

  it('computes vm_flags from prot, the mapping type and the file mode', async () => {
    const { toy, task, fd } = await setup();
    const ro = task.open(toy.path, O_RDONLY);
    const flagsAt = (addr: number) => task.mm.findVma(addr)!.flags;
    const MAY = VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC;
    const HUGE = VM_MIXEDMAP | VM_HUGEPAGE;
    expect(flagsAt(task.mmap(0, P, RW, MAP_SHARED, fd, 0))).toBe(
      VM_READ | VM_WRITE | VM_SHARED | VM_MAYSHARE | MAY | HUGE,
    );
    expect(flagsAt(task.mmap(0, P, PROT_READ, MAP_SHARED, ro, 0))).toBe(
      VM_READ | VM_MAYSHARE | VM_MAYREAD | VM_MAYEXEC | HUGE,
    );
    expect(flagsAt(task.mmap(0, P, PROT_READ | PROT_EXEC, MAP_PRIVATE, ro, 0))).toBe(
      VM_READ | VM_EXEC | MAY | HUGE,
    );
  });
});

describe('munmap(2), MAP_FIXED and madvise(2)', () => {
  it('munmap in the middle splits the vma: two vmas, pgoffs kept, a hole that faults, ->open and ->close called', async () => {
    const { kernel, toy, task, fd } = await setup();
    task.mmap(X, 16 * P, RW, MAP_SHARED | MAP_FIXED, fd, 0);
    for (let i = 0; i < 16; i++) task.store(X + i * P, bytes(i + 1));
    expect(task.mm.pgtable.counts.pte).toBe(16);
    task.munmap(X + 4 * P, 4 * P);
    expect(task.mm.vmas.map((v) => [v.start - X, v.end - X, v.pgoff])).toEqual([
      [0, 4 * P, 0],
      [8 * P, 16 * P, 8],
    ]);
    expect(toy.log).toEqual(['open', 'mmap', 'vm_open', 'vm_open', 'vm_close']);
    expect(theFile(toy).count).toBe(3);
    expect(theFile(toy).mapping.iMmap.size).toBe(2);
    expect(task.mm.pgtable.counts.pte).toBe(12);
    expect(signal(() => task.load(X + 4 * P, 1)).si_code).toBe(SEGV_MAPERR);
    expect(signal(() => task.load(X + 8 * P - 1, 1)).addr).toBe(X + 8 * P - 1);
    const nopage = kernel.faultEvents.pte.nopage;
    expect(task.load(X + 3 * P, 1)[0]).toBe(4);
    expect(task.load(X + 8 * P, 1)[0]).toBe(9);
    expect(kernel.faultEvents.pte.nopage).toBe(nopage);
    // a hole is not an error; a range over a hole and part of a vma trims that vma
    task.munmap(X + 4 * P, 4 * P);
    task.munmap(X + 6 * P, 4 * P);
    expect(task.mm.vmas.map((v) => [v.start - X, v.end - X, v.pgoff])).toEqual([
      [0, 4 * P, 0],
      [10 * P, 16 * P, 10],
    ]);
    task.munmap(X, 1); // the length is rounded up to a page
    expect(task.mm.vmas[0]!.start).toBe(X + P);
    expect(theFile(toy).count).toBe(3);
  });

  it('munmap argument errors are EINVAL', async () => {
    const { task, fd } = await setup();
    task.mmap(X, 4 * P, RW, MAP_SHARED | MAP_FIXED, fd, 0);
    for (const [addr, len] of [
      [X + 1, P],
      [X, 0],
      [X + 2 * P, -P],
      [X + 2 * P, Number.NaN],
      [TASK_SIZE + P, P],
      [X, TASK_SIZE],
      [-P, P],
      [-P, 2 * P],
    ] as const)
      expect([addr, len, caught(() => task.munmap(addr, len))]).toEqual([addr, len, errno('EINVAL')]);
    expect(task.mm.vmas.map((v) => [v.start, v.end])).toEqual([[X, X + 4 * P]]);
  });

  it('MAP_FIXED over part of a mapping replaces exactly that part', async () => {
    const { kernel, toy, task, fd } = await setup();
    task.mmap(X, 8 * P, RW, MAP_SHARED | MAP_FIXED, fd, 0);
    for (let i = 0; i < 8; i++) task.store(X + i * P, bytes(0x10 + i));
    expect(task.mmap(X + 2 * P, 3 * P, RW, MAP_SHARED | MAP_FIXED, fd, 100 * P)).toBe(X + 2 * P);
    expect(task.mm.vmas.map((v) => [v.start - X, v.end - X, v.pgoff])).toEqual([
      [0, 2 * P, 0],
      [2 * P, 5 * P, 100],
      [5 * P, 8 * P, 5],
    ]);
    expect(task.mm.pgtable.counts.pte).toBe(5);
    expect(task.load(X + 2 * P, 1)[0]).toBe(0);
    task.store(X + 2 * P, bytes(0x77));
    expect(devByte(kernel, 100)).toBe(0x77);
    expect(devByte(kernel, 2)).toBe(0x12);
    expect(task.load(X + 5 * P, 1)[0]).toBe(0x15);
    expect(task.load(X + P, 1)[0]).toBe(0x11);
    expect(toy.log.filter((l) => l === 'vm_close')).toHaveLength(1);
    expect(toy.log.filter((l) => l === 'mmap')).toHaveLength(2);
    expect(theFile(toy).count).toBe(4);
  });

  it('madvise splits where the flag changes, applies to the mapped parts of a range with holes, then ENOMEM', async () => {
    const { toy, task, fd } = await setup();
    task.mmap(X, 8 * P, RW, MAP_SHARED | MAP_FIXED, fd, 0);
    const layout = () =>
      task.mm.vmas.map((v) => [v.start - X, v.end - X, v.pgoff, (v.flags & VM_DONTCOPY) !== 0]);
    task.madvise(X + 2 * P, 2 * P, MADV_DONTFORK);
    expect(layout()).toEqual([
      [0, 2 * P, 0, false],
      [2 * P, 4 * P, 2, true],
      [4 * P, 8 * P, 4, false],
    ]);
    expect(toy.log.filter((l) => l === 'vm_open')).toHaveLength(2);
    task.madvise(X, 8 * P, MADV_DOFORK);
    expect(layout()).toEqual([
      [0, 2 * P, 0, false],
      [2 * P, 4 * P, 2, false],
      [4 * P, 8 * P, 4, false],
    ]);
    expect(toy.log.filter((l) => l === 'vm_open')).toHaveLength(2);
    expect(() => task.madvise(X + 6 * P, 4 * P, MADV_DONTFORK)).toThrow(errno('ENOMEM'));
    expect(layout().slice(2)).toEqual([
      [4 * P, 6 * P, 4, false],
      [6 * P, 8 * P, 6, true],
    ]);
    expect(() => task.madvise(X - 2 * P, 3 * P, MADV_DONTFORK)).toThrow(errno('ENOMEM'));
    expect(layout()[0]).toEqual([0, P, 0, true]);
    expect(() => task.madvise(X + 20 * P, P, MADV_DONTFORK)).toThrow(errno('ENOMEM'));
    expect(layout()).toHaveLength(5);
    expect(() => task.madvise(X + 1, P, MADV_DONTFORK)).toThrow(errno('EINVAL'));
    expect(() => task.madvise(X, -P, MADV_DONTFORK)).toThrow(errno('EINVAL'));
    expect(() => task.madvise(X, P, 4)).toThrow(errno('EINVAL'));
    task.madvise(X + 20 * P, 0, MADV_DONTFORK);
    expect(layout()).toHaveLength(5);
    expect(theFile(toy).count).toBe(6);
  });
});

describe('shared mappings between tasks and unmap_mapping_range', () => {
  it('two tasks mapping the same file see each other’s writes', async () => {
    const { kernel, toy, task: a, fd } = await setup();
    const b = kernel.spawn('other');
    const aAddr = a.mmap(0, 4 * P, RW, MAP_SHARED, fd, 0);
    const bAddr = b.mmap(0, 2 * P, RW, MAP_SHARED, b.open(toy.path), 2 * P);
    a.store(aAddr + 2 * P + 100, bytes(1, 2, 3));
    expect([...b.load(bAddr + 100, 3)]).toEqual([1, 2, 3]);
    b.store(bAddr + P + 5, bytes(42));
    expect(a.load(aAddr + 3 * P + 5, 1)[0]).toBe(42);
    expect(devByte(kernel, 3, 5)).toBe(42);
    expect(b.pid).toBe(a.pid + 1);
    expect([...kernel.tasks.keys()]).toEqual([a.pid, b.pid]);
  });

  it('unmap_mapping_range zaps the file pages in every task, which then refault', async () => {
    const { kernel, toy, task: a, fd } = await setup();
    const b = kernel.spawn('other');
    const aAddr = a.mmap(0, 4 * P, RW, MAP_SHARED, fd, 0);
    const bAddr = b.mmap(0, 4 * P, RW, MAP_SHARED, b.open(toy.path), 2 * P);
    for (let i = 0; i < 4; i++) {
      a.store(aAddr + i * P, bytes(i + 1));
      b.load(bAddr + i * P, 1);
    }
    expect(kernel.faultEvents.pte.nopage).toBe(8);
    const files = [...toy.files];
    expect(files).toHaveLength(2);
    const mapping = files[0]!.mapping;
    expect(files[1]!.mapping).toBe(mapping);
    expect(mapping.iMmap.size).toBe(2);
    // file page 2: a's third page and b's first
    expect(unmapMappingRange(mapping, 2 * P, P, true)).toBe(2);
    expect(a.mm.pgtable.walk(aAddr + 2 * P)).toBeNull();
    expect(a.mm.pgtable.walk(aAddr + P)).not.toBeNull();
    expect(b.mm.pgtable.walk(bAddr)).toBeNull();
    expect(b.mm.pgtable.walk(bAddr + P)).not.toBeNull();
    // the length is rounded up to whole pages: file pages 3 and 4
    expect(unmapMappingRange(mapping, 3 * P, P + 1, false)).toBe(3);
    expect(b.mm.pgtable.walk(bAddr + 2 * P)).toBeNull();
    expect(unmapMappingRange(mapping, 0, 0, false)).toBe(3);
    expect(a.mm.pgtable.counts.pte + b.mm.pgtable.counts.pte).toBe(0);
    expect(unmapMappingRange(mapping, 100 * P, 0, false)).toBe(0);
    expect(b.load(bAddr, 1)[0]).toBe(3);
    for (let i = 0; i < 4; i++) a.load(aAddr + i * P, 1);
    expect(kernel.faultEvents.pte.nopage).toBe(13);
    expect(b.load(bAddr + P, 1)[0]).toBe(4);
    expect(kernel.faultEvents.pte.nopage).toBe(14);
  });
});

describe('exit, close and file references', () => {
  it('a mapping keeps the file open after close; exit unmaps, releases it and unpins the module', async () => {
    const { kernel, toy, task, fd } = await setup({ maxEntry: PE_SIZE_PMD });
    const file = theFile(toy);
    task.mmap(X, 4 * MiB, RW, MAP_SHARED | MAP_FIXED, fd, 0);
    task.mmap(0, 2 * P, RW, MAP_SHARED, fd, 0);
    task.load(X, 1);
    task.load(X + 2 * MiB + 5 * P, 1);
    task.close(fd);
    expect(toy.log).not.toContain('release');
    expect(file.count).toBe(2);
    expect(toy.module.refcnt).toBe(2);
    await expect(kernel.modules.rmmod(toy.name)).rejects.toMatchObject({ code: 'EWOULDBLOCK' });
    expect(() => task.close(fd)).toThrow(errno('EBADF'));
    task.exit();
    expect(toy.log.slice(-3)).toEqual(['vm_close', 'vm_close', 'release']);
    expect(toy.files.size).toBe(0);
    expect(file.count).toBe(0);
    expect(file.mapping.iMmap.size).toBe(0);
    expect(task.mm.vmas).toEqual([]);
    expect(task.mm.pgtable.counts).toEqual({ pte: 0, pmd: 0, pud: 0, pteTables: 0, pmdTables: 0 });
    expect(toy.module.refcnt).toBe(0);
    expect(kernel.tasks.has(task.pid)).toBe(false);
    expect(() => task.open(toy.path)).toThrow(errno('ESRCH'));
    expect(() => task.mmap(0, P, PROT_READ, MAP_SHARED, 3, 0)).toThrow(errno('ESRCH'));
    task.exit();
    expect(toy.log.filter((l) => l === 'release')).toHaveLength(1);
    await kernel.modules.rmmod(toy.name);
    expect(kernel.modules.list()).toEqual([]);
    expect(kernel.log.warnings).toBe(0);
  });

  it('exit closes every descriptor; Symbol.dispose exits', async () => {
    const { kernel, toy, task } = await setup();
    task.open(toy.path, O_RDONLY);
    task.open(toy.path, O_WRONLY);
    expect(task.fds()).toEqual([3, 4, 5]);
    expect(toy.module.refcnt).toBe(6);
    task[Symbol.dispose]();
    expect(toy.log.filter((l) => l === 'release')).toHaveLength(3);
    expect(toy.module.refcnt).toBe(0);
    expect(task.fds()).toEqual([]);
    expect(kernel.tasks.size).toBe(0);
  });
});

describe('read(2), write(2), pread64(2), pwrite64(2)', () => {
  async function rwToy() {
    const data = new Uint8Array(16);
    const setupResult = await setup({
      fops: {
        read(_file, buf, pos) {
          const n = Math.max(0, Math.min(buf.length, data.length - pos));
          buf.set(data.subarray(pos, pos + n));
          return n;
        },
        write(_file, buf, pos) {
          const n = Math.max(0, Math.min(buf.length, data.length - pos));
          data.set(buf.subarray(0, n), pos);
          return n;
        },
      },
    });
    return { ...setupResult, data };
  }

  it('read and write advance f_pos; pread and pwrite use their offset and leave it', async () => {
    const { toy, task, fd, data } = await rwToy();
    const file = theFile(toy);
    expect(task.write(fd, bytes(1, 2, 3))).toBe(3);
    expect(task.write(fd, bytes(4, 5))).toBe(2);
    expect(file.pos).toBe(5);
    expect([...data.subarray(0, 6)]).toEqual([1, 2, 3, 4, 5, 0]);
    const four = new Uint8Array(4);
    expect(task.pread(fd, four, 1)).toBe(4);
    expect([...four]).toEqual([2, 3, 4, 5]);
    expect(task.pwrite(fd, bytes(9), 0)).toBe(1);
    expect(file.pos).toBe(5);
    expect(data[0]).toBe(9);
    const rest = new Uint8Array(20);
    expect(task.read(fd, rest)).toBe(11);
    expect(file.pos).toBe(16);
    expect(task.read(fd, rest)).toBe(0);
    expect(task.pread(fd, four, 0)).toBe(4);
    expect([...four]).toEqual([9, 2, 3, 4]);
  });

  it('EBADF without the access mode or for a closed descriptor; EINVAL without the driver method', async () => {
    const { toy, task, fd } = await rwToy();
    const ro = task.open(toy.path, O_RDONLY);
    const wo = task.open(toy.path, O_WRONLY);
    const buf = new Uint8Array(4);
    expect(() => task.write(ro, buf)).toThrow(errno('EBADF'));
    expect(() => task.pwrite(ro, buf, 0)).toThrow(errno('EBADF'));
    expect(() => task.read(wo, buf)).toThrow(errno('EBADF'));
    expect(() => task.pread(wo, buf, 0)).toThrow(errno('EBADF'));
    expect(task.read(ro, buf)).toBe(4);
    expect(task.write(wo, buf)).toBe(4);
    task.close(fd);
    expect(() => task.read(fd, buf)).toThrow(errno('EBADF'));
    expect(() => task.write(42, buf)).toThrow(errno('EBADF'));
    expect(task.open(toy.path)).toBe(fd);
    const plain = await setup();
    expect(() => plain.task.read(plain.fd, buf)).toThrow(errno('EINVAL'));
    expect(() => plain.task.write(plain.fd, buf)).toThrow(errno('EINVAL'));
    expect(() => plain.task.pread(plain.fd, buf, 0)).toThrow(errno('EINVAL'));
    const wonly = plain.task.open(plain.toy.path, O_WRONLY);
    expect(() => plain.task.read(wonly, buf)).toThrow(errno('EBADF'));
  });
});

describe('Kernel wiring', () => {
  it('boots with an empty physical memory, no mappings, no tasks, and zeroed fault counters', () => {
    const kernel = new Kernel();
    expect(kernel.physmem).toBeInstanceOf(PhysicalMemory);
    expect(kernel.physmem.allocatedBytes).toBe(0);
    expect(kernel.memremap.count).toBe(0);
    expect(kernel.iomem.count).toBe(0);
    expect(kernel.tasks.size).toBe(0);
    expect(kernel.faultEvents.snapshot()).toEqual({ pte: counts(), pmd: counts(), pud: counts() });
    const t = kernel.spawn('init');
    expect(t.pid).toBe(1);
    expect(t.comm).toBe('init');
    expect(t.mm.comm).toBe('init');
    expect(t.mm.mem).toBe(kernel.physmem);
    expect(t.mm.faultEvents).toBe(kernel.faultEvents);
    expect(kernel.tasks.get(1)).toBe(t);
  });
});

describe('a task after exit', () => {
  it('refuses every system call and memory access with ESRCH, and exit twice is harmless', async () => {
    const { task, fd, toy } = await setup();
    const addr = task.mmap(0, P, PROT_READ, MAP_SHARED, fd, 0);
    task.exit();
    task.exit();
    expect(toy.files.size).toBe(0);
    for (const call of [
      () => task.open(toy.path),
      () => task.close(fd),
      () => task.mmap(0, P, PROT_READ, MAP_SHARED, fd, 0),
      () => task.munmap(addr, P),
      () => task.madvise(addr, P, MADV_DONTFORK),
      () => task.load(addr, 1),
      () => task.store(addr, bytes(1)),
      () => task.read(fd, new Uint8Array(1)),
      () => task.pwrite(fd, bytes(1), 0),
    ])
      expect(caught(call)).toMatchObject({ code: 'ESRCH' });
  });
});
