/**
 * drivers/nvdimm/nd.h, nd-core.h and include/linux/nd.h: the objects of the nvdimm subsystem — bus, DIMM,
 * region, mapping, namespaces and the pfn/dax claim devices — each wrapping its struct device.
 */
import {
  type Badblocks,
  Device,
  type DeviceDriver,
  type DeviceType,
  type Ida,
  type Module,
  type Resource,
} from '@daxsim/kernel';
import type { Badrange } from './badrange.js';
import type { NdPfnSb } from './pfn.js';

/** include/uapi/linux/ndctl.h ND_DEVICE_*: the nd bus device types drivers match on (modalias "nd:tN"). */
export const ND_DEVICE_DIMM = 1;
export const ND_DEVICE_REGION_PMEM = 2;
export const ND_DEVICE_REGION_BLK = 3;
export const ND_DEVICE_NAMESPACE_IO = 4;
export const ND_DEVICE_NAMESPACE_PMEM = 5;
export const ND_DEVICE_DAX_PMEM = 7;

/** ND_DRIVER_*: the type mask a driver serves. */
export const ND_DRIVER_DIMM = 1 << ND_DEVICE_DIMM;
export const ND_DRIVER_REGION_PMEM = 1 << ND_DEVICE_REGION_PMEM;
export const ND_DRIVER_NAMESPACE_IO = 1 << ND_DEVICE_NAMESPACE_IO;
export const ND_DRIVER_NAMESPACE_PMEM = 1 << ND_DEVICE_NAMESPACE_PMEM;
export const ND_DRIVER_DAX_PMEM = 1 << ND_DEVICE_DAX_PMEM;

/** ND_MIN_NAMESPACE_SIZE: smaller namespaces fail to probe. */
export const ND_MIN_NAMESPACE_SIZE = 4096;

/** include/uapi/linux/ndctl.h: bus commands. */
export const ND_CMD_IMPLEMENTED = 0;
export const ND_CMD_ARS_CAP = 1;
export const ND_CMD_ARS_START = 2;
export const ND_CMD_ARS_STATUS = 3;
export const ND_CMD_CLEAR_ERROR = 4;
/** include/uapi/linux/ndctl.h: DIMM commands. */
export const ND_CMD_SMART = 1;
export const ND_CMD_SMART_THRESHOLD = 2;
export const ND_CMD_DIMM_FLAGS = 3;
export const ND_CMD_GET_CONFIG_SIZE = 4;
export const ND_CMD_GET_CONFIG_DATA = 5;
export const ND_CMD_SET_CONFIG_DATA = 6;
export const ND_CMD_VENDOR_EFFECT_LOG_SIZE = 7;
export const ND_CMD_VENDOR_EFFECT_LOG = 8;
export const ND_CMD_VENDOR = 9;
export const ND_CMD_CALL = 10;

/** Device types, by the kernel's names (is_nvdimm(), is_nd_pmem(), is_namespace_io(), ...). */
export const nvdimmBusDeviceType: DeviceType = { name: 'nvdimm_bus' };
export const nvdimmDeviceType: DeviceType = { name: 'nvdimm' };
export const ndPmemDeviceType: DeviceType = { name: 'nd_pmem' };
export const namespaceIoDeviceType: DeviceType = { name: 'nd_namespace_io' };
export const namespacePmemDeviceType: DeviceType = { name: 'nd_namespace_pmem' };
export const ndPfnDeviceType: DeviceType = { name: 'nd_pfn' };
export const ndDaxDeviceType: DeviceType = { name: 'nd_dax' };

/**
 * struct nd_device_driver: a driver on the nd bus for the device types in `type`. Its struct device_driver
 * has no probe or remove of its own; the bus's probe and remove call these.
 */
export interface NdDeviceDriver {
  drv: DeviceDriver;
  /** ND_DRIVER_* bits. */
  type: number;
  probe(dev: Device): void | Promise<void>;
  remove?(dev: Device): void | Promise<void>;
  /** ->notify(): NVDIMM_REVALIDATE_POISON and friends, delivered to bound devices. */
  notify?(dev: Device, event: number): void;
}

/** nvdimm_bus_notify events. */
export const NVDIMM_REVALIDATE_POISON = 1;

/** A bus command: what nvdimm_bus_descriptor.ndctl() carries. */
export type NdCommand =
  | { cmd: 'ars_cap'; address: number; length: number }
  | { cmd: 'ars_start'; address: number; length: number }
  | { cmd: 'ars_status' }
  | { cmd: 'clear_error'; address: number; length: number }
  | { cmd: 'get_config_size' }
  | { cmd: 'get_config_data'; offset: number; length: number }
  | { cmd: 'set_config_data'; offset: number; data: Uint8Array }
  | { cmd: 'smart' }
  /** ND_CMD_CALL: a family command; the provider reads and fills `payload` (the nd_cmd_pkg's nd_payload). */
  | { cmd: 'call'; family: number; command: number; payload: unknown };

/** struct nvdimm_bus_descriptor: what a provider (nfit) registers a bus with. */
export interface NvdimmBusDescriptor {
  providerName: string;
  /** Bus commands the provider implements (ND_CMD_* numbers). */
  cmdMask: number;
  /** ->ndctl(): runs a command on the bus (nvdimm null) or on a DIMM; throws the provider's error. */
  ndctl(nvdimm: Nvdimm | null, command: NdCommand): unknown;
  /** Extra attribute groups for ndbusN (the nfit/ directory). */
  attrGroups?: import('@daxsim/kernel').AttributeGroup[];
  /** ->clear_to_send(): lets the provider refuse a userspace command (EBUSY) before it runs. */
  clearToSend?(nvdimm: Nvdimm | null, cmd: number): void;
}

/** struct nvdimm_bus. */
export class NvdimmBus {
  readonly dev: Device;
  /** The bus-wide list of known media errors (badrange.c). */
  badrange!: Badrange;
  /** The provider's module, pinned while a device below the bus is bound. */
  owner: Module | null = null;
  constructor(
    readonly id: number,
    readonly desc: NvdimmBusDescriptor,
  ) {
    this.dev = new Device({ name: `ndbus${id}`, type: nvdimmBusDeviceType });
  }
}

/** struct nvdimm_drvdata: what the DIMM driver read from the label area at probe. */
export class NvdimmDrvdata {
  constructor(
    readonly nvdimm: Nvdimm,
    /** The label area, or null for a DIMM without one. */
    readonly labels: import('./label.js').LabelArea | null,
  ) {}
}

/** struct nvdimm (nmemN). */
export class Nvdimm {
  readonly dev: Device;
  /** Probe results of the DIMM driver, or null while unbound. */
  ndd: NvdimmDrvdata | null = null;
  /** Label area size reported by the firmware at probe. */
  configSize = 0;
  constructor(
    readonly bus: NvdimmBus,
    readonly id: number,
    /** Provider data: the NFIT DIMM description. */
    readonly provider: { handle: number; physId: number; serial: number; flags: number },
    /** DIMM commands implemented (ND_CMD_* bits). */
    readonly cmdMask: number,
  ) {
    this.dev = new Device({ name: `nmem${id}`, type: nvdimmDeviceType });
  }
}

/** struct nd_mapping: one DIMM's DPA range in a region. */
export interface NdMapping {
  nvdimm: Nvdimm;
  start: number;
  size: number;
  position: number;
}

/** struct nd_region (regionN, a pmem region). */
export class NdRegion {
  readonly dev: Device;
  readonly nsIda: Ida;
  /** Seeds: the idle namespace, pfn and dax devices userspace configures next. */
  nsSeed: Device | null = null;
  pfnSeed: Device | null = null;
  daxSeed: Device | null = null;
  /** Read-only (region/read_only). */
  ro: boolean;
  /** The region driver's badblocks (region/badblocks), live while the region is enabled. */
  bb: Badblocks | null = null;
  /** Next pfn/dax device ids. */
  readonly pfnIda: Ida;
  readonly daxIda: Ida;
  constructor(
    readonly bus: NvdimmBus,
    readonly id: number,
    readonly ndrStart: number,
    readonly ndrSize: number,
    readonly mappings: NdMapping[],
    readonly interleaveCookie: bigint,
    readonly numaNode: number,
    ro: boolean,
    ida: (name: string) => Ida,
  ) {
    this.ro = ro;
    this.dev = new Device({ name: `region${id}`, type: ndPmemDeviceType });
    this.nsIda = ida('ns');
    this.pfnIda = ida('pfn');
    this.daxIda = ida('dax');
  }

  /** Whether the region's namespaces carry labels (namespace_pmem) or not (namespace_io). */
  get labelled(): boolean {
    return this.mappings.length > 0 && this.mappings.every((m) => m.nvdimm.configSize > 0);
  }
}

/** struct nd_namespace_common + nd_namespace_io: a namespace over a physical range. */
export class NdNamespaceIo {
  readonly dev: Device;
  /** The claim device (pfn or dax) that owns the namespace, or null. */
  claim: NdPfn | null = null;
  /** force_raw: probe as a raw block device even when an info block is present. */
  forceRaw = false;
  /** nsio->res: the namespace's SPA range. */
  res: Resource;
  constructor(
    readonly region: NdRegion,
    name: string,
    type: DeviceType,
    res: Resource,
  ) {
    this.dev = new Device({ name, type });
    this.res = res;
  }

  get size(): number {
    return this.res.end - this.res.start + 1;
  }
}

/** struct nd_namespace_pmem: a labelled namespace (namespaceR.N). */
export class NdNamespacePmem extends NdNamespaceIo {
  uuid: Uint8Array | null = null;
  altName = '';
  lbasize = 0;
  /** The namespace's DPA offset from each mapping's start, or null while it has no allocation. */
  dpaOffset: number | null = null;
  /** The label slot holding this namespace's label on each mapping's DIMM (by mapping index). */
  labelSlots: Array<number | null> = [];
  constructor(
    region: NdRegion,
    readonly id: number,
    res: Resource,
  ) {
    super(region, `namespace${region.id}.${id}`, namespacePmemDeviceType, res);
  }
}

export type NdNamespace = NdNamespaceIo | NdNamespacePmem;

/** struct nd_pfn (pfnR.N) and, with `dax` set, struct nd_dax (daxR.N). */
export class NdPfn {
  readonly dev: Device;
  ndns: NdNamespace | null = null;
  uuid: Uint8Array | null = null;
  /** PFN_MODE_* (map=mem RAM, map=dev PMEM), or NONE until configured. */
  mode: number;
  align: number;
  /** The info block read or written at probe. */
  pfnSb: NdPfnSb | null = null;
  constructor(
    readonly region: NdRegion,
    readonly id: number,
    readonly dax: boolean,
    mode: number,
    align: number,
  ) {
    this.mode = mode;
    this.align = align;
    this.dev = new Device({
      name: `${dax ? 'dax' : 'pfn'}${region.id}.${id}`,
      type: dax ? ndDaxDeviceType : ndPfnDeviceType,
    });
  }
}

/** is_namespace_pmem(), is_namespace_io(), is_nd_pfn(), is_nd_dax(), is_nd_pmem(), is_nvdimm(). */
export const isNamespacePmem = (dev: Device): boolean => dev.type === namespacePmemDeviceType;
export const isNamespaceIo = (dev: Device): boolean => dev.type === namespaceIoDeviceType;
export const isNdPfn = (dev: Device): boolean => dev.type === ndPfnDeviceType;
export const isNdDax = (dev: Device): boolean => dev.type === ndDaxDeviceType;
export const isNdPmem = (dev: Device): boolean => dev.type === ndPmemDeviceType;
export const isNvdimm = (dev: Device): boolean => dev.type === nvdimmDeviceType;

/** uuid bytes as the kernel prints them (%pUb). */
export function uuidToString(uuid: Uint8Array): string {
  const h = Buffer.from(uuid).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** nd_uuid_store(): parses a uuid as written to sysfs; EINVAL when malformed. */
export function parseUuid(text: string): Uint8Array | null {
  const hex = text.trim().replace(/-/g, '');
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) return null;
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

/**
 * kstrtobool(): true for a leading 'y', 'Y' or '1' or for "on", false for 'n', 'N', '0' or "off" (judged by the
 * first one or two characters, as sysfs stores pass "1\n"); null for anything else, which stores turn into
 * EINVAL.
 */
export function kstrtobool(s: string): boolean | null {
  const c = s.charAt(0);
  if (c === 'y' || c === 'Y' || c === '1') return true;
  if (c === 'n' || c === 'N' || c === '0') return false;
  if (c === 'o' || c === 'O') {
    const d = s.charAt(1);
    if (d === 'n' || d === 'N') return true;
    if (d === 'f' || d === 'F') return false;
  }
  return null;
}
