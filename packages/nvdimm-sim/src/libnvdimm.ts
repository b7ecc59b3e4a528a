/**
 * libnvdimm.ko: the nd bus with its DIMM and region drivers, namespaces, claim devices and labels, and the
 * services providers (nfit) and consumers (nd_pmem, dax_pmem) call. Its state lives in one `Libnvdimm` per
 * kernel; its public methods are the module's exported symbols.
 */
import type { AttributeGroup, Device, Kernel, ModuleContext, ModuleDefinition } from '@daxsim/kernel';
import { Ida, kerr } from '@daxsim/kernel';
import { NdBus } from './bus.js';
import { ndIoctl } from './bus_ioctl.js';
import { devmNsioEnable, type NsioAccess, nsioRwBytes, nvdimmNamespaceCommonProbe } from './claim.js';
import { nvdimmDriver } from './dimm.js';
import { nvdimmAttributeGroups, nvdimmCreate } from './dimm_devs.js';
import type { LabelArea, NamespaceLabel } from './label.js';
import { activeLabels } from './label_update.js';
import { ndNamespaceAttributeGroups } from './namespace_devs.js';
import {
  type NdCommand,
  type NdDeviceDriver,
  type NdMapping,
  type NdNamespace,
  NdNamespaceIo,
  NdNamespacePmem,
  NdPfn,
  NdRegion,
  Nvdimm,
  type NvdimmBus,
  type NvdimmBusDescriptor,
} from './nd.js';
import { ndPfnAttributeGroups, ndPfnCreate, ndPfnProbe, nvdimmSetupPfn, type PfnSetup } from './pfn_devs.js';
import { ndRegionCreateNsSeed, ndRegionDriver } from './region.js';
import { ndRegionAttributeGroups, ndRegionNotifyDriverAction } from './region_devs.js';

/** What a provider describes a pmem region with (struct nd_region_desc). */
export interface NdRegionDesc {
  start: number;
  size: number;
  mappings: Array<{ nvdimm: Nvdimm; start: number; size: number }>;
  interleaveCookie: bigint;
  numaNode: number;
  readOnly: boolean;
}

type NdObject = Nvdimm | NdRegion | NdNamespace | NdPfn;

export class Libnvdimm {
  readonly kernel: Kernel;
  readonly ndBus: NdBus;
  readonly #objects = new Map<Device, NdObject>();
  readonly #dimmIda: Ida;
  readonly #regionIda: Ida;
  readonly dimmGroups: AttributeGroup[];
  readonly regionGroups: AttributeGroup[];
  readonly namespaceGroups: AttributeGroup[];
  readonly pfnGroups: AttributeGroup[];
  /** init_namespaces: namespaces found and active at the region's last probe. */
  readonly regionProbeCounts = new Map<NdRegion, { active: number; count: number }>();
  readonly #drivers: NdDeviceDriver[];

  constructor(ctx: ModuleContext<Record<string, never>>) {
    this.kernel = ctx.kernel;
    const inject = ctx.kernel.faultInject;
    this.#dimmIda = new Ida(ctx.kernel.log, 'dimm_ida', inject, ctx.kernel.kmemleak);
    this.#regionIda = new Ida(ctx.kernel.log, 'region_ida', inject, ctx.kernel.kmemleak);
    this.ndBus = new NdBus({
      kernel: ctx.kernel,
      module: ctx.module,
      regionOf: (dev) => (this.isRegionDevice(dev) ? this.toNdRegion(dev) : null),
      notifyDriverAction: (dev, probe) => ndRegionNotifyDriverAction(this, dev, probe),
      nvdimmOf: (dev) => {
        const obj = this.#objects.get(dev);
        return obj instanceof Nvdimm ? obj : null;
      },
      ndIoctl: (bus, nvdimm, readOnly, cmd, arg) => ndIoctl(this, bus, nvdimm, readOnly, cmd, arg),
    });
    this.dimmGroups = nvdimmAttributeGroups({
      nvdimmOf: (dev) => this.#get(dev, 'nvdimm') as Nvdimm,
      dimmActive: (nvdimm) => this.dimmInUse(nvdimm),
    });
    this.regionGroups = ndRegionAttributeGroups(this);
    this.namespaceGroups = ndNamespaceAttributeGroups(this);
    this.pfnGroups = ndPfnAttributeGroups(this);
    this.#drivers = [nvdimmDriver(this, ctx.module), ndRegionDriver(this, ctx.module)];
  }

  async init(): Promise<this> {
    for (const drv of this.#drivers) await this.ndBus.ndDriverRegister(drv);
    return this;
  }

  async exit(): Promise<void> {
    for (const drv of [...this.#drivers].reverse()) await this.ndBus.ndDriverUnregister(drv);
    this.ndBus.exit();
  }

  get core() {
    return this.kernel.driverCore;
  }

  // container_of

  remember(dev: Device, obj: NdObject): void {
    this.#objects.set(dev, obj);
  }

  forget(dev: Device): void {
    this.#objects.delete(dev);
  }

  #get(dev: Device, what: string): NdObject {
    const obj = this.#objects.get(dev);
    if (obj === undefined) throw new TypeError(`${dev.name} is not an nd ${what}`);
    return obj;
  }

  isRegionDevice(dev: Device): boolean {
    return this.#objects.get(dev) instanceof NdRegion;
  }

  isClaimDevice(dev: Device): boolean {
    return this.#objects.get(dev) instanceof NdPfn;
  }

  isNamespaceDevice(dev: Device): boolean {
    return this.#objects.get(dev) instanceof NdNamespaceIo;
  }

  /** to_nd_region(). */
  toNdRegion(dev: Device): NdRegion {
    const obj = this.#get(dev, 'region');
    if (!(obj instanceof NdRegion)) throw new TypeError(`${dev.name} is not a region`);
    return obj;
  }

  /** to_ndns(). */
  toNdNamespace(dev: Device): NdNamespace {
    const obj = this.#get(dev, 'namespace');
    if (!(obj instanceof NdNamespaceIo)) throw new TypeError(`${dev.name} is not a namespace`);
    return obj;
  }

  /** to_nd_pfn() / to_nd_dax(). */
  toNdPfn(dev: Device): NdPfn {
    const obj = this.#get(dev, 'pfn');
    if (!(obj instanceof NdPfn)) throw new TypeError(`${dev.name} is not a pfn/dax device`);
    return obj;
  }

  toNvdimm(dev: Device): Nvdimm {
    return this.#get(dev, 'nvdimm') as Nvdimm;
  }

  *#regions(): Iterable<NdRegion> {
    for (const o of this.#objects.values()) if (o instanceof NdRegion) yield o;
  }

  /** The namespaces (registered or pending) below `region`. */
  namespacesOf(region: NdRegion): NdNamespace[] {
    return this.allNamespaces().filter((ns) => ns.region === region);
  }

  allNamespaces(): NdNamespace[] {
    return [...this.#objects.values()].filter((o): o is NdNamespace => o instanceof NdNamespaceIo);
  }

  allPfns(): NdPfn[] {
    return [...this.#objects.values()].filter((o): o is NdPfn => o instanceof NdPfn);
  }

  activeLabels(area: LabelArea): Array<{ slot: number; label: NamespaceLabel }> {
    return activeLabels(area);
  }

  /** Whether an enabled region maps `nvdimm` (its drvdata must outlive the DIMM driver's unbind). */
  dimmInUse(nvdimm: Nvdimm): boolean {
    return [...this.#regions()].some(
      (r) => r.dev.driver !== null && r.mappings.some((m) => m.nvdimm === nvdimm),
    );
  }

  /** Live nd objects by kind (leak checks). */
  stats(): { dimms: number; regions: number; namespaces: number; claims: number; buses: number } {
    const all = [...this.#objects.values()];
    return {
      dimms: this.#dimmIda.count,
      regions: this.#regionIda.count,
      namespaces: all.filter((o) => o instanceof NdNamespaceIo).length,
      claims: all.filter((o) => o instanceof NdPfn).length,
      buses: this.ndBus.busIds,
    };
  }

  // provider API

  /** nvdimm_bus_register(). */
  nvdimmBusRegister(
    parent: Device,
    desc: NvdimmBusDescriptor,
    owner: import('@daxsim/kernel').Module | null,
  ) {
    return this.ndBus.nvdimmBusRegister(parent, desc, owner, desc.attrGroups ?? []);
  }

  /** nvdimm_bus_unregister(). */
  nvdimmBusUnregister(bus: NvdimmBus): Promise<void> {
    return this.ndBus.nvdimmBusUnregister(bus);
  }

  /** nvdimm_create(): nmemN on `bus`, registered asynchronously. */
  nvdimmCreate(
    bus: NvdimmBus,
    provider: Nvdimm['provider'],
    cmdMask: number,
    extraGroups: AttributeGroup[] = [],
  ): Nvdimm {
    if (this.kernel.faultInject.should('nvdimm_create')) throw kerr('ENOMEM', 'nvdimm_create');
    const id = this.#dimmIda.simpleGet(0, 0);
    const nvdimm = nvdimmCreate(
      bus,
      id,
      provider,
      cmdMask,
      [...this.dimmGroups, ...extraGroups],
      () => {
        this.forget(nvdimm.dev);
        this.#dimmIda.simpleRemove(id);
      },
      this.ndBus.nvdimmDevt(id),
    );
    this.remember(nvdimm.dev, nvdimm);
    this.ndBus.ndDeviceRegister(nvdimm.dev);
    return nvdimm;
  }

  /** nvdimm_pmem_region_create(): regionN on `bus`, registered asynchronously; it pins its DIMMs. */
  nvdimmPmemRegionCreate(bus: NvdimmBus, desc: NdRegionDesc): NdRegion {
    if (this.kernel.faultInject.should('nd_region_create')) throw kerr('ENOMEM', 'nd_region_create');
    const id = this.#regionIda.simpleGet(0, 0);
    const mappings: NdMapping[] = desc.mappings.map((m, position) => ({ ...m, position }));
    const region = new NdRegion(
      bus,
      id,
      desc.start,
      desc.size,
      mappings,
      desc.interleaveCookie,
      desc.numaNode,
      desc.readOnly,
      (name) => new Ida(this.kernel.log, `${name}_ida`, this.kernel.faultInject, this.kernel.kmemleak),
    );
    for (const m of mappings) this.core.getDevice(m.nvdimm.dev);
    region.dev.parent = bus.dev;
    region.dev.groups = this.regionGroups;
    region.dev.release = () => {
      for (const m of mappings) this.core.putDevice(m.nvdimm.dev);
      this.forget(region.dev);
      this.regionProbeCounts.delete(region);
      this.#regionIda.simpleRemove(id);
    };
    this.remember(region.dev, region);
    this.ndBus.ndDeviceRegister(region.dev);
    return region;
  }

  /** nd_synchronize(). */
  ndSynchronize(): Promise<void> {
    return this.ndBus.ndSynchronize();
  }

  /** nvdimm_bus_add_badrange(): records a media error; regions see it at their next NVDIMM_REVALIDATE_POISON. */
  nvdimmBusAddBadrange(bus: NvdimmBus, addr: number, length: number): void {
    bus.badrange.add(addr, length);
  }

  /** nvdimm_region_notify(): passes `event` to the region's driver and the drivers of its children. */
  nvdimmRegionNotify(region: NdRegion, event: number): void {
    const notify = (dev: Device) => this.ndBus.ndDriverOf(dev)?.notify?.(dev, event);
    notify(region.dev);
    this.core.deviceForEachChild(region.dev, (child) => {
      notify(child);
    });
  }

  /**
   * nvdimm_clear_poison(): asks the provider to clear [phys, phys+len) (in its clear-error unit), forgets what
   * was cleared from the bus's badrange and the region's badblocks; returns the bytes cleared.
   */
  nvdimmClearPoison(region: NdRegion, phys: number, len: number): number {
    const bus = region.bus;
    const cap = bus.desc.ndctl(null, { cmd: 'ars_cap', address: phys, length: len }) as {
      clearErrUnit: number;
    };
    const unit = cap.clearErrUnit;
    if (unit === 0 || phys % unit !== 0 || len % unit !== 0) return 0;
    const cleared = bus.desc.ndctl(null, { cmd: 'clear_error', address: phys, length: len }) as number;
    this.nvdimmAccountClearedPoison(bus, phys, cleared);
    return cleared;
  }

  /**
   * The provider call at the heart of __nd_ioctl(), without its checks (those and the user-struct handling are
   * bus_ioctl.ts, behind /dev/ndctlN and /dev/nmemN): a bus (nvdimm null) or DIMM command through the provider;
   * a successful clear-error also forgets what it cleared (nvdimm_account_cleared_poison). ENOTTY for a
   * command the bus or DIMM does not implement.
   */
  ndIoctl(bus: NvdimmBus, nvdimm: Nvdimm | null, command: NdCommand): unknown {
    const out = bus.desc.ndctl(nvdimm, command);
    if (command.cmd === 'clear_error') this.nvdimmAccountClearedPoison(bus, command.address, out as number);
    return out;
  }

  /** nvdimm_account_cleared_poison(): forgets cleared errors on the bus and in every region's badblocks. */
  nvdimmAccountClearedPoison(bus: NvdimmBus, phys: number, cleared: number): void {
    if (cleared <= 0) return;
    bus.badrange.forget(phys, cleared);
    for (const region of this.#regions()) {
      if (region.bus !== bus || region.bb === null) continue;
      const start = Math.max(phys, region.ndrStart);
      const end = Math.min(phys + cleared, region.ndrStart + region.ndrSize);
      if (end <= start) continue;
      const s = Math.ceil((start - region.ndrStart) / 512);
      const e = Math.floor((end - region.ndrStart) / 512);
      if (e > s) region.bb.clear(s, e - s);
    }
  }

  // consumer API

  nvdimmNamespaceCommonProbe(dev: Device): NdNamespace {
    return nvdimmNamespaceCommonProbe(this, dev);
  }

  devmNsioEnable(dev: Device, ns: NdNamespace): Promise<NsioAccess> {
    return devmNsioEnable(this, dev, ns);
  }

  nsioRwBytes(io: NsioAccess, offset: number, buf: Uint8Array, write: boolean): void {
    nsioRwBytes(this, io, offset, buf, write);
  }

  ndPfnProbe(io: NsioAccess): boolean {
    return ndPfnProbe(this, false, io);
  }

  ndDaxProbe(io: NsioAccess): boolean {
    return ndPfnProbe(this, true, io);
  }

  nvdimmSetupPfn(pfn: NdPfn, io: NsioAccess): PfnSetup {
    return nvdimmSetupPfn(this, pfn, io);
  }

  ndDriverRegister(drv: NdDeviceDriver): Promise<void> {
    return this.ndBus.ndDriverRegister(drv);
  }

  ndDriverUnregister(drv: NdDeviceDriver): Promise<void> {
    return this.ndBus.ndDriverUnregister(drv);
  }

  // region internals used across files

  ndRegionCreateNsSeed(region: NdRegion): void {
    ndRegionCreateNsSeed(this, region);
  }

  ndPfnCreate(region: NdRegion, dax: boolean): Device | null {
    return ndPfnCreate(this, region, dax);
  }

  /** Registers a namespace object found or created for `region`. */
  registerNamespace(ns: NdNamespace): void {
    ns.dev.parent = ns.region.dev;
    ns.dev.groups = this.namespaceGroups;
    ns.dev.release = () => {
      if (ns instanceof NdNamespacePmem) ns.region.nsIda.simpleRemove(ns.id);
      this.forget(ns.dev);
    };
    this.remember(ns.dev, ns);
    this.ndBus.ndDeviceRegister(ns.dev);
  }
}

/** libnvdimm.ko. */
export const libnvdimmModule: ModuleDefinition<Record<string, never>, Libnvdimm> = {
  name: 'libnvdimm',
  description:
    'NVDIMM (Non-Volatile Memory Device) bus: DIMMs, regions, namespaces, labels, pfn and dax devices',
  init: (ctx) => new Libnvdimm(ctx).init(),
  exit: (api) => api.exit(),
};
