/**
 * drivers/nvdimm/pmem.c (nd_pmem.ko) after seed patch 05: the pmem block driver on raw namespaces and on pfn
 * (fsdax) devices. It maps the media, registers the disk "pmem<R>[.<N>]" with its badblocks, and provides
 * dax_operations through a dax inode registered under the disk's name, so dax_get_by_host("pmem0") finds it.
 */
import { type DaxCore, type DaxInode, daxModule } from '@daxsim/dax-core';
import {
  Badblocks,
  type BlockDeviceOperations,
  type Device,
  type Gendisk,
  type Kernel,
  kerr,
  MEMREMAP_WB,
  type ModuleContext,
  type ModuleDefinition,
  PAGE_SIZE,
  PFN_DEV,
  PFN_MAP,
  physToPfnT,
  setCapacity,
} from '@daxsim/kernel';
import { badblocksPopulate } from './badrange.js';
import { type Libnvdimm, libnvdimmModule } from './libnvdimm.js';
import { nvdimmNamespaceDiskName } from './namespace_devs.js';
import {
  isNdPfn,
  ND_DRIVER_NAMESPACE_IO,
  ND_DRIVER_NAMESPACE_PMEM,
  type NdDeviceDriver,
  type NdNamespace,
  NVDIMM_REVALIDATE_POISON,
} from './nd.js';

/** struct pmem_device. */
export interface PmemDevice {
  dev: Device;
  ns: NdNamespace;
  physAddr: number;
  size: number;
  dataOffset: number;
  pfnPad: number;
  pfnFlags: number;
  virtAddr: number;
  bb: Badblocks;
  /** Physical address of the disk's sector 0 (what its badblocks are relative to). */
  bbStart: number;
  disk: Gendisk;
  daxDev: DaxInode<PmemDevice>;
}

export class NdPmem {
  readonly #kernel: Kernel;
  readonly #nd: Libnvdimm;
  readonly #dax: DaxCore;
  readonly driver: NdDeviceDriver;
  readonly #fops: BlockDeviceOperations;
  readonly #pmems = new Map<Device, PmemDevice>();

  constructor(ctx: ModuleContext<Record<string, never>>) {
    this.#kernel = ctx.kernel;
    this.#nd = ctx.symbols(libnvdimmModule);
    this.#dax = ctx.symbols(daxModule);
    this.#fops = {
      owner: ctx.module,
      read: (disk, offset, dst) => this.#rw(disk.privateData as PmemDevice, offset, dst, false),
      write: (disk, offset, src) => this.#rw(disk.privateData as PmemDevice, offset, src, true),
    };
    this.driver = {
      drv: { name: 'nd_pmem', bus: this.#nd.ndBus.busType, owner: ctx.module },
      type: ND_DRIVER_NAMESPACE_IO | ND_DRIVER_NAMESPACE_PMEM,
      probe: (dev) => this.#probe(dev),
      notify: (dev, event) => this.#notify(dev, event),
    };
  }

  async init(): Promise<this> {
    await this.#nd.ndDriverRegister(this.driver);
    return this;
  }

  async exit(): Promise<void> {
    await this.#nd.ndDriverUnregister(this.driver);
  }

  /** The pmem device a bound namespace or pfn device serves, if any. */
  pmemOf(dev: Device): PmemDevice | null {
    return this.#pmems.get(dev) ?? null;
  }

  get #core() {
    return this.#kernel.driverCore;
  }

  /**
   * nd_pmem_probe(): a pfn device attaches its disk; a namespace with a valid pfn or dax info block hands over
   * to a new claim device (and fails its own probe with ENXIO); otherwise the namespace becomes a raw disk.
   */
  async #probe(dev: Device): Promise<void> {
    const nd = this.#nd;
    const ns = nd.nvdimmNamespaceCommonProbe(dev);
    const io = await nd.devmNsioEnable(dev, ns);
    if (isNdPfn(dev)) return this.#attachDisk(dev, ns, io);
    if (nd.ndPfnProbe(io) || nd.ndDaxProbe(io)) {
      await io.release();
      throw kerr('ENXIO', 'nd_pmem_probe');
    }
    return this.#attachDisk(dev, ns, io);
  }

  /** pmem_attach_disk(). */
  async #attachDisk(dev: Device, ns: NdNamespace, io: Awaited<ReturnType<Libnvdimm['devmNsioEnable']>>) {
    const nd = this.#nd;
    const k = this.#kernel;
    let setup: ReturnType<Libnvdimm['nvdimmSetupPfn']> | null = null;
    if (isNdPfn(dev)) {
      try {
        setup = nd.nvdimmSetupPfn(nd.toNdPfn(dev), io);
      } catch (e) {
        await io.release();
        throw e;
      }
    }
    await io.release();
    const res = k.iomem.devmRequestMemRegion(dev, ns.res.start, ns.size, ns.dev.name);
    if (res === null) {
      this.#core.devWarn(
        dev,
        `could not reserve region [mem 0x${ns.res.start.toString(16)}-0x${ns.res.end.toString(16)}]`,
      );
      throw kerr('EBUSY', 'pmem_attach_disk');
    }
    let pfnFlags = PFN_DEV;
    let virtAddr: number;
    let dataOffset = 0;
    let pfnPad = 0;
    let bbStart = ns.res.start;
    if (setup !== null) {
      virtAddr = k.memremap.devmMemremapPages(this.#core, dev, setup.res, setup.altmap);
      dataOffset = setup.dataoff;
      pfnPad = ns.size - (setup.res.end - setup.res.start + 1);
      pfnFlags |= PFN_MAP;
      bbStart = setup.res.start + dataOffset;
    } else {
      virtAddr = k.memremap.devmMemremap(this.#core, dev, ns.res.start, ns.size, MEMREMAP_WB);
    }
    if (k.faultInject.should('kzalloc')) throw kerr('ENOMEM', 'pmem_attach_disk');
    const bb = new Badblocks();
    const dataSize = ns.size - pfnPad - dataOffset;
    badblocksPopulate(ns.region.bus.badrange, bb, bbStart, dataSize);
    const disk = k.block.allocDisk({ diskName: nvdimmNamespaceDiskName(ns), fops: this.#fops });
    if (disk === null) throw kerr('ENOMEM', 'pmem_attach_disk');
    const pmem = {
      dev,
      ns,
      physAddr: ns.res.start,
      size: ns.size,
      dataOffset,
      pfnPad,
      pfnFlags,
      virtAddr,
      bb,
      bbStart,
      disk,
    } as PmemDevice;
    disk.privateData = pmem;
    disk.bb = bb;
    setCapacity(disk, dataSize / 512);
    const daxDev = this.#dax.allocDaxInode(pmem, disk.diskName, {
      directAccess: (_dax, pgoff, nrPages) => this.#directAccess(pmem, pgoff, nrPages),
    });
    if (daxDev === null) {
      k.block.putDisk(disk);
      throw kerr('ENOMEM', 'pmem_attach_disk');
    }
    pmem.daxDev = daxDev;
    try {
      await k.block.deviceAddDisk(dev, disk);
    } catch (e) {
      await this.#dax.killDaxInode(daxDev);
      this.#dax.putDaxInode(daxDev);
      k.block.putDisk(disk);
      throw e;
    }
    this.#pmems.set(dev, pmem);
    await this.#core.devmAddActionOrReset(dev, this.#releaseDisk, pmem);
  }

  /** pmem_release_disk(): kill and put the dax inode, delete and put the disk. */
  #releaseDisk = async (pmem: PmemDevice): Promise<void> => {
    await this.#dax.killDaxInode(pmem.daxDev);
    this.#dax.putDaxInode(pmem.daxDev);
    await this.#kernel.block.delGendisk(pmem.disk);
    this.#kernel.block.putDisk(pmem.disk);
    this.#pmems.delete(pmem.dev);
  };

  /**
   * pmem_direct_access(): kaddr and pfn of page `pgoff` of the data; EIO when the range holds a bad block; with
   * badblocks present only the requested pages are promised.
   */
  #directAccess(pmem: PmemDevice, pgoff: number, nrPages: number) {
    const off = pgoff * PAGE_SIZE;
    const offset = off + pmem.dataOffset;
    if (pmem.bb.check(off / 512, (nrPages * PAGE_SIZE) / 512).rv !== 0)
      throw kerr('EIO', 'pmem_direct_access');
    const kaddr = pmem.virtAddr + offset;
    const pfn = physToPfnT(pmem.physAddr + offset, pmem.pfnFlags);
    const avail = pmem.bb.count > 0 ? nrPages : Math.floor((pmem.size - pmem.pfnPad - offset) / PAGE_SIZE);
    return { avail, kaddr, pfn };
  }

  /**
   * pmem_do_bvec(): reads fail with EIO over a bad sector or poisoned media; writes over bad sectors clear the
   * poison first (pmem_clear_poison) and then store.
   */
  #rw(pmem: PmemDevice, offset: number, buf: Uint8Array, write: boolean): void {
    const k = this.#kernel;
    const sector = Math.floor(offset / 512);
    const sectors = Math.ceil((offset + buf.length) / 512) - sector;
    const bad = pmem.bb.check(sector, sectors).rv !== 0;
    const kaddr = pmem.virtAddr + pmem.dataOffset + offset;
    if (!write) {
      if (bad || k.memremap.memcpyMcsafe(buf, kaddr) !== 0) throw kerr('EIO', 'pmem_do_bvec');
      return;
    }
    k.memremap.memcpyTo(kaddr, buf);
    if (bad) {
      const phys = pmem.physAddr + pmem.dataOffset + offset;
      const cleared = this.#nd.nvdimmClearPoison(pmem.ns.region, phys, buf.length);
      if (cleared > 0) {
        const s = Math.ceil(offset / 512);
        const e = Math.floor((offset + cleared) / 512);
        if (e > s) pmem.bb.clear(s, e - s);
        k.physmem.clearPoison(phys, cleared);
        k.memremap.memcpyTo(kaddr, buf);
      } else throw kerr('EIO', 'pmem_do_bvec');
    }
  }

  /** nd_pmem_notify(): NVDIMM_REVALIDATE_POISON reloads the disk's badblocks. */
  #notify(dev: Device, event: number): void {
    const pmem = this.#pmems.get(dev);
    if (pmem === undefined || event !== NVDIMM_REVALIDATE_POISON) return;
    const fresh = new Badblocks();
    badblocksPopulate(
      pmem.ns.region.bus.badrange,
      fresh,
      pmem.bbStart,
      pmem.size - pmem.pfnPad - pmem.dataOffset,
    );
    for (const r of pmem.bb.ranges()) pmem.bb.clear(r.offset, r.len);
    for (const r of fresh.ranges()) pmem.bb.set(r.offset, r.len, true);
  }
}

/** nd_pmem.ko. */
export const ndPmemModule: ModuleDefinition<Record<string, never>, NdPmem> = {
  name: 'nd_pmem',
  description: 'NVDIMM Persistent Memory Driver',
  requires: [libnvdimmModule, daxModule],
  init: (ctx) => new NdPmem(ctx).init(),
  exit: (api) => api.exit(),
};
