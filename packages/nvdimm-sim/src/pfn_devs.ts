/**
 * drivers/nvdimm/pfn_devs.c and dax_devs.c: pfnR.N and daxR.N claim devices (the region's seeds and the ones
 * nd_pfn_probe/nd_dax_probe create for an info block found on a namespace), their attributes and store rules,
 * info-block validation and initialization, and nvdimm_setup_pfn(), which gives the driver the data range and the
 * vmem_altmap for the memmap.
 */
import { type AttributeGroup, type Device, kerr, PAGE_SIZE, Resource, type VmemAltmap } from '@daxsim/kernel';
import { type NsioAccess, ndAttachNdns, ndDetachNdns, ndNamespaceStore, nsioRwBytes } from './claim.js';
import type { Libnvdimm } from './libnvdimm.js';
import { nvdimmNamespaceCapacity, parseSize } from './namespace_devs.js';
import { type NdNamespace, NdNamespacePmem, NdPfn, type NdRegion, parseUuid, uuidToString } from './nd.js';
import {
  DAX_SIG,
  PFN_MODE_NONE,
  PFN_MODE_PMEM,
  PFN_MODE_RAM,
  PFN_SIG,
  pfnSbInit,
  pfnSbValidate,
} from './pfn.js';

const SZ_4K = 4096;
const SZ_8K = 8192;
const SZ_1G = 1024 * 1024 * 1024;
/** HPAGE_SIZE: the default alignment of a new pfn/dax device. */
const HPAGE_SIZE = 2 * 1024 * 1024;
/** x86_64 SECTION_SIZE_BITS 27: memory sections are 128 MiB. */
const SECTION_SIZE = 128 * 1024 * 1024;
/** The alignments pfn/dax devices support on x86_64 (supported_alignments). */
export const SUPPORTED_ALIGNMENTS = [SZ_4K, HPAGE_SIZE, SZ_1G];

const MODE_NAMES: Record<number, string> = {
  [PFN_MODE_NONE]: 'none',
  [PFN_MODE_RAM]: 'ram',
  [PFN_MODE_PMEM]: 'pmem',
};

/** nd_dev_to_uuid(): a labelled namespace's uuid, else the null uuid. */
export function ndDevToUuid(ns: NdNamespace): Uint8Array {
  return ns instanceof NdNamespacePmem && ns.uuid !== null ? ns.uuid : new Uint8Array(16);
}

/**
 * nd_pfn_alloc() + nd_pfn_devinit(): a new pfn (or dax) device of `region`, unconfigured (mode none, align
 * HPAGE_SIZE), not yet registered. With `ns` it claims that namespace; null when no id can be allocated or
 * the claim fails.
 */
export function ndPfnAlloc(
  nd: Libnvdimm,
  region: NdRegion,
  dax: boolean,
  ns: NdNamespace | null,
): NdPfn | null {
  const ida = dax ? region.daxIda : region.pfnIda;
  if (nd.kernel.faultInject.should(dax ? 'nd_dax_alloc' : 'nd_pfn_alloc')) return null;
  let id: number;
  try {
    id = ida.simpleGet(0, 0);
  } catch {
    return null;
  }
  const pfn = new NdPfn(region, id, dax, PFN_MODE_NONE, HPAGE_SIZE);
  pfn.dev.parent = region.dev;
  pfn.dev.groups = nd.pfnGroups;
  pfn.dev.release = () => {
    ndDetachNdns(nd, pfn);
    ida.simpleRemove(id);
    nd.forget(pfn.dev);
  };
  nd.remember(pfn.dev, pfn);
  nd.core.deviceInitialize(pfn.dev);
  if (ns !== null && !ndAttachNdns(nd, pfn, ns)) {
    nd.core.devDbg(ns.dev, `failed, already claimed by ${ns.claim?.dev.name}`);
    nd.core.putDevice(pfn.dev);
    return null;
  }
  return pfn;
}

/** nd_pfn_create() / nd_dax_create(): a seed, registered. */
export function ndPfnCreate(nd: Libnvdimm, region: NdRegion, dax: boolean): Device | null {
  const pfn = ndPfnAlloc(nd, region, dax, null);
  if (pfn === null) return null;
  nd.ndBus.ndDeviceRegisterInitialized(pfn.dev);
  return pfn.dev;
}

/** __align_store(): a bad value is EINVAL before a bound device is EBUSY, as v4.12 checks them. */
function alignStore(pfn: NdPfn, value: string): void {
  const val = parseSize(value, 'align_store');
  if (val < PAGE_SIZE || val > SZ_1G || (val & (val - 1)) !== 0) throw kerr('EINVAL', 'align_store');
  if (pfn.dev.driver !== null) throw kerr('EBUSY', 'align_store');
  pfn.align = val;
}

function modeStore(pfn: NdPfn, value: string): void {
  if (pfn.dev.driver !== null) throw kerr('EBUSY', 'mode_store');
  const v = value.trim();
  const mode = Object.entries(MODE_NAMES).find(([, name]) => name === v);
  if (mode === undefined) throw kerr('EINVAL', 'mode_store');
  pfn.mode = Number(mode[0]);
}

function uuidStore(pfn: NdPfn, value: string): void {
  if (pfn.dev.driver !== null) throw kerr('EBUSY', 'uuid_store');
  const uuid = parseUuid(value);
  if (uuid === null) throw kerr('EINVAL', 'uuid_store');
  pfn.uuid = uuid;
}

/** What a bound pfn/dax device serves: the info block's data range. */
function dataRange(pfn: NdPfn, op: string): { start: number; size: number } {
  const sb = pfn.pfnSb;
  const ns = pfn.ndns;
  if (pfn.dev.driver === null || sb === null || ns === null) throw kerr('ENXIO', op);
  return {
    start: ns.res.start + sb.startPad + sb.dataoff,
    size: ns.size - sb.startPad - sb.endTrunc - sb.dataoff,
  };
}

/** nd_pfn_attribute_group (shared by nd_dax). */
export function ndPfnAttributeGroups(nd: Libnvdimm): AttributeGroup[] {
  const p = (dev: Device): NdPfn => nd.toNdPfn(dev);
  return [
    {
      attrs: [
        {
          name: 'mode',
          mode: 0o644,
          show: (dev) => `${MODE_NAMES[p(dev).mode] ?? 'none'}\n`,
          store: (dev, v) => modeStore(p(dev), v),
        },
        {
          name: 'align',
          mode: 0o644,
          show: (dev) => `${p(dev).align}\n`,
          store: (dev, v) => alignStore(p(dev), v),
        },
        {
          name: 'uuid',
          mode: 0o644,
          show: (dev) => {
            const u = p(dev).uuid;
            return u === null ? '\n' : `${uuidToString(u)}\n`;
          },
          store: (dev, v) => uuidStore(p(dev), v),
        },
        {
          name: 'namespace',
          mode: 0o644,
          show: (dev) => `${p(dev).ndns?.dev.name ?? ''}\n`,
          store: (dev, v) => ndNamespaceStore(nd, p(dev), v),
        },
        {
          name: 'resource',
          mode: 0o400,
          show: (dev) => `0x${dataRange(p(dev), 'resource_show').start.toString(16)}\n`,
        },
        { name: 'size', mode: 0o444, show: (dev) => `${dataRange(p(dev), 'size_show').size}\n` },
        { name: 'supported_alignments', mode: 0o444, show: () => `${SUPPORTED_ALIGNMENTS.join(' ')}\n` },
      ],
    },
  ];
}

/**
 * nd_pfn_validate(): reads the info block at namespace offset 4K and checks it against the device. ENODEV when
 * there is none for this device (signature, checksum, parent uuid or uuid differ), else the reference's errnos.
 * A device without a uuid (created by probe) takes uuid, align and mode from the block.
 */
export function ndPfnValidate(nd: Libnvdimm, pfn: NdPfn, io: NsioAccess): void {
  const ns = pfn.ndns;
  if (ns === null) throw kerr('ENODEV', 'nd_pfn_validate');
  const buf = new Uint8Array(SZ_4K);
  try {
    nsioRwBytes(nd, io, SZ_4K, buf, false);
  } catch {
    throw kerr('ENXIO', 'nd_pfn_validate');
  }
  const got = pfnSbValidate(buf, {
    sig: pfn.dax ? DAX_SIG : PFN_SIG,
    parentUuid: ndDevToUuid(ns),
    nsStart: ns.res.start,
    nsSize: nvdimmNamespaceCapacity(ns),
    uuid: pfn.uuid,
    mode: pfn.uuid === null ? null : pfn.mode,
    align: pfn.uuid === null ? null : pfn.align,
  });
  if (!got.ok) {
    if (got.errno !== 'ENODEV') nd.core.devErr(pfn.dev, got.reason);
    throw kerr(got.errno, 'nd_pfn_validate');
  }
  if (pfn.uuid === null) {
    pfn.uuid = got.uuid;
    pfn.align = got.align;
    pfn.mode = got.mode;
  }
  pfn.pfnSb = got.sb;
}

/** nd_pfn_init(): validates, or on ENODEV writes a fresh info block (ENXIO on a read-only region). */
export function ndPfnInit(nd: Libnvdimm, pfn: NdPfn, io: NsioAccess): void {
  try {
    ndPfnValidate(nd, pfn, io);
    return;
  } catch (e) {
    if ((e as { code?: string }).code !== 'ENODEV') throw e;
  }
  const ns = pfn.ndns!;
  if (pfn.region.ro) {
    nd.core.devInfo(pfn.dev, `${pfn.region.dev.name} is read-only, unable to init metadata`);
    throw kerr('ENXIO', 'nd_pfn_init');
  }
  const out = pfnSbInit({
    sig: pfn.dax ? DAX_SIG : PFN_SIG,
    uuid: pfn.uuid!,
    parentUuid: ndDevToUuid(ns),
    nsStart: ns.res.start,
    nsSize: ns.size,
    mode: pfn.mode,
    align: pfn.align,
    isDax: pfn.dax,
    readOnly: pfn.region.ro,
  });
  if (!out.ok) {
    if (out.errno === 'ENXIO')
      nd.core.devErr(pfn.dev, `${ns.dev.name} unable to satisfy requested alignment`);
    throw kerr(out.errno, 'nd_pfn_init');
  }
  nsioRwBytes(nd, io, SZ_4K, out.block, true);
  pfn.pfnSb = out.sb;
}

/**
 * nd_pfn_probe() / nd_dax_probe(): on a namespace being probed raw, looks for an info block of this kind; when
 * one validates, registers a new claim device for it (which then probes on its own) and succeeds.
 */
export function ndPfnProbe(nd: Libnvdimm, dax: boolean, io: NsioAccess): boolean {
  const ns = io.ns;
  if (ns.forceRaw) return false;
  const pfn = ndPfnAlloc(nd, ns.region, dax, ns);
  if (pfn === null) return false;
  try {
    ndPfnValidate(nd, pfn, io);
  } catch {
    ndDetachNdns(nd, pfn);
    nd.core.putDevice(pfn.dev);
    return false;
  }
  nd.core.devDbg(ns.dev, `${dax ? 'dax' : 'pfn'}: ${pfn.dev.name}`);
  nd.ndBus.ndDeviceRegisterInitialized(pfn.dev);
  return true;
}

/** What nvdimm_setup_pfn() gives the driver: the range to map and the altmap for map=dev. */
export interface PfnSetup {
  res: Resource;
  altmap: VmemAltmap | null;
  dataoff: number;
  align: number;
}

/**
 * nvdimm_setup_pfn(): info block (validated or written), then the range with start_pad/end_trunc trimmed and,
 * for map=dev, the vmem_altmap over the reserved metadata (free = dataoff - 8K). ENODEV without a uuid or
 * namespace; EINVAL for map=mem with a dataoff under 8K; ENXIO for mode none.
 */
export function nvdimmSetupPfn(nd: Libnvdimm, pfn: NdPfn, io: NsioAccess): PfnSetup {
  if (pfn.uuid === null || pfn.ndns === null) throw kerr('ENODEV', 'nvdimm_setup_pfn');
  ndPfnInit(nd, pfn, io);
  const sb = pfn.pfnSb!;
  const ns = pfn.ndns;
  const base = ns.res.start + sb.startPad;
  const res = new Resource({ start: base, end: ns.res.end - sb.endTrunc });
  if (pfn.mode === PFN_MODE_RAM) {
    if (sb.dataoff < SZ_8K) throw kerr('EINVAL', 'nvdimm_setup_pfn');
    return { res, altmap: null, dataoff: sb.dataoff, align: sb.align };
  }
  if (pfn.mode !== PFN_MODE_PMEM) throw kerr('ENXIO', 'nvdimm_setup_pfn');
  const sectionBase = Math.floor(base / SECTION_SIZE) * SECTION_SIZE;
  const altmap: VmemAltmap = {
    basePfn: sectionBase / PAGE_SIZE,
    reserve: SZ_8K / PAGE_SIZE + (base - sectionBase) / PAGE_SIZE,
    free: (sb.dataoff - SZ_8K) / PAGE_SIZE,
    align: 0,
    alloc: 0,
  };
  return { res, altmap, dataoff: sb.dataoff, align: sb.align };
}
