/**
 * drivers/nvdimm/claim.c: how a pfn or dax device claims a namespace (the `namespace` attribute), the common
 * probe checks every namespace consumer runs, and raw access to a namespace's media (nsio_rw_bytes) with its
 * badblocks, as used to read and write info blocks.
 */
import { Badblocks, type Device, kerr, MEMREMAP_WB } from '@daxsim/kernel';
import { badblocksPopulate } from './badrange.js';
import type { Libnvdimm } from './libnvdimm.js';
import { nvdimmNamespaceCapacity } from './namespace_devs.js';
import {
  isNdDax,
  isNdPfn,
  ND_MIN_NAMESPACE_SIZE,
  type NdNamespace,
  NdNamespacePmem,
  type NdPfn,
} from './nd.js';
import { PFN_MODE_NONE } from './pfn.js';

const SZ_16M = 16 * 1024 * 1024;

/** __nd_attach_ndns(): false when the namespace is claimed already. */
export function ndAttachNdns(nd: Libnvdimm, pfn: NdPfn, ns: NdNamespace): boolean {
  if (ns.claim !== null) return false;
  ns.claim = pfn;
  pfn.ndns = ns;
  nd.core.getDevice(ns.dev);
  return true;
}

/** nd_detach_ndns(): drops the claim and the reference it held. */
export function ndDetachNdns(nd: Libnvdimm, pfn: NdPfn): void {
  const ns = pfn.ndns;
  if (ns === null) return;
  ns.claim = null;
  pfn.ndns = null;
  nd.core.putDevice(ns.dev);
}

/**
 * nd_detach_and_reset(): drops the claim; a claim device that is neither its region's seed nor bound is idle
 * and goes away (ND_ASYNC), any other forgets its uuid and mode.
 */
function ndDetachAndReset(nd: Libnvdimm, pfn: NdPfn): void {
  ndDetachNdns(nd, pfn);
  const seed = pfn.dax ? pfn.region.daxSeed : pfn.region.pfnSeed;
  if (seed !== pfn.dev && pfn.dev.driver === null) {
    nd.ndBus.ndDeviceUnregisterAsync(pfn.dev);
    return;
  }
  pfn.uuid = null;
  pfn.mode = PFN_MODE_NONE;
}

/**
 * nd_namespace_store(): the `namespace` attribute of a pfn/dax device. An empty name releases the claim
 * (nd_detach_and_reset); a name claims that namespace of the same region. EBUSY while the claim device is bound
 * or already claims a namespace, or when another device claims the namespace; EINVAL for a name that is not
 * "namespace..."; ENODEV for no such namespace in the region; ENXIO for a namespace under 16 MiB. A namespace
 * that is bound can be claimed: the claim device's probe refuses it (nvdimm_namespace_common_probe).
 */
export function ndNamespaceStore(nd: Libnvdimm, pfn: NdPfn, value: string): void {
  if (pfn.dev.driver !== null) {
    nd.core.devDbg(pfn.dev, 'namespace already active');
    throw kerr('EBUSY', 'namespace_store');
  }
  const name = value.trim();
  if (name !== '' && !name.startsWith('namespace')) throw kerr('EINVAL', 'namespace_store');
  if (name === '') {
    ndDetachAndReset(nd, pfn);
    return;
  }
  if (pfn.ndns !== null) {
    nd.core.devDbg(pfn.dev, `namespace already set to: ${pfn.ndns.dev.name}`);
    throw kerr('EBUSY', 'namespace_store');
  }
  const found = nd.core.deviceFindChild(
    pfn.region.dev,
    (child) => child.name === name && nd.isNamespaceDevice(child),
  );
  if (found === null) {
    nd.core.devDbg(pfn.dev, `'${name}' not found under ${pfn.region.dev.name}`);
    throw kerr('ENODEV', 'namespace_store');
  }
  try {
    const ns = nd.toNdNamespace(found);
    if (nvdimmNamespaceCapacity(ns) < SZ_16M) {
      nd.core.devDbg(pfn.dev, `${name} too small to host`);
      throw kerr('ENXIO', 'namespace_store');
    }
    if (!ndAttachNdns(nd, pfn, ns)) {
      nd.core.devDbg(pfn.dev, `${name} already claimed`);
      throw kerr('EBUSY', 'namespace_store');
    }
  } finally {
    nd.core.putDevice(found);
  }
}

/**
 * nvdimm_namespace_common_probe(): the namespace a probing device serves. ENODEV for a claim device without a
 * namespace, a namespace under 4K, or a namespace_pmem without a uuid; EBUSY when the namespace itself is bound;
 * ENXIO when probing a namespace some claim device owns.
 */
export function nvdimmNamespaceCommonProbe(nd: Libnvdimm, dev: Device): NdNamespace {
  let ns: NdNamespace;
  if (isNdPfn(dev) || isNdDax(dev)) {
    const pfn = nd.toNdPfn(dev);
    if (pfn.ndns === null) throw kerr('ENODEV', 'nvdimm_namespace_common_probe');
    ns = pfn.ndns;
    if (ns.dev.driver !== null) {
      nd.core.devDbg(ns.dev, `is active, can't bind ${dev.name}`);
      throw kerr('EBUSY', 'nvdimm_namespace_common_probe');
    }
    if (
      nd.kernel.log.warnOnce(
        ns.claim !== pfn,
        'drivers/nvdimm/claim.c:nvdimm_namespace_common_probe',
        `${ns.dev.name}: host (${dev.name}) vs claim (${ns.claim?.dev.name ?? '(null)'}) mismatch`,
      )
    )
      throw kerr('ENXIO', 'nvdimm_namespace_common_probe');
  } else {
    ns = nd.toNdNamespace(dev);
    if (ns.claim !== null) {
      nd.core.devDbg(dev, `claimed by ${ns.claim.dev.name}, failing probe`);
      throw kerr('ENXIO', 'nvdimm_namespace_common_probe');
    }
  }
  if (nvdimmNamespaceCapacity(ns) < ND_MIN_NAMESPACE_SIZE) {
    nd.core.devDbg(
      ns.dev,
      `${nvdimmNamespaceCapacity(ns)}, too small must be at least ${ND_MIN_NAMESPACE_SIZE}`,
    );
    throw kerr('ENODEV', 'nvdimm_namespace_common_probe');
  }
  if (ns instanceof NdNamespacePmem && ns.uuid === null) {
    nd.core.devDbg(ns.dev, 'uuid not set');
    throw kerr('ENODEV', 'nvdimm_namespace_common_probe');
  }
  return ns;
}

/** The raw access state devm_nsio_enable() sets up on a probing device. */
export interface NsioAccess {
  ns: NdNamespace;
  addr: number;
  bb: Badblocks;
  release(): Promise<void>;
}

/**
 * devm_nsio_enable(): claims the namespace's range (EBUSY when taken), maps it, and loads its badblocks, so that
 * info blocks can be read and written; the returned release is devm_nsio_disable(). What a failure leaves
 * acquired goes with the probe's devres.
 */
export async function devmNsioEnable(nd: Libnvdimm, dev: Device, ns: NdNamespace): Promise<NsioAccess> {
  const k = nd.kernel;
  const res = k.iomem.devmRequestMemRegion(dev, ns.res.start, ns.size, ns.dev.name);
  if (res === null) {
    nd.core.devWarn(
      dev,
      `could not reserve region [mem 0x${ns.res.start.toString(16)}-0x${ns.res.end.toString(16)}]`,
    );
    throw kerr('EBUSY', 'devm_nsio_enable');
  }
  if (k.faultInject.should('badblocks_init')) throw kerr('ENOMEM', 'devm_nsio_enable');
  const bb = new Badblocks();
  badblocksPopulate(ns.region.bus.badrange, bb, ns.res.start, ns.size);
  const addr = k.memremap.devmMemremap(nd.core, dev, ns.res.start, ns.size, MEMREMAP_WB);
  const release = async (): Promise<void> => {
    await k.memremap.devmMemunmap(nd.core, dev, addr);
    await k.iomem.devmReleaseMemRegion(dev, ns.res.start, ns.size);
  };
  return { ns, addr, bb, release };
}

/**
 * nsio_rw_bytes(): reads (`write` false) or writes `buf` at namespace offset `offset`. EFAULT beyond the end;
 * a read of a known bad sector, or of poisoned media, is EIO; a write over bad sectors clears them (through the
 * bus's clear-error command) when it covers whole 512-byte sectors, else EIO.
 */
export function nsioRwBytes(
  nd: Libnvdimm,
  io: NsioAccess,
  offset: number,
  buf: Uint8Array,
  write: boolean,
): void {
  const k = nd.kernel;
  if (offset + buf.length > io.ns.size) throw kerr('EFAULT', 'nsio_rw_bytes');
  const sector = Math.floor(offset / 512);
  const sectors = Math.ceil((offset + buf.length) / 512) - sector;
  const bad = io.bb.check(sector, sectors).rv !== 0;
  if (!write) {
    if (bad) throw kerr('EIO', 'nsio_rw_bytes');
    if (k.memremap.memcpyMcsafe(buf, io.addr + offset) !== 0) throw kerr('EIO', 'nsio_rw_bytes');
    return;
  }
  if (bad) {
    if (offset % 512 !== 0 || buf.length % 512 !== 0) throw kerr('EIO', 'nsio_rw_bytes');
    const cleared = nd.nvdimmClearPoison(io.ns.region, io.ns.res.start + offset, buf.length);
    if (cleared < buf.length) throw kerr('EIO', 'nsio_rw_bytes');
    io.bb.clear(sector, sectors);
  }
  k.memremap.memcpyTo(io.addr + offset, buf);
}
