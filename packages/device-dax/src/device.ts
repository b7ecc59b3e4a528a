/**
 * drivers/dax/device.c (device_dax.ko) after the dax_inode series: dax regions on a parent device, dax devices
 * on top of dax-core inodes, the "dax" class, the character device's open/mmap/get_unmapped_area, and the
 * PTE/PMD/PUD fault handlers that map device pfns at the region's alignment.
 */
import { type DaxCore, daxModule } from '@daxsim/dax-core';
import {
  type AttributeGroup,
  type Class,
  type Device,
  FAULT_FLAG_WRITE,
  type File,
  type FileOperations,
  Ida,
  type Inode,
  type Kernel,
  Kref,
  kerr,
  linearPageIndex,
  type MmStruct,
  type ModuleContext,
  type ModuleDefinition,
  PAGE_SIZE,
  type PageEntrySize,
  PE_SIZE_PMD,
  PE_SIZE_PTE,
  type PE_SIZE_PUD,
  PFN_DEV,
  PFN_MAP,
  PMD_SIZE,
  PUD_SIZE,
  physToPfnT,
  Resource,
  resourceSize,
  S_DAX,
  unmapMappingRange,
  VM_DONTCOPY,
  VM_FAULT_FALLBACK,
  VM_FAULT_NOPAGE,
  VM_FAULT_OOM,
  VM_FAULT_SIGBUS,
  VM_HUGEPAGE,
  VM_MAYSHARE,
  VM_MIXEDMAP,
  type VmAreaStruct,
  type VmFault,
  type VmOperationsStruct,
  vmaIsDax,
  vmfInsertPfnPmd,
  vmfInsertPfnPud,
  vmInsertMixed,
} from '@daxsim/kernel';
import { DaxDev, type DaxRegion } from './device-dax.js';

const isAligned = (x: number, a: number): boolean => x % a === 0;

function regionOf(dev: Device): DaxRegion {
  const region = dev.driverData as DaxRegion | null;
  if (region === null) throw kerr('ENXIO', 'read');
  return region;
}

/** The "dax_region" group on the parent: size, align, id. */
const daxRegionAttributeGroup: AttributeGroup = {
  name: 'dax_region',
  attrs: [
    { name: 'size', mode: 0o444, show: (dev) => `${resourceSize(regionOf(dev).res)}\n` },
    { name: 'align', mode: 0o444, show: (dev) => `${regionOf(dev).align}\n` },
    { name: 'id', mode: 0o444, show: (dev) => `${regionOf(dev).id}\n` },
  ],
};

/** device_dax.ko's state in one kernel; its public methods are the module's exported symbols. */
export class DeviceDaxDriver {
  readonly #kernel: Kernel;
  readonly #dax: DaxCore;
  /** The "dax" class (/sys/class/dax). */
  readonly daxClass: Class;
  readonly #fops: FileOperations;
  readonly #vmOps: VmOperationsStruct;
  readonly #regions = new Set<DaxRegion>();
  /** to_dax_dev(): container_of from a struct device to its dax_dev, for every dax_dev not yet freed. */
  readonly #daxDevByDevice = new Map<Device, DaxDev>();
  readonly #deviceGroups: AttributeGroup[];

  constructor(ctx: ModuleContext<Record<string, never>>) {
    this.#kernel = ctx.kernel;
    this.#dax = ctx.symbols(daxModule);
    this.daxClass = ctx.kernel.driverCore.classCreate('dax');
    this.#fops = {
      owner: ctx.module,
      open: (inode, file) => this.#open(inode, file),
      release: (_inode, file) => this.#release(file),
      mmap: (file, vma) => this.#mmap(file, vma),
      getUnmappedArea: (file, addr, len, pgoff, flags, mm) =>
        this.#getUnmappedArea(file, addr, len, pgoff, flags, mm),
    };
    this.#vmOps = {
      fault: (vmf) => this.#hugeFault(vmf, PE_SIZE_PTE),
      hugeFault: (vmf, size) => this.#hugeFault(vmf, size),
    };
    this.#deviceGroups = [
      {
        attrs: [
          {
            name: 'size',
            mode: 0o444,
            show: (dev) => {
              const daxDev = this.#daxDevByDevice.get(dev);
              return `${daxDev === undefined ? 0 : daxDev.res.reduce((n, r) => n + resourceSize(r), 0)}\n`;
            },
          },
        ],
      },
    ];
  }

  /** module_exit(). */
  exit(): void {
    this.#kernel.driverCore.classDestroy(this.daxClass);
  }

  get #core() {
    return this.#kernel.driverCore;
  }

  // regions

  /** dax_region_put(). */
  daxRegionPut = (region: DaxRegion): void => {
    region.kref.put(() => this.#regions.delete(region));
  };

  /**
   * alloc_dax_region(): a region over `res` (copied) on `parent`, with sysfs dax_region/{id,size,align} on the
   * parent and a devres action that removes them. Null when the parent has drvdata already, `res` is not
   * `align`-aligned, or allocation fails. The caller owns one reference (daxRegionPut).
   */
  async allocDaxRegion(
    parent: Device,
    regionId: number,
    res: Resource,
    align: number,
    addr: number,
    pfnFlags: number,
  ): Promise<DaxRegion | null> {
    const log = this.#kernel.log;
    if (
      log.warn(
        parent.driverData !== null,
        'drivers/dax/device.c:alloc_dax_region',
        `${parent.name}: dax core failed to setup private data`,
      )
    )
      return null;
    if (!(align > 0) || !isAligned(res.start, align) || !isAligned(resourceSize(res), align)) return null;
    if (this.#kernel.faultInject.should('kzalloc')) return null;
    const region: DaxRegion = {
      id: regionId,
      ida: new Ida(log, 'dax_region', this.#kernel.faultInject, this.#kernel.kmemleak),
      base: addr,
      kref: new Kref(log),
      dev: parent,
      align,
      res: new Resource({ name: res.name, start: res.start, end: res.end, flags: res.flags, desc: res.desc }),
      pfnFlags,
    };
    parent.driverData = region;
    this.#regions.add(region);
    try {
      this.#core.sysfsCreateGroup(parent, daxRegionAttributeGroup);
    } catch {
      parent.driverData = null;
      this.#regions.delete(region);
      return null;
    }
    region.kref.get();
    try {
      await this.#core.devmAddActionOrReset(parent, this.#daxRegionUnregister, region);
    } catch {
      parent.driverData = null;
      this.daxRegionPut(region);
      return null;
    }
    return region;
  }

  /** dax_region_unregister(): the parent's devres action. */
  #daxRegionUnregister = (region: DaxRegion): void => {
    this.#core.sysfsRemoveGroup(region.dev, daxRegionAttributeGroup);
    this.daxRegionPut(region);
  };

  // dax devices

  /**
   * devm_create_dax_dev(): /dev/dax<region>.<id> over `res` (each align-aligned, else EINVAL), unregistered by a
   * devres action on the region's parent. ENOMEM when no dax inode can be allocated. `id` < 0 takes the next id
   * of the region; a caller that names its device (dax_pmem: the namespace's id) passes it, as v4.13's
   * "device-dax: fix sysfs duplicate warnings" made the kernel do.
   */
  async devmCreateDaxDev(region: DaxRegion, res: readonly Resource[], id = -1): Promise<DaxDev> {
    const parent = region.dev;
    const inject = this.#kernel.faultInject;
    if (inject.should('kzalloc')) throw kerr('ENOMEM', 'devm_create_dax_dev');
    for (const r of res)
      if (!isAligned(r.start, region.align) || !isAligned(resourceSize(r), region.align))
        throw kerr('EINVAL', 'devm_create_dax_dev');
    const daxDev = new DaxDev(res.map((r) => new Resource({ start: r.start, end: r.end })));
    const fromIda = id < 0;
    daxDev.id = fromIda ? region.ida.simpleGet(0, 0) : id;
    const putId = () => {
      if (fromIda) region.ida.simpleRemove(daxDev.id);
    };

    const daxInode = this.#dax.allocDaxInode(daxDev);
    if (daxInode === null) {
      putId();
      throw kerr('ENOMEM', 'devm_create_dax_dev');
    }
    daxDev.daxInode = daxInode;
    const dev = daxDev.dev;
    this.#core.deviceInitialize(dev);
    dev.release = () => {};
    try {
      this.#dax.daxInodeRegister(daxInode, this.#fops, parent.driver?.owner, {
        get: () => this.#core.getDevice(dev),
        put: () => this.#core.putDevice(dev),
      });
    } catch (e) {
      await this.#dax.killDaxInode(daxInode);
      this.#dax.putDaxInode(daxInode);
      this.#core.putDevice(dev);
      putId();
      throw e;
    }

    // from here on, teardown is dax_dev_release()
    daxDev.idFromRegion = fromIda;
    daxDev.numResources = res.length;
    daxDev.region = region;
    region.kref.get();
    this.#daxDevByDevice.set(dev, daxDev);

    dev.devt = this.#dax.daxInodeToInode(daxInode).rdev;
    dev.class = this.daxClass;
    dev.parent = parent;
    dev.groups = this.#deviceGroups;
    dev.release = () => this.#daxDevRelease(daxDev);
    this.#core.devSetName(dev, `dax${region.id}.${daxDev.id}`);
    try {
      await this.#core.deviceAdd(dev);
    } catch (e) {
      await this.#dax.killDaxInode(daxInode);
      this.#dax.daxInodeUnregister(daxInode);
      this.#core.putDevice(dev);
      throw e;
    }
    await this.#core.devmAddActionOrReset(parent, this.#unregisterDaxDev, daxDev);
    return daxDev;
  }

  /** dax_dev_release(): the device's last reference is gone. */
  #daxDevRelease(daxDev: DaxDev): void {
    const region = daxDev.region;
    if (daxDev.idFromRegion) region.ida.simpleRemove(daxDev.id);
    this.daxRegionPut(region);
    this.#dax.putDaxInode(daxDev.daxInode);
    this.#daxDevByDevice.delete(daxDev.dev);
  }

  /**
   * unregister_dax_dev(): no new faults or mappings (kill waits for those in flight), every existing mapping
   * zapped so the next access faults and gets SIGBUS, the cdev gone, the device unregistered.
   */
  #unregisterDaxDev = async (daxDev: DaxDev): Promise<void> => {
    const { daxInode, dev } = daxDev;
    this.#core.devDbg(dev, 'unregister_dax_dev');
    await this.#dax.killDaxInode(daxInode);
    unmapMappingRange(this.#dax.daxInodeToInode(daxInode).mapping, 0, 0, true);
    this.#dax.daxInodeUnregister(daxInode);
    await this.#core.deviceUnregister(dev);
  };

  // file operations

  /** dax_open(): points the opened inode's mapping at the dax inode's, so all opens share one i_mmap. */
  #open(inode: Inode, file: File): void {
    const daxInode = this.#dax.inodeToDaxInode(inode);
    const daxDev = daxInode === null ? null : (this.#dax.daxInodeGetPrivate(daxInode) as DaxDev | null);
    if (daxInode === null || daxDev === null) throw kerr('ENXIO', 'open');
    this.#core.devDbg(daxDev.dev, 'dax_open');
    const host = this.#dax.daxInodeToInode(daxInode);
    inode.mapping = host.mapping;
    inode.mapping.host = host;
    file.mapping = inode.mapping;
    file.privateData = daxDev;
    inode.flags = S_DAX;
  }

  #release(file: File): void {
    this.#core.devDbg((file.privateData as DaxDev).dev, 'dax_release');
  }

  /** check_vma(): the rules a mapping must meet at mmap and at every fault. */
  #checkVma(daxDev: DaxDev, vma: VmAreaStruct, func: string): 'ENXIO' | 'EINVAL' | null {
    const { region, dev } = daxDev;
    const comm = vma.mm.comm;
    if (!this.#dax.daxInodeAlive(daxDev.daxInode)) return 'ENXIO';
    if ((vma.flags & VM_MAYSHARE) !== VM_MAYSHARE) {
      this.#core.devInfo(dev, `${comm}: ${func}: fail, attempted private mapping`);
      return 'EINVAL';
    }
    if (!isAligned(vma.start, region.align) || !isAligned(vma.end, region.align)) {
      const hex = (n: number) => `0x${n.toString(16)}`;
      this.#core.devInfo(
        dev,
        `${comm}: ${func}: fail, unaligned vma (${hex(vma.start)} - ${hex(vma.end)}, ${hex(region.align - 1)})`,
      );
      return 'EINVAL';
    }
    if ((region.pfnFlags & (PFN_DEV | PFN_MAP)) === PFN_DEV && (vma.flags & VM_DONTCOPY) === 0) {
      this.#core.devInfo(dev, `${comm}: ${func}: fail, dax range requires MADV_DONTFORK`);
      return 'EINVAL';
    }
    if (!vmaIsDax(vma)) {
      this.#core.devInfo(dev, `${comm}: ${func}: fail, vma is not DAX capable`);
      return 'EINVAL';
    }
    return null;
  }

  /** dax_mmap(): check_vma under dax_read_lock, then mixed-map huge-page faults. */
  #mmap(file: File, vma: VmAreaStruct): void {
    const daxDev = file.privateData as DaxDev;
    this.#core.devDbg(daxDev.dev, 'dax_mmap');
    const id = this.#dax.daxReadLock();
    let rc: 'ENXIO' | 'EINVAL' | null;
    try {
      rc = this.#checkVma(daxDev, vma, 'dax_mmap');
    } finally {
      this.#dax.daxReadUnlock(id);
    }
    if (rc !== null) throw kerr(rc, 'mmap');
    vma.ops = this.#vmOps;
    vma.flags |= VM_MIXEDMAP | VM_HUGEPAGE;
  }

  /**
   * dax_get_unmapped_area(): asks the mm for `len + align` and slides the start so that the file offset and
   * the address agree modulo align; falls back to a plain request when that cannot help.
   */
  #getUnmappedArea(
    file: File,
    addr: number,
    len: number,
    pgoff: number,
    flags: number,
    mm: MmStruct,
  ): number {
    const daxDev = file.privateData as DaxDev | null;
    if (daxDev !== null && !addr) {
      const align = daxDev.region.align;
      const off = pgoff * PAGE_SIZE;
      const offEnd = off + len;
      const offAlign = Math.ceil(off / align) * align;
      if (offEnd > offAlign && offEnd - offAlign >= align && off + len + align <= Number.MAX_SAFE_INTEGER) {
        try {
          const addrAlign = mm.getUnmappedArea(file, addr, len + align, pgoff, flags);
          return addrAlign + mod(off - addrAlign, align);
        } catch {
          // fall back to an unaligned area, as the kernel does on IS_ERR_VALUE
        }
      }
    }
    return mm.getUnmappedArea(file, addr, len, pgoff, flags);
  }

  // faults

  /** dax_pgoff_to_phys(): the physical address of device page `pgoff`, if `size` bytes fit in one resource. */
  daxPgoffToPhys(daxDev: DaxDev, pgoff: number, size = PAGE_SIZE): number {
    let off = pgoff;
    for (let i = 0; i < daxDev.numResources; i++) {
      const res = daxDev.res[i]!;
      const phys = off * PAGE_SIZE + res.start;
      if (phys >= res.start && phys <= res.end) return phys + size - 1 <= res.end ? phys : -1;
      off -= resourceSize(res) / PAGE_SIZE;
    }
    return -1;
  }

  /** dax_dev_huge_fault(): under dax_read_lock, the handler for the entry size the mm asks for. */
  #hugeFault(vmf: VmFault, size: PageEntrySize): number {
    const daxDev = vmf.vma.file!.privateData as DaxDev;
    const id = this.#dax.daxReadLock();
    try {
      if (size === PE_SIZE_PTE) return this.#pteFault(daxDev, vmf);
      return this.#hugeEntryFault(daxDev, vmf, size);
    } finally {
      this.#dax.daxReadUnlock(id);
    }
  }

  /** __dax_dev_pte_fault(). */
  #pteFault(daxDev: DaxDev, vmf: VmFault): number {
    if (this.#checkVma(daxDev, vmf.vma, '__dax_dev_pte_fault') !== null) return VM_FAULT_SIGBUS;
    const region = daxDev.region;
    if (region.align > PAGE_SIZE) {
      this.#core.devDbg(daxDev.dev, '__dax_dev_pte_fault: alignment > fault size');
      return VM_FAULT_SIGBUS;
    }
    const phys = this.daxPgoffToPhys(daxDev, vmf.pgoff, PAGE_SIZE);
    if (phys === -1) {
      this.#core.devDbg(daxDev.dev, `__dax_dev_pte_fault: phys_to_pgoff(0x${vmf.pgoff.toString(16)}) failed`);
      return VM_FAULT_SIGBUS;
    }
    try {
      vmInsertMixed(vmf.vma, vmf.address, physToPfnT(phys, region.pfnFlags));
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code === 'ENOMEM') return VM_FAULT_OOM;
      if (code !== 'EBUSY') return VM_FAULT_SIGBUS;
    }
    return VM_FAULT_NOPAGE;
  }

  /** __dax_dev_pmd_fault() and __dax_dev_pud_fault(). */
  #hugeEntryFault(daxDev: DaxDev, vmf: VmFault, size: typeof PE_SIZE_PMD | typeof PE_SIZE_PUD): number {
    const func = size === PE_SIZE_PMD ? '__dax_dev_pmd_fault' : '__dax_dev_pud_fault';
    const faultSize = size === PE_SIZE_PMD ? PMD_SIZE : PUD_SIZE;
    const { vma } = vmf;
    const entryAddr = vmf.address - (vmf.address % faultSize);
    if (this.#checkVma(daxDev, vma, func) !== null) return VM_FAULT_SIGBUS;
    const region = daxDev.region;
    if (region.align > faultSize) {
      this.#core.devDbg(daxDev.dev, `${func}: alignment > fault size`);
      return VM_FAULT_SIGBUS;
    }
    if ((region.pfnFlags & (PFN_DEV | PFN_MAP)) !== (PFN_DEV | PFN_MAP)) {
      this.#core.devDbg(daxDev.dev, `${func}: region lacks devmap`);
      return VM_FAULT_SIGBUS;
    }
    if (faultSize < region.align) return VM_FAULT_SIGBUS;
    if (faultSize > region.align) return VM_FAULT_FALLBACK;
    if (entryAddr < vma.start || entryAddr + faultSize > vma.end) return VM_FAULT_SIGBUS;
    const pgoff = linearPageIndex(vma, entryAddr);
    const phys = this.daxPgoffToPhys(daxDev, pgoff, faultSize);
    if (phys === -1) {
      this.#core.devDbg(daxDev.dev, `${func}: phys_to_pgoff(0x${pgoff.toString(16)}) failed`);
      return VM_FAULT_SIGBUS;
    }
    const pfn = physToPfnT(phys, region.pfnFlags);
    const write = (vmf.flags & FAULT_FLAG_WRITE) !== 0;
    return size === PE_SIZE_PMD ? vmfInsertPfnPmd(vmf, pfn, write) : vmfInsertPfnPud(vmf, pfn, write);
  }

  /** Live regions and dax devices (not yet freed), for leak checks. */
  stats(): { regions: number; devices: number } {
    return { regions: this.#regions.size, devices: this.#daxDevByDevice.size };
  }
}

const mod = (a: number, m: number): number => ((a % m) + m) % m;

/** The symbols device_dax.ko exports. */
export type DeviceDax = Pick<
  DeviceDaxDriver,
  'allocDaxRegion' | 'daxRegionPut' | 'devmCreateDaxDev' | 'daxPgoffToPhys' | 'daxClass' | 'stats'
>;

/** device_dax.ko: requires dax.ko; init creates the "dax" class, exit destroys it. */
export const deviceDaxModule: ModuleDefinition<Record<string, never>, DeviceDax> = {
  name: 'device_dax',
  description: 'Device DAX: dax regions and /dev/daxR.N character devices',
  requires: [daxModule],
  init: (ctx) => new DeviceDaxDriver(ctx),
  exit: (api) => (api as DeviceDaxDriver).exit(),
};
