/**
 * drivers/dax/pmem.c (dax_pmem.ko): the driver for nd dax claim devices. Probe validates or writes the
 * "NVDIMM_DAX_INFO" info block, claims and maps the whole namespace (the memmap in its reserved area for
 * map=dev), and creates a dax region over the data with one device-dax instance, daxR.N, covering it.
 * Unbinding tears the device and the region down through devres.
 */
import { type DeviceDax, deviceDaxModule } from '@daxsim/device-dax';
import {
  type Device,
  type Kernel,
  kerr,
  type ModuleContext,
  type ModuleDefinition,
  PFN_DEV,
  PFN_MAP,
  Resource,
} from '@daxsim/kernel';
import { type Libnvdimm, libnvdimmModule, ND_DRIVER_DAX_PMEM, type NdDeviceDriver } from '@daxsim/nvdimm-sim';

export class DaxPmem {
  readonly #kernel: Kernel;
  readonly #nd: Libnvdimm;
  readonly #devdax: DeviceDax;
  readonly driver: NdDeviceDriver;

  constructor(ctx: ModuleContext<Record<string, never>>) {
    this.#kernel = ctx.kernel;
    this.#nd = ctx.symbols(libnvdimmModule);
    this.#devdax = ctx.symbols(deviceDaxModule);
    this.driver = {
      drv: { name: 'dax_pmem', bus: this.#nd.ndBus.busType, owner: ctx.module },
      type: ND_DRIVER_DAX_PMEM,
      probe: (dev) => this.#probe(dev),
    };
  }

  async init(): Promise<this> {
    await this.#nd.ndDriverRegister(this.driver);
    return this;
  }

  async exit(): Promise<void> {
    await this.#nd.ndDriverUnregister(this.driver);
  }

  /**
   * dax_pmem_probe(): EBUSY when the namespace range is taken, EINVAL when the namespace name does not parse,
   * ENOMEM when the region cannot be set up; the info block's errnos from nvdimm_setup_pfn().
   */
  async #probe(dev: Device): Promise<void> {
    const nd = this.#nd;
    const k = this.#kernel;
    const core = k.driverCore;
    const pfn = nd.toNdPfn(dev);
    const ns = nd.nvdimmNamespaceCommonProbe(dev);
    const io = await nd.devmNsioEnable(dev, ns);
    let setup: ReturnType<Libnvdimm['nvdimmSetupPfn']>;
    try {
      setup = nd.nvdimmSetupPfn(pfn, io);
    } finally {
      await io.release();
    }
    if (k.iomem.devmRequestMemRegion(dev, ns.res.start, ns.size, ns.dev.name) === null) {
      core.devWarn(
        dev,
        `could not reserve region [mem 0x${ns.res.start.toString(16)}-0x${ns.res.end.toString(16)}]`,
      );
      throw kerr('EBUSY', 'dax_pmem_probe');
    }
    if (k.faultInject.should('kzalloc')) throw kerr('ENOMEM', 'dax_pmem_probe');
    const addr = k.memremap.devmMemremapPages(core, dev, setup.res, setup.altmap);
    const res = new Resource({ start: setup.res.start + setup.dataoff, end: setup.res.end });
    const m = /^namespace(\d+)\.(\d+)$/.exec(ns.dev.name);
    if (m === null) throw kerr('EINVAL', 'dax_pmem_probe');
    const regionId = Number(m[1]);
    const id = Number(m[2]);
    const region = await this.#devdax.allocDaxRegion(
      dev,
      regionId,
      res,
      setup.align,
      addr,
      PFN_DEV | PFN_MAP,
    );
    if (region === null) throw kerr('ENOMEM', 'dax_pmem_probe');
    try {
      await this.#devdax.devmCreateDaxDev(region, [res], id);
    } finally {
      this.#devdax.daxRegionPut(region);
    }
  }
}

/** dax_pmem.ko. */
export const daxPmemModule: ModuleDefinition<Record<string, never>, DaxPmem> = {
  name: 'dax_pmem',
  description: 'PMEM DAX: device-dax instances for nd dax claim devices',
  requires: [deviceDaxModule, libnvdimmModule],
  init: (ctx) => new DaxPmem(ctx).init(),
  exit: (api) => api.exit(),
};
